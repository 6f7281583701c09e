"""EMOTIC's real annotations (issue 16): what the val and test persons look like, and what can be
scored without looking at a pixel.

The images and the train split are not here (../shared/data/images/emotic holds the val and test
annotations only, as COCO-style JSON and as flat CSV). This reads both forms through
``affekt.datasets.emotic.load_emotic``, checks they agree person by person, and measures:

* per split: images, persons, categories per person, category frequencies, gender, age group,
  V/A/D distributions, body-box geometry;
* on val + test together: co-occurrence of categories (counts, P(column | row), lift) and its top
  pairs; V/A/D mean and std per category; frequencies and V/A/D by gender and by age group;
* baselines scored on test with parameters from val (train is missing): the *prior* (a constant
  score per category, its val frequency: AP = the category's test prevalence), a *layout* model
  (logistic regression on what the annotations give as input besides the pixels: the body box's
  size, shape and place, the image size and how many people are in it), the same plus the source
  database; V/A/D mean absolute error of the val mean and median, of the layout model, and of a
  linear model of the person's *true* categories (uses the test labels: a ceiling for what the
  categories say about V/A/D, not a baseline).

Writes benchmarks/results/emotic_annotations.json; scripts/write_scene_results.py makes
docs/results/scene.md from it. 2 CPU cores, ~20 s.

    python benchmarks/emotic_annotations.py [--data ../shared/data/images/emotic]
"""
from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _results import command  # benchmarks/_results.py
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import average_precision_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from affekt.core.labels import DIMENSIONS, EMOTIC
from affekt.datasets.emotic import load_emotic

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "images" / "emotic"
CATS = list(EMOTIC.labels)
PAPERS = {"Kosti et al. 2019 (TPAMI), body + image CNN": 27.38, "EmotiCon (Mittal et al., CVPR 2020)": 35.48}
COMPARE = ["path", "box", "labels", "valence", "arousal", "dominance", "gender", "age", "image_id", "person_id",
           "folder", "filename", "width", "height", "source_db"]


def r(v, nd: int = 4):
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), nd)


def agree(a: pd.DataFrame, b: pd.DataFrame) -> dict:
    """Rows that differ, per column, between two loads of the same persons."""
    if len(a) != len(b):
        return {"persons": [len(a), len(b)], "differ": "different numbers of persons"}
    out = {}
    for c in COMPARE:
        n = 0
        for x, y in zip(a[c], b[c]):
            both_nan = isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y)
            n += not (both_nan or x == y)
        out[c] = n
    return {"persons": len(a), "rows_differing_per_column": out, "identical": not any(out.values())}


def split_stats(df: pd.DataFrame) -> dict:
    Y = EMOTIC.binarize(df["labels"])
    per = Y.sum(1)
    img = df.groupby(["folder", "filename"]).size()
    w, h = df["width"].astype(float).to_numpy(), df["height"].astype(float).to_numpy()
    box = np.array(df["box"].tolist(), dtype=float)
    bw, bh = box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]
    share = bw * bh / (w * h)
    edge = (box[:, 0] <= 1) | (box[:, 1] <= 1) | (box[:, 2] >= w - 1) | (box[:, 3] >= h - 1)
    dbs = df.drop_duplicates(["folder", "filename"])["source_db"].value_counts()
    return {
        "images": len(img), "persons": len(df),
        "persons_per_image": {"mean": r(img.mean(), 3), "max": int(img.max()),
                              "share_of_images_with_one": r((img == 1).mean(), 3)},
        "source_db_images": {k: int(v) for k, v in dbs.items()},
        "categories_per_person": {"mean": r(per.mean(), 3), "median": float(np.median(per)), "max": int(per.max()),
                                  "none": int((per == 0).sum()),
                                  "distribution": {int(k): int(v) for k, v in
                                                   zip(*np.unique(per, return_counts=True))}},
        "category_counts": dict(zip(CATS, map(int, Y.sum(0)))),
        "category_prevalence": dict(zip(CATS, (r(v) for v in Y.mean(0)))),
        "gender": {k: int(v) for k, v in df["gender"].fillna("unknown").value_counts().items()},
        "age": {k: int(v) for k, v in df["age"].fillna("unknown").value_counts().items()},
        "vad": {d: {"mean": r(df[d].mean(), 3), "std": r(df[d].std(), 3), "missing": int(df[d].isna().sum()),
                    "integer_valued": bool(np.allclose(df[d].dropna(), np.round(df[d].dropna()))),
                    "histogram_1_10": [int(((df[d].round() == k)).sum()) for k in range(1, 11)]}
                for d in DIMENSIONS},
        "box": {"area_share_of_image_quartiles": [r(q, 3) for q in np.quantile(share, [0.25, 0.5, 0.75])],
                "height_over_width_median": r(np.median(bh / bw), 3),
                "touches_image_edge": r(edge.mean(), 3)},
    }


