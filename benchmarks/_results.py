"""Shared by the benchmarks that keep several recipes side by side in one JSON file (one entry per
``--tag``): the command line as it can be pasted back into a shell, and the tagged write-out."""
from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path


def command(argv=None) -> str:
    """``python <script> <args>``, each argument quoted for a POSIX shell."""
    return "python " + shlex.join([sys.argv[0], *(sys.argv[1:] if argv is None else argv)])


def save_tagged(path, tag: str, res: dict) -> None:
    """Put ``res`` under ``tag`` in the JSON file at ``path``, keeping the other tags' results."""
    out = Path(path)
    allres = json.loads(out.read_text()) if out.exists() else {}
    allres[tag] = res
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(allres, indent=2) + "\n")
