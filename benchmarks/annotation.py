"""Annotation, agreement, consensus and bias audits on real crowd data (issue 15):

* ``simulated``: Dawid-Skene, MACE and GLAD against majority vote on simulated annotators with known
  confusion matrices (1,000 items x 5 annotators; and with 3 of 5 annotators spamming);
* ``cremad``: CREMA-D's crowd ratings (about 10 per clip in each of voice only, face only,
  audio-visual): agreement; human accuracy and UAR against the actor's intended emotion (per answer:
  the average rater; per clip: consensus methods); the human reference by actor sex, age band, race
  and ethnicity, with CIs and permutation tests; who was labelled how (votes by actor sex);
* ``ferplus``: FER+'s 10 votes per FER2013 image: agreement, and how often FER+'s plurality differs
  from FER2013's original label, per class;
* ``face_audit``: face-default on FER2013 PrivateTest by image brightness and contrast (FER2013
  records nothing about the people: no demographic audit is possible);
* ``speech_audit`` (with ``--speech-predictions``, the CSV `benchmarks/speech_loco.py --predictions`
  writes; benchmarks/results/speech_loco_predictions.csv.gz is the one measured): speech-default's recipe on each held-out corpus, audited by gender.

Writes benchmarks/results/annotation.json; scripts/write_annotation_results.py makes
docs/results/annotation.md from it. Needs ../shared (the data), nothing else; 2 cores, ~2 min.

    python benchmarks/annotation.py [--speech-predictions benchmarks/results/speech_loco_predictions.csv.gz]
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from affekt.annotation.agreement import agreement
from affekt.annotation.consensus import consensus
from affekt.annotation.simulate import simulate
from affekt.annotation.votes import from_counts
from affekt.evaluation.audit import audit, label_audit

from _results import command  # benchmarks/_results.py

CREMA_LABELS = ("A", "D", "F", "H", "N", "S")
CREMA_INTENDED = {"ANG": "A", "DIS": "D", "FEA": "F", "HAP": "H", "NEU": "N", "SAD": "S"}
CONDITIONS = {"1": "voice", "2": "face", "3": "audio-visual"}
AGE_BANDS = [(20, 29, "20-29"), (30, 39, "30-39"), (40, 49, "40-49"), (50, 59, "50-59"), (60, 200, "60+")]


def _acc(labels, truth_idx, names):
    pred = np.array([names.index(x) if isinstance(x, str) else -1 for x in labels])
    answered = pred >= 0
    right = pred == truth_idx
    uar = float(np.mean([right[truth_idx == k].mean() for k in range(len(names)) if (truth_idx == k).any()]))
    return {"accuracy": float(right.mean()), "accuracy_answered": float(right[answered].mean()),
            "uar": uar, "coverage": float(answered.mean())}


def simulated(seed: int = 0) -> dict:
    out = {}
    for name, kw in (("honest", dict(spammers=0, accuracy=(0.6, 0.9))),
                     ("spammers", dict(spammers=3, accuracy=(0.6, 0.9)))):
        votes, truth, mats = simulate(1000, 5, 4, seed=seed + 1, **kw)
        row = {"items": 1000, "annotators": 5, "labels": 4, **{k: list(v) if isinstance(v, tuple) else v
                                                               for k, v in kw.items()}}
        for method, opts in (("plurality", {"tie": "random"}), ("majority", {}), ("dawid-skene", {}),
                             ("mace", {}), ("glad", {})):
            t0 = time.time()
            c = consensus(votes, method, seed=seed, **opts)
            row[method] = {**_acc(c.label, truth, list(votes.labels)), "seconds": round(time.time() - t0, 2)}
            if method == "dawid-skene":
                honest = [w for w in mats if not np.allclose(mats[w], 1 / 4)]
                row[method]["confusion_mae"] = float(np.mean([np.abs(c.info["confusion"][w] - mats[w]).mean()
                                                              for w in mats]))
                row[method]["confusion_mae_honest"] = float(np.mean([np.abs(c.info["confusion"][w] - mats[w]).mean()
                                                                     for w in honest]))
        row["dawid_skene_gain_over_plurality"] = row["dawid-skene"]["accuracy"] - row["plurality"]["accuracy"]
        out[name] = row
    return out


def _ci_weighted(num, den, rng, n_boot=1000):
    """Percentile CI of sum(num)/sum(den) with clips resampled."""
    num, den = np.asarray(num, float), np.asarray(den, float)
    draws = []
    for _ in range(n_boot):
        w = np.bincount(rng.integers(0, len(num), len(num)), minlength=len(num))
        draws.append((w @ num) / (w @ den))
    return [float(np.quantile(draws, 0.025)), float(np.quantile(draws, 0.975))]


def _ci_actors(num, den, actors, rng, n_boot=1000):
    """Percentile CI of sum(num)/sum(den) with actors resampled (their clips are not independent)."""
    _, inv = np.unique(actors, return_inverse=True)
    a_num = np.bincount(inv, weights=np.asarray(num, float))
    a_den = np.bincount(inv, weights=np.asarray(den, float))
    return _ci_weighted(a_num, a_den, rng, n_boot)


def cremad(folder: Path, seed: int = 0) -> dict:
    tab = pd.read_csv(folder / "tabulatedVotes.csv.gz")
    tab["cond"] = tab.iloc[:, 0].astype(str).str[0].map(CONDITIONS)
    demo = pd.read_csv(folder / "VideoDemographics.csv")
    demo["ActorID"] = demo["ActorID"].astype(str)
    tab["ActorID"] = tab["fileName"].str.split("_").str[0]
    tab = tab.merge(demo, on="ActorID", how="left")
    tab["intended"] = tab["fileName"].str.split("_").str[2].map(CREMA_INTENDED)
    tab["age_band"] = [next((b for lo, hi, b in AGE_BANDS if lo <= a <= hi), "unknown") for a in tab["Age"]]
    rng = np.random.default_rng(seed)
    out = {"clips": int(tab["fileName"].nunique()), "actors": int(tab["ActorID"].nunique()), "conditions": {}}
    for cond in CONDITIONS.values():
        sub = tab[tab["cond"] == cond].reset_index(drop=True)
        votes = from_counts(sub, "fileName", list(CREMA_LABELS), source=f"crema-d {cond}")
        C = votes.counts
        truth = np.array([CREMA_LABELS.index(x) for x in sub["intended"]])
        ag = agreement(votes, n_boot=1000, seed=seed)
        right_answers = C[np.arange(len(C)), truth]
        n_ans = C.sum(1)
        per_answer = {"accuracy": float(right_answers.sum() / n_ans.sum()),
                      "accuracy_ci": _ci_actors(right_answers, n_ans, sub["ActorID"].to_numpy(), rng),
                      "uar": float(np.mean([right_answers[truth == k].sum() / n_ans[truth == k].sum()
                                            for k in range(len(CREMA_LABELS))]))}
        methods = {}
        for method, opts in (("plurality (ties dropped)", ("plurality", {"tie": "drop"})),
                             ("plurality (ties at random)", ("plurality", {"tie": "random"})),
                             ("majority (> half)", ("majority", {})),
                             ("dawid-skene (pooled)", ("dawid-skene", {}))):
            c = consensus(votes, opts[0], seed=seed, **opts[1])
            methods[method] = _acc(c.label, truth, list(CREMA_LABELS))
            if opts[0] == "dawid-skene":
                methods[method]["confusion"] = np.round(c.info["confusion"]["pooled"], 3).tolist()
        # the human reference by group: per answer (the average rater), CIs by resampling clips;
        # the permutation test on the plurality (ties at random) per clip
        plur = consensus(votes, "plurality", tie="random", seed=seed).label
        plur_idx = np.array([CREMA_LABELS.index(x) for x in plur])
        by_group = {}
        for col in ("Sex", "age_band", "Race", "Ethnicity"):
            groups = sub[col].astype(str).to_numpy()
            per = {}
            for g in sorted(set(groups)):
                m = groups == g
                per[g] = {"clips": int(m.sum()), "actors": int(sub.loc[m, "ActorID"].nunique()),
                          "answer_accuracy": float(right_answers[m].sum() / n_ans[m].sum()),
                          "answer_accuracy_ci": _ci_actors(right_answers[m], n_ans[m], sub.loc[m, "ActorID"].to_numpy(),
                                                           rng)}
            au = audit(truth, plur_idx, groups, list(CREMA_LABELS), clusters=sub["ActorID"].to_numpy(), n_boot=500,
                       n_perm=1000, min_group=50, seed=seed)
            by_group[col] = {"answers": per,
                             "plurality_audit": {k: v for k, v in au.items() if k in ("accuracy", "uar", "macro_f1",
                                                                                      "left_out", "min_group")},
                             "plurality_by_group": {g: {m: au["groups"][g][m] for m in ("n", "clusters", "accuracy",
                                                                                       "accuracy_ci",
                                                                                       "uar", "uar_ci")}
                                                    for g in au["groups"]}}
        la = label_audit(None, sub["Sex"].astype(str).to_numpy(), list(CREMA_LABELS), counts=C)
        la_int = label_audit(sub["intended"].tolist(), sub["Sex"].astype(str).to_numpy(), list(CREMA_LABELS))
        out["conditions"][cond] = {
            "agreement": {k: ag[k] for k in ("n_items", "n_skipped", "n_answers", "answers_per_item", "percent_agreement",
                                             "percent_agreement_ci", "fleiss_kappa", "fleiss_kappa_ci",
                                             "krippendorff_alpha", "krippendorff_alpha_ci", "per_label")},
            "per_answer": per_answer, "consensus_vs_intended": methods, "by_group": by_group,
            "votes_by_sex": la, "intended_by_sex": la_int}
    return out


def ferplus(plus: Path, fer: Path, seed: int = 0) -> dict:
    cols = ["neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown", "NF"]
    raw = pd.read_csv(plus / "fer2013new.csv")
    votes = from_counts(raw, None, cols, source="ferplus")
    ag = agreement(votes, n_boot=1000, seed=seed)
    emo = cols[:8]
    ag8 = agreement(from_counts(raw, None, emo, source="ferplus 8"), n_boot=1000, seed=seed)
    meta = pd.read_csv(fer / "labels.csv")
    meta = meta[meta["fer2013_row"].notna()]  # images FER2013's table holds without a FER+ row: none to compare
    fer_names = {"angry": "anger", "disgust": "disgust", "fear": "fear", "happy": "happiness", "sad": "sadness",
                 "surprise": "surprise", "neutral": "neutral"}
    rows = meta["fer2013_row"].astype(int).to_numpy()
    C = raw[cols].to_numpy()[rows]
    top = C.argmax(1)
    tie = (C == C.max(1, keepdims=True)).sum(1) > 1
    plus_label = np.where(tie, "tie", np.array(cols, dtype=object)[top])
    orig = meta["emotion_name"].map(fer_names).to_numpy()
    per_class = {}
    for lab in fer_names.values():
        m = orig == lab
        vc = pd.Series(plus_label[m]).value_counts()
        per_class[lab] = {"n": int(m.sum()), "differs": float((plus_label[m] != lab).mean()),
                          "to": {str(k): round(float(v / m.sum()), 4) for k, v in vc.items() if k != lab}}
    # the human reference on the test split face models report: FER+'s raters against FER2013's own
    # PrivateTest labels (each vote, and the plurality), on the same images
    te = (meta["usage"] == "PrivateTest").to_numpy()
    idx = np.array([cols.index(lab) for lab in orig[te]])
    Ct = C[te]
    right = Ct[np.arange(len(Ct)), idx]
    rng = np.random.default_rng(seed)
    plur = consensus(from_counts(pd.DataFrame(Ct, columns=cols).assign(item=np.arange(len(Ct)).astype(str)),
                                 "item", cols), "plurality", tie="random", seed=seed).label
    plur_right = np.array([p_ == o for p_, o in zip(plur, orig[te])])
    draws = [plur_right[rng.integers(0, len(plur_right), len(plur_right))].mean() for _ in range(1000)]
    human_test = {"images": int(te.sum()), "votes": int(Ct.sum()),
                  "vote_accuracy": float(right.sum() / Ct.sum()),
                  "vote_accuracy_ci": _ci_weighted(right, Ct.sum(1), rng),
                  "plurality_accuracy": float(plur_right.mean()),
                  "plurality_accuracy_ci": [float(np.quantile(draws, 0.025)), float(np.quantile(draws, 0.975))]}
    return {"privatetest_human_reference": human_test,
            "agreement_10": {k: ag[k] for k in ("n_items", "n_skipped", "percent_agreement", "fleiss_kappa",
                                                "fleiss_kappa_ci", "krippendorff_alpha", "per_label")},
            "agreement_8_emotions": {k: ag8[k] for k in ("n_items", "n_skipped", "percent_agreement", "fleiss_kappa",
                                                         "fleiss_kappa_ci", "krippendorff_alpha")},
            "plurality_differs_from_fer2013": float((plus_label != orig).mean()),
            "plurality_is_tie": float(tie.mean()),
            "plurality_unknown_or_not_a_face": float(np.isin(plus_label, ["unknown", "NF"]).mean()),
            "per_fer2013_class": per_class, "images": len(meta)}


def speech_audit(path: Path, seed: int = 0) -> dict:
    df = pd.read_csv(path)
    out = {}
    for corpus, sub in df.groupby("corpus"):
        labels = sorted(set(sub["truth"]) | set(sub["pred"]))
        t = np.array([labels.index(x) for x in sub["truth"]])
        p = np.array([labels.index(x) for x in sub["pred"]])
        g = sub["gender"].astype(str).to_numpy()
        au = audit(t, p, g, labels, clusters=sub["speaker"].astype(str).to_numpy(), n_boot=1000, n_perm=1000,
                   min_group=20, seed=seed)
        out[corpus] = {"n": len(sub), "labels": labels, "overall": au["overall"],
                       "groups": {k: {m: v[m] for m in ("n", "clusters", "accuracy", "accuracy_ci", "uar", "uar_ci",
                                                        "macro_f1", "macro_f1_ci")}
                                  for k, v in au["groups"].items()},
                       **{m: au[m] for m in ("accuracy", "uar", "macro_f1") if m in au},
                       "left_out": au["left_out"],
                       "labels_by_gender": label_audit(sub["truth"].tolist(), g, labels)}
    return out


def face_audit(fer_dir: Path, seed: int = 0) -> dict:
    """face-default on FER2013 PrivateTest, audited by image condition (brightness and contrast
    terciles): FER2013 records nothing about the people, so no demographic audit is possible; light
    and contrast are what a camera and a skin tone change, and the audit shows whether they matter."""
    from affekt.core.registry import load_model
    from affekt.datasets.faces import load_fer2013
    from affekt.evaluation.evaluate import evaluate_classification
    from affekt.face.images import load_image

    ds = load_fer2013(fer_dir)
    df = ds.split("test")
    X, y = ds.xy("test")
    grey = np.stack([load_image(x).mean(2) for x in X])
    bright, contrast = grey.mean((1, 2)), grey.std((1, 2))
    model = load_model("face-default")
    arrays: dict = {}
    evaluate_classification(model, X, y, true_space=ds.label_space, n_boot=0, arrays=arrays)
    t, p = arrays["Y"].argmax(1), arrays["D"].argmax(1)
    out = {"images": int(len(X)), "model": model.model_id_}
    for name, v in (("brightness", bright), ("contrast", contrast)):
        cuts = np.quantile(v, [1 / 3, 2 / 3])
        g = np.where(v < cuts[0], f"low (< {cuts[0]:.0f})", np.where(v < cuts[1], "middle", f"high (>= {cuts[1]:.0f})"))
        au = audit(t, p, g, arrays["labels"], n_boot=1000, n_perm=1000, seed=seed)
        out[name] = {"groups": {k: {m: d[m] for m in ("n", "accuracy", "accuracy_ci", "uar", "uar_ci")}
                                for k, d in au["groups"].items()},
                     **{m: au[m] for m in ("accuracy", "uar") if m in au}}
    del df
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", default="../shared/data")
    ap.add_argument("--speech-predictions", default=None, help="the CSV of benchmarks/speech_loco.py --predictions")
    ap.add_argument("--out", default="benchmarks/results/annotation.json")
    ap.add_argument("--no-face", action="store_true", help="skip face-default's audit (needs the face extra)")
    a = ap.parse_args(argv)
    shared = Path(a.shared)
    t0 = time.time()
    res = {"command": command(argv)}
    res["simulated"] = simulated()
    res["cremad"] = cremad(shared / "annotations" / "crema-d")
    res["ferplus"] = ferplus(shared / "images" / "ferplus", shared / "images" / "fer2013")
    if not a.no_face:
        res["face_audit"] = face_audit(shared / "images" / "fer2013")
    if a.speech_predictions:
        res["speech_audit"] = speech_audit(Path(a.speech_predictions))
        res["speech_audit_source"] = a.speech_predictions
    res["seconds"] = round(time.time() - t0, 1)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1) + "\n")
    sim = res["simulated"]
    print(f"simulated: DS confusion MAE {sim['honest']['dawid-skene']['confusion_mae']:.4f}; with spammers "
          f"plurality {sim['spammers']['plurality']['accuracy']:.3f}, DS {sim['spammers']['dawid-skene']['accuracy']:.3f}, "
          f"MACE {sim['spammers']['mace']['accuracy']:.3f}, GLAD {sim['spammers']['glad']['accuracy']:.3f}")
    for cond, r in res["cremad"]["conditions"].items():
        print(f"crema-d {cond}: kappa {r['agreement']['fleiss_kappa']:.3f}, per-answer accuracy "
              f"{r['per_answer']['accuracy']:.3f}, UAR {r['per_answer']['uar']:.3f}")
    print(f"ferplus: kappa {res['ferplus']['agreement_10']['fleiss_kappa']:.3f}; plurality differs from FER2013 "
          f"{res['ferplus']['plurality_differs_from_fer2013']:.3f}")
    print(f"{res['seconds']} s")
    return res


if __name__ == "__main__":
    main()
