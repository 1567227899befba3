"""`evwire subscribers`, `targets`, `post` (alerts) and `send --once` end to end through the CLI."""

from __future__ import annotations

from pathlib import Path

from evwire.settings import Settings
from tests.cli.conftest import Run
from tests.conftest import SAMPLE_ARTICLE


def test_subscribers_add_import_list_post_and_send_once(cli: Run, settings: Settings, tmp_path: Path) -> None:
    r = cli("subscribers", "add", "one@example.org", "--channel", "xiaomi", "--confirmed")
    assert r.exit_code == 0, r.output
    assert "confirmed" in r.output
    r = cli("subscribers", "add", "pending@example.org", "--channel", "xiaomi")
    assert "pending" in r.output
    csv_file = tmp_path / "subs.csv"
    csv_file.write_text(
        "email,channels,digest\ntwo@example.org,xiaomi;ford,immediate\nthree@example.org,ford,daily\n"
        "bad address,xiaomi,immediate\nfour@example.org,no-such-channel,immediate\n"
    )
    r = cli("subscribers", "import", str(csv_file))
    assert r.exit_code == 0, r.output
    assert "2 subscribers imported, 2 lines skipped" in " ".join(r.output.split())
    r = cli("subscribers", "list", "--status", "confirmed")
    assert r.output.count("@example.org") == 3 and "ford,xiaomi" in r.output
    r = cli("targets", "add", "json://127.0.0.1:9/hook", "--channel", "nio")
    assert r.exit_code == 0, r.output
    assert "json://…" in cli("targets", "list").output

    r = cli("post", str(SAMPLE_ARTICLE))
    assert r.exit_code == 0, r.output
    r = cli("send", "--once")
    assert r.exit_code == 0, r.output
    assert "sent 2," in r.output  # one and two now; three gets a daily digest; pending none
    files = sorted(p.name for p in (settings.data_dir / "outbox").glob("*.eml"))
    assert len(files) == 2 and all(f.startswith("alert.") for f in files)
    assert "sent 0," in cli("send", "--once").output

    r = cli(
        "post",
        "--no-alert",
        "--url",
        "https://example.org/quiet",
        "-",
        input="Xiaomi SU7 quiet news\n\nXiaomi said.",
    )
    assert r.exit_code == 0, r.output
    assert "sent 0," in cli("send", "--once").output


def test_targets_add_for_a_subscriber_checks_the_address_and_gets_their_alerts(
    cli: Run, settings: Settings
) -> None:
    import sqlalchemy as sa

    from evwire.store.db import Database
    from evwire.store.tables import OutboxRow

    assert cli("subscribers", "add", "one@example.org", "--channel", "xiaomi", "--confirmed").exit_code == 0
    r = cli("targets", "add", "json://127.0.0.1:9/hook", "--subscriber", "one@example.org")
    assert r.exit_code == 1 and "127.0.0.1" in r.output  # loopback refused: private feeds not allowed here
    r = cli("targets", "add", "tgram://123456:ABCDEF/987654", "--subscriber", "nobody@example.org")
    assert r.exit_code == 1 and "no subscriber" in r.output
    r = cli("targets", "add", "tgram://123456:ABCDEF/987654", "--subscriber", "one@example.org")
    assert r.exit_code == 0, r.output
    assert "alerts of subscriber" in r.output
    assert cli("post", str(SAMPLE_ARTICLE)).exit_code == 0
    db = Database(settings)
    try:
        with db.session() as session:
            rows = session.execute(sa.select(OutboxRow.subscriber_id, OutboxRow.target_id)).all()
    finally:
        db.dispose()
    assert len([r for r in rows if r.subscriber_id]) == 1  # the mail
    assert len([r for r in rows if r.target_id]) == 1  # and the subscriber's own Telegram target
