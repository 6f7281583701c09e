"""Tables of predictions for the terminal (any modality)."""
from __future__ import annotations


def _console():
    from rich.console import Console

    return Console()


def print_predictions(preds: list, top: int, model_id: str) -> None:
    """One row per item: its emotions (the model's decisions marked), V/A/D when the model
    gives them, warnings when there are any; a timeline table for items that have one.

    Decisions are bold on a terminal and marked with ``*`` when the output is piped (bold is
    invisible there)."""
    from rich.markup import escape
    from rich.table import Table

    console = _console()
    tty = console.is_terminal
    has_vad = any(p.valence is not None for p in preds)
    has_notes = any(p.warnings for p in preds)
    t = Table(title=f"model: {model_id}", show_lines=False)
    t.add_column("input", overflow="fold", max_width=50)
    t.add_column("emotions (score)")
    if has_vad:
        t.add_column("valence / arousal / dominance (1-5)")
    if has_notes:
        t.add_column("notes", overflow="fold", max_width=40)
    has_faces = any(p.faces is not None for p in preds)
    if has_faces:
        t.add_column("face: box x, y, w, h", overflow="fold")
    for p in preds:
        text = str(p.input) if p.input is not None else ""
        text = escape(text if len(text) <= 120 else text[:117] + "...")
        if p.faces is not None and not p.error:
            _face_rows(t, p, text, top, has_vad, has_notes)
            continue
        if p.tracks is not None and not p.error and not p.scores:  # a video with nothing to fuse
            t.add_row(*([text, "[yellow]no face and no speech[/yellow]"] + [""] * (has_vad + has_notes + has_faces)))
            continue
        if p.error:
            row = [text, f"[red]error: {escape(p.error)}[/red]"]
            if has_vad:
                row.append("")
        else:
            def mark(lab: str, s: float) -> str:
                if lab not in p.labels:
                    return f"{escape(lab)} {s:.2f}"
                return f"[bold]{escape(lab)}[/bold] {s:.2f}" if tty else f"*{escape(lab)} {s:.2f}"

            row = [text, ", ".join(mark(lab, s) for lab, s in p.top(top))]
            if has_vad:
                row.append(f"{p.valence:.2f} / {p.arousal:.2f} / {p.dominance:.2f}" if p.valence is not None else "")
        if has_notes:
            row.append(escape("; ".join(p.warnings)))
        if has_faces:
            row.append("(whole image)" if not p.error else "")
        t.add_row(*row)
    console.print(t)
    marker = "bold" if tty else "*"
    if not all(p.faces is not None or p.error for p in preds):  # per-face rows mark no decisions
        console.print(f"{marker} = the model's decision (per-label thresholds); scores are probabilities",
                      markup=False, highlight=False)
    for p in preds:
        if p.segments:
            _print_segments(p, top, console)
        if p.tracks is not None and not p.error:
            _print_video(p, top, console)


def _face_rows(t, p, text: str, top: int, has_vad: bool, has_notes: bool) -> None:
    """One row per face of an image (largest first); an image without a face says so."""
    from rich.markup import escape

    notes = escape("; ".join(p.warnings)) if has_notes else None
    if not p.faces:
        row = [text, "[yellow]no face found[/yellow]"] + ([""] if has_vad else []) + ([notes] if has_notes else [])
        t.add_row(*row, "")
        return
    for k, f in enumerate(p.faces):
        top_k = sorted(f["scores"].items(), key=lambda kv: -kv[1])[:top]
        emo = ", ".join(f"{escape(lab)} {s:.2f}" for lab, s in top_k)
        row = [text if k == 0 else "", emo] + ([""] if has_vad else []) + ([notes if k == 0 else ""] if has_notes else [])
        x, y, w, h = f["box"]
        t.add_row(*row, f"{k + 1}: {x}, {y}, {w}, {h} (detection {f['score']:.2f})")


def _print_segments(p, top: int, console) -> None:
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=escape(f"timeline of {p.input} ({len(p.segments)} windows)"))
    for c in ("start (s)", "end (s)", "emotion", "scores"):
        t.add_column(c)
    for s in p.segments:
        best = sorted(s["scores"].items(), key=lambda kv: -kv[1])[:top]
        t.add_row(f"{s['start']:.1f}", f"{s['end']:.1f}", s["label"], ", ".join(f"{k} {v:.2f}" for k, v in best))
    console.print(t)


def _print_video(p, top: int, console) -> None:
    """Per person: time on screen, the emotions that held the most time, notable changes; then
    the voice and the fused answer."""
    from rich.markup import escape

    from affekt.video.timeline import summary

    s = summary(p)

    def shares(d):
        return ", ".join(f"{escape(k)} {v:.0%}" for k, v in list(d.items())[:top])

    from affekt.core.errors import InputError
    from affekt.video.decode import split_fragment

    try:
        start = split_fragment(p.input)[1]
    except InputError:  # a malformed range was already reported as the record's error
        start = 0.0
    span = f"{start:.1f}-{p.duration:.1f} s" if start else f"{p.duration:.1f} s"
    console.print(escape(f"{p.input}: {span}, {len(s['people'])} "
                         f"{'person' if len(s['people']) == 1 else 'people'} tracked"), highlight=False)
    for person in s["people"]:
        line = f"  person {person['id']} ({person['time_on_screen']:.1f} s on screen): {shares(person['shares'])}"
        if person["changes"]:
            ch = "; ".join(f"{c['from']} -> {c['to']} at {c['time']:.1f} s" for c in person["changes"][:5])
            more = f" (+{len(person['changes']) - 5} more)" if len(person["changes"]) > 5 else ""
            line += f"\n    changes: {escape(ch)}{more}"
        console.print(line, highlight=False)
    console.print("  voice: " + (shares(s["voice"]) if s["voice"] else escape(s["voice_note"] or "no speech")),
                  highlight=False)
    if s["fused"]:
        console.print(f"  face + voice: {shares(s['fused'])}", highlight=False)
