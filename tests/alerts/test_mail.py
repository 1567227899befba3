"""Alert, digest and confirmation mails: headers, no injection, stable ids, sanitised HTML."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from evwire.alerts.mail import (
    AddressError,
    ArticleItem,
    Recipient,
    build_alert,
    build_confirmation,
    build_digest,
    clean_header,
    validate_address,
    why_line,
)
from evwire.alerts.template import alert_template

NOW = datetime(2025, 11, 3, 8, 0, tzinfo=UTC)
RCPT = Recipient(
    to="reader@example.com",
    sender="evwire <alerts@news.example.org>",
    host="news.example.org",
    manage_url="https://news.example.org/manage/" + "m" * 120,
    unsubscribe_url="https://news.example.org/unsubscribe/" + "u" * 140,
    unsubscribe_mailto="mailto:unsubscribe@news.example.org?subject=unsubscribe-" + "t" * 40,
)
EVIL = ArticleItem(
    title="Xiaomi\r\nBcc: victim@example.com\r\n\r\n<script>alert(1)</script> gründet \u2028JV\x00",
    url="https://news.example.org/a/1?x=1&y=<2>",
    bullets=('<img src=x onerror="alert(1)"> bold & "quoted"', "second point"),
    channels=("Xiaomi", "Ford <b>"),
)


def _parse(msg: EmailMessage | bytes) -> EmailMessage:
    data = msg if isinstance(msg, bytes) else msg.as_bytes()
    parsed = message_from_bytes(data, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_mail_alert_has_one_click_unsubscribe_headers() -> None:
    msg = _parse(build_alert(EVIL, RCPT, 42, why=why_line(["Xiaomi", "Ford"]), now=NOW))
    assert msg["List-Unsubscribe"] == f"<{RCPT.unsubscribe_url}>, <{RCPT.unsubscribe_mailto}>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Message-ID"] == "<alert.42@news.example.org>"
    assert msg["To"] == "reader@example.com"
    assert msg["Auto-Submitted"] == "auto-generated"
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "you follow Xiaomi, Ford" in text and RCPT.manage_url in text and RCPT.unsubscribe_url in text


def test_mail_title_with_crlf_stays_one_header_line() -> None:
    raw = build_alert(EVIL, RCPT, 42, now=NOW).as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0]
    msg = _parse(raw)
    assert msg["Bcc"] is None
    subject = " ".join(msg["Subject"].split())  # the email package may double a space around encoded words
    assert subject == "Xiaomi Bcc: victim@example.com <script>alert(1)</script> gründet JV"
    assert all(line.startswith((b" ", b"\t")) or b":" in line for line in head.split(b"\r\n"))
    assert b"\r\nBcc:" not in head and b"\x00" not in raw


def test_mail_html_is_escaped_and_sanitised() -> None:
    page = _parse(build_alert(EVIL, RCPT, 1, now=NOW)).get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<script" not in page and "<img" not in page  # the markup is shown as text, never as tags
    assert "&lt;script&gt;" in page and "&lt;img" in page and "Ford &lt;b&gt;" in page
    assert 'href="https://news.example.org/a/1?x=1&amp;y=%3C2%3E"' in page


def test_mail_message_id_is_stable_for_a_resend() -> None:
    a = build_alert(EVIL, RCPT, 42, now=NOW)
    b = build_alert(EVIL, RCPT, 42, now=datetime(2025, 11, 4, tzinfo=UTC))
    assert a["Message-ID"] == b["Message-ID"] == "<alert.42@news.example.org>"
    assert build_alert(EVIL, RCPT, 43)["Message-ID"] != a["Message-ID"]


def test_mail_refuses_bad_links() -> None:
    for url in ("javascript:alert(1)", "ftp://x", ""):
        with pytest.raises(ValueError):
            build_alert(ArticleItem("t", url), RCPT, 1)


def test_mail_digest_groups_by_channel_each_article_once() -> None:
    items = [
        ArticleItem("BYD tops sales", "https://x.test/1", channels=("BYD",)),
        ArticleItem("Xiaomi SU7 recall", "https://x.test/2", channels=("Xiaomi", "BYD")),
        ArticleItem("BYD opens plant", "https://x.test/3", channels=("BYD", "Xiaomi")),
        ArticleItem("Xiaomi SU7 recall", "https://x.test/2", channels=("BYD",)),  # the same article again
    ]
    msg = _parse(build_digest(items, RCPT, "2025-11-03:7", now=NOW))
    text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    assert msg["Subject"] == "Your daily evwire digest: 3 articles"
    assert text.count("Xiaomi SU7 recall") == 1
    assert text.index("BYD\n===") < text.index("BYD tops sales") < text.index("BYD opens plant")
    assert text.index("Xiaomi\n======") < text.index("Xiaomi SU7 recall")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Message-ID"] == "<digest.2025-11-03-7@news.example.org>"
    with pytest.raises(ValueError):
        build_digest([], RCPT, 1)


def test_mail_confirmation_has_the_link_and_no_unsubscribe_list_headers() -> None:
    msg = _parse(
        build_confirmation(
            "reader@example.com",
            RCPT.sender,
            RCPT.host,
            "https://news.example.org/confirm/abc",
            ["Xiaomi"],
            9,
        )
    )
    assert "https://news.example.org/confirm/abc" in msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert msg["Message-ID"] == "<confirm.9@news.example.org>" and msg["List-Unsubscribe"] is None


@pytest.mark.parametrize(
    "rcpt",
    [
        RCPT,
        # links that safe_url must percent-encode (the fast path hands them to it)
        replace(
            RCPT,
            manage_url='https://news.example.org/manage/tok én"<x>',
            unsubscribe_url="https://news.example.org/unsubscribe/a{b}|c",
            unsubscribe_mailto="mailto:unsubscribe@news.example.org?subject=un sub",
        ),
    ],
)
def test_mail_template_renders_the_same_mail_as_build_alert(rcpt: Recipient) -> None:
    why = why_line(["Xiaomi"], ['"joint venture"'])
    tpl = alert_template(EVIL, rcpt.sender, rcpt.host, why=why, now=NOW)
    raw = tpl.render("reader@example.com", 42, rcpt.manage_url, rcpt.unsubscribe_url, rcpt.unsubscribe_mailto)
    fast, slow = _parse(raw), _parse(build_alert(EVIL, rcpt, 42, why=why, now=NOW))
    for h in (
        "Subject",
        "From",
        "To",
        "Date",
        "Message-ID",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
        "List-Id",
    ):
        assert fast[h] == slow[h], h
    for kind in ("plain", "html"):
        assert fast.get_body((kind,)).get_content() == slow.get_body((kind,)).get_content()  # type: ignore[union-attr]
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


@pytest.mark.parametrize(
    ("to", "url"),
    [
        ("reader@example.com\r\nBcc: x@y.z", "https://x.test/m"),
        ("Reader <reader@example.com>", "https://x.test/m"),
        ("reader@example.com", "https://x.test/m\r\nBcc: x@y.z"),
    ],
)
def test_mail_template_refuses_values_that_could_inject(to: str, url: str) -> None:
    tpl = alert_template(EVIL, RCPT.sender, RCPT.host)
    try:
        raw = tpl.render(to, 1, url, "https://x.test/u")
    except ValueError:
        return
    assert _parse(raw)["Bcc"] is None  # a URL is percent-encoded instead: still one line


def test_mail_clean_header_and_addresses() -> None:
    assert clean_header("a\r\n\tb\x1b[31m  c\u202e") == "a b [31m c"
    assert len(clean_header("x" * 500)) == 200
    assert validate_address("Reader@Example.COM") == "Reader@example.com"
    with pytest.raises(AddressError):
        validate_address("not an address\r\nBcc: x@y")
