"""The address guard for Apprise URLs a subscriber supplies (docs/decisions/0014-subscriber-targets.md).

An operator's targets are trusted like the rest of their configuration. A subscriber's are not: a
``json://`` webhook on 10.0.0.5 or 127.0.0.1 would let anyone make evwire post to the operator's
own network. So a subscriber may only use a few services, and those that post to a host the URL
names (``json://``, ``jsons://``, a self-hosted ``ntfy://host/topic``) must name one the feed
address guard lets through: public, unless ``EVWIRE_ALLOW_PRIVATE_FEEDS`` or
``EVWIRE_FEED_ALLOW_NETWORKS`` says otherwise. Telegram, Slack, Discord and ntfy.sh post to their
own fixed public hosts; what looks like a host in those URLs is a token.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from evwire.errors import EvwireError
from evwire.ingest.guard import AddressPolicy, AddressRefused, check_address

SUBSCRIBER_SCHEMES = ("json", "jsons", "ntfy", "ntfys", "tgram", "slack", "discord")


class TargetRefused(EvwireError):
    """A subscriber's Apprise URL that evwire will not post to; the message says why."""


def _posting_host(url: str) -> str | None:
    """The host Apprise will connect to when the URL chooses it, else None (a fixed service host)."""
    import apprise  # heavy; only needed when a subscriber adds a target

    app = apprise.Apprise()
    if not app.add(url):
        raise TargetRefused(f"not a usable Apprise URL ({urlsplit(url).scheme}://...)")
    plugin = app[0]
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("json", "jsons") or (
        scheme in ("ntfy", "ntfys") and getattr(plugin, "mode", "") != "cloud"
    ):
        host = str(getattr(plugin, "host", "") or "")
        if not host:
            raise TargetRefused(f"{scheme}:// URL without a host")
        return host
    return None


def check_subscriber_target(url: str, policy: AddressPolicy) -> None:
    """Raise TargetRefused unless a subscriber may have alerts posted to ``url``.

    Resolves the host here: when the target is added, and again by the sender before every post (a
    name may point elsewhere since). Apprise then resolves it once more; that last window is small.
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme not in SUBSCRIBER_SCHEMES:
        allowed = ", ".join(s + "://" for s in SUBSCRIBER_SCHEMES)
        raise TargetRefused(f"{scheme or 'no'}:// targets are not offered; use one of {allowed}")
    host = _posting_host(url)
    if host is None:
        return
    try:
        infos = socket.getaddrinfo(host.strip("[]"), None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(f"the host name {host!r} could not be resolved; check the URL") from exc
    try:
        for addr in dict.fromkeys(str(info[4][0]) for info in infos):
            check_address(addr, policy, host=host)
    except AddressRefused as exc:
        raise TargetRefused(
            f"{host} is not a public address; alerts can only be posted to public hosts"
        ) from exc
