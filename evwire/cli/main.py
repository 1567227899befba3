"""The `evwire` command: Typer app wiring; each command parses, calls the core, prints."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from evwire.cli import admin, articles, catalog, tagging, worker
from evwire.cli.common import cli_errors, err, fail, load_settings, out, services
from evwire.cli.feeds import app as feeds_app
from evwire.cli.figures import app as figures_app
from evwire.cli.poll import poll
from evwire.cli.send import send_command
from evwire.cli.status import status_command
from evwire.cli.subscribers import app as subscribers_app
from evwire.cli.subscribers import targets_app
from evwire.errors import EvwireError
from evwire.ingest.files import read_article_source
from evwire.logs import configure_logging
from evwire.pipeline import load_demo, post_article, utcnow
from evwire.store.articles import article_channels, get_article

app = typer.Typer(
    name="evwire",
    help="evwire: EV-industry news filed under company channels.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _logging() -> None:
    """Logs to stderr (EVWIRE_LOG_FORMAT, EVWIRE_LOG_LEVEL; one-shot commands: warnings unless set)."""
    try:
        configure_logging(load_settings(), quiet_default="WARNING")
    except (EvwireError, ValueError):
        pass  # the command itself reports bad settings


@app.command("serve")
@cli_errors
def serve_command(
    demo: Annotated[bool, typer.Option("--demo", help="Load the shipped demo articles first.")] = False,
    host: Annotated[str | None, typer.Option(help="Address to bind (default EVWIRE_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind (default EVWIRE_PORT).")] = None,
) -> None:
    """Run the web app (pages, JSON API, feeds) and the feed poller on one machine."""
    settings = load_settings()
    updates = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    if updates:
        settings = settings.model_copy(update=updates)
    import uvicorn

    from evwire.web.app import create_app
    from evwire.worker import PollWorker

    with services(settings) as svc:
        if demo:
            n = load_demo(svc)
            out.print(f"demo: {n} articles loaded")
        web = create_app(settings, services=svc)
        worker = PollWorker(svc)
        web.state.poller = worker.poller  # WebSub pushes share the poller's story index
        worker.poller.observer = web.state.poll_metrics.observe  # poll metrics on /metrics
        handle = worker.start_thread()  # the feed poller, in this process
        from evwire.alerts.sender import Sender

        sending = Sender(svc).start_thread()  # alerts, as they appear (woken by new outbox rows)
        out.print(f"evwire on http://{settings.host}:{settings.port}/ (Ctrl+C to stop)")
        try:
            uvicorn.run(web, host=settings.host, port=settings.port, log_level="info")
        finally:
            sending.stop()
            handle.stop()


@app.command("post")
@cli_errors
def post_command(
    files: Annotated[
        list[str], typer.Argument(metavar="FILE...", help="Plain-text or HTML articles; - for stdin.")
    ],
    url: Annotated[str | None, typer.Option(help="Source URL of the article (one FILE only).")] = None,
    alert: Annotated[
        bool, typer.Option("--alert/--no-alert", help="Alert subscribers of a new article.")
    ] = True,
) -> None:
    """Post articles from files (plain text or HTML): tag and store them, and alert subscribers."""
    if url and len(files) > 1:
        raise EvwireError("--url names one article; post one FILE with it")
    settings = load_settings()
    failed = 0
    with services(settings) as svc:
        for name in files:
            try:
                parsed = read_article_source(
                    name,
                    max_bytes=settings.max_article_bytes,
                    url=url,
                    stdin=getattr(sys.stdin, "buffer", None),
                )
                with svc.db.session() as session:
                    result = post_article(
                        session,
                        parsed,
                        svc.tagger,
                        now=utcnow(),
                        alerts=svc.alerts,
                        alert=alert,
                        any_date=True,
                    )
                    article = get_article(session, result.article_id)
                    assert article is not None
                    about, mentioned = article_channels(article)
            except EvwireError as exc:
                failed += 1
                message = str(exc)
                fail(message if name in message else f"{name}: {message}")
                continue
            state = "created" if result.created else "updated"
            out.print(
                f"{name}: article {result.article_id} {state}; about: {', '.join(about) or '-'}; "
                f"mentioned: {', '.join(mentioned) or '-'}"
            )
    if failed:
        err.print(f"{failed} of {len(files)} not posted")
        raise typer.Exit(1)


app.add_typer(articles.app, name="articles")
app.command("tag")(tagging.tag_command)
app.command("eval")(tagging.eval_command)
app.add_typer(catalog.app, name="catalog")
app.add_typer(admin.channels_app, name="channels")
app.add_typer(admin.db_app, name="db")
app.add_typer(admin.config_app, name="config")
app.add_typer(figures_app, name="figures")
app.add_typer(feeds_app, name="feeds")
app.command("poll")(poll)
app.command("send")(send_command)
app.add_typer(subscribers_app, name="subscribers")
app.add_typer(targets_app, name="targets")
app.command("status")(status_command)
app.command("worker")(worker.worker_command)
app.command("web")(worker.web_command)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
