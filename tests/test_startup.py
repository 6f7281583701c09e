"""Start-up of text-default (issue 10): what loading it imports and reads, and that the faster
path predicts what the model predicted before. No timings here: benchmarks/startup.py measures.

tests/data/text_default_baseline.json holds the model's predictions of 22 texts made before this
work (torch, joblib state files); see the note inside it.
"""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from affekt.core.registry import bundled_dir

BASELINE = json.loads((Path(__file__).parent / "data" / "text_default_baseline.json").read_text(encoding="utf-8"))
HAS_ORT = importlib.util.find_spec("onnxruntime") is not None
HAS_TORCH = importlib.util.find_spec("torch") is not None
RUNTIMES = [pytest.param("torch", marks=pytest.mark.skipif(not HAS_TORCH, reason="needs torch")),
            pytest.param("onnxruntime", marks=pytest.mark.skipif(not HAS_ORT, reason="needs onnxruntime"))]
# torch reproduces the baseline to float rounding; onnxruntime's kernels sum in another order, and the
# network rounds the frozen layers' output to fp16, so single values move by up to ~1e-4. That is the
# size of the torch path's own dependence on batching (a text alone or padded in a batch).
TOLERANCE = {"torch": 1e-5, "onnxruntime": 1e-4}


@pytest.fixture()
def fresh_load(monkeypatch):
    """load_model without the registry's model cache or the per-batch network memo, in a runtime."""
    from affekt.core import registry
    from affekt.text import models

    def load(runtime: str):
        monkeypatch.setenv("AFFEKT_TORCH", "1" if runtime == "torch" else "0")
        registry._CACHE.clear()
        models._MEMO.clear()
        return registry.load_model("text-default", cache=False)

    yield load
    registry._CACHE.clear()
    models._MEMO.clear()


def _runtime(model) -> str:
    return model.categorical.members_[1].runtime


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_text_default_predicts_what_it_predicted_before(fresh_load, runtime):
    m = fresh_load(runtime)
    assert _runtime(m) == runtime
    texts, labels, tol = BASELINE["texts"], BASELINE["labels"], TOLERANCE[runtime]
    assert list(m.labels_.labels) == labels
    # the baseline's Ekman scores are the GoEmotions model's own Ekman view; since session 11 text-default's
    # Ekman answer blends in a second model (tests/test_bundled_models.py checks the blend against both)
    preds, ekman = m.predict(texts), m.categorical.predict(texts, label_space="ekman")
    for p, e, ref in zip(preds, ekman, BASELINE["items"]):
        np.testing.assert_allclose([p.scores[lab] for lab in labels], ref["scores"], rtol=0, atol=tol)
        np.testing.assert_allclose([p.valence, p.arousal, p.dominance], ref["vad"], rtol=0, atol=tol)
        np.testing.assert_allclose([e.scores[k] for k in ref["ekman_scores"]], list(ref["ekman_scores"].values()),
                                   rtol=0, atol=tol)
        # every baseline score is >= 5e-4 from its threshold, so the decisions cannot move
        assert p.labels == ref["decisions"] and e.labels == ref["ekman_labels"]


@pytest.mark.skipif(not (HAS_ORT and HAS_TORCH), reason="needs torch and onnxruntime")
def test_both_runtimes_hash_the_same_weights_alike(fresh_load):
    """The fingerprint keys the per-batch memo and links the dimensional part to the categorical
    network when saving: it must not depend on the runtime."""
    a = fresh_load("torch").categorical.members_[1]._fingerprint()
    b = fresh_load("onnxruntime").categorical.members_[1]._fingerprint()
    assert a == b


@pytest.mark.skipif(not HAS_ORT, reason="needs onnxruntime")
def test_loading_and_running_text_default_does_not_import_torch_or_transformers():
    code = ("import sys, json, affekt\n"
            "m = affekt.load('text-default')\n"
            "p = m.predict(['hello', 'I am so happy for you!'])\n"
            "assert p[1].label in ('joy', 'admiration', 'excitement'), p[1].label\n"
            "print(json.dumps({k: k in sys.modules for k in ('torch', 'transformers')}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**__import__("os").environ, "AFFEKT_TORCH": "0"})
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"torch": False, "transformers": False}


