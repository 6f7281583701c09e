"""The ``affekt`` command line: thin commands over the library (see docs/cli.md).

Every error the library raises on purpose becomes one readable line on stderr and exit code 1.
Set AFFEKT_DEBUG=1 to see the traceback instead.
"""
from __future__ import annotations

import functools
import json
import os
import re
import shlex
import sys
from pathlib import Path
from typing import List, Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="affekt: emotion recognition (categories and valence/arousal/dominance).")

ModelOpt = typer.Option(None, "--model", "-m", help="Bundled model name or a saved model folder.")
SpaceOpt = typer.Option(None, "--label-space", "-l", help="View the output in another label space (e.g. ekman).")


def _err(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)


def _warning_line(message, category, filename, lineno, file=None, line=None):
    """Warnings on the command line: one line, no source location (AFFEKT_DEBUG=1 restores them)."""
    print(f"warning: {message}", file=sys.stderr)


def friendly(fn):
    @functools.wraps(fn)
    def wrapper(*a, **kw):
        import warnings

        from affekt.core.errors import AffektError

        try:
            with warnings.catch_warnings():
                if not os.environ.get("AFFEKT_DEBUG"):
                    warnings.showwarning = _warning_line
                return fn(*a, **kw)
        except typer.Exit:
            raise
        except AffektError as exc:
            if os.environ.get("AFFEKT_DEBUG"):
                raise
            _err(str(exc))
            raise typer.Exit(1)
        except (OSError, MemoryError) as exc:
            if os.environ.get("AFFEKT_DEBUG"):
                raise
            _err(f"{type(exc).__name__}: {exc}")
            raise typer.Exit(1)
        except Exception as exc:  # a bug of ours: still one line, and how to see more
            if os.environ.get("AFFEKT_DEBUG"):
                raise
            _err(f"unexpected {type(exc).__name__}: {exc} (set AFFEKT_DEBUG=1 for the traceback and report it)")
            raise typer.Exit(1)
    return wrapper


def _load(model: str | None, modality: str = "text"):
    from affekt.core.registry import default_model, load_model

    return load_model(model or default_model(modality))


def _parse_params(params: list[str] | None) -> dict:
    from affekt.core.errors import InputError

    out = {}
    for p in params or []:
        k, sep, v = p.partition("=")
        if not sep:
            raise InputError(f"--param expects key=value, got '{p}'")
        try:
            out[k] = json.loads(v)
        except json.JSONDecodeError:
            out[k] = v
    return out


def _collect_inputs(inputs: list[str], text_column: str) -> list:
    """Command-line arguments -> items: a text, or the texts of a file named by its extension."""
    from affekt.io.text import TEXT_SUFFIXES, read_texts

    items: list = []
    for arg in inputs:
        p = Path(arg)
        if p.suffix.lower() in TEXT_SUFFIXES and len(arg) < 4096 and p.exists():
            items.extend(read_texts(p, text_column))
        else:
            items.append(arg)
    return items


def _run_batched(model, items: list, label_space, batch_size: int = 256, progress: bool = False):
    """Predict every item, in order; unreadable or bad items become error records."""
    from affekt.core.types import EmotionPrediction
    from affekt.io.text import ItemError

    out: list = [None] * len(items)
    idx = [i for i, x in enumerate(items) if not isinstance(x, ItemError)]
    for i, x in enumerate(items):
        if isinstance(x, ItemError):
            out[i] = EmotionPrediction(input=x.input, error=x.error)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(idx), unit="item", file=sys.stderr, desc="predict")
    # length-sorted batches: padding-bound encoders run much faster
    order = sorted(idx, key=lambda i: len(items[i]) if isinstance(items[i], str) else 0)
    for s in range(0, len(order), batch_size):
        chunk = order[s:s + batch_size]
        preds = model.predict([items[i] for i in chunk], label_space=label_space, errors="record")
        for i, p in zip(chunk, preds):
            out[i] = p
        if bar is not None:
            bar.update(len(chunk))
    if bar is not None:
        bar.close()
    return out


