"""`evwire subscribers ...` and `evwire targets ...`: the operator's side of alerts."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from evwire.cli.common import cli_errors, err, fail, load_settings, out, services
from evwire.errors import EvwireError
from evwire.ingest.guard import AddressPolicy
from evwire.store.subscriber_views import list_subscribers
from evwire.store.subscriptions import (
    confirm,
    get_subscriber_by_email,
    set_status,
    subscribe,
    update_preferences,
)
from evwire.store.targets import add_target, list_targets, remove_target

app = typer.Typer(help="Alert subscribers: add, import, list.", no_args_is_help=True)
targets_app = typer.Typer(help="Operator targets (Apprise URLs) that get every new article of a channel.")


def _now() -> datetime:
    return datetime.now(UTC)


def _slugs(values: list[str]) -> list[str]:
    return [s.strip() for v in values for s in v.replace(";", ",").split(",") if s.strip()]


@app.command("add")
@cli_errors
def add_command(
    email: Annotated[str, typer.Argument(help="The address.")],
    channel: Annotated[
        list[str], typer.Option("--channel", "-c", help="Channel slug (repeat or comma-separate).")
    ],
    confirmed: Annotated[
        bool, typer.Option("--confirmed", help="Skip double opt-in (you have the person's consent).")
    ] = False,
    digest: Annotated[str, typer.Option(help="immediate, daily or weekly.")] = "immediate",
    query: Annotated[list[str] | None, typer.Option("--query", "-q", help="A keyword alert.")] = None,
) -> None:
    """Add (or extend) a subscriber; pending until confirmed unless --confirmed."""
    with services(load_settings()) as svc, svc.db.session() as session:
        now = _now()
        sub = subscribe(session, email, _slugs(channel), now=now, digest=digest, queries=query or [])
        if confirmed:
            confirm(session, sub.id, now=now)
        update_preferences(session, sub.id, digest=digest, now=now)
        out.print(f"subscriber {sub.id} {sub.email}: {sub.status}, {sub.digest}")


@app.command("import")
@cli_errors
def import_command(
    file: Annotated[
        Path, typer.Argument(help="CSV with columns email,channels,digest (channels ; or , separated).")
    ],
    pending: Annotated[
        bool, typer.Option("--pending", help="Import as pending (default: confirmed).")
    ] = False,
) -> None:
    """Import confirmed subscribers from a CSV file; a bad line is reported and skipped."""
    added = failed = 0
    with services(load_settings()) as svc, file.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or "email" not in [f.strip().lower() for f in reader.fieldnames]:
            raise EvwireError(f"{file}: the first line must name the columns, e.g. email,channels,digest")
        for n, raw in enumerate(reader, start=2):
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
            try:
                with svc.db.session() as session:
                    now = _now()
                    digest = row.get("digest") or "immediate"
                    sub = subscribe(
                        session,
                        row.get("email", ""),
                        _slugs([row.get("channels", "")]),
                        now=now,
                        digest=digest,
                    )
                    if not pending:
                        confirm(session, sub.id, now=now)
                    update_preferences(session, sub.id, digest=digest, now=now)
                added += 1
            except EvwireError as exc:
                failed += 1
                fail(f"{file}:{n}: {exc}")
    out.print(f"{added} subscribers imported" + (f", {failed} lines skipped" if failed else ""))
    if failed and not added:
        raise typer.Exit(1)


@app.command("list")
@cli_errors
def list_command(
    status: Annotated[str | None, typer.Option(help="pending, confirmed, unsubscribed or suspended.")] = None,
    channel: Annotated[str | None, typer.Option(help="Only followers of this channel.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 1000,
) -> None:
    """List subscribers: id, address, status, digest, channels, keyword alerts, bounces."""
    with services(load_settings()) as svc, svc.db.session() as session:
        rows = list_subscribers(session, status=status, channel=channel, limit=limit)
    for r in rows:
        out.print(
            f"{r.id}\t{r.email}\t{r.status}\t{r.digest}\t{','.join(r.channels) or '-'}\t"
            f"queries={r.queries}\tbounces={r.bounce_count}"
        )
    if not rows:
        err.print("no subscribers")


@app.command("set-status")
@cli_errors
def status_command(
    subscriber_id: Annotated[int, typer.Argument()],
    status: Annotated[str, typer.Argument(help="confirmed, suspended or unsubscribed.")],
) -> None:
    """Suspend, re-confirm or unsubscribe a subscriber."""
    with services(load_settings()) as svc, svc.db.session() as session:
        sub = set_status(session, subscriber_id, status, now=_now())
        out.print(f"subscriber {sub.id} {sub.email}: {sub.status}")


@targets_app.command("add")
@cli_errors
def target_add_command(
    url: Annotated[str, typer.Argument(help="Apprise URL: tgram://..., json://host/path, ntfy://topic ...")],
    channel: Annotated[str | None, typer.Option(help="Channel slug; all news if left out.")] = None,
    label: Annotated[str, typer.Option(help="A name for the list.")] = "",
    subscriber: Annotated[
        str | None,
        typer.Option(help="A subscriber's email: the target gets what their mail gets (no --channel)."),
    ] = None,
) -> None:
    """Post every new article of a channel (or all news) to an Apprise URL, once each; or, with
    --subscriber, a subscriber's own target (its host must pass the private-address guard)."""
    settings = load_settings()
    with services(settings) as svc, svc.db.session() as session:
        if subscriber is None:
            target = add_target(session, url, channel=channel, label=label, now=_now())
            out.print(f"target {target.id}: {channel or 'all news'}")
            return
        sub = get_subscriber_by_email(session, subscriber)
        if sub is None:
            raise EvwireError(f"no subscriber {subscriber!r}; add them first (evwire subscribers add)")
        policy = AddressPolicy.from_settings(settings)
        target = add_target(
            session, url, channel=channel, label=label, subscriber_id=sub.id, policy=policy, now=_now()
        )
        out.print(f"target {target.id}: alerts of subscriber {sub.id} ({sub.email})")


@targets_app.command("list")
@cli_errors
def target_list_command() -> None:
    """List targets (URLs shown up to their host: they may hold tokens)."""
    with services(load_settings()) as svc, svc.db.session() as session:
        rows = list_targets(session)
    for target, slug in rows:
        shown = target.url.split("://", 1)[0] + "://…"
        out.print(f"{target.id}\t{slug or 'all news'}\t{shown}\t{target.label}")
    if not rows:
        err.print("no targets")


@targets_app.command("remove")
@cli_errors
def target_remove_command(target_id: Annotated[int, typer.Argument()]) -> None:
    """Remove a target (its pending posts go with it)."""
    with services(load_settings()) as svc, svc.db.session() as session:
        remove_target(session, target_id)
    out.print(f"target {target_id} removed")
