"""Alert parts built from Settings at the edge (CLI, web, worker) and passed down."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from evwire.alerts.links import LinkSigner
from evwire.alerts.outcome import backoff
from evwire.alerts.transport import EmlTransport, SmtpTransport, parse_smtp_url
from evwire.settings import Settings


def instance_host(settings: Settings) -> str:
    """Host of ``EVWIRE_BASE_URL``: the right-hand side of Message-IDs."""
    return urlsplit(settings.base_url).hostname or "localhost"


def mail_from(settings: Settings) -> str:
    return settings.mail_from or f"evwire <alerts@{instance_host(settings)}>"


def eml_folder(settings: Settings) -> Path:
    return settings.data_dir / "outbox"


def make_transport(settings: Settings) -> EmlTransport | SmtpTransport:
    """SMTP when ``EVWIRE_SMTP_URL`` is set, else .eml files in ``DATA_DIR/outbox``."""
    if settings.smtp_url is None:
        return EmlTransport(eml_folder(settings))
    config = parse_smtp_url(settings.smtp_url.get_secret_value(), timeout=settings.smtp_timeout)
    return SmtpTransport(config, pool_size=settings.smtp_pool_size, local_hostname=instance_host(settings))


def make_signer(settings: Settings) -> LinkSigner:
    return LinkSigner(
        settings.signing_key,
        max_age={
            "confirm": timedelta(hours=settings.confirm_link_hours),
            "manage": timedelta(days=settings.link_max_age_days),
            "unsubscribe": timedelta(days=settings.link_max_age_days),
        },
    )


def retry_delay(settings: Settings, attempt: int) -> timedelta:
    return backoff(
        attempt,
        base=timedelta(seconds=settings.retry_base_seconds),
        cap=timedelta(seconds=settings.retry_max_seconds),
    )
