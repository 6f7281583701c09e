"""What every command shares: the error wrapper, exit codes, options, loading and checks.

Exit codes (README, "Exit codes"):

* 0 — every item was predicted;
* 1 — a usage error (a bad option, a missing file or model, unreadable data): nothing was done;
* 2 — some items failed (each has an error record, and a line on stderr); the others were
  predicted and written. ``--strict`` turns a failed item into a failure of the whole run
  (exit 1, no output file).
"""
from __future__ import annotations

import functools
import json
import os
import sys

import typer

EXIT_OK, EXIT_USAGE, EXIT_ITEMS = 0, 1, 2
MAX_ERROR_LINES = 20  # item errors echoed on stderr; the rest are counted

ModelOpt = typer.Option(None, "--model", "-m", help="Bundled model name or a saved model folder.")
SpaceOpt = typer.Option(None, "--label-space", "-l",
                        help="View the output in another label space (`affekt models` lists each model's).")
StrictOpt = typer.Option(False, "--strict", help="Any failed item fails the whole run (exit 1, nothing written).")
AbstainOpt = typer.Option(None, "--abstain-below", help="Answer 'uncertain' where the top score is under this "
                          "(0-1); the scores are kept. See docs/results/generalisation.md for coverage and accuracy.")


def err(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)


def _warning_line(message, category, filename, lineno, file=None, line=None):
    """Warnings on the command line: one line, no source location (AFFEKT_DEBUG=1 restores them)."""
    print(f"warning: {message}", file=sys.stderr)


def friendly(fn):
    """Library errors -> one line on stderr and exit 1 (AFFEKT_DEBUG=1 shows the traceback)."""
    @functools.wraps(fn)
    def wrapper(*a, **kw):
        import warnings

        from affekt.core.errors import AffektError

        debug = bool(os.environ.get("AFFEKT_DEBUG"))
        try:
            with warnings.catch_warnings():
                if not debug:
                    warnings.showwarning = _warning_line
                return fn(*a, **kw)
        except typer.Exit:
            raise
        except AffektError as exc:
            if debug:
                raise
            err(str(exc))
            raise typer.Exit(EXIT_USAGE)
        except (OSError, MemoryError) as exc:
            if debug:
                raise
            err(f"{type(exc).__name__}: {exc}")
            raise typer.Exit(EXIT_USAGE)
        except Exception as exc:  # a bug of ours: still one line, and how to see more
            if debug:
                raise
            if type(exc).__name__ == "InvalidParameterError":  # scikit-learn refusing a -p value
                err(f"invalid parameter: {exc}")
            else:
                err(f"unexpected {type(exc).__name__}: {exc} (set AFFEKT_DEBUG=1 for the traceback and report it)")
            raise typer.Exit(EXIT_USAGE)
    return wrapper


def load(model: str | None, modality: str | None = None):
    """Load ``model`` (or the modality's default); check it is a model of ``modality``."""
    from affekt.core.errors import InputError
    from affekt.core.modality import get_modality
    from affekt.core.registry import load_model

    if model is None and modality is None:
        raise InputError("give --model")
    m = load_model(model or get_modality(modality).default_model)
    if modality is not None and getattr(m, "modality", modality) != modality:
        raise InputError(f"model '{model}' is a {m.modality} model; these inputs need a {modality} model "
                         "(see `affekt models`)")
    return m


def check_label_space(model, label_space: str | None) -> None:
    """``--label-space`` must be a space this model can be viewed in (else: which ones it can)."""
    if not label_space:
        return
    from affekt.core.errors import InputError
    from affekt.core.labels import get_label_space, get_mapping

    space = get_label_space(label_space)
    cat = getattr(model, "categorical_part", lambda: model)()
    if not hasattr(cat, "labels_"):
        raise InputError(f"model '{model.model_id_}' predicts no categories; --label-space does not apply")
    get_mapping(cat.labels_, space)


def parse_params(params: list[str] | None) -> dict:
    """``-p key=value`` pairs; values are JSON when they parse as JSON, else strings."""
    from affekt.core.errors import InputError

    out = {}
    for p in params or []:
        k, sep, v = p.partition("=")
        if not sep or not k.strip():
            raise InputError(f"-p/--param expects key=value (e.g. -p C=2.0 or -p 'members=[\"svm\",\"lgbm\"]'), got '{p}'")
        v = v.strip()
        try:
            out[k.strip()] = json.loads(v)
        except json.JSONDecodeError as exc:
            if v[:1] in "[{\"":  # meant as JSON, but broken: say so rather than pass a string on
                raise InputError(f"-p {k.strip()}: '{v}' is not valid JSON ({exc.msg} at character {exc.pos + 1})") from None
            out[k.strip()] = v
    return out


def _where(k: int, p, echo) -> str:
    """'item 3 ('x.jpg')', or just 'item 3' when the error already names the input."""
    shown = echo(p.input, 80)[0]
    return f"item {k + 1}" if isinstance(p.input, str) and p.input and p.input in (p.error or "") else f"item {k + 1} ({shown!r})"


def report_item_errors(preds, *, strict: bool = False) -> int:
    """Echo failed items on stderr (the first few, then a count); the exit code the run ends
    with. ``strict``: a failed item is an error of the whole run."""
    from affekt.core.errors import InputError
    from affekt.io.items import echo

    bad = [(k, p) for k, p in enumerate(preds) if p.error]
    if not bad:
        return EXIT_OK
    if strict:
        k, p = bad[0]
        raise InputError(f"{_where(k, p, echo)}: {p.error} (--strict: {len(bad)} item(s) failed; "
                         "nothing written)")
    for k, p in bad[:MAX_ERROR_LINES]:
        err(f"{_where(k, p, echo)}: {p.error}")
    if len(bad) > MAX_ERROR_LINES:
        err(f"... and {len(bad) - MAX_ERROR_LINES} more")
    typer.echo(f"{len(bad)} of {len(preds)} items failed (their records hold the error)", err=True)
    return EXIT_ITEMS