def cooccurrence(df: pd.DataFrame, top: int = 15) -> dict:
    Y = EMOTIC.binarize(df["labels"]).astype(np.int64)
    C = Y.T @ Y
    n = len(Y)
    p = Y.mean(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cond = C / np.diag(C)[:, None]  # P(column | row)
        lift = (C / n) / np.outer(p, p)
    pairs = []
    for i in range(len(CATS)):
        for j in range(i + 1, len(CATS)):
            pairs.append({"a": CATS[i], "b": CATS[j], "count": int(C[i, j]), "p_b_given_a": r(cond[i, j], 3),
                          "p_a_given_b": r(cond[j, i], 3), "lift": r(lift[i, j], 3)})
    by_count = sorted(pairs, key=lambda x: -x["count"])[:top]
    by_lift = sorted([q for q in pairs if q["count"] >= 30], key=lambda x: -x["lift"])[:top]
    return {"persons": n, "labels": CATS, "counts": C.tolist(),
            "conditional_p_column_given_row": [[r(v, 4) for v in row] for row in cond],
            "lift": [[r(v, 4) for v in row] for row in lift],
            "top_pairs_by_count": by_count, "top_pairs_by_lift_min30": by_lift}


def vad_by_category(df: pd.DataFrame) -> dict:
    Y = EMOTIC.binarize(df["labels"]).astype(bool)
    out = {}
    for j, c in enumerate(CATS):
        sub = df[Y[:, j]]
        out[c] = {"n": len(sub), **{d: {"mean": r(sub[d].mean(), 3), "std": r(sub[d].std(), 3)}
                                         for d in DIMENSIONS}}
    return out


def by_group(df: pd.DataFrame, col: str) -> dict:
    out = {}
    for g, sub in df.groupby(df[col].fillna("unknown")):
        Y = EMOTIC.binarize(sub["labels"])
        out[g] = {"persons": len(sub), "categories_per_person": r(Y.sum(1).mean(), 3),
                  "prevalence": dict(zip(CATS, (r(v) for v in Y.mean(0)))),
                  **{d: {"mean": r(sub[d].mean(), 3), "std": r(sub[d].std(), 3)} for d in DIMENSIONS}}
    return out


def layout(df: pd.DataFrame, with_db: bool = False) -> np.ndarray:
    """What the annotations give as input besides the pixels: the body box (relative size, aspect,
    place), the image's size and shape, the number of people in the image; optionally the source db."""
    box = np.array(df["box"].tolist(), dtype=float)
    w, h = df["width"].astype(float).to_numpy(), df["height"].astype(float).to_numpy()
    bw, bh = box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]
    n_people = df.groupby(["folder", "filename"])["box"].transform("size").to_numpy(dtype=float)
    X = [np.log(bw * bh / (w * h)), np.log(bh / bw), (box[:, 0] + box[:, 2]) / (2 * w),
         (box[:, 1] + box[:, 3]) / (2 * h), box[:, 3] / h, np.log(w * h), np.log(w / h), np.log(n_people)]
    if with_db:
        X += [(df["source_db"] == s).to_numpy(dtype=float) for s in ("mscoco", "framesdb", "emodb_small", "ade20k")]
    return np.column_stack(X)


def map_scores(Y: np.ndarray, S: np.ndarray) -> dict:
    ap = {}
    for j, c in enumerate(CATS):
        ap[c] = r(100 * average_precision_score(Y[:, j], S[:, j]), 2) if Y[:, j].any() else None
    vals = [v for v in ap.values() if v is not None]
    return {"mAP": r(float(np.mean(vals)), 2), "AP": ap}


