"""`evwire articles ...`: list, show, and editor corrections of an article's channels."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from evwire.cli.common import cli_errors, echo_json, load_settings, out, services
from evwire.errors import EvwireError, NotFoundError
from evwire.pipeline import untag_article
from evwire.store.articles import (
    EDITOR_ROLES,
    LIST_ROLES,
    article_channels,
    get_article,
    list_articles,
    set_editor_mention,
)
from evwire.store.companies import get_company
from evwire.store.tables import Article

app = typer.Typer(
    help="List and show stored articles; correct the channels they are filed under.", no_args_is_help=True
)


def article_json(article: Article) -> dict[str, Any]:
    """The stable `articles list --json` line."""
    about, mentioned = article_channels(article)
    return {
        "id": article.id,
        "title": article.title,
        "url": article.url,
        "published": article.published_at.isoformat() if article.published_at else None,
        "about": about,
        "mentioned": mentioned,
    }


@app.command("list")
@cli_errors
def list_command(
    json_: Annotated[bool, typer.Option("--json", help="Print JSON lines (a stable contract).")] = False,
    channel: Annotated[str | None, typer.Option(help="Only articles filed under this company slug.")] = None,
    role: Annotated[str, typer.Option(help=f"With --channel: {' | '.join(LIST_ROLES)}.")] = "about",
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first.")] = 50,
) -> None:
    """List stored articles, newest first."""
    settings = load_settings()
    with services(settings) as svc, svc.db.session() as session:
        if channel is not None and get_company(session, channel) is None:
            raise NotFoundError(f"no channel {channel!r}; see `evwire channels list`")
        rows = list_articles(session, channel=channel, role=role, limit=limit)
        if json_:
            for article in rows:
                echo_json(article_json(article))
            return
        table = Table("id", "published", "title", "about", "mentioned", box=None)
        for article in rows:
            about, mentioned = article_channels(article)
            table.add_row(
                str(article.id),
                article.published_at.strftime("%Y-%m-%d"),
                escape(article.title),
                ", ".join(about),
                ", ".join(mentioned),
            )
        out.print(table if rows else "no articles")


@app.command("show")
@cli_errors
def show_command(
    article_id: Annotated[int, typer.Argument(metavar="ID", help="Article id.")],
    json_: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Show one article: text, channels, tickers and people."""
    settings = load_settings()
    with services(settings) as svc, svc.db.session() as session:
        article = get_article(session, article_id)
        if article is None:
            raise NotFoundError(f"no article with id {article_id}")
        mentions = sorted(article.mentions, key=lambda m: (-m.score, m.company.slug))
        tickers = [
            {"exchange": t.exchange, "symbol": t.symbol, "company": t.company.slug if t.company else None}
            for t in article.tickers
        ]
        people = [{"name": p.name, "company": p.company.slug if p.company else None} for p in article.people]
        if json_:
            data = article_json(article)
            data.update(
                source=article.source_name,
                image_url=article.image_url,
                bullets=list(article.bullets),
                body=article.body,
                image_caption=article.image_caption,
                image_credit=article.image_credit,
                mentions=[
                    {"slug": m.company.slug, "role": m.role, "origin": m.origin, "score": round(m.score, 3)}
                    for m in mentions
                ],
                tickers=tickers,
                people=people,
            )
            echo_json(data)
            return
        out.print(f"[bold]{escape(article.title)}[/bold]")
        out.print(
            f"#{article.id} · {article.published_at:%Y-%m-%d %H:%M} UTC · {escape(article.source_name or '')}"
            f" · {escape(article.url or 'no url')}"
        )
        for b in article.bullets:
            out.print(f"  • {escape(b)}")
        if article.image_caption:
            out.print(f"  [dim]{escape(article.image_caption)} ({escape(article.image_credit or '')})[/dim]")
        for m in mentions:
            mark = " (editor)" if m.origin == "editor" else ""
            out.print(f"  {m.role:9s} {m.company.slug}  {m.score:.2f}{mark}")
        if tickers:
            out.print(
                "  tickers: " + ", ".join(f"{t['exchange']}:{t['symbol']}→{t['company']}" for t in tickers)
            )
        if people:
            out.print("  people:  " + ", ".join(f"{p['name']}→{p['company']}" for p in people))
        out.print()
        out.print(escape(article.body))


@app.command("tag")
@cli_errors
def tag_command(
    article_id: Annotated[int, typer.Argument(metavar="ID", help="Article id.")],
    slug: Annotated[str, typer.Argument(help="Company slug.")],
    role: Annotated[str, typer.Option(help=f"{' | '.join(EDITOR_ROLES)} (excluded: not this company).")],
) -> None:
    """Editor correction: file an article under a company (survives re-tagging)."""
    if role not in EDITOR_ROLES:
        raise EvwireError(f"--role must be one of {', '.join(EDITOR_ROLES)}, not {role!r}")
    settings = load_settings()
    with services(settings) as svc, svc.db.session() as session:
        set_editor_mention(session, article_id, slug, role)
    out.print(f"article {article_id}: {slug} set to {role} (editor)")


@app.command("untag")
@cli_errors
def untag_command(
    article_id: Annotated[int, typer.Argument(metavar="ID", help="Article id.")],
    slug: Annotated[str, typer.Argument(help="Company slug.")],
) -> None:
    """Remove an editor correction; the automatic tag comes back."""
    settings = load_settings()
    with services(settings) as svc, svc.db.session() as session:
        removed = untag_article(session, article_id, slug, svc.tagger)
    out.print(f"article {article_id}: editor tag for {slug} " + ("removed" if removed else "was not set"))
