"""``affekt annotate``: the labelling tool (see :mod:`affekt.annotation.tool`).

``affekt annotate INPUT --project DIR --labels ...`` makes a project and serves its page;
``affekt annotate --project DIR`` opens it again (``start`` is the default sub-command);
``affekt annotate export`` writes the answers; ``affekt annotate stats`` shows progress and
each annotator's accuracy on the gold items.
"""
from __future__ import annotations

from pathlib import Path

import typer
from typer.core import TyperGroup

from affekt.cli.common import friendly

LOOPBACK = ("127.0.0.1", "localhost", "::1")
MIN_TOKEN_CHARS = 12


class _DefaultStart(TyperGroup):
    """``affekt annotate ARGS`` is ``affekt annotate start ARGS`` unless ARGS names a sub-command."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["start", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(cls=_DefaultStart, no_args_is_help=True, add_completion=False,
                  help="Label items in the browser: `affekt annotate INPUT --project DIR --labels ekman` makes a "
                       "project and serves its page (`affekt annotate --project DIR` opens it again); "
                       "`affekt annotate export` writes the answers; `affekt annotate stats` shows progress.")


def read_tokens(path: Path, host: str) -> dict[str, str]:
    """A tokens file: one annotator a line, ``TOKEN`` or ``TOKEN NAME`` (the name is what the
    answers record; without one, a pseudonym derived from the token, ``annotator-<8 hex>``, so
    that no secret reaches the database or an export). Blank lines and ``#`` comments are skipped."""
    import hashlib

    from affekt.core.errors import InputError
    from affekt.io.text import read_bytes_utf8

    out: dict[str, str] = {}
    for n, line in enumerate(read_bytes_utf8(Path(path).expanduser()).splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        token, _, name = line.partition(" ")
        token = token.strip()
        name = name.strip() or f"annotator-{hashlib.sha256(token.encode()).hexdigest()[:8]}"
        if token in out:
            raise InputError(f"--tokens '{path}' line {n}: the token is given twice")
        if host not in LOOPBACK and len(token) < MIN_TOKEN_CHARS:
            raise InputError(f"--tokens '{path}' line {n}: a token of {len(token)} characters is too easy to guess "
                             f"on a server others can reach; use {MIN_TOKEN_CHARS} or more (e.g. python -c "
                             "\"import secrets; print(secrets.token_urlsafe(12))\")")
        if len(name) > 64:
            raise InputError(f"--tokens '{path}' line {n}: the name is longer than 64 characters")
        out[token] = name
    if not out:
        raise InputError(f"--tokens '{path}' holds no token")
    return out


def _same_items(stored: list[dict], given: list[dict]) -> str | None:
    """Why the items read now differ from the project's, or None."""
    a = {it["id"]: (it.get("path"), it.get("text")) for it in stored}
    b = {it["id"]: (it.get("path"), it.get("text")) for it in given}
    if a == b:
        return None
    new, gone = sorted(set(b) - set(a)), sorted(set(a) - set(b))
    changed = sorted(k for k in set(a) & set(b) if a[k] != b[k])
    parts = [f"{len(x)} {w} (e.g. '{x[0]}')" for x, w in ((new, "new"), (gone, "gone"), (changed, "changed")) if x]
    return ", ".join(parts)


@app.command()
@friendly
def start(input: str | None = typer.Argument(None, show_default=False,
                                                 help="A folder of audio files or images (recursive), an audio "
                                                 "file or image, or texts: .txt (one a line), .csv/.tsv/.jsonl. "
                                                 "Leave it out to open an existing --project again."),
          project: str = typer.Option(..., "--project", "-p", help="The project folder: project.json (scheme, "
                                       "items), answers.sqlite (every answer). Made when new."),
          labels: str | None = typer.Option(None, "--labels", "-l", help="Categories: an affekt label space "
                                               "(ekman, goemotions, carer...), your own comma-separated list "
                                               "('joy,anger,other'), or a file with one label a line."),
          multi: bool | None = typer.Option(None, "--multi/--single", help="Several labels per item, or one "
                                               "(default: as the label space says; one for your own list)."),
          vad: bool = typer.Option(False, "--vad", help="Also rate valence, arousal, dominance (SAM, 1-9)."),
          unsure: bool = typer.Option(False, "--unsure", help="Offer an 'unsure' mark."),
          not_applicable: bool = typer.Option(False, "--not-applicable", help="Offer a 'not applicable' answer."),
          k: int | None = typer.Option(None, "--k", "-k", help="Answers wanted per item [default: 3]."),
          gold: str | None = typer.Option(None, "--gold", help="Gold items: a CSV item,label (item ids as the "
                                              "export writes them). Every annotator gets each once; their "
                                              "accuracy is in `affekt annotate stats`."),
          order: str | None = typer.Option(None, "--order", help="sequential [default], random (fixed per "
                                              "project), or uncertain (a model's least certain first)."),
          preannotate: str | None = typer.Option(None, "--preannotate", help="Show a model's suggestion "
                                                    "(a model name or folder). Off by default: suggestions anchor "
                                                    "people. 'none' turns it off again."),
          score_model: str | None = typer.Option(None, "--score-model", help="A model that only orders the "
                                                    "items for --order uncertain (nothing is shown)."),
          instructions: str | None = typer.Option(None, "--instructions", help="A text file shown on the page."),
          tokens: str | None = typer.Option(None, "--tokens", help="Only these annotators: a file with one "
                                                "'TOKEN [NAME]' a line (needed for a --host others can reach)."),
          lease: float | None = typer.Option(None, "--lease", help="Seconds an item shown to someone is kept "
                                                "for them before others may get it [default: 600]."),
          text_column: str = typer.Option("text", "--text-column", help="The text column of a .csv/.tsv/.jsonl."),
          id_column: str | None = typer.Option(None, "--id-column", help="Its id column (default: 'id' when "
                                                  "there is one, else the row number)."),
          encoding: str = typer.Option("utf-8", "--encoding", help="Encoding of a text input."),
          seed: int | None = typer.Option(None, "--seed", help="Seed of the random order (new projects)."),
          host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; anything but loopback "
                                   "needs --tokens."),
          port: int = typer.Option(8765, "--port", min=1, max=65535, help="Port."),
          log_level: str = typer.Option("warning", "--log-level", help="debug, info, warning, error.")):
    """Make an annotation project (or open it again) and serve its page until Ctrl-C."""
    import logging

    from affekt.annotation.tool.items import read_items
    from affekt.annotation.tool.project import (
        Project,
        new_config,
        parse_gold,
        read_config,
    )
    from affekt.annotation.tool.scheme import Scheme
    from affekt.core.errors import InputError, MissingDependencyError

    try:
        import uvicorn
    except ImportError:
        raise MissingDependencyError("affekt annotate needs FastAPI and uvicorn: pip install 'affekt[annotate]'") from None
    if host not in LOOPBACK and tokens is None:
        raise InputError(f"--host {host} makes the page reachable from other machines: give --tokens FILE (who may "
                         "annotate), or keep the default 127.0.0.1")
    level = getattr(logging, log_level.upper(), None)
    if not isinstance(level, int):
        raise InputError(f"--log-level '{log_level}': use debug, info, warning or error")
    token_map = read_tokens(tokens, host) if tokens else None
    text = None
    if instructions is not None:
        from affekt.io.text import read_bytes_utf8

        text = read_bytes_utf8(Path(instructions).expanduser()).strip()
    if preannotate is not None and preannotate.strip().lower() in ("none", "off", ""):
        preannotate = ""
    settings = {"k": k, "order": order, "lease_s": lease, "preannotate": preannotate, "score_model": score_model,
                "instructions": text}
    scheme_given = labels is not None or multi is not None or vad or unsure or not_applicable
    read = {"text_column": text_column, "id_column": id_column, "encoding": encoding}
    project = Path(project)

    existing = read_config(project) if project.is_dir() else None
    if existing is None:
        if input is None:
            raise InputError(f"'{project}' holds no annotation project yet: give the INPUT to label (a folder of "
                             "audio files or images, or a text file), e.g. affekt annotate texts.txt "
                             f"--project {project} --labels ekman")
        scheme = Scheme.parse(labels, multi=multi, vad=vad, unsure=unsure, not_applicable=not_applicable)
        items = read_items(input, **read)
        gold_map = parse_gold(gold, items, scheme) if gold else {}
        cfg = new_config(items, scheme, source=str(Path(input).expanduser().resolve()), gold=gold_map, seed=seed,
                         **settings)
        proj = Project.create(project, cfg)
        typer.echo(f"new project '{project}': {len(items) - len(gold_map)} items"
                   f"{f' + {len(gold_map)} gold' if gold_map else ''}; {scheme.describe()}; k={proj.k}", err=True)
    else:
        proj = Project.open(project)  # takes the lock first: a second server stops here
        try:
            if input is not None:
                why = _same_items(proj.items, read_items(input, **read))
                if why:
                    raise InputError(f"'{input}' no longer gives the items of project '{project}' ({why}); a project "
                                     "keeps its items: make a new project for these")
            if scheme_given:
                given = Scheme.parse(labels, multi=multi, vad=vad, unsure=unsure, not_applicable=not_applicable)
                diff = proj.scheme.differences(given)
                if diff:
                    raise InputError(f"project '{project}' was made with another label scheme ({'; '.join(diff)}); "
                                     "its answers would not fit. Leave the scheme options out to go on with it "
                                     f"({proj.scheme.describe()}), or make a new project")
            if gold is not None and parse_gold(gold, proj.items, proj.scheme) != {k: list(v) for k, v in proj.gold.items()}:
                raise InputError(f"--gold '{gold}' differs from the gold items project '{project}' was made with; "
                                 "leave --gold out to go on with those")
            changed = proj.configure(**settings)
            st = proj.stats()
            typer.echo(f"project '{project}' opened again: {st['answers']} answers so far, {st['complete']} of "
                       f"{st['items']} items complete (k={proj.k})"
                       f"{'; changed: ' + ', '.join(changed) if changed else ''}", err=True)
        except BaseException:
            proj.close()
            raise
    try:
        model = proj.config.get("preannotate") or proj.config.get("score_model")
        if model:
            from affekt.annotation.tool.suggest import model_scorer, score_items

            typer.echo(f"scoring the items with '{model}'...", err=True)
            scores = score_items(proj, str(model), model_scorer(model, proj.scheme),
                                 progress=lambda done, n: typer.echo(f"  {done}/{n}", err=True))
            proj.use_scores(str(model), scores, show=bool(proj.config.get("preannotate")))
        from affekt.annotation.tool.app import create_app

        from affekt.annotation.tool.app import LOOPBACK_NAMES

        # on loopback only loopback Host headers are answered (no DNS rebinding); elsewhere the tokens guard
        web = create_app(proj, tokens=token_map, close_on_shutdown=True,
                         allowed_hosts=LOOPBACK_NAMES if host in LOOPBACK else ("*",))
        url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/"
        if proj.lock:
            proj.lock.note(f"serving {url}")
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        typer.echo(f"affekt annotate: open {url} (Ctrl-C stops; answers are saved as they are given)", err=True)
        uvicorn.run(web, host=host, port=port, log_level=log_level, access_log=False, timeout_keep_alive=5)
    finally:
        proj.close()


