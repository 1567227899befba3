"""What the sender sends: a claimed batch's readers, targets, keyword texts and articles loaded
from the database (articles cached), and alert mails built from them.

``Composer`` is the part of ``sender.Sender`` that reads and builds: an alert is rendered from one
``alert_template`` per (article, why line), with the reader's own links filled in; an address the
template cannot carry (internationalised) is built by the ``email`` package instead. The sender
delivers what this builds and records the outcome.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select

from evwire.alerts.mail import ArticleItem, Recipient, build_alert, message_id, safe_url, why_line
from evwire.alerts.template import AlertTemplate, alert_template
from evwire.alerts.urls import LinkMaker, SubscriberLinks
from evwire.store.outbox import Claimed
from evwire.store.tables import AlertTarget, Article, Company, KeywordAlert, Mention, Subscriber


@dataclass(frozen=True)
class _ArticleInfo:
    id: int
    title: str
    url: str
    bullets: tuple[str, ...]
    source: str | None
    published: datetime | None
    about: tuple[str, ...]  # slugs, highest score first


class Composer:
    """Loading a batch and building its mails; mixed into ``Sender``, which sets these up."""

    clock: Callable[[], datetime]
    links: LinkMaker
    sender: str
    host: str
    base: str
    _subscriber_targets: set[int]
    _templates: OrderedDict[tuple[int, str], AlertTemplate]
    _articles: OrderedDict[int, _ArticleInfo]
    _names: dict[str, str]
    _session: Callable[[], Any]

    def _load(
        self, rows: Sequence[Claimed]
    ) -> tuple[dict[int, tuple[str, str]], dict[int, str], dict[int, str]]:
        """Subscribers (email, status), targets (url) and keyword alert texts of a batch; articles cached."""
        sids = sorted({r.subscriber_id for r in rows if r.subscriber_id})
        tids = sorted({r.target_id for r in rows if r.target_id})
        qids = sorted({q for r in rows for q in (r.reasons or {}).get("queries", [])})
        aids = sorted({r.article_id for r in rows if r.article_id not in self._articles})
        subs: dict[int, tuple[str, str]] = {}
        targets: dict[int, str] = {}
        queries: dict[int, str] = {}
        with self._session() as session:
            for start in range(0, len(sids), 5000):
                chunk = sids[start : start + 5000]
                stmt = select(Subscriber.id, Subscriber.email, Subscriber.status).where(
                    Subscriber.id.in_(chunk)
                )
                for sid, email, status in session.execute(stmt):
                    subs[sid] = (email, status)
            if tids:
                stmt2 = select(AlertTarget.id, AlertTarget.url, AlertTarget.subscriber_id).where(
                    AlertTarget.id.in_(tids)
                )
                for tid, url, sid in session.execute(stmt2):
                    targets[tid] = url
                    if sid is not None:
                        self._subscriber_targets.add(tid)
            if qids:
                stmt3 = select(KeywordAlert.id, KeywordAlert.query_text).where(KeywordAlert.id.in_(qids))
                queries = dict(session.execute(stmt3).all())
            for aid in aids:
                self._articles[aid] = self._article_info(session, aid)
            if not self._names:
                self._names = dict(session.execute(select(Company.slug, Company.name)).all())
        while len(self._articles) > 200:
            self._articles.popitem(last=False)
        return subs, targets, queries

    def _article_info(self, session: Any, article_id: int) -> _ArticleInfo:
        a = session.get(Article, article_id)
        if a is None:
            return _ArticleInfo(article_id, "(article removed)", f"{self.base}/", (), None, None, ())
        about = session.execute(
            select(Company.slug)
            .join(Mention, Mention.company_id == Company.id)
            .where(Mention.article_id == article_id, Mention.role == "about")
            .order_by(Mention.score.desc(), Company.slug)
        ).scalars()
        return _ArticleInfo(
            a.id,
            a.title,
            a.url if a.url and _linkable(a.url) else f"{self.base}/articles/{a.id}",
            tuple(a.bullets or ()),
            a.source_name,
            a.published_at,
            tuple(about),
        )

    # ------------------------------------------------------------ building mails

    def _name(self, slug: str) -> str:
        return self._names.get(slug, slug)

    def _item(self, art: _ArticleInfo, followed: Sequence[str]) -> ArticleItem:
        first = [s for s in followed if s in art.about] + [s for s in followed if s not in art.about]
        rest = [s for s in art.about if s not in first]
        return ArticleItem(
            title=art.title,
            url=art.url,
            bullets=art.bullets,
            channels=tuple(self._name(s) for s in first + rest),
            source=art.source,
            published=art.published,
        )

    def _why(self, reasons: dict[str, Any], queries: dict[int, str]) -> str:
        names = [self._name(s) for s in reasons.get("channels", [])]
        texts = [_label(queries[q]) for q in reasons.get("queries", []) if q in queries]
        return why_line(names, texts)

    def _template(self, art: _ArticleInfo, followed: Sequence[str], why: str) -> AlertTemplate:
        key = (art.id, why + "|" + ",".join(followed))
        tpl = self._templates.get(key)
        if tpl is None:
            tpl = alert_template(self._item(art, followed), self.sender, self.host, why, now=self.clock())
            self._templates[key] = tpl
            while len(self._templates) > 500:
                self._templates.popitem(last=False)
        return tpl

    def _recipient(self, email: str, links: SubscriberLinks) -> Recipient:
        """A subscriber's address with this instance's sender, host and the subscriber's own links."""
        return Recipient(
            email,
            self.sender,
            self.host,
            links.manage_url,
            links.unsubscribe_url,
            links.unsubscribe_mailto,
        )

    def _alert_bytes(
        self, row: Claimed, email: str, art: _ArticleInfo, queries: dict[int, str]
    ) -> tuple[bytes | EmailMessage, str]:
        reasons = row.reasons or {}
        followed = list(reasons.get("channels", []))
        why = self._why(reasons, queries)
        links = self.links.for_subscriber(row.subscriber_id or 0, email)
        mid = message_id("alert", row.id, self.host)
        try:
            data = self._template(art, followed, why).render(
                email, row.id, links.manage_url, links.unsubscribe_url, links.unsubscribe_mailto
            )
            return data, mid
        except ValueError:  # an internationalised address: the email package builds it
            rcpt = self._recipient(email, links)
            return build_alert(self._item(art, followed), rcpt, row.id, why, now=self.clock()), mid


def _linkable(url: str) -> bool:
    """Whether a mail may link ``url`` itself (http(s), at most ``URL_MAX``): article URLs may be
    longer, and a mail that cannot be built must not count as a bounce against its reader."""
    try:
        safe_url(url)
    except ValueError:
        return False
    return True


def _label(query_text: str) -> str:
    """A query as the why line quotes it: a lone phrase without its own quotes."""
    if len(query_text) > 1 and query_text[0] == query_text[-1] == '"' and query_text.count('"') == 2:
        return query_text[1:-1]
    return query_text