@app.command()
@friendly
def analyze(inputs: List[str] = typer.Argument(..., help="Texts, .txt/.csv/.tsv/.jsonl files of texts, or audio files."),
            model: Optional[str] = ModelOpt, label_space: Optional[str] = SpaceOpt,
            top: int = typer.Option(3, help="How many emotions to show per item."),
            as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
            text_column: str = typer.Option("text", help="Column/field holding the text in a table file."),
            timeline: Optional[List[Path]] = typer.Option(
                None, help="Audio: also write the timeline of windows to this .csv, .jsonl or .png (repeatable).")):
    """Recognise the emotions in texts or speech recordings (the main job)."""
    from affekt.core.errors import InputError
    from affekt.io.audio import is_audio_path

    if label_space:
        from affekt.core.labels import get_label_space

        get_label_space(label_space)
    audio = [is_audio_path(x) for x in inputs]
    if any(audio):
        if not all(audio):
            raise InputError("give either texts or audio files to one `affekt analyze`, not both")
        return _analyze_audio(inputs, model, label_space, top, as_json, timeline or [])
    if timeline:
        raise InputError("--timeline is for audio inputs")
    items = _collect_inputs(inputs, text_column)
    if not items:
        raise InputError("nothing to analyze")
    m = _load_for(model, "text")
    preds = _run_batched(m, items, label_space, progress=len(items) > 1000)
    if as_json:
        typer.echo(json.dumps([p.to_dict() for p in preds], ensure_ascii=False, indent=2))
    else:
        _print_table(preds, top, m)
    if all(p.error for p in preds):
        raise typer.Exit(1)


def _analyze_audio(paths: list[str], model, label_space, top: int, as_json: bool, timeline: list[Path]) -> None:
    from affekt.speech.timeline import TIMELINE_SUFFIXES, write_timeline

    for t in timeline:
        if t.suffix.lower() not in TIMELINE_SUFFIXES:
            from affekt.core.errors import InputError

            raise InputError(f"--timeline '{t}': use a {', '.join(TIMELINE_SUFFIXES)} file")
    m = _load_for(model, "speech")
    preds = m.predict(paths, label_space=label_space, errors="record")
    for t in timeline:
        for p in preds:
            if not p.error:
                out = t if len(paths) == 1 else t.with_name(f"{t.stem}.{Path(str(p.input)).stem}{t.suffix}")
                write_timeline(p, out)
                typer.echo(f"timeline written to {out}", err=True)
    if as_json:
        typer.echo(json.dumps([p.to_dict() for p in preds], ensure_ascii=False, indent=2))
    else:
        _print_table(preds, top, m)
        for p in preds:
            if p.segments:
                _print_segments(p, top)
    if all(p.error for p in preds):
        raise typer.Exit(1)


def _print_segments(p, top: int) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"timeline of {p.input} ({len(p.segments)} speech windows)")
    for c in ("start (s)", "end (s)", "emotion", "scores"):
        t.add_column(c)
    for s in p.segments:
        best = sorted(s["scores"].items(), key=lambda kv: -kv[1])[:top]
        t.add_row(f"{s['start']:.1f}", f"{s['end']:.1f}", s["label"], ", ".join(f"{k} {v:.2f}" for k, v in best))
    Console().print(t)


def _load_for(model: str | None, modality: str):
    """Load ``model`` (or the modality's default) and check it is a model of that modality."""
    from affekt.core.errors import InputError

    m = _load(model, modality)
    if getattr(m, "modality", modality) != modality:
        raise InputError(f"model '{model}' is a {m.modality} model; these inputs need a {modality} model "
                         "(see `affekt models`)")
    return m


def _print_table(preds, top: int, model) -> None:
    from rich.console import Console
    from rich.table import Table

    has_vad = any(p.valence is not None for p in preds)
    t = Table(title=f"model: {model.model_id_}", show_lines=False)
    t.add_column("input", overflow="fold", max_width=50)
    t.add_column("emotions (score)")
    if has_vad:
        t.add_column("valence / arousal / dominance (1-5)")
    for p in preds:
        text = str(p.input) if p.input is not None else ""
        text = text if len(text) <= 120 else text[:117] + "..."
        if p.error:
            row = [text, f"[red]error: {p.error}[/red]"]
            if has_vad:
                row.append("")
        else:
            emo = ", ".join(f"[bold]{lab}[/bold] {s:.2f}" if lab in p.labels else f"{lab} {s:.2f}"
                            for lab, s in p.top(top))
            row = [text, emo]
            if has_vad:
                row.append(f"{p.valence:.2f} / {p.arousal:.2f} / {p.dominance:.2f}" if p.valence is not None else "")
        t.add_row(*row)
    Console().print(t)
    typer.echo("bold = the model's decision (per-label thresholds); scores are probabilities")


