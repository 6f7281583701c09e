"""``affekt agree``, ``affekt consensus``, ``affekt audit``: annotator agreement, vote aggregation,
bias audits (see :mod:`affekt.annotation` and :mod:`affekt.evaluation.audit`)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import numpy as np
import typer

from affekt.cli.common import friendly

CountsOpt = typer.Option(None, "--counts", help="A per-item count table (CSV/TSV, optionally .gz): one row per "
                         "item, one column of counts per label (FER+, CREMA-D).")
AnswersOpt = typer.Option(None, "--answers", help="A per-answer table (CSV/TSV/JSONL, optionally .gz): item, "
                          "annotator, label (what `affekt annotate export` writes).")
ItemOpt = typer.Option(None, "--item-column", help="The column naming the item (default: 'item'; a count table "
                       "without one: each row is an item).")
LabelColsOpt = typer.Option(None, "--label-columns", help="Count table: the label columns, comma-separated.")
AnnotatorOpt = typer.Option("annotator", "--annotator-column", help="Answer table: the column naming the annotator.")
LabelColOpt = typer.Option("label", "--label-column", help="Answer table: the column holding the label.")
SchemeOpt = typer.Option(None, "--labels", help="Answer table: the label scheme, comma-separated (a label outside "
                         "it is an error; default: the labels that occur).")
SepOpt = typer.Option(None, "--label-sep", help="Answer table: multi-label answers are joined by this (e.g. ';').")


def _split(s: str | None) -> list[str] | None:
    return [c.strip() for c in s.split(",") if c.strip()] if s else None


def read_votes(counts: Path | None, answers: Path | None, item_column: str, label_columns: str | None,
               annotator_column: str, label_column: str, labels: str | None, label_sep: str | None):
    from affekt.annotation.votes import read_answers, read_counts
    from affekt.core.errors import InputError

    if (counts is None) == (answers is None):
        raise InputError("give one of --counts FILE (a per-item count table) or --answers FILE (a per-answer table)")
    if counts is not None:
        cols = _split(label_columns)
        if not cols:
            raise InputError("--counts needs --label-columns A,B,... (the columns holding each label's count)")
        return read_counts(counts, item_column, cols)
    if label_columns:
        raise InputError("--label-columns is for --counts; an answer table names its label column with --label-column")
    return read_answers(answers, item_column or "item", annotator_column, label_column, labels=_split(labels),
                        label_sep=label_sep)


def _fmt(v, ci=None) -> str:
    if v is None:
        return "n/a"
    s = f"{v:.4f}" if isinstance(v, float) else str(v)
    if ci and None not in ci:
        s += f"  [{ci[0]:.4f}, {ci[1]:.4f}]"
    return s


@friendly
def agree(counts: Optional[Path] = CountsOpt, answers: Optional[Path] = AnswersOpt, item_column: Optional[str] = ItemOpt,
          label_columns: Optional[str] = LabelColsOpt, annotator_column: str = AnnotatorOpt,
          label_column: str = LabelColOpt, labels: Optional[str] = SchemeOpt, label_sep: Optional[str] = SepOpt,
          as_json: bool = typer.Option(False, "--json", help="Print the figures as one JSON object."),
          output: Optional[Path] = typer.Option(None, "--output", "-o", help="Also write the JSON here."),
          bootstrap: int = typer.Option(1000, "--bootstrap", min=0, help="Bootstrap resamples of the items for the CIs."),
          seed: int = typer.Option(0, help="Seed of the bootstrap."),
          min_shared: int = typer.Option(10, help="Answer tables: Cohen's kappa for pairs with at least this many "
                                         "items in common."),
          dimensions: Optional[str] = typer.Option(None, "--dimensions", help="Answer tables: rating columns "
                                                   "(e.g. valence,arousal,dominance) for Krippendorff's interval alpha.")):
    """Agreement between annotators: Fleiss' kappa, Krippendorff's alpha, percent agreement.

    Also per label, and Cohen's kappa per pair of annotators (answer tables), with bootstrap 95% CIs.
    Items with fewer than 2 answers are skipped (n_skipped)."""
    from affekt.annotation.agreement import agreement

    votes = read_votes(counts, answers, item_column, label_columns, annotator_column, label_column, labels, label_sep)
    dims = {}
    if dimensions:
        from affekt.annotation.votes import _read_table, rating_matrix
        from affekt.core.errors import InputError

        if answers is None:
            raise InputError("--dimensions needs --answers (ratings per annotator)")
        table = _read_table(answers, "answer table")
        dims = {d: rating_matrix(table, item_column or "item", annotator_column, d, votes.items, source=str(answers))
                for d in _split(dimensions)}
    res = agreement(votes, n_boot=bootstrap, seed=seed, min_shared=min_shared, dimensions=dims)
    res = {"source": str(counts or answers), **res}
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(res, indent=1) + "\n")
    if as_json:
        typer.echo(json.dumps(res))
        return
    typer.echo(f"n_items: {res['n_items']}")
    typer.echo(f"n_skipped: {res['n_skipped']}")
    typer.echo(f"n_answers: {res['n_answers']} ({res['answers_per_item']['min']}-{res['answers_per_item']['max']} "
               "per item)")
    for key in ("percent_agreement", "fleiss_kappa", "krippendorff_alpha"):
        typer.echo(f"{key}: {_fmt(res[key], res.get(key + '_ci'))}")
    if "n_annotators" in res:
        typer.echo(f"n_annotators: {res['n_annotators']}")
        typer.echo(f"cohen_kappa_mean: {_fmt(res['cohen_kappa_mean'])} ({len(res['cohen_kappa'])} pairs with "
                   f">= {min_shared} shared items)")
    for d in dims:
        if f"{d}_alpha_interval" in res:
            typer.echo(f"{d}_alpha_interval: {_fmt(res[d + '_alpha_interval'], res.get(d + '_alpha_interval_ci'))}")
    typer.echo("per label (Fleiss' kappa of 'this label or not', share of answers):")
    for lab, d in res["per_label"].items():
        typer.echo(f"  {lab}: kappa {_fmt(d['kappa'], d['kappa_ci'])}, share {_fmt(d['share'])}")


@friendly
def consensus(output: Path = typer.Option(..., "--output", "-o", help="Where to write one row per item "
                                          "(CSV, or .jsonl): item, label, and p_<label> for each label."),
              method: str = typer.Option("plurality", "--method", help="majority | plurality | soft | multi | "
                                         "dawid-skene | mace | glad (mace, glad: answer tables)."),
              tie: str = typer.Option("drop", help="plurality: drop (no label) | first (scheme order) | random."),
              threshold: float = typer.Option(0.3, help="multi: labels chosen by at least this share of answers."),
              counts: Optional[Path] = CountsOpt, answers: Optional[Path] = AnswersOpt, item_column: Optional[str] = ItemOpt,
              label_columns: Optional[str] = LabelColsOpt, annotator_column: str = AnnotatorOpt,
              label_column: str = LabelColOpt, labels: Optional[str] = SchemeOpt, label_sep: Optional[str] = SepOpt,
              seed: int = typer.Option(0)):
    """Many votes -> one target per item (majority, plurality, soft, multi, Dawid-Skene, MACE, GLAD)."""
    from affekt.annotation.consensus import consensus as aggregate

    votes = read_votes(counts, answers, item_column, label_columns, annotator_column, label_column, labels, label_sep)
    res = aggregate(votes, method, tie=tie, threshold=threshold, seed=seed)
    df = res.frame()
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.suffix.lower() == ".jsonl":
        df.to_json(output, orient="records", lines=True, force_ascii=False)
    else:
        df.to_csv(output, index=False)
    n_none = int(df["label"].isna().sum())
    typer.echo(f"{len(df)} items -> {output} ({method}; {n_none} without a label)", err=True)


def _plot_audit(res: dict, folder: Path, title: str) -> list[str]:
    """metrics_by_group.png (each metric per group with its CI) and confusion_by_group.png."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from affekt.evaluation.audit import METRICS

    groups = list(res["groups"])
    fig, axes = plt.subplots(1, len(METRICS), figsize=(4 * len(METRICS), 0.5 * len(groups) + 2), sharey=True)
    for ax, m in zip(np.atleast_1d(axes), METRICS):
        v = [res["groups"][g][m] for g in groups]
        ci = [res["groups"][g][f"{m}_ci"] for g in groups]
        err = np.array([[x - (c[0] if c[0] is not None else x), (c[1] if c[1] is not None else x) - x]
                        for x, c in zip(v, ci)]).T
        ax.barh(range(len(groups)), v, xerr=err, color="#4c72b0", alpha=0.8, capsize=3)
        ax.axvline(res["overall"][m], color="k", lw=1, ls="--")
        ax.set_yticks(range(len(groups)), [f"{g} (n={res['groups'][g]['n']})" for g in groups])
        ax.set_xlim(0, 1)
        p = res.get(m, {}).get("p_value")
        ax.set_title(f"{m}" + (f" (gap p={p:.3f})" if p is not None else ""))
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(folder / "metrics_by_group.png", dpi=100)
    plt.close(fig)
    labs = res["labels"]
    fig, axes = plt.subplots(1, len(groups), figsize=(3.2 * len(groups) + 1, 3.6), squeeze=False)
    for ax, g in zip(axes[0], groups):
        ax.imshow(np.array(res["groups"][g]["confusion"]), vmin=0, vmax=1, cmap="Blues")
        ax.set_xticks(range(len(labs)), labs, rotation=90, fontsize=7)
        ax.set_yticks(range(len(labs)), labs, fontsize=7)
        ax.set_title(f"{g} (n={res['groups'][g]['n']})", fontsize=9)
        ax.set_xlabel("predicted", fontsize=8)
    axes[0][0].set_ylabel("true", fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "confusion_by_group.png", dpi=100)
    plt.close(fig)
    return ["metrics_by_group.png", "confusion_by_group.png"]


