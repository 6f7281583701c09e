"""``affekt train``, ``affekt evaluate`` and ``affekt tune``: datasets through the modality registry."""
from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import List, Optional

import typer

from affekt.cli.common import SpaceOpt, friendly, load, parse_params

ModalityOpt = typer.Option("text", help="text or speech")
SpeakerByOpt = typer.Option(None, "--speaker-by", help="speech folder/csv datasets: who speaks in each file: "
                            "'folder' (the file's parent folder) or a regex whose first group, found in the file "
                            "name, names the speaker. Without speakers, cross-validation is not speaker-independent.")


def _datasets(modality: str, names: list[str], dirs: list[Path], label_space: str | None, **kw):
    """One ``--dataset``/``--data-dir`` pair, or several combined (labels mapped into --label-space)."""
    from affekt.core.errors import InputError
    from affekt.core.modality import get_modality

    if len(names) != len(dirs):
        raise InputError(f"{len(names)} --dataset but {len(dirs)} --data-dir: give one folder per dataset, in order")
    mod = get_modality(modality)
    ds = [mod.load_dataset(n, d, **kw) for n, d in zip(names, dirs)]
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


@friendly
def train(ctx: typer.Context,
          dataset: List[str] = typer.Option(..., help="text: goemotions | carer | emobank | meld | dailydialog | "
                                            "semeval2007 | csv; speech: ravdess | tess | cremad | emodb | savee | urdu | "
                                            "ased | folder | csv. Repeat to combine corpora."),
          data_dir: List[Path] = typer.Option(..., help="Folder (or table file for csv) as the dataset is published; "
                                              "one per --dataset."),
          output: Path = typer.Option(..., "--output", "-o", help="Folder to save the model in (under $AFFEKT_HOME/models "
                                      "to have it listed by `affekt models` and loaded by name)."),
          modality: str = ModalityOpt,
          family: Optional[str] = typer.Option(None, "--model", help="Model family (see `affekt families`)."),
          label_space: Optional[str] = typer.Option(None, "--label-space", "-l",
                                                    help="Map the labels into this space before training (e.g. ekman)."),
          cv: Optional[int] = typer.Option(None, help="Also report K-fold cross-validation on the training data "
                                           "(train+dev; grouped if --group-column)."),
          protocol: Optional[str] = typer.Option(None, help="CV protocol: kfold, group-kfold, logo (leave-one-group-out, "
                                                 "e.g. leave-one-speaker-out), loo, folds (the corpus's own folds), loco "
                                                 "(leave-one-corpus-out over several --dataset: each held-out corpus "
                                                 "scored on its own labels)."),
          tune_trials: int = typer.Option(0, "--tune", help="Optuna trials on the dev split before training."),
          param: Optional[List[str]] = typer.Option(None, "--param", "-p", help="Family parameter key=value (JSON values)."),
          seed: int = typer.Option(0),
          text_column: str = typer.Option("text"), label_column: Optional[List[str]] = typer.Option(None),
          label_sep: Optional[str] = typer.Option(None), group_column: Optional[str] = typer.Option(None),
          speaker_by: Optional[str] = SpeakerByOpt,
          label_mode: Optional[str] = typer.Option(None, "--label-mode", help="Datasets with votes (ferplus; a csv whose "
                                                   "--label-column options are count columns): what to learn from: "
                                                   "plurality (default; ties left out) | majority (> half agree) | soft "
                                                   "(the vote distribution) | multi (labels with >= --vote-threshold of the "
                                                   "votes) | dawid-skene. The test split keeps the plurality."),
          vote_threshold: float = typer.Option(0.3, help="--label-mode multi: the share of votes a label needs."),
          adapt: bool = typer.Option(False, "--adapt", help="Models trained with -p corpus_norm=true: score each "
                                     "cross-validation test fold (under --protocol loco, each held-out corpus) as one new "
                                     "set of recordings, standardised by its own statistics (what `affekt predict --adapt` "
                                     "does). Without it each test item is scored on its own.")):
    """Train a model family on a dataset, evaluate it (test split, or cross-validation where that is
    the honest choice), save it with its card.

    Speech and scene features of the files read are kept in ~/.cache/affekt for later runs
    (AFFEKT_CACHE=DIR: elsewhere; AFFEKT_CACHE=off: not kept)."""
    from affekt.core.cache import cache_on_disk_by_default
    from affekt.training.pipeline import train as run

    cache_on_disk_by_default()
    params = parse_params(param)
    votes = {"label_votes": True} if label_mode and modality == "text" else {}
    ds = _datasets(modality, dataset, data_dir, label_space, text_column=text_column, label_column=label_column,
                   label_sep=label_sep, group_column=group_column, speaker_by=speaker_by, **votes)
    if label_mode or ds.info.get("vote_labels"):  # a vote table: its plurality unless told otherwise
        from affekt.annotation.targets import apply_label_mode

        ds = apply_label_mode(ds, label_mode or "plurality", threshold=vote_threshold, seed=seed)
    res = run(modality, ds, output, family=family, params=params, cv=cv, protocol=protocol,
              tune_trials=tune_trials, seed=seed, command=command_line("train", ctx.params), adapt=adapt)
    print_summary(res)
    typer.echo(f"saved to {output}", err=True)


