"""The shared torch training loop (``affekt.training.trainer.fit_torch``): early stopping on the
dev score and the weights of the best dev epoch restored, in the loop itself and in every family
that trains through it (text rnn and finetune here, speech cnn in test_speech_models_cli.py)."""
import numpy as np
import pytest

from conftest import FitSpy, needs_torch, same_state as _same, state_of as _state

pytestmark = [needs_torch, pytest.mark.usefixtures("torch_one_thread")]


# ------------------------------------------------------------------------------ the loop itself
def _tiny_problem(seed=0):
    import torch

    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(64, 5, generator=g)
    y = (X[:, 0] > 0).long()
    net = torch.nn.Linear(5, 2)

    def batches(epoch):
        for s in range(0, 64, 16):
            yield (X[s:s + 16],), y[s:s + 16]
    return net, batches, torch.nn.CrossEntropyLoss()


@pytest.mark.parametrize("patience,script,n_epochs,best", [
    (1, [0.2, 0.6, 0.5, 0.4, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9], 4, 2),   # two epochs without a gain: stop
    (0, [0.2, 0.6, 0.5, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9], 3, 2),   # patience 0: the first one stops
    (2, [0.5, 0.4, 0.6, 0.6, 0.1, 0.3, 0.9, 0.9, 0.9, 0.9], 6, 3),   # a tie is no gain
    (1, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], 10, 10),  # always better: every epoch runs
])
def test_fit_torch_stops_early_and_restores_the_best_epoch(tmp_path, patience, script, n_epochs, best):
    import torch

    from affekt.training.trainer import fit_torch

    net, batches, loss = _tiny_problem()
    states = []

    def score():
        states.append(_state(net))
        return script[len(states) - 1]

    out = fit_torch(net, batches, loss, score, epochs=10, lr=0.05, patience=patience,
                    checkpoint_dir=tmp_path / "ckpt", progress=False)
    hist = out["history"]
    assert [h["epoch"] for h in hist] == list(range(1, n_epochs + 1))
    assert [h["dev_score"] for h in hist] == script[:n_epochs]
    assert out["best_dev"] == max(script[:n_epochs])
    assert _same(_state(net), states[best - 1])  # the best epoch's weights came back
    if best != n_epochs:  # ...and they are not simply the last epoch's
        assert not _same(_state(net), states[-1])
    assert _same(torch.load(tmp_path / "ckpt" / "best.pt"), states[best - 1])  # the checkpoint holds them too
    assert not net.training


def test_fit_torch_without_a_dev_score_uses_the_training_loss():
    """No dev split: the score is minus the epoch's mean training loss (lower loss is better)."""
    from affekt.training.trainer import fit_torch

    net, batches, loss = _tiny_problem(1)
    out = fit_torch(net, batches, loss, None, epochs=5, lr=0.05, patience=0, progress=False)
    hist = out["history"]
    assert [h["dev_score"] for h in hist] == [-h["train_loss"] for h in hist]
    assert hist[-1]["train_loss"] < hist[0]["train_loss"]  # it learns: a linearly separable problem
    assert out["best_dev"] == max(h["dev_score"] for h in hist)


# ---------------------------------------------------------------------------- text families
RNN = {"epochs": 8, "hidden": 16, "min_freq": 1, "batch_size": 16, "lr": 5e-3, "patience": 1}


def test_rnn_stops_early_and_keeps_its_best_dev_epoch(corpus, monkeypatch):
    import affekt.text._torch_models as tm
    from affekt.core.registry import make_family

    (X, y), (Xd, yd) = corpus
    spy = FitSpy(monkeypatch, tm, script=[0.3, 0.5, 0.45, 0.4, 0.9, 0.9, 0.9, 0.9])
    m = make_family("text", "rnn", **RNN).fit(X, y, X_dev=Xd, y_dev=yd)
    (run,) = spy.runs
    assert run["kw"]["patience"] == 1 and run["kw"]["epochs"] == 8
    assert len(m.history_["history"]) == 4 < 8
    assert _same(_state(m.module_), run["states"][1])  # epoch 2: the best scripted dev score
    # the model predicts with those weights: its real dev score now is the one measured at epoch 2
    assert run["score"]() == pytest.approx(run["real"][1], abs=1e-9)


def test_rnn_dev_score_that_falls_stops_training(corpus, monkeypatch):
    """No script: a dev split whose labels are a derangement of the truth (joy <-> sadness,
    anger <-> fear) scores worse the better the model learns, so training stops long before
    the 8 epochs, with the weights of the epoch that scored best on it."""
    import affekt.text._torch_models as tm
    from affekt.core.registry import make_family

    (X, y), (Xd, yd) = corpus
    swap = {"joy": "sadness", "sadness": "joy", "anger": "fear", "fear": "anger"}
    spy = FitSpy(monkeypatch, tm)
    m = make_family("text", "rnn", **RNN).fit(X, y, X_dev=Xd, y_dev=[swap[t] for t in yd])
    (run,) = spy.runs
    dev = [h["dev_score"] for h in m.history_["history"]]
    assert len(dev) < 8
    best = int(np.argmax(dev))  # the first of the best
    assert dev[best] == m.history_["best_dev"] and all(d <= dev[best] for d in dev[best + 1:])
    assert len(dev) - 1 - best == RNN["patience"] + 1  # it stopped after patience + 1 epochs without a gain
    assert _same(_state(m.module_), run["states"][best])
    # with the true dev labels the score keeps rising, and training goes on for longer
    honest = make_family("text", "rnn", **RNN).fit(X, y, X_dev=Xd, y_dev=yd)
    assert len(honest.history_["history"]) > len(dev)


@pytest.mark.slow
def test_finetune_stops_early_and_keeps_its_best_dev_epoch(corpus, monkeypatch):
    import affekt.text._torch_models as tm
    from affekt.core.registry import make_family

    (X, y), (Xd, yd) = corpus
    spy = FitSpy(monkeypatch, tm, script=[0.5, 0.3, 0.2, 0.9, 0.9])
    m = make_family("text", "finetune", epochs=5, train_layers=1, patience=1).fit(X, y, X_dev=Xd, y_dev=yd)
    (run,) = spy.runs
    assert len(m.history_["history"]) == 3 < 5
    assert _same(_state(m.top_), run["states"][0])
    assert run["score"]() == pytest.approx(run["real"][0], abs=1e-9)
