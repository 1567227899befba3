"""`evwire tag` and `evwire eval`: tagging without a database (stable contracts for scripts)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any, BinaryIO, cast

import typer

from evwire.cli.common import cli_errors, echo_json, err, fail, load_settings, out
from evwire.errors import EvwireError
from evwire.ingest.files import read_article_source
from evwire.pipeline import load_active_catalog, parse_record, tag_parsed
from evwire.tag.tagger import Tagger
from evwire.tag.types import Tagging


def _tagger() -> Tagger:
    catalog, _ = load_active_catalog(load_settings())
    return Tagger(catalog)


def _open_lines(source: str) -> BinaryIO:
    """The lines of a file, or of stdin for "-", as bytes (each line is decoded on its own)."""
    if source == "-":
        return cast(BinaryIO, getattr(sys.stdin, "buffer", cast(Any, sys.stdin)))
    try:
        return open(source, "rb")  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        raise EvwireError(f"cannot read {source}: {exc.strerror or exc}") from exc


def tag_records(
    lines: Iterable[bytes], tagger: Tagger
) -> Iterator[tuple[int, dict[str, Any] | None, Tagging, str | None]]:
    """(line number, record, tagging, error) per non-blank JSON line; a bad line gets an empty Tagging."""
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        record = None
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            yield number, None, Tagging(), "not UTF-8 text"
            continue
        try:
            record = json.loads(line)
            tagging = tag_parsed(parse_record(record), tagger)
            yield number, record, tagging, None
        except json.JSONDecodeError as exc:
            yield number, None, Tagging(), f"not JSON ({exc.msg} at column {exc.colno})"
        except EvwireError as exc:
            yield number, record if isinstance(record, dict) else None, Tagging(), str(exc)


def tag_command(
    path: Annotated[
        str | None, typer.Argument(metavar="PATH", help="Article file (text or HTML), JSONL, or -.")
    ] = None,
    json_: Annotated[
        bool, typer.Option("--json", help="PATH is one article; print one JSON object.")
    ] = False,
    jsonl: Annotated[
        bool,
        typer.Option("--jsonl", help="PATH holds JSON lines {title, text, published?}; print one line each."),
    ] = False,
) -> None:
    """Tag articles without a database: about, mentioned, tickers, people, facts as JSON."""
    _run_tag(path, json_, jsonl)


@cli_errors
def _run_tag(path: str | None, json_: bool, jsonl: bool) -> None:
    if path is None:
        raise EvwireError("name an article file (or - for stdin): evwire tag --json PATH or --jsonl FILE")
    if json_ and jsonl:
        raise EvwireError("choose one of --json and --jsonl")
    tagger = _tagger()
    if jsonl:
        failed = 0
        fh = _open_lines(path)
        try:
            for number, _, tagging, error in tag_records(fh, tagger):
                if error:
                    failed += 1
                    fail(f"line {number}: {error}")
                echo_json(tagging.to_json())
                sys.stdout.flush()
        finally:
            if fh is not getattr(sys.stdin, "buffer", sys.stdin):
                fh.close()
        if failed:
            raise typer.Exit(1)
        return
    settings = load_settings()
    parsed = read_article_source(
        path, max_bytes=settings.max_article_bytes, stdin=getattr(sys.stdin, "buffer", None)
    )
    tagging = tag_parsed(parsed, tagger)
    if json_:
        echo_json(tagging.to_json())
        return
    out.print(f"[bold]{parsed.title}[/bold]")
    for label, tags in (("about", tagging.about), ("mentioned", tagging.mentioned)):
        out.print(f"  {label:9s} " + (", ".join(f"{t.slug} ({t.score:.2f})" for t in tags) or "-"))
    out.print(
        "  tickers   " + (", ".join(f"{t.exchange}:{t.symbol}→{t.company}" for t in tagging.tickers) or "-")
    )
    out.print("  people    " + (", ".join(f"{p.name}→{p.company}" for p in tagging.people) or "-"))


def eval_command(
    file: Annotated[Path, typer.Argument(metavar="FILE.jsonl", help="Labelled corpus (JSON lines).")],
    show: Annotated[int, typer.Option(help="Also list up to N articles whose `about` disagrees.")] = 0,
) -> None:
    """Score the tagger against a labelled corpus: precision, recall, F1."""
    _run_eval(file, show)


@cli_errors
def _run_eval(file: Path, show: int) -> None:
    from evwire.tag.evaluate import evaluate

    tagger = _tagger()
    labels: list[dict[str, Any]] = []
    preds: list[dict[str, Any]] = []
    with _open_lines(str(file)) as fh:
        for number, record, tagging, error in tag_records(fh, tagger):
            if error:
                err.print(f"[yellow]line {number}: {error}[/yellow]")
            labels.append(record or {})
            preds.append(tagging.to_json())
    result = evaluate(labels, preds)
    typer.echo(result.format(show))