def command_line(name: str, params: dict) -> str:
    """The command as it could be typed again (recorded in model cards)."""
    flags = {"family": "model", "tune_trials": "tune"}
    parts = ["affekt", name]
    for k, v in params.items():
        if v is None or v is False or (isinstance(v, (list, tuple)) and not v) or (k in ("tune_trials", "seed") and v == 0) \
                or (k == "text_column" and v == "text") or (k == "modality" and v == "text") \
                or (k == "vote_threshold" and params.get("label_mode") != "multi"):
            continue
        for item in (v if isinstance(v, list) else [v]):
            parts += [f"--{flags.get(k, k).replace('_', '-')}", shlex.quote(str(item))]
    return " ".join(parts)


def print_summary(res: dict) -> None:
    """Every headline figure with its CI and n (stdout); warnings about too little data (stderr)."""
    from affekt.evaluation.summary import summary_lines

    for line in summary_lines(res):
        typer.echo(line)
    for w in res.get("warnings", []):
        typer.echo(f"warning: {w}", err=True)


@friendly
def evaluate(model: str = typer.Option(..., "--model", "-m"), dataset: str = typer.Option(...),
             data_dir: Path = typer.Option(...),
             split: Optional[str] = typer.Option(None, help="Split to score (default: the test split of a corpus that "
                                                 "has one; all rows of a table without a split column)."),
             report: Optional[Path] = typer.Option(None, help="Folder for metrics.json, report.md and plots."),
             label_space: Optional[str] = SpaceOpt,
             shared_only: bool = typer.Option(False, "--shared-only", help="With --label-space: score only the items "
                                              "and labels both the data and the model's view have (cross-domain)."),
             n_boot: int = typer.Option(1000, help="Bootstrap resamples for CIs."),
             text_column: str = typer.Option("text"), label_column: Optional[List[str]] = typer.Option(None),
             label_sep: Optional[str] = typer.Option(None), speaker_by: Optional[str] = SpeakerByOpt,
             label_votes: bool = typer.Option(False, "--label-votes", help="text tables: the --label-column options "
                                              "are vote counts (as `affekt train --label-mode` reads them): each item "
                                              "is scored against its most voted label (ties left out)")):
    """Evaluate a model on a dataset (its test split, or all of a table without splits); write a report.

    Speech and scene features of the files read are kept in ~/.cache/affekt for later runs
    (AFFEKT_CACHE=DIR: elsewhere; AFFEKT_CACHE=off: not kept)."""
    from affekt.cli.common import check_label_space
    from affekt.core.cache import cache_on_disk_by_default
    from affekt.evaluation.evaluate import evaluate as run
    from affekt.evaluation.report import write_report

    cache_on_disk_by_default()
    m = load(model)
    check_label_space(m, label_space)
    votes = {"label_votes": True} if label_votes and m.modality == "text" else {}
    ds = _datasets(m.modality, [dataset], [data_dir], None, text_column=text_column, label_column=label_column,
                   label_sep=label_sep, speaker_by=speaker_by, **votes)
    res = run(m, ds, split, label_space=label_space, n_boot=n_boot, shared_only=shared_only)
    res["dataset"] = ds.name
    print_summary(res)
    if report:
        write_report(res, report, title=f"{m.model_id_} on {ds.name} {res['split']}")
        typer.echo(f"report written to {report}", err=True)


@friendly
def tune(dataset: str = typer.Option(...), data_dir: Path = typer.Option(...),
         family: str = typer.Option("tfidf", "--model"), n_trials: int = typer.Option(20, "--n-trials", min=1),
         modality: str = ModalityOpt, output: Optional[Path] = typer.Option(None, help="Write trials JSON here."),
         param: Optional[List[str]] = typer.Option(None, "--param", "-p", help="Fixed family parameter key=value."),
         text_column: str = typer.Option("text"), label_column: Optional[List[str]] = typer.Option(None),
         label_sep: Optional[str] = typer.Option(None), seed: int = typer.Option(0)):
    """Search a family's hyperparameters with optuna on the dev split.

    Speech and scene features are kept in ~/.cache/affekt (AFFEKT_CACHE=off: not kept)."""
    from affekt.core.cache import cache_on_disk_by_default
    from affekt.training.tuning import tune as run

    cache_on_disk_by_default()
    base = parse_params(param)
    ds = _datasets(modality, [dataset], [data_dir], None, text_column=text_column, label_column=label_column,
                   label_sep=label_sep)
    best, trials = run(modality, family, ds, n_trials, base_params=base, seed=seed)
    values = [t["value"] for t in trials if t["value"] is not None]
    typer.echo(json.dumps({"best_params": best, "best_value": max(values) if values else None}))
    if output:
        output.write_text(json.dumps({"best_params": best, "trials": trials}, indent=2))
