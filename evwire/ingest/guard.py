"""The address guard: feed URLs may reach only public addresses unless the operator allows more.

A URL is refused when its scheme is not http/https, or when its host is (or resolves to) a loopback,
private, link-local, multicast, reserved or unspecified address, IPv4 or IPv6 (IPv4-mapped and
NAT64/6to4 forms are unwrapped first). ``EVWIRE_ALLOW_PRIVATE_FEEDS=true`` lifts the rule;
``EVWIRE_FEED_ALLOW_NETWORKS`` opens only the listed ranges.

``check_url`` is called on every redirect hop by ``fetch``; ``GuardedBackend`` (in ``client``) checks
the address actually connected to as well, so a host name that resolves differently the second
time (DNS rebinding) cannot slip through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from evwire.errors import IngestError
from evwire.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class AddressRefused(IngestError):
    """A feed URL points somewhere evwire may not fetch from."""


@dataclass(frozen=True)
class AddressPolicy:
    allow_private: bool = False
    allow_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> AddressPolicy:
        nets = []
        for part in settings.feed_allow_networks.split(","):
            part = part.strip()
            if not part:
                continue
            try:
                nets.append(ipaddress.ip_network(part, strict=False))
            except ValueError as exc:
                raise ValueError(
                    f"EVWIRE_FEED_ALLOW_NETWORKS: {part!r} is not a CIDR range such as 10.1.2.0/24 ({exc})"
                ) from exc
        return cls(allow_private=settings.allow_private_feeds, allow_networks=tuple(nets))


def _unwrap(ip: IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def address_problem(ip: IPAddress) -> str | None:
    """Why this address is not public ("loopback", "private", ...), or None when it is public."""
    ip = _unwrap(ip)
    for kind, flag in (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    ):
        if flag:
            return kind
    if isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.ip_network("100.64.0.0/10"):
        return "private"  # carrier-grade NAT, shared address space
    if not ip.is_global:
        return "reserved"
    return None


def check_address(ip: IPAddress | str, policy: AddressPolicy, *, host: str = "") -> None:
    """Raise AddressRefused unless the policy lets a feed connect to ``ip``."""
    addr = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    addr = ipaddress.ip_address(str(addr).split("%", 1)[0])  # drop an IPv6 zone id
    problem = address_problem(addr)
    if problem is None or policy.allow_private:
        return
    unwrapped = _unwrap(addr)
    if any(unwrapped in net or addr in net for net in policy.allow_networks):
        return
    article = "an" if problem[0] in "aeiou" else "a"
    if host and _literal(host) is None:
        where = f"{host} resolves to {addr}, {article} {problem} address"
    else:
        where = f"{host or addr} is {article} {problem} address"
    prefix = 32 if isinstance(unwrapped, ipaddress.IPv4Address) else 128
    raise AddressRefused(
        f"refused: {where}; feeds may only reach public addresses. "
        "If this feed really lives on your own network, set EVWIRE_ALLOW_PRIVATE_FEEDS=true, "
        f"or allow just that address with EVWIRE_FEED_ALLOW_NETWORKS={unwrapped}/{prefix}"
    )


def split_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a feed URL, or AddressRefused saying what is wrong with it."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise AddressRefused(f"refused: {url!r} is not a valid URL ({exc}); check the feed address") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise AddressRefused(
            f"refused: {url!r} uses {scheme or 'no'} scheme; feed addresses must start with http:// or https://"
        )
    host = parts.hostname or ""
    if not host:
        raise AddressRefused(f"refused: {url!r} has no host name; check the feed address")
    return scheme, host, port or (443 if scheme == "https" else 80)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


async def resolve_host(host: str, port: int) -> list[str]:
    """Addresses a host name resolves to (the event loop's resolver, in a thread)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise IngestError(
            f"the host name {host!r} could not be resolved ({exc.strerror}); check the feed address "
            "or the machine's DNS"
        ) from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def guarded_addresses(host: str, port: int, policy: AddressPolicy) -> list[str]:
    """The addresses a connection to ``host`` may go to, each checked against ``policy``: resolved here
    and connected to by address, so a second DNS answer can't slip past the guard. When the policy
    refuses nothing, ``[host]`` (the connection resolves the name itself).

    Raises AddressRefused for a refused address, IngestError when the name does not resolve."""
    if policy.allow_private and not policy.allow_networks:
        return [host]
    addresses = await resolve_host(host, port)
    for addr in addresses:
        check_address(addr, policy, host=host)
    return addresses


async def check_url(url: str, policy: AddressPolicy) -> list[str]:
    """Check scheme and every address the host resolves to; returns the addresses.

    Raises AddressRefused (an IngestError) with a message for the operator.
    """
    _scheme, host, port = split_url(url)
    literal = _literal(host)
    if literal is not None:
        check_address(literal, policy, host=host)
        return [str(literal)]
    if policy.allow_private and not policy.allow_networks:
        return []  # nothing to refuse; the connection resolves the name itself
    addresses = await resolve_host(host, port)
    for addr in addresses:
        check_address(addr, policy, host=host)
    return addresses