@app.command()
@friendly
def predict(input: Path = typer.Option(..., "--input", "-i", help="text: .txt (a text per line), .csv/.tsv or .jsonl; "
                                       "speech: an audio file, a folder (recursive) or a .txt list of paths"),
            output: Path = typer.Option(..., "--output", "-o", help="JSONL: one object per input item, in order."),
            modality: str = typer.Option("text", help="text or speech"),
            model: Optional[str] = ModelOpt, label_space: Optional[str] = SpaceOpt,
            text_column: str = typer.Option("text", help="Column (csv/tsv) or field (jsonl) with the text."),
            batch_size: int = typer.Option(256, min=1),
            speaker_by: Optional[str] = typer.Option(
                None, "--speaker-by", help="speech models trained with speaker_norm: who speaks in each file: "
                "'folder' (the parent folder's name) or a regex whose first group, found in the file name, names "
                "the speaker. Default: each long recording is its own speaker, the other files one speaker.")):
    """Predict for every item of a file; a failing item gets an error record and the run goes on."""
    from affekt.core.errors import InputError
    from affekt.io.text import read_texts

    if modality not in ("text", "speech"):
        raise InputError(f"modality '{modality}' is not available yet (available: text, speech)")
    if label_space:
        from affekt.core.labels import get_label_space

        get_label_space(label_space)
    if modality == "speech":
        return _predict_audio(input, output, model, label_space, speaker_by)
    if speaker_by:
        raise InputError("--speaker-by is for speech models")
    items = read_texts(input, text_column)
    m = _load_for(model, modality)
    preds = _run_batched(m, items, label_space, batch_size, progress=len(items) >= 500)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".part")
    with open(tmp, "w", encoding="utf-8") as fh:
        for p in preds:
            fh.write(json.dumps(p.to_dict(), ensure_ascii=False) + "\n")
    tmp.replace(output)
    n_err = sum(1 for p in preds if p.error)
    typer.echo(f"wrote {len(preds)} predictions to {output}" + (f" ({n_err} items with errors)" if n_err else ""),
               err=True)


def _speakers_of(items: list[str], speaker_by: str) -> list[str]:
    """Speaker of each file: its parent folder's name, or the first group of a regex on its name."""
    from affekt.core.errors import InputError

    if speaker_by == "folder":
        return [Path(p).parent.name for p in items]
    try:
        rx = re.compile(speaker_by)
    except re.error as exc:
        raise InputError(f"--speaker-by: '{speaker_by}' is neither 'folder' nor a valid regex ({exc})") from None
    if rx.groups < 1:
        raise InputError(f"--speaker-by: the regex '{speaker_by}' needs a group naming the speaker, e.g. '-(\\d+)\\.wav$'")
    out = []
    for p in items:
        hit = rx.search(Path(p).name)
        if not hit:
            raise InputError(f"--speaker-by: '{speaker_by}' finds no speaker in the file name '{Path(p).name}'")
        out.append(hit.group(1))
    return out


def _predict_audio(input: Path, output: Path, model, label_space, speaker_by: str | None = None) -> None:
    """Speech files in input order, one JSONL line each, written as they are done (a failing file
    gets an error record naming it as given); a progress bar on stderr. A speaker-normalised model
    sees all files at once (each speaker's clips are needed together)."""
    from tqdm import tqdm

    from affekt.core.errors import InputError
    from affekt.io.audio import collect_audio_named

    named = collect_audio_named(input)
    items = [path for _, path in named]
    m = _load_for(model, "speech")
    norm = bool(getattr(m, "speaker_norm", False))
    if speaker_by and not norm:
        raise InputError(f"--speaker-by: model '{m.model_id_}' does not normalise per speaker "
                         "(train one with -p speaker_norm=true)")
    speakers = _speakers_of(items, speaker_by) if speaker_by else None
    step = len(items) if norm else 16
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".part")
    n_err = 0
    with open(tmp, "w", encoding="utf-8") as fh, tqdm(total=len(items), unit="file", file=sys.stderr,
                                                       desc="predict", disable=len(items) < 2 or norm) as bar:
        for s in range(0, len(items), max(step, 1)):
            kw = {"speakers": speakers[s:s + step]} if speakers else {}
            for (given, _), p in zip(named[s:s + step], m.predict(items[s:s + step], label_space=label_space,
                                                                  errors="record", **kw)):
                p.input = given  # the path as the user gave it (a list's line as written)
                n_err += bool(p.error)
                fh.write(json.dumps(p.to_dict(), ensure_ascii=False) + "\n")
            fh.flush()
            bar.update(len(items[s:s + step]))
    tmp.replace(output)
    typer.echo(f"wrote {len(items)} predictions to {output}" + (f" ({n_err} files with errors)" if n_err else ""),
               err=True)