def test_importing_affekt_is_cheap():
    code = ("import sys, json, affekt\n"
            "print(json.dumps([k for k in ('torch', 'sklearn', 'scipy', 'pandas', 'onnxruntime') if k in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_bundled_text_default_state_is_stored_for_the_fast_unpickler():
    """joblib.load unpickles in pure Python (seconds for a TF-IDF vocabulary); the bundled state
    files are plain pickles, and the fine-tuned network ships its weight-free ONNX graph."""
    root = bundled_dir() / "text-default"
    assert not list(root.rglob("*.joblib"))
    assert (root / "categorical" / "member_0" / "model.pkl").is_file()
    assert (root / "dimensional" / "model.pkl").is_file()
    net = root / "categorical" / "member_1"
    assert (net / "encoder.onnx").is_file() and (net / "encoder.json").is_file()
    assert (net / "encoder.onnx").stat().st_size < 1_000_000  # no weights inside: they are not duplicated
    spec = json.loads((net / "encoder.json").read_text())
    assert {src for src, _ in spec["weights"].values()} == {"minilm", "top"}


def test_state_files_round_trip_and_legacy_joblib_still_loads(tmp_path):
    import joblib

    from affekt.core.errors import DataError
    from affekt.core.persist import dump_state, load_state, state_exists

    obj = {"a": np.arange(5, dtype=np.float32), "vocab": {f"w{i}": i for i in range(1000)}}
    dump_state(obj, tmp_path)
    assert (tmp_path / "model.pkl").is_file() and state_exists(tmp_path)
    back = load_state(tmp_path)
    assert back["vocab"] == obj["vocab"] and np.array_equal(back["a"], obj["a"])
    old = tmp_path / "old"
    old.mkdir()
    joblib.dump(obj, old / "model.joblib")  # a folder saved by affekt <= 0.1.0
    assert load_state(old)["vocab"] == obj["vocab"]
    with pytest.raises(DataError, match="no saved model state"):
        load_state(tmp_path / "nothing-here")


def test_tfidf_model_saves_a_pickle_and_loads_it_back(corpus, tmp_path):
    from affekt.core.registry import load_model, make_family

    (X, y), _ = corpus
    m = make_family("text", "tfidf").fit(X, y)
    m.save(tmp_path / "m")
    assert (tmp_path / "m" / "model.pkl").is_file() and not (tmp_path / "m" / "model.joblib").exists()
    np.testing.assert_array_equal(load_model(tmp_path / "m").predict_proba(X[:5]), m.predict_proba(X[:5]))


@pytest.mark.slow
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_text_default_saved_again_keeps_its_graph_and_predictions(fresh_load, runtime, tmp_path):
    """A loaded text-default saved elsewhere (in either runtime, without the onnx package) is the
    same model: same files for the network, the graph carried over, the same predictions."""
    if importlib.util.find_spec("onnx") is not None:
        pytest.skip("with the onnx package installed, save() exports a fresh graph instead")
    from affekt.core.registry import load_model
    from affekt.text import models

    m = fresh_load(runtime)
    texts = BASELINE["texts"][:6]
    before = m.predict(texts)
    out = m.save(tmp_path / "copy")
    src, dst = bundled_dir() / "text-default" / "categorical" / "member_1", out / "categorical" / "member_1"
    for name in ("encoder.onnx", "encoder.json"):
        assert (dst / name).read_bytes() == (src / name).read_bytes()
    from safetensors.numpy import load_file

    a, b = load_file(str(src / "finetuned_top.safetensors")), load_file(str(dst / "finetuned_top.safetensors"))
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    again = load_model(out, cache=False)
    assert _runtime(again) == runtime
    models._MEMO.clear()  # same weights, same memo key: make it run the network again
    for p, q in zip(before, again.predict(texts)):
        assert p.scores == q.scores and (p.valence, p.arousal, p.dominance) == (q.valence, q.arousal, q.dominance)


@pytest.mark.slow
@pytest.mark.skipif(not (HAS_ORT and HAS_TORCH and importlib.util.find_spec("onnx") is not None),
                    reason="needs torch, onnx and onnxruntime")
def test_exported_graph_runs_like_torch(fresh_load, tmp_path):
    """What `python -m affekt.text._onnx FOLDER` and save() (with onnx installed) write: a graph
    that onnxruntime runs to the torch network's outputs."""
    from affekt.text import _onnx

    net = fresh_load("torch").categorical.members_[1]
    (tmp_path / _onnx.TOP).write_bytes((bundled_dir() / "text-default" / "categorical" / "member_1" / _onnx.TOP).read_bytes())
    _onnx.export(net, tmp_path)
    enc = _onnx.OnnxEncoder.from_folder(tmp_path, net.max_length, _onnx.read_files(tmp_path))
    texts = BASELINE["texts"]
    E, P = net._run_top(net._bottom(texts), len(texts), True)
    E2, P2 = enc(texts)
    np.testing.assert_allclose(P2, P, rtol=0, atol=1e-4)
    np.testing.assert_allclose(E2, E, rtol=0, atol=1e-4)
    assert enc.fingerprint() == net._fingerprint()


@pytest.mark.skipif(not HAS_ORT, reason="needs onnxruntime")
def test_a_network_run_by_onnxruntime_can_be_copied(fresh_load):
    """deepcopy and pickling (worker processes) rebuild the session from the weights in memory."""
    import copy
    import pickle

    net = fresh_load("onnxruntime").categorical.members_[1]
    texts = BASELINE["texts"][:4]
    for twin in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert twin.runtime == "onnxruntime" and twin.onnx_ is not net.onnx_
        np.testing.assert_array_equal(twin.onnx_(texts)[1], net.onnx_(texts)[1])
