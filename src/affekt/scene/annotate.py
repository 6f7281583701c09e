"""Scene predictions for people: a terminal table (``affekt analyze``) and the image with each
person's box, top categories and V/A/D drawn on it (``affekt analyze --annotate out.png``)."""
from __future__ import annotations

from pathlib import Path

from affekt.core.errors import InputError

ANNOTATE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
_PALETTE = ((230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
            (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212))


def print_people(preds: list, top: int, model_id: str) -> None:
    """One row per person (largest first): the image, the box and where it came from, the
    categories the model decides (their scores; the top ones when it decides none), V/A/D."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    has_vad = any(p.get("valence") is not None for r in preds if not r.error for p in (r.people or []))
    t = Table(title=f"model: {model_id}")
    t.add_column("input", overflow="fold", max_width=40)
    t.add_column("person: box x, y, w, h", overflow="fold")
    t.add_column("categories (score)", overflow="fold")
    if has_vad:
        t.add_column("valence / arousal / dominance (1-10)")
    for r in preds:
        name = escape(str(r.input))
        if r.error:
            t.add_row(name, "", f"[red]error: {escape(r.error)}[/red]", *([""] if has_vad else []))
            continue
        if not r.people:
            t.add_row(name, "", "[yellow]no person[/yellow]", *([""] if has_vad else []))
            continue
        for k, p in enumerate(r.people):
            x, y, w, h = p["box"]
            src = {"item": "given", "boxes": "--boxes", "face": "from a face", "whole-image": "whole image"}
            sc = p["scores"]
            cats = p["categories"][:top] or [lab for lab, _ in sorted(sc.items(), key=lambda kv: -kv[1])[:top]]
            emo = ", ".join(f"{escape(lab)} {sc[lab]:.2f}" for lab in cats)
            row = [name if k == 0 else "", f"{k + 1}: {x}, {y}, {w}, {h} ({src.get(p.get('source'), p.get('source'))})",
                   emo]
            if has_vad:
                row.append(f"{p['valence']:.1f} / {p['arousal']:.1f} / {p['dominance']:.1f}"
                           if p.get("valence") is not None else "")
            t.add_row(*row)
        for w in r.warnings:
            t.add_row("", "", f"[yellow]{escape(w)}[/yellow]", *([""] if has_vad else []))
    console.print(t)
    console.print("categories: the model's decisions (per-category thresholds tuned on the dev split), "
                  "or its top scores when it decides none; scores are per-category probabilities",
                  markup=False, highlight=False)


def annotate(image, pred, out) -> Path:
    """Draw each person of ``pred`` (a scene record) on ``image`` and save it to ``out``: the
    box, its number, the top categories and V/A/D."""
    from affekt.face.annotate import Canvas
    from affekt.face.images import load_image
    from affekt.scene.people import split_item

    out = Path(out)
    if out.suffix.lower() not in ANNOTATE_SUFFIXES:
        raise InputError(f"--annotate '{out}': use a {', '.join(ANNOTATE_SUFFIXES)} file")
    path, _ = split_item(image)
    c = Canvas(load_image(path), font_min=11, font_div=50)
    for k, p in enumerate(pred.people or []):
        x, y, w, h = p["box"]
        colour = _PALETTE[k % len(_PALETTE)]
        c.box(x, y, w, h, colour)
        sc = p["scores"]
        cats = p["categories"][:3] or [lab for lab, _ in sorted(sc.items(), key=lambda kv: -kv[1])[:3]]
        lines = [f"{k + 1}: " + ", ".join(f"{lab} {sc[lab]:.2f}" for lab in cats)]
        if p.get("valence") is not None:
            lines.append(f"V {p['valence']:.1f}  A {p['arousal']:.1f}  D {p['dominance']:.1f}")
        c.label(x, y, "\n".join(lines), colour, below=c.width)
    return c.save(out)
