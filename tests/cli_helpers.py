"""How tests run the CLI: in process, never a traceback, the exit code checked."""
from __future__ import annotations

from typer.testing import CliRunner

from affekt.cli.app import app

ITEMS_FAILED = None  # a run where some items failed: its exit code follows the CLI's rule (see test_cli.py)
_runner = CliRunner()


def invoke(args, code: int | None = 0):
    """Run ``affekt ARGS``; ``code``: the exit code it must end with (``ITEMS_FAILED``: not checked)."""
    r = _runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in r.output, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    if code is not ITEMS_FAILED:
        assert r.exit_code == code, r.output
    return r