def _dataset(dataset: str, data_dir: Path, text_column: str, label_column: list[str] | None,
             label_sep: str | None, group_column: str | None, modality: str = "text"):
    from affekt.datasets import load_dataset

    kw = {}
    if dataset.lower() in ("csv", "tsv", "jsonl", "table"):
        if modality == "speech":
            kw = dict(label_column=(label_column or ["label"])[0], speaker_column=group_column or "speaker")
        else:
            kw = dict(text_column=text_column, label_columns=label_column or ["label"], label_sep=label_sep,
                      group_column=group_column)
    return load_dataset(dataset, data_dir, modality=modality, **kw)


def _datasets(names: list[str], dirs: list[Path], label_space: str | None, modality: str, **kw):
    """One ``--dataset``/``--data-dir`` pair, or several combined (labels mapped into --label-space)."""
    from affekt.core.errors import InputError

    if len(names) != len(dirs):
        raise InputError(f"{len(names)} --dataset but {len(dirs)} --data-dir: give one folder per dataset, in order")
    ds = [_dataset(n, d, modality=modality, **kw) for n, d in zip(names, dirs)]
    if len(ds) == 1 and not label_space:
        return ds[0]
    if len(ds) > 1 and not label_space:
        raise InputError("combining datasets needs --label-space (e.g. ekman) to put their labels in one space")
    if len(ds) == 1 and ds[0].label_space.name == label_space:
        return ds[0]
    if ds[0].task != "classification":
        raise InputError("--label-space applies to categorical datasets")
    from affekt.datasets import concat

    return concat(ds, label_space)


@app.command()
@friendly
def train(ctx: typer.Context,
          dataset: List[str] = typer.Option(..., help="text: goemotions | carer | emobank | csv; speech: ravdess | "
                                            "tess | cremad | emodb | savee | folder | csv. Repeat to combine corpora."),
          data_dir: List[Path] = typer.Option(..., help="Folder (or table file for csv) as the dataset is published; "
                                              "one per --dataset."),
          output: Path = typer.Option(..., "--output", "-o", help="Folder to save the model in."),
          modality: str = typer.Option("text", help="text or speech"),
          family: Optional[str] = typer.Option(None, "--model", help="Model family (see `affekt families`)."),
          label_space: Optional[str] = typer.Option(None, "--label-space", "-l",
                                                    help="Map the labels into this space before training (e.g. ekman)."),
          cv: Optional[int] = typer.Option(None, help="Also report K-fold cross-validation (grouped if --group-column)."),
          protocol: Optional[str] = typer.Option(None, help="CV protocol: kfold, group-kfold, logo (leave-one-group-out, "
                                                 "e.g. leave-one-speaker-out), loo, folds (the corpus's own folds)."),
          tune_trials: int = typer.Option(0, "--tune", help="Optuna trials on the dev split before training."),
          param: Optional[List[str]] = typer.Option(None, "--param", "-p", help="Family parameter key=value (JSON values)."),
          seed: int = typer.Option(0),
          text_column: str = typer.Option("text"), label_column: Optional[List[str]] = typer.Option(None),
          label_sep: Optional[str] = typer.Option(None), group_column: Optional[str] = typer.Option(None)):
    """Train a model family on a dataset, evaluate it (test split, or speaker-independent CV for
    corpora without one), save it with its card."""
    from affekt.training.pipeline import train as run

    ds = _datasets(dataset, data_dir, label_space, modality, text_column=text_column, label_column=label_column,
                   label_sep=label_sep, group_column=group_column)
    res = run(modality, ds, output, family=family, params=_parse_params(param), cv=cv, protocol=protocol,
              tune_trials=tune_trials,
              seed=seed, command=_command_line("train", ctx.params))
    _print_summary(res)
    typer.echo(f"saved to {output}", err=True)


