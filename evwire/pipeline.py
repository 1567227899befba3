"""The core steps the CLI and the web call: open services, post an article, re-tag, the demo.

Knows nothing of HTTP or Typer. Each function that writes takes the Session of a transaction the
caller opened (``with services.db.session() as session:``) unless it says it opens its own.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from sqlalchemy.orm import Session

from evwire.alerts.matching import AlertMatcher
from evwire.errors import EvwireError, IngestError
from evwire.ingest.plaintext import parse_date, parse_plain_text
from evwire.ingest.types import ParsedArticle
from evwire.settings import Settings
from evwire.store.articles import (
    apply_tagging,
    clear_editor_mention,
    get_article,
    iter_article_ids,
    upsert_article,
)
from evwire.store.companies import record_catalog_hash, stored_catalog_hash, sync_catalog
from evwire.store.db import Database
from evwire.store.figures import load_shipped_figures, replace_extracted_figures
from evwire.store.tables import Article
from evwire.tag.catalog import Catalog, default_catalog_path, dump_catalog, load_catalog
from evwire.tag.tagger import Tagger
from evwire.tag.types import Tagging, TagInput

log = logging.getLogger(__name__)


@dataclass
class Services:
    """What a running evwire needs, built once at the edge and passed down."""

    settings: Settings
    db: Database
    catalog: Catalog
    tagger: Tagger
    catalog_path: Path = field(default_factory=default_catalog_path)
    alerts: AlertMatcher | None = None  # matches new articles to subscribers (evwire.alerts.matching)

    def close(self) -> None:
        self.db.dispose()


@dataclass(frozen=True)
class PostResult:
    article_id: int
    created: bool
    tagging: Tagging


def utcnow() -> datetime:
    return datetime.now(UTC)


def active_catalog_path(settings: Settings) -> Path:
    """settings.catalog_path, else an imported data_dir/catalog.yaml, else the packaged starter catalog."""
    if settings.catalog_path:
        return Path(settings.catalog_path)
    imported = Path(settings.data_dir) / "catalog.yaml"
    if imported.exists():
        return imported
    return default_catalog_path()


def import_target(settings: Settings) -> Path:
    """Where `catalog import` writes the new active catalog."""
    return Path(settings.catalog_path) if settings.catalog_path else Path(settings.data_dir) / "catalog.yaml"


def load_active_catalog(settings: Settings) -> tuple[Catalog, Path]:
    path = active_catalog_path(settings)
    return load_catalog(path), path


def catalog_hash(catalog: Catalog) -> str:
    return hashlib.sha256(dump_catalog(catalog).encode("utf-8")).hexdigest()


def open_services(settings: Settings, *, migrate: bool = True) -> Services:
    """Load the catalog, build the tagger once, open (and migrate) the database, sync a changed catalog."""
    catalog, path = load_active_catalog(settings)
    tagger = Tagger(catalog)
    db = Database(settings, migrate=migrate)
    services = Services(
        settings=settings,
        db=db,
        catalog=catalog,
        tagger=tagger,
        catalog_path=path,
        alerts=AlertMatcher(settings),
    )
    try:
        ensure_catalog_synced(services)
    except Exception:
        db.dispose()
        raise
    return services


def ensure_catalog_synced(services: Services) -> dict[str, int] | None:
    """Sync the catalog into the database and re-tag stored articles if it changed since the last sync."""
    digest = catalog_hash(services.catalog)
    with services.db.session() as session:
        if stored_catalog_hash(session) == digest:
            return None
        counts = sync_catalog(session, services.catalog)
        counts["retagged"] = retag_articles(session, services.tagger)
        record_catalog_hash(session, digest)
    log.info("catalog synced: %s", counts)
    return counts


def parse_record(record: object) -> ParsedArticle:
    """One line of `tag --jsonl` / a corpus file: {"title", "text", "published"?} to a ParsedArticle.

    The text is read in the plain-text format; the title comes from the record.
    """
    if not isinstance(record, dict):
        raise IngestError("expected a JSON object with title and text")
    title = record.get("title")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise IngestError("the object has no text")
    if title is not None and not isinstance(title, str):
        raise IngestError("title must be a string")
    title = " ".join((title or "").split())
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    source = text if not title or " ".join(first.split()) == title else f"{title}\n\n{text}"
    parsed = parse_plain_text(source)
    published = parsed.published_at
    if record.get("published"):
        published = parse_date(str(record["published"]))
        if published is None:
            raise IngestError(f"published {record['published']!r} is not a date like 2025-01-31")
    return replace(parsed, title=title or parsed.title, published_at=published)


def tag_parsed(parsed: ParsedArticle, tagger: Tagger) -> Tagging:
    return tagger.tag(parsed.tag_input())


def post_article(
    session: Session,
    parsed: ParsedArticle,
    tagger: Tagger,
    *,
    now: datetime,
    article_id: int | None = None,
    feed_id: int | None = None,
    guid: str | None = None,
    is_backfill: bool = False,
    alerts: AlertMatcher | None = None,
    alert: bool = True,
    any_date: bool = False,
    tagging: Tagging | None = None,
) -> PostResult:
    """Tag the article and store it (insert, or update the same URL / content) with its mentions.

    The keywords are for feed items (see ``store.articles.upsert_article``): a backfill article is
    stored and shown but never alerted; an update (``created`` False) is never news.

    With ``alerts`` (``services.alerts``) and ``alert``, a new article gets its outbox rows in this
    same transaction (``alerts.matching``). ``any_date``: alert whatever the article's date (`evwire
    post`, the API); feed items dated more than EVWIRE_ALERT_MAX_AGE_DAYS before now are not alerted.
    ``tagging``: the tagging of this very ``parsed`` (the poller has it from planning a batch).
    """
    if tagging is None:
        tagging = tag_parsed(parsed, tagger)
    article, created = upsert_article(
        session,
        parsed,
        tagging,
        now=now,
        article_id=article_id,
        feed_id=feed_id,
        guid=guid,
        is_backfill=is_backfill,
    )
    replace_extracted_figures(session, article, tagging.facts, now=now)
    if alerts is not None and alert and created:
        alerts.match_article(session, article, tagging, now=now, any_date=any_date)
    log.info("article stored (created=%s)", created, extra={"article_id": article.id})
    return PostResult(article.id, created, tagging)


def article_tag_input(article: Article) -> TagInput:
    return TagInput(
        title=article.title,
        bullets=tuple(article.bullets or ()),
        body=article.body or "",
        caption=article.image_caption or "",
        published=article.published_at.date() if article.published_at else None,
    )


def retag_article(session: Session, article: Article, tagger: Tagger) -> Tagging:
    tagging = tagger.tag(article_tag_input(article))
    apply_tagging(session, article, tagging)
    return tagging


def retag_articles(session: Session, tagger: Tagger) -> int:
    """Re-tag every stored article with `tagger` (editor corrections stay). Returns how many."""
    started = time.perf_counter()
    n = 0
    for article_id in iter_article_ids(session):
        article = session.get(Article, article_id)
        if article is None:
            continue
        retag_article(session, article, tagger)
        n += 1
        if n % 500 == 0:
            session.expunge_all()
    log.info("re-tagged %d articles", n, extra={"duration_ms": int((time.perf_counter() - started) * 1000)})
    return n


def untag_article(session: Session, article_id: int, slug: str, tagger: Tagger) -> bool:
    """Remove an editor's correction and restore the automatic tags of the article."""
    removed = clear_editor_mention(session, article_id, slug)
    article = get_article(session, article_id)
    if article is not None:
        retag_article(session, article, tagger)
    return removed


def import_catalog(services: Services, source: Path) -> dict[str, int]:
    """Validate `source`, make it the active catalog, sync it and re-tag stored articles.

    Nothing changes when the file is invalid. Updates `services` in place (catalog, tagger, path).
    """
    catalog = load_catalog(source)
    tagger = Tagger(catalog)
    target = import_target(services.settings)
    digest = catalog_hash(catalog)
    with services.db.session() as session:
        counts = sync_catalog(session, catalog)
        counts["retagged"] = retag_articles(session, tagger)
        record_catalog_hash(session, digest)
        # Written last inside the transaction: if copying fails, the database rolls back too.
        target.parent.mkdir(parents=True, exist_ok=True)
        if Path(source).resolve() != target.resolve():
            tmp = target.with_suffix(".yaml.tmp")
            shutil.copyfile(source, tmp)
            tmp.replace(target)
    services.catalog, services.tagger, services.catalog_path = catalog, tagger, target
    return counts


def demo_files() -> list[Path]:
    folder = resources.files("evwire") / "data" / "demo"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".txt"))


def load_demo(services: Services) -> int:
    """Sync the catalog, post the shipped demo articles and import the shipped delivery figures
    (idempotent: re-posts update, a re-import adds nothing). Returns how many articles."""
    ensure_catalog_synced(services)
    files = demo_files()
    if not files:
        raise EvwireError("no demo articles found in the package (evwire/data/demo/*.txt)")
    now = utcnow()
    with services.db.session() as session:
        for path in files:
            parsed = parse_plain_text(path.read_text(encoding="utf-8"))
            post_article(session, parsed, services.tagger, now=now)
        load_shipped_figures(session, now=now)
    return len(files)