def _audit_markdown(res: dict, title: str) -> str:
    from affekt.evaluation.audit import METRICS

    def f(v):
        return "n/a" if v is None else f"{v:.3f}"

    lines = [f"# {title}", "", "| group | n | " + " | ".join(METRICS) + " |", "|---|---|" + "---|" * len(METRICS)]
    for g, r in res["groups"].items():
        cells = [f"{f(r[m])} [{f(r[m + '_ci'][0])}, {f(r[m + '_ci'][1])}]" for m in METRICS]
        lines.append(f"| {g}{'' if r['compared'] else ' (too few)'} | {r['n']} | " + " | ".join(cells) + " |")
    lines.append("")
    for m in METRICS:
        if m in res:
            d = res[m]
            lines.append(f"- **{m}**: worst {d['worst_group']} {f(d['worst'])}, best {d['best_group']} {f(d['best'])}; "
                         f"gap {f(d['gap'])} (95% of gaps under shuffled groups: < {f(d['chance_gap_95'])}; "
                         f"p = {f(d['p_value'])}), ratio {f(d['ratio'])}")
    la = res.get("label_audit", {})
    if la.get("groups"):
        labs = res["labels_in_data"]
        lines += ["", f"Label distribution by group ({la['what']}):", "",
                  "| group | n | " + " | ".join(labs) + " |", "|---|---|" + "---|" * len(labs)]
        for g, r in la["groups"].items():
            lines.append(f"| {g} | {r['n']:g} | " + " | ".join(f(r["shares"].get(lab)) for lab in labs) + " |")
        if "chi2" in la:
            c = la["chi2"]
            lines.append(f"\nChi-square test of independence: {c['statistic']:.1f} (dof {c['dof']}), "
                         f"p = {c['p_value']:.3g}, Cramer's V {c['cramers_v']:.3f}")
    return "\n".join(lines) + "\n"


