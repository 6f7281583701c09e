"""``affekt anonymize``: faces blurred or pixelated in images and videos (see :mod:`affekt.privacy`)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from affekt.cli.common import EXIT_ITEMS, EXIT_OK, err, friendly


@friendly
def anonymize(
    input: Annotated[Path, typer.Argument(help="An image, a video, a folder of them (recursive; its tree is mirrored "
                                          "under OUT) or a .txt list of their paths.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write: for one file, the file (same kind: "
                                         "image or video) or a folder; for a folder or a list, a folder. Never an "
                                         "input: an output that would overwrite an input is refused.")],
    method: Annotated[str, typer.Option("--method", help="blur (Gaussian, sigma a sixth of the face) or pixelate "
                                        "(8 blocks across the face).")] = "blur",
    strict: Annotated[bool, typer.Option("--strict", help="An image or video in which no face is found is not "
                                         "written: it counts as a failed item (stderr line, exit 2). Without it, "
                                         "such an input is written uncovered (metadata stripped) with a warning.")] = False,
    expand: Annotated[float, typer.Option("--expand", help="Enlarge each face box by this share of its size on every "
                                          "side before covering it (0-2; the boxes run from brows to chin).")] = 0.25,
    min_face: Annotated[int, typer.Option("--min-face", help="Leave faces smaller than this many pixels (longer side "
                                          "of the box).")] = 16,
    fps: Annotated[float | None, typer.Option("--fps", help="Videos: frames a second the detector looks at (default "
                                              "10); boxes are tracked and interpolated between them, so every frame "
                                              "written is covered.")] = None,
    every_frame: Annotated[bool, typer.Option("--every-frame", help="Videos: look for faces on every frame (slower; "
                                              "the default looks at 10 a second).")] = False,
    audio: Annotated[bool, typer.Option("--audio/--no-audio", help="Videos: copy the audio track (default; voices "
                                        "are not anonymized) or drop it.")] = True,
    tiles: Annotated[int | None, typer.Option("--tiles", min=1, max=8, help="Also look on k x k overlapping tiles, "
                                              "for small faces (default: 2 for images, 1 for video frames).")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Also write one JSON line per input (input, output, "
                                                "faces, frames, error) to this file.")] = None,
):
    """Blur or pixelate the faces in images and videos; metadata (EXIF, GPS, container tags) is not copied.

    Faces are found by BlazeFace (its full-range and "back" models together). Images keep their
    format, upright (EXIF orientation applied). Videos are
    read twice: faces are looked for on 10 frames a second (--fps, --every-frame) and linked into
    tracks; then every frame is written with each track's box covered, interpolated between the
    frames looked at and carried on for half a second before and after a track (so a face the
    detector missed for a moment is covered too). Nothing is written anywhere but OUT (and
    --report): no cache, no temporary files elsewhere. A face the detector does not find is not
    covered: check the output (see docs/ethics.md)."""
    from affekt.core.errors import InputError
    from affekt.privacy.anonymize import anonymize_many, plan

    if every_frame and fps is not None:
        raise InputError("--every-frame and --fps: give one (--every-frame looks at every frame)")
    rate = None if every_frame else (10.0 if fps is None else fps)
    if report is not None:
        jobs = plan(input, output)
        if any(report.resolve() == j.src.resolve() for j in jobs):
            raise InputError(f"--report '{report}' is an input; anonymize never overwrites its inputs")
    verb = "pixelated" if method.strip().lower() == "pixelate" else "blurred"
    counts = {"done": 0, "faces": 0, "noface": 0, "failed": 0, "strict": 0}

    def show(r) -> None:
        for w in r.warnings:
            typer.echo(f"warning: '{r.input}': {w}", err=True)
        if r.error:
            counts["failed"] += 1
            counts["strict"] += "--strict" in r.error
            err(r.error)
            return
        counts["done"] += 1
        counts["faces"] += r.faces
        counts["noface"] += not r.faces
        what = f"{r.faces} face{'s' * (r.faces != 1)} {verb}" if r.faces else "no face found, written uncovered"
        if r.kind == "video":
            what += f" on {r.frames_covered} of {r.frames} frames ({r.sampled} looked at)"
        typer.echo(f"{r.input} -> {r.output}: {what}")

    results = anonymize_many(input, output, method=method, expand=expand, min_face=min_face, strict=strict, fps=rate,
                  audio=audio, tiles=tiles, on_result=show)
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        tmp = report.with_name(report.name + ".part")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in results)
        tmp.replace(report)
    n = len(results)
    faces = counts["faces"]
    parts = [f"anonymized {counts['done']} of {n} input{'s' * (n != 1)} into {output} "
             + f"({faces} face{'s' * (faces != 1)} {verb})"]
    if counts["noface"]:
        parts.append(f"{counts['noface']} without a face found, written uncovered")
    if counts["failed"]:
        strict_part = f", {counts['strict']} of them for no face (--strict)" if counts["strict"] else ""
        parts.append(f"{counts['failed']} failed and not written{strict_part}")
    typer.echo("; ".join(parts), err=True)
    if report is not None:
        typer.echo(f"report written to {report}", err=True)
    if counts["failed"]:
        raise typer.Exit(EXIT_ITEMS)
    raise typer.Exit(EXIT_OK)