def baselines(val: pd.DataFrame, test: pd.DataFrame) -> dict:
    Yv, Yt = EMOTIC.binarize(val["labels"]), EMOTIC.binarize(test["labels"])
    prior = Yv.mean(0)
    out = {"fit_on": "val", "scored_on": "test",
           "prior": {**map_scores(Yt, np.tile(prior, (len(Yt), 1))),
                     "val_frequency": dict(zip(CATS, (r(v) for v in prior))),
                     "test_prevalence": dict(zip(CATS, (r(v) for v in Yt.mean(0))))}}
    for name, db in (("layout", False), ("layout_source_db", True)):
        Xv, Xt = layout(val, db), layout(test, db)
        S = np.zeros(Yt.shape)
        for j in range(len(CATS)):
            if 0 < Yv[:, j].sum() < len(Yv):
                m = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
                S[:, j] = m.fit(Xv, Yv[:, j]).predict_proba(Xt)[:, 1]
            else:
                S[:, j] = prior[j]
        out[name] = map_scores(Yt, S)
    # V/A/D
    vad = {}
    okv, okt = val[list(DIMENSIONS)].notna().all(axis=1), test[list(DIMENSIONS)].notna().all(axis=1)
    V, T = val[okv], test[okt]
    for d in DIMENSIONS:
        y = T[d].to_numpy()
        lin = LinearRegression().fit(EMOTIC.binarize(V["labels"]), V[d])
        lay = make_pipeline(StandardScaler(), LinearRegression()).fit(layout(V, True), V[d])
        vad[d] = {"val_mean": r(V[d].mean(), 3), "val_median": r(V[d].median(), 3),
                  "mae_val_mean": r(np.abs(y - V[d].mean()).mean(), 3),
                  "mae_val_median": r(np.abs(y - V[d].median()).mean(), 3),
                  "mae_layout_source_db": r(np.abs(y - lay.predict(layout(T, True))).mean(), 3),
                  "mae_true_categories_linear": r(np.abs(y - lin.predict(EMOTIC.binarize(T["labels"]))).mean(), 3)}
    out["vad"] = {"persons_scored": len(T), "per_dimension": vad,
                  "mean_mae": {k: r(np.mean([vad[d][k] for d in DIMENSIONS]), 3)
                               for k in ("mae_val_mean", "mae_val_median", "mae_layout_source_db",
                                         "mae_true_categories_linear")}}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=str(DATA), help="the EMOTIC annotations folder (val + test)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks/results/emotic_annotations.json"))
    args = ap.parse_args()
    t0 = time.time()
    coco = load_emotic(args.data, format="coco")
    flat = load_emotic(args.data, format="csv")
    res = {"command": command(), "data": str(Path(args.data)), "files": {"coco": coco.info["files"],
                                                                         "csv": flat.info["files"]},
           "train_split": "absent: neither the images nor the train annotations are available here",
           "agreement_coco_vs_csv": {s: agree(coco.split(s), flat.split(s)) for s in coco.splits},
           "load_problems": coco.info["problems"] + flat.info["problems"]}
    val, test = coco.split("dev"), coco.split("test")
    both = pd.concat([val, test], ignore_index=True)
    res["splits"] = {"val": split_stats(val), "test": split_stats(test)}
    res["cooccurrence_val_test"] = cooccurrence(both)
    res["vad_by_category"] = {"val": vad_by_category(val), "test": vad_by_category(test),
                              "val_test": vad_by_category(both)}
    res["by_gender_val_test"] = by_group(both, "gender")
    res["by_age_val_test"] = by_group(both, "age")
    res["baselines"] = baselines(val, test)
    res["papers_test_mAP"] = PAPERS
    res["seconds"] = round(time.time() - t0, 1)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1) + "\n")
    b = res["baselines"]
    print(f"coco == csv: {all(a['identical'] for a in res['agreement_coco_vs_csv'].values())}; prior mAP "
          f"{b['prior']['mAP']}; layout {b['layout']['mAP']}; +source db {b['layout_source_db']['mAP']}; "
          f"wrote {out} ({res['seconds']} s)")


if __name__ == "__main__":
    main()
