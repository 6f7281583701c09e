"""One training loop for every torch model: seeds, class weights, early stopping, checkpoints.

Models plug in with three callables instead of copying the loop:
``batches(epoch) -> iterable of (inputs, targets)``, ``loss(outputs, targets)``,
``score() -> float`` (dev metric, higher is better).
"""
from __future__ import annotations

import copy
import logging
import time
from pathlib import Path
from typing import Callable, Iterable

log = logging.getLogger("affekt.training")


def fit_torch(module, batches: Callable[[int], Iterable], loss_fn: Callable, score: Callable[[], float] | None,
              *, epochs: int = 5, lr: float = 1e-3, weight_decay: float = 0.01, patience: int = 2,
              checkpoint_dir: str | Path | None = None, progress: bool = True, param_groups=None,
              warmup_steps: int = 0, cosine_steps: int = 0) -> dict:
    """Train ``module`` in place; keeps the weights of the best dev epoch. Returns a history.
    ``cosine_steps`` > 0 decays the learning rate to zero over that many steps (cosine)."""
    import torch

    params = param_groups or [p for p in module.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    sched = None
    if warmup_steps or cosine_steps:
        import math

        def factor(s):
            w = min(1.0, (s + 1) / warmup_steps) if warmup_steps else 1.0
            c = 0.5 * (1 + math.cos(math.pi * min(1.0, s / cosine_steps))) if cosine_steps else 1.0
            return w * c
        sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
    best, best_state, bad, history = float("-inf"), None, 0, []
    ckpt = Path(checkpoint_dir) if checkpoint_dir else None
    if ckpt:
        ckpt.mkdir(parents=True, exist_ok=True)
    for epoch in range(epochs):
        module.train()
        t0, total, n = time.time(), 0.0, 0
        it = batches(epoch)
        if progress:
            from tqdm import tqdm

            it = tqdm(it, desc=f"epoch {epoch + 1}/{epochs}", unit="batch", leave=False)
        for inputs, targets in it:
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(module(*inputs), targets)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(module.parameters(), 1.0)
            opt.step()
            if sched is not None:
                sched.step()
            total += float(loss.detach())
            n += 1
        module.eval()
        dev = score() if score is not None else -total / max(n, 1)
        rec = {"epoch": epoch + 1, "train_loss": total / max(n, 1), "dev_score": dev,
               "seconds": round(time.time() - t0, 1)}
        history.append(rec)
        log.info("epoch %d: loss %.4f dev %.4f (%.0fs)", epoch + 1, rec["train_loss"], dev, rec["seconds"])
        if progress:
            print(f"epoch {epoch + 1}: train loss {rec['train_loss']:.4f}, dev {dev:.4f}, {rec['seconds']}s", flush=True)
        if dev > best:
            best, bad = dev, 0
            best_state = copy.deepcopy({k: v.detach().clone() for k, v in module.state_dict().items()})
            if ckpt:
                torch.save(best_state, ckpt / "best.pt")
        else:
            bad += 1
            if bad > patience:
                break
    if best_state is not None:
        module.load_state_dict(best_state)
    module.eval()
    return {"history": history, "best_dev": best}