@app.command()
@friendly
def export(project: str = typer.Option(..., "--project", "-p", help="The project folder."),
           output: str = typer.Option(..., "--output", "-o", help="answers.csv or answers.jsonl: one row per "
                                       "answer."),
           no_gold: bool = typer.Option(False, "--no-gold", help="Leave out the answers on gold items.")):
    """Write every answer: item, annotator, label (several joined with ';'), valence, arousal,
    dominance, unsure, not_applicable, gold, shown_at, answered_at (UTC), duration_ms, suggestion, answer_id.
    Works while the server runs."""
    from affekt.annotation.tool.project import Project, write_rows

    with Project.open(project, lock=False) as proj:
        rows = proj.export_rows()
    if no_gold:
        rows = [r for r in rows if not r["gold"]]
    n = write_rows(rows, output)
    typer.echo(f"{n} answer{'s' if n != 1 else ''} -> {output}", err=True)


@app.command()
@friendly
def stats(project: str = typer.Option(..., "--project", "-p", help="The project folder."),
          as_json: bool = typer.Option(False, "--json", help="Print JSON.")):
    """Progress, and per annotator: answers, median time per answer, accuracy on the gold items."""
    import json

    from affekt.annotation.tool.project import Project

    with Project.open(project, lock=False) as proj:
        st = proj.stats()
    if as_json:
        typer.echo(json.dumps(st, indent=1))
        return
    gold = f", {st['gold_items']} gold items" if st["gold_items"] else ""
    typer.echo(f"{st['complete']} of {st['items']} items have their {st['k']} answers; {st['answers']} answers "
               f"in all{gold}")
    for name, s in st["annotators"].items():
        acc = "" if s["gold_accuracy"] is None else \
            f", gold {s['gold_correct']}/{s['gold_answered']} ({s['gold_accuracy']:.0%})"
        dur = "" if s["median_duration_ms"] is None else f", median {s['median_duration_ms'] / 1000:.1f} s"
        typer.echo(f"  {name}: {s['answers']} answers{dur}{acc}")

