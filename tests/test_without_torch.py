"""torch is optional: the speech functionals families (svm, logreg, rf, lgbm) and their tests run
without it. The shared speech fixture used to ``importorskip("torch")``, which silently skipped
every speech model test, torch-free ones included, wherever torch was missing."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

# a Python that cannot import torch (as if it were not installed), running pytest
NO_TORCH = textwrap.dedent("""
    import importlib.abc, importlib.util, sys

    class NoTorch(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name == "torch" or name.startswith("torch."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    sys.meta_path.insert(0, NoTorch())
    find_spec = importlib.util.find_spec
    importlib.util.find_spec = lambda name, *a, **k: None if name.split(".")[0] == "torch" else find_spec(name, *a, **k)
    import pytest
    sys.exit(pytest.main(sys.argv[1:]))
""")


def test_torch_free_speech_families_are_tested_without_torch(tmp_path):
    tests = Path(__file__).parent
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    r = subprocess.run([sys.executable, "-c", NO_TORCH, "-q", "-p", "no:cacheprovider", "-rs",
                        "--basetemp", str(tmp_path / "t"),
                        f"{tests / 'test_speech_models_cli.py'}::test_family_fit_predict_save_load[logreg]",
                        f"{tests / 'test_speech_models_cli.py'}::test_family_fit_predict_save_load[cnn]"],
                       capture_output=True, text=True, timeout=300, cwd=tests.parent, env=env)
    out = r.stdout + r.stderr
    assert "1 passed, 1 skipped" in out, out  # logreg ran; only the torch network skipped
    assert "needs torch" in out
