"""The ``affekt`` command line: thin commands over the library.

Commands live by group: :mod:`affekt.cli.run` (analyze, predict), :mod:`affekt.cli.train`
(train, evaluate, tune), :mod:`affekt.cli.info` (models, families, examples); what they share is
in :mod:`affekt.cli.common` (errors, exit codes, options). Inputs of every modality go through
the modality registry (:mod:`affekt.core.modality`).

Every error the library raises on purpose becomes one readable line on stderr and exit code 1;
a run where some items failed exits 2 (see :mod:`affekt.cli.common`). AFFEKT_DEBUG=1 shows tracebacks.
"""
from __future__ import annotations

from typing import Optional

import typer

from affekt.cli import annotate, info, labels, privacy, run, serve, train

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="affekt: emotion recognition (categories and valence/arousal/dominance).")


def _version(value: bool) -> None:
    if value:
        from affekt import __version__

        typer.echo(f"affekt {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: Optional[bool] = typer.Option(None, "--version", callback=_version, is_eager=True,
                                                 help="Print the version and exit.")):
    """affekt: emotion recognition (categories and valence/arousal/dominance)."""


app.command()(run.analyze)
app.command()(run.predict)
app.command()(train.train)
app.command()(train.evaluate)
app.command()(train.tune)
app.command()(info.models)
app.command("families")(info.families)
app.command()(info.examples)
app.command()(serve.serve)
app.add_typer(annotate.app, name="annotate")
app.command()(labels.agree)
app.command()(labels.consensus)
app.command()(labels.audit)
app.command()(privacy.anonymize)


def main() -> None:
    try:
        app()
    finally:
        import gc

        gc.freeze()  # nothing left to collect at exit: skip the final sweep over sklearn/scipy (~0.3 s)


if __name__ == "__main__":
    main()
