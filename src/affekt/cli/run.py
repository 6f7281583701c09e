"""``affekt analyze`` and ``affekt predict``: any modality, through the modality registry."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from affekt.cli.common import (EXIT_OK, AbstainOpt, ModelOpt, SpaceOpt, StrictOpt, check_label_space, friendly, load,
                               report_item_errors)

TextColumnOpt = typer.Option("text", help="Column (csv/tsv/parquet) or field (jsonl) holding the text.")
IdColumnOpt = typer.Option(None, "--id-column",
                           help="Column (field) passed through to each record as \"id\" (default: a column named id).")
FpsOpt = typer.Option(None, "--fps", help="Video: frames sampled per second (default: the model's, 5).")
EncodingOpt = typer.Option("utf-8", help="Encoding of text files; a line not valid in it becomes an error record.")
BoxesOpt = typer.Option(None, "--boxes", help="scene: person boxes for the images, a CSV with a header and the columns "
                        "path,x1,y1,x2,y2 (the image, relative to the CSV's folder or absolute; the box's top-left and "
                        "bottom-right corners in pixels); one row per person. Images without a row: people found by "
                        "face detection (docs/emotic.md).")


@friendly
def analyze(inputs: List[str] = typer.Argument(..., help="Texts; files (.txt/.csv/.tsv/.jsonl/.parquet of texts, audio "
                                                "files, images, videos); or folders of them. See README, \"What analyze reads\"."),
            model: Optional[str] = ModelOpt, label_space: Optional[str] = SpaceOpt,
            top: int = typer.Option(3, min=1, help="How many emotions to show per item."),
            as_json: bool = typer.Option(False, "--json", help="Print JSON records instead of a table."),
            as_text: bool = typer.Option(False, "--as-text", help="Every argument is a text, even one that looks like a path."),
            text_column: str = TextColumnOpt, id_column: Optional[str] = IdColumnOpt, encoding: str = EncodingOpt,
            timeline: Optional[List[Path]] = typer.Option(
                None, help="Audio, video: also write the timeline to this .csv, .jsonl or .png (repeatable; "
                "audio: one row per speech window; video: one row per face per sampled frame, the PNG one "
                "panel per person plus the voice and the fused answer)."),
            annotate: Optional[Path] = typer.Option(
                None, help="Images: also write the image with each face's box and emotion drawn on it (.png/.jpg); "
                "videos: the video with each tracked face's box, person and emotion (.mp4/.mkv/.mov); "
                "with several inputs, one file each (NAME.<input name>.png)."),
            blur_faces: bool = typer.Option(False, "--blur-faces", help="Videos, with --annotate: blur the faces "
                                            "instead of drawing on them (a privacy-safe copy)."),
            whole_image: bool = typer.Option(False, "--whole-image", help="Images: read each image as one face "
                                             "(a face crop) instead of finding the faces in it."),
            fps: Optional[float] = FpsOpt,
            boxes: Path | None = BoxesOpt,
            abstain_below: Optional[float] = AbstainOpt,
            strict: bool = StrictOpt):
    """Recognise the emotions in texts, speech recordings, face images, videos, or folders of them (the main job)."""
    from affekt.core.errors import InputError
    from affekt.core.labels import get_label_space
    from affekt.core.modality import classify_argument, get_modality, run_items

    if label_space:
        get_label_space(label_space)
    if abstain_below is not None:
        from affekt.core.abstain import check_threshold

        check_threshold(abstain_below)
    items = []
    for arg in inputs:
        items.extend(classify_argument(arg, as_text=as_text, text_column=text_column, id_column=id_column,
                                       encoding=encoding))
    if not items:
        raise InputError("nothing to analyze")
    if model:  # a model whose modality reads other modalities' files (a scene model, images) takes them
        target = get_modality(load(model).modality)
        for it in items:
            if it.modality in getattr(target, "adopts", ()):
                it.modality = target.name
    groups: dict[str, list[int]] = {}
    for k, it in enumerate(items):
        groups.setdefault(it.modality, []).append(k)
    if timeline and not any(get_modality(m).timelines for m in groups):
        raise InputError("--timeline is for inputs that have a timeline (audio, video)")
    if fps is not None and "video" not in groups:
        raise InputError("--fps is for videos")
    if whole_image and "face" not in groups:
        raise InputError("--whole-image is for images")
    drawn = {m for m in groups if m in ("face", "video") or hasattr(get_modality(m), "annotate")}
    if annotate and not drawn:
        raise InputError("--annotate is for images and videos")
    if blur_faces and not (annotate and "video" in groups):
        raise InputError("--blur-faces is for videos, with --annotate OUT.mp4")
    if annotate:
        if len(drawn) > 1:
            raise InputError("--annotate: analyze images and videos in separate calls (one writes images, the other videos)")
        if hasattr(get_modality(next(iter(drawn))), "annotate_suffixes"):
            ANNOTATE_SUFFIXES = get_modality(next(iter(drawn))).annotate_suffixes
        elif "video" in groups:
            from affekt.video.annotate import ANNOTATE_SUFFIXES
        else:
            from affekt.face.annotate import ANNOTATE_SUFFIXES

        if annotate.suffix.lower() not in ANNOTATE_SUFFIXES:
            raise InputError(f"--annotate '{annotate}': use a {', '.join(ANNOTATE_SUFFIXES)} file")
    if model and len(groups) > 1:
        raise InputError(f"--model applies to one kind of input; these are {' and '.join(groups)}: "
                         "analyze them in separate calls")
    preds: list = [None] * len(items)
    models = {}
    for name, idx in groups.items():
        mod = get_modality(name)
        m = models[name] = load(model, name)
        check_label_space(m, label_space)
        opts = {"whole_image": True} if whole_image and name == "face" else {}
        if fps is not None and name == "video":
            opts["fps"] = fps
        if boxes is not None:
            opts["boxes"] = boxes  # the adapter refuses it where it does not apply
        chunk_preds = [p for chunk in run_items(m, mod, [items[k] for k in idx], label_space=label_space,
                                                 progress=len(idx) > 20, abstain_below=abstain_below, **opts)
                       for p in chunk]
        for k, p in zip(idx, chunk_preds):
            preds[k] = p
    code = report_item_errors(preds, strict=strict)
    if timeline:
        _write_timelines(preds, items, timeline)
    if annotate:
        _write_annotated(preds, items, annotate, blur=blur_faces)
    if as_json:
        typer.echo(json.dumps([p.to_dict() for p in preds], ensure_ascii=False, indent=2))
    else:
        from affekt.cli.render import print_predictions

        for name, idx in groups.items():
            printer = getattr(get_modality(name), "print_predictions", print_predictions)
            printer([preds[k] for k in idx], top, models[name].model_id_)
    if code != EXIT_OK:
        raise typer.Exit(code)


def _write_timelines(preds: list, items: list, timeline: list[Path]) -> None:
    from affekt.core.errors import InputError
    from affekt.core.modality import get_modality
    from affekt.speech.timeline import TIMELINE_SUFFIXES

    for t in timeline:
        if t.suffix.lower() not in TIMELINE_SUFFIXES:
            raise InputError(f"--timeline '{t}': use a {', '.join(TIMELINE_SUFFIXES)} file")
    with_timeline = [(p, it) for p, it in zip(preds, items) if get_modality(it.modality).timelines and not p.error]
    for t in timeline:
        for p, it in with_timeline:
            out = t if len(with_timeline) == 1 else t.with_name(f"{t.stem}.{Path(str(p.input)).stem}{t.suffix}")
            get_modality(it.modality).write_timeline(p, out)
            typer.echo(f"timeline written to {out}", err=True)


def _write_annotated(preds: list, items: list, annotate: Path, blur: bool = False) -> None:
    from affekt.core.modality import get_modality

    done = [(p, it) for p, it in zip(preds, items)
            if (it.modality in ("face", "video") or hasattr(get_modality(it.modality), "annotate")) and not p.error]
    stems = [Path(str(it.value).split("#", 1)[0]).stem for _, it in done]
    for k, (p, it) in enumerate(done):
        # several inputs: one file each, named by the input (and its place, where two share a name: people
        # of one photo, PATH#xywh=...)
        stem = stems[k] if stems.count(stems[k]) == 1 else f"{stems[k]}.{k + 1}"
        out = annotate if len(done) == 1 else annotate.with_name(f"{annotate.stem}.{stem}{annotate.suffix}")
        if hasattr(get_modality(it.modality), "annotate"):  # the adapter draws its own records
            get_modality(it.modality).annotate(p, it.value, out)
            typer.echo(f"annotated image written to {out}", err=True)
        elif it.modality == "video":
            from affekt.video.annotate import annotate_video

            annotate_video(p, it.value, out, blur=blur)
            typer.echo(f"{'blurred' if blur else 'annotated'} video written to {out}", err=True)
        else:
            from affekt.face.annotate import annotate as draw

            draw(it.value, p, out)
            typer.echo(f"annotated image written to {out}", err=True)


@friendly
def predict(input: Path = typer.Option(..., "--input", "-i", help="text: .txt (a text per line), .csv/.tsv, .jsonl or .parquet; "
                                       "speech / face / video: an audio file / image / video, a folder (recursive) "
                                       "or a .txt list of paths"),
            output: Path = typer.Option(..., "--output", "-o", help="JSONL: one object per input item, in order."),
            modality: Optional[str] = typer.Option(
                None, help="text, speech, face, video or scene (default: from the input: an audio file or a folder of "
                "audio is speech, images are face (scene with a scene --model), videos are video, a table of texts is "
                "text; a .txt list of paths needs --modality)"),
            model: Optional[str] = ModelOpt, label_space: Optional[str] = SpaceOpt,
            text_column: str = TextColumnOpt, id_column: Optional[str] = IdColumnOpt, encoding: str = EncodingOpt,
            batch_size: int = typer.Option(256, min=1, help="Items per model call (speech: files per chunk, at most 16)."),
            speaker_by: Optional[str] = typer.Option(
                None, "--speaker-by", help="speech models trained with speaker_norm: who speaks in each file: "
                "'folder' (the parent folder's name) or a regex whose first group, found in the file name, names "
                "the speaker. Default: each long recording is its own speaker, the other files one speaker."),
            whole_image: bool = typer.Option(False, "--whole-image", help="face: read each image as one face (a "
                                             "face crop) instead of finding the faces in it."),
            fps: Optional[float] = FpsOpt,
            boxes: Path | None = BoxesOpt,
            abstain_below: Optional[float] = AbstainOpt,
            adapt: bool = typer.Option(False, "--adapt", help="speech models trained with -p corpus_norm=true: take "
                                       "the input files as one set of recordings (one microphone, room, language) and "
                                       "standardise their features by the set's own statistics (unsupervised "
                                       "adaptation). Needs 20+ files with a mix of emotions; then every answer depends "
                                       "on the other files. Without it each file is scored on its own."),
            engine: str = typer.Option("local", help="local: this process. ray: a Ray cluster (Ray Data, an actor "
                                       "pool holding the model once per worker; resumable: see docs/scaling.md)."),
            address: Optional[str] = typer.Option(None, help="--engine ray: the cluster to join (e.g. "
                                                  "ray://head:10001 or auto); default: a local cluster for this run."),
            num_workers: Optional[int] = typer.Option(None, min=1, help="--engine ray: workers (one CPU and one "
                                                      "copy of the model each); default: the CPUs here, at most 8."),
            strict: bool = StrictOpt):
    """Predict for every item of a file or folder; a failing item gets an error record and the run goes on."""
    from affekt.core.errors import InputError
    from affekt.core.labels import get_label_space
    from affekt.core.modality import get_modality, run_items

    if label_space:
        get_label_space(label_space)
    if engine not in ("local", "ray"):
        raise InputError(f"--engine '{engine}': use local or ray")
    if engine == "local" and (address or num_workers):
        raise InputError("--address and --num-workers are for --engine ray")
    if abstain_below is not None:
        from affekt.core.abstain import check_threshold

        check_threshold(abstain_below)
    mod = get_modality(modality or _modality_of_input(input))
    if model and not modality:  # a model whose modality reads these files (a scene model, images) decides
        target = get_modality(load(model).modality)
        if mod.name in getattr(target, "adopts", ()):
            mod = target
    if mod.name == "text":
        items = mod.items_from_input(input, text_column=text_column, id_column=id_column, encoding=encoding)
    else:
        for flag, value, default in (("--text-column", text_column, "text"), ("--id-column", id_column, None),
                                     ("--encoding", encoding, "utf-8")):
            if value != default:
                raise InputError(f"{flag} is for text inputs")
        items = mod.items_from_input(input)
    m = load(model, mod.name)
    check_label_space(m, label_space)
    output.parent.mkdir(parents=True, exist_ok=True)
    opts = {key: value for key, value in (("whole_image", whole_image or None), ("fps", fps),
                                          ("adapt", adapt or None), ("speaker_by", speaker_by),
                                          ("boxes", boxes)) if value is not None}
    if engine == "ray":
        from affekt.engine.ray_engine import predict_ray, shutdown

        try:
            preds = predict_ray(mod, model or mod.default_model, items, output, label_space=label_space,
                                batch_size=batch_size, abstain_below=abstain_below, opts=opts, address=address,
                                num_workers=num_workers)
        finally:
            shutdown()
        if strict and any(p.error for p in preds):
            output.unlink()  # --strict: nothing written
            report_item_errors(preds, strict=True)
    else:
        tmp = output.with_name(output.name + ".part")
        preds = []
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                for chunk in run_items(m, mod, items, label_space=label_space, batch_size=batch_size,
                                       progress=True, abstain_below=abstain_below, **opts):
                    preds.extend(chunk)
                    if strict:
                        report_item_errors(preds, strict=True)
                    for p in chunk:
                        fh.write(json.dumps(p.to_dict(), ensure_ascii=False) + "\n")
                    fh.flush()
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        tmp.replace(output)
    code = report_item_errors(preds)
    typer.echo(f"wrote {len(preds)} predictions to {output}", err=True)
    if code != EXIT_OK:
        raise typer.Exit(code)


def _modality_of_input(path: Path) -> str:
    """The modality ``predict --input`` reads when --modality is not given."""
    from affekt.core.errors import InputError
    from affekt.core.modality import known_suffixes, modality_of_file

    if not path.exists():
        raise InputError(f"input '{path}' does not exist")
    if path.is_dir():
        found = {known_suffixes().get(f.suffix.lower()) for f in path.rglob("*") if f.is_file()} - {None}
        if len(found) == 1:
            return found.pop()
        if not found:
            raise InputError(f"folder '{path}' holds no file affekt reads")
        raise InputError(f"folder '{path}' holds {' and '.join(sorted(found))} files: say which with --modality")
    m = modality_of_file(path)
    if m is None:
        raise InputError(f"'{path}': affekt does not read '{path.suffix or '(no extension)'}' files; "
                         "give --modality and a file of that modality")
    return m.name