@friendly
def audit(model: str = typer.Option(..., "--model", "-m", help="Bundled model name or a saved model folder."),
          dataset: str = typer.Option(..., help="A dataset name (as for `affekt evaluate`) with group columns "
                                      "(e.g. ravdess, urdu, ased: gender; or csv with your own columns)."),
          data_dir: Path = typer.Option(...),
          group_by: str = typer.Option(..., "--group-by", help="Column(s) defining the groups, comma-separated "
                                       "(several: their intersections)."),
          split: Optional[str] = typer.Option(None, help="Split to audit (default: as `affekt evaluate`)."),
          label_space: Optional[str] = typer.Option(None, "--label-space", "-l", help="View predictions and truth in "
                                                    "this space (e.g. ekman)."),
          shared_only: bool = typer.Option(False, "--shared-only", help="With --label-space: only the labels both "
                                           "the data and the model have (cross-corpus)."),
          report: Optional[Path] = typer.Option(None, help="Folder for audit.json, audit.md and the plots."),
          as_json: bool = typer.Option(False, "--json", help="Print the audit as one JSON object."),
          n_boot: int = typer.Option(1000, min=0, help="Bootstrap resamples per group for the CIs."),
          n_perm: int = typer.Option(1000, min=0, help="Permutations of the group labels for the gap's p-value."),
          min_group: int = typer.Option(10, min=1, help="Groups with fewer items are shown but not compared."),
          cluster_by: Optional[str] = typer.Option("auto", "--cluster-by", help="The column naming who each item comes "
                                                   "from (e.g. speaker): CIs resample, and the permutation test shuffles, "
                                                   "people rather than items. auto: 'speaker' when the data have it and "
                                                   "each speaker is in one group; none: items."),
          seed: int = typer.Option(0),
          text_column: str = typer.Option("text"), label_column: Optional[list[str]] = typer.Option(None),
          label_sep: Optional[str] = typer.Option(None)):
    """Bias audit: does a model work equally well for every group of people?

    Accuracy, UAR and macro-F1 per group with CIs, the worst group, the largest gap and ratio with a
    permutation test, the confusion per group, and the label distribution by group."""
    from affekt.cli.common import check_label_space, load
    from affekt.cli.train import _datasets
    from affekt.core.errors import InputError
    from affekt.evaluation.audit import audit as run_audit
    from affekt.evaluation.audit import group_keys, label_audit
    from affekt.evaluation.evaluate import default_split, evaluate_classification

    cols = _split(group_by)
    if not cols:
        raise InputError("--group-by needs at least one column name")
    m = load(model)
    check_label_space(m, label_space)
    ds = _datasets(m.modality, [dataset], [data_dir], None, text_column=text_column, label_column=label_column,
                   label_sep=label_sep)
    if ds.task != "classification":
        raise InputError(f"dataset '{ds.name}' has no categories: the audit scores categorical labels")
    split = split or default_split(ds)
    df = ds.split(split)
    groups = group_keys(df, cols)  # a wrong column fails before the model runs
    X, y = ds.xy(split)
    arrays: dict = {}
    evaluate_classification(m, X, y, true_space=ds.label_space, label_space=label_space, n_boot=0,
                            shared_only=shared_only, seed=seed, arrays=arrays)
    if arrays["multi_label"]:
        raise InputError(f"dataset '{ds.name}' is multi-label: the audit compares single-label data "
                         "(one true label per item)")
    keep = arrays["keep"]
    t, p = arrays["Y"].argmax(1), arrays["D"].argmax(1)
    clusters = None
    if cluster_by == "auto":
        if "speaker" in df.columns and df["speaker"].notna().all():
            spk = df["speaker"].astype(str).to_numpy()
            if all(len(set(groups[spk == s])) == 1 for s in set(spk)):
                clusters, cluster_by = spk, "speaker"
    elif cluster_by and cluster_by != "none":
        if cluster_by not in df.columns:
            raise InputError(f"--cluster-by '{cluster_by}': no such column (columns: "
                             f"{', '.join(c for c in df.columns if c not in ('labels', 'votes', 'targets'))})")
        clusters = df[cluster_by].astype(str).to_numpy()
    res = run_audit(t, p, groups[keep], arrays["labels"], clusters=None if clusters is None else clusters[keep],
                    n_boot=n_boot, n_perm=n_perm, min_group=min_group, seed=seed)
    res["cluster_by"] = cluster_by if clusters is not None else None
    votes = np.array(df["votes"].tolist()) if "votes" in df.columns else None
    res["labels_in_data"] = list(ds.label_space.labels)
    res["label_audit"] = label_audit(df["labels"].tolist(), groups, ds.label_space.labels, counts=votes)
    res.update({"model": m.model_id_, "dataset": ds.name, "split": split, "group_by": cols,
                "n_dropped": int((~keep).sum())})
    title = f"Audit of {m.model_id_} on {ds.name} ({split}) by {', '.join(cols)}"
    if report:
        report.mkdir(parents=True, exist_ok=True)
        res["plots"] = _plot_audit(res, report, title)
        (report / "audit.json").write_text(json.dumps(res, indent=1) + "\n")
        (report / "audit.md").write_text(_audit_markdown(res, title))
    if as_json:
        typer.echo(json.dumps(res))
    else:
        typer.echo(_audit_markdown(res, title).rstrip())
    if report:
        typer.echo(f"report written to {report}", err=True)
