"""Face networks in onnxruntime: no torch import at run time (``affekt analyze photo.jpg`` starts
fast) and faster CPU inference.

A model folder of a :class:`~affekt.face.models.FaceCNN` holds ``net.safetensors`` (fp16
weights, what torch loads) and may hold ``net.onnx``: the whole scoring path as a graph
**without its weights** - pixel scaling, resizing to the network's input, the network, the
mirror-image average (``tta``) and the softmax. Its weights are declared external and handed
to onnxruntime at load time from ``net.safetensors`` (``net_onnx.json`` maps graph names to
state-dict keys), so nothing is stored twice.

Without onnxruntime or the graph, or with ``AFFEKT_TORCH=1``, the model runs in torch.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from affekt.text._onnx import _threads, optional_export, usable  # noqa: F401  (the same switch as text models)

GRAPH = "net.onnx"
SPEC = "net_onnx.json"
FORMAT = 1


def _scorer(net, spec, tta: bool, crop_size: int):
    """A torch module: uint8-valued float crops (n, 1, h, w) -> probabilities, as the model scores."""
    import torch

    from affekt.face import _train

    class Scorer(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, x):
            x = x / 255.0
            if crop_size != spec.size:
                x = torch.nn.functional.interpolate(x, size=(spec.size, spec.size), mode="bilinear",
                                                    align_corners=False)
            x = _train._normalise(x, spec)
            z = self.net(x)
            if tta:
                z = (z + self.net(torch.flip(x, dims=[3]))) / 2
            return torch.softmax(z, dim=1)

    return Scorer().eval()


def export(net, spec, tta: bool, crop_size: int, folder: Path) -> None:
    """Write ``net.onnx`` + ``net_onnx.json`` beside ``net.safetensors`` (needs torch and onnx)."""
    import io

    import onnx
    import torch
    from onnx.external_data_helper import set_external_data

    scorer = _scorer(net, spec, tta, crop_size)
    keys = {f"net.{k}": k for k in net.state_dict()}
    dummy = torch.zeros(2, 1, crop_size, crop_size)
    buf = io.BytesIO()
    import warnings

    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes on constants (the pixel scaling) are expected
        torch.onnx.export(scorer, (dummy,), buf, input_names=["crops"], output_names=["probs"],
                          dynamic_axes={"crops": {0: "batch"}, "probs": {0: "batch"}}, opset_version=17,
                          do_constant_folding=False, dynamo=False, training=torch.onnx.TrainingMode.EVAL)
    proto = onnx.load_from_string(buf.getvalue())
    weights = {}
    for init in proto.graph.initializer:
        if init.name in keys:
            set_external_data(init, location="weights-provided-at-load-time")
            init.ClearField("raw_data")
            weights[init.name] = keys[init.name]
    if not weights:
        raise RuntimeError("ONNX export: no network weight found among the graph's initializers")
    (Path(folder) / GRAPH).write_bytes(proto.SerializeToString())
    (Path(folder) / SPEC).write_text(json.dumps({"format": FORMAT, "crop_size": crop_size, "tta": tta,
                                                 "exported_with": {"torch": torch.__version__,
                                                                   "onnx": onnx.__version__, "opset": 17},
                                                 "weights": weights}, indent=1) + "\n")


def try_export(net, spec, tta: bool, crop_size: int, folder: Path) -> bool:
    """:func:`export` when the ``onnx`` package is installed; a failure is a warning (the model
    is saved and runs in torch)."""
    return optional_export(lambda: export(net, spec, tta, crop_size, folder), folder, (GRAPH, SPEC))


class OnnxScorer:
    """uint8 crops (n, h, w) -> probabilities (n, k), in batches."""

    def __init__(self, folder: Path):
        import onnxruntime as ort
        from safetensors.numpy import load_file

        folder = Path(folder)
        spec = json.loads((folder / SPEC).read_text())
        if spec.get("format") != FORMAT:
            from affekt.core.errors import DataError

            raise DataError(f"'{folder / SPEC}': unknown format {spec.get('format')!r}")
        state = load_file(str(folder / "net.safetensors"))
        names, values = [], []
        for name, key in spec["weights"].items():
            arr = state[key]
            arr = arr.astype(np.float32) if arr.dtype == np.float16 else arr
            names.append(name)
            values.append(ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(arr)))
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = _threads()
        opts.inter_op_num_threads = 1
        opts.add_external_initializers(names, values)
        self.session = ort.InferenceSession((folder / GRAPH).read_bytes(), sess_options=opts,
                                            providers=["CPUExecutionProvider"])
        self.tta = bool(spec["tta"])

    def __call__(self, crops: np.ndarray, batch: int = 256) -> np.ndarray:
        out = []
        for s in range(0, len(crops), batch):
            x = np.ascontiguousarray(crops[s:s + batch], dtype=np.float32)[:, None]
            out.append(self.session.run(["probs"], {"crops": x})[0])
        return np.concatenate(out).astype(np.float32)
