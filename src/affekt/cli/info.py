"""``affekt models``, ``affekt families`` and ``affekt examples``."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from affekt.cli.common import friendly


@friendly
def models(as_json: bool = typer.Option(False, "--json")):
    """List bundled and user models ($AFFEKT_HOME/models, default ~/.affekt/models): label spaces
    each can be viewed in, and metrics."""
    from affekt.core.registry import list_models, user_dir

    rows = list_models()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title="affekt models", show_lines=True, caption=f"your models: save them under {user_dir()}")
    for c in ("name", "modality", "family", "label spaces (own first)", "dimensions", "metrics (see model card)", "where"):
        t.add_column(c, no_wrap=c in ("name", "metrics (see model card)"))
    for r in rows:
        t.add_row(r["name"], r["modality"] or "", r["family"] or "", "\n".join(r["label_spaces"]),
                  "\n".join(r["dimensions"]),
                  "\n".join(f"{k} = {v}" for k, v in r["metrics"].items()), "bundled" if r["bundled"] else r["path"])
    Console(width=max(Console().width, 150)).print(t)


@friendly
def families(modality: Optional[str] = typer.Option(None, help="Only this modality's families (default: all).")):
    """List the model families `affekt train --modality M --model FAMILY` can build."""
    from affekt.core.modality import MODALITIES
    from affekt.core.registry import families as fams

    names = [modality] if modality else list(MODALITIES)
    typer.echo("modality\tfamily\ttask")
    for m in names:
        for name, task in fams(m).items():
            typer.echo(f"{m}\t{name}\t{task}")


@friendly
def examples(output: Path = typer.Option(Path("affekt-examples"), "--output", "-o",
                                         help="Folder to copy the example inputs into.")):
    """Copy the example inputs that ship with affekt (a speech clip, CSVs of texts, a face photo, a short video) into a folder."""
    import shutil
    from importlib import resources

    src = Path(str(resources.files("affekt.examples")))
    output.mkdir(parents=True, exist_ok=True)
    for f in sorted(src.iterdir()):
        if f.suffix in (".wav", ".csv", ".md", ".jpg", ".mp4"):
            shutil.copyfile(f, output / f.name)
            typer.echo(str(output / f.name))