def _command_line(name: str, params: dict) -> str:
    """The command as it could be typed again (recorded in model cards)."""
    flags = {"family": "model", "tune_trials": "tune"}
    parts = ["affekt", name]
    for k, v in params.items():
        if v is None or v is False or (isinstance(v, (list, tuple)) and not v) or (k in ("tune_trials", "seed") and v == 0) or (k == "text_column" and v == "text") \
                or (k == "modality" and v == "text"):
            continue
        for item in (v if isinstance(v, list) else [v]):
            parts += [f"--{flags.get(k, k).replace('_', '-')}", shlex.quote(str(item))]
    return " ".join(parts)


def _print_summary(res: dict) -> None:
    from affekt.training.pipeline import _headline

    if "test" in res:
        typer.echo("test: " + ", ".join(f"{k}={v:.4f}" for k, v in _headline(res["test"]).items()))
    if "cv" in res:
        cvr = res["cv"]
        for k in ("macro_f1", "balanced_accuracy", "accuracy", "valence_pearson_r"):
            if k in cvr:
                typer.echo(f"{cvr['protocol']} {cvr['k']}-fold {k}: {cvr[k]['mean']:.4f} ± {cvr[k]['std']:.4f}")
        for attr, groups in cvr.get("by_attribute", {}).items():
            for g, d in groups.items():
                if "balanced_accuracy" in d:
                    typer.echo(f"  {attr}={g}: balanced_accuracy {d['balanced_accuracy']['mean']:.4f}")


@app.command()
@friendly
def evaluate(model: str = typer.Option(..., "--model", "-m"), dataset: str = typer.Option(...),
             data_dir: Path = typer.Option(...), split: str = typer.Option("test"),
             report: Optional[Path] = typer.Option(None, help="Folder for metrics.json, report.md and plots."),
             label_space: Optional[str] = SpaceOpt, n_boot: int = typer.Option(1000, help="Bootstrap resamples for CIs."),
             text_column: str = typer.Option("text"), label_column: Optional[List[str]] = typer.Option(None),
             label_sep: Optional[str] = typer.Option(None)):
    """Evaluate a model on a dataset split; write a report."""
    from affekt.evaluation.evaluate import evaluate as run
    from affekt.evaluation.report import write_report
    from affekt.training.pipeline import _headline

    ds = _dataset(dataset, data_dir, text_column, label_column, label_sep, None)
    m = _load(model)
    res = run(m, ds, split, label_space=label_space, n_boot=n_boot)
    res.update({"dataset": ds.name, "split": split})
    typer.echo(", ".join(f"{k}={v:.4f}" for k, v in _headline(res).items()))
    if report:
        write_report(res, report, title=f"{m.model_id_} on {ds.name} {split}")
        typer.echo(f"report written to {report}", err=True)


@app.command()
@friendly
def tune(dataset: str = typer.Option(...), data_dir: Path = typer.Option(...),
         family: str = typer.Option("tfidf", "--model"), n_trials: int = typer.Option(20, "--n-trials"),
         modality: str = typer.Option("text"), output: Optional[Path] = typer.Option(None, help="Write trials JSON here."),
         seed: int = typer.Option(0)):
    """Search a family's hyperparameters with optuna on the dev split."""
    from affekt.training.tuning import tune as run

    ds = _dataset(dataset, data_dir, "text", None, None, None)
    best, trials = run(modality, ds, family, n_trials, seed=seed)
    typer.echo(json.dumps({"best_params": best, "best_value": max(t["value"] for t in trials if t["value"] is not None)}))
    if output:
        output.write_text(json.dumps({"best_params": best, "trials": trials}, indent=2))


@app.command()
@friendly
def models(as_json: bool = typer.Option(False, "--json")):
    """List bundled and user models with their label spaces and metrics."""
    from affekt.core.registry import list_models

    rows = list_models()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title="affekt models", show_lines=True)
    for c in ("name", "modality", "family", "label space", "dimensions", "metrics (see model card)", "where"):
        t.add_column(c, no_wrap=c in ("name", "metrics (see model card)"))
    for r in rows:
        t.add_row(r["name"], r["modality"] or "", r["family"] or "", r["label_space"] or "",
                  "\n".join(r["dimensions"]),
                  "\n".join(f"{k} = {v}" for k, v in r["metrics"].items()), "bundled" if r["bundled"] else r["path"])
    Console(width=max(Console().width, 150)).print(t)


@app.command("families")
@friendly
def families_cmd(modality: str = typer.Option("text")):
    """List the model families `affekt train --model` can build."""
    from affekt.core.registry import families as fams

    for name, task in fams(modality).items():
        typer.echo(f"{name}\t{task}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
