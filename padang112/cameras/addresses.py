"""Which addresses padang112 may fetch camera streams from (the SSRF guard).

The server fetches what a camera URL, or a playlist the camera serves, names. Without a guard an admin account
(or a camera that was taken over and now serves a hostile playlist) could make the server read its own console,
Asterisk's ARI, a cloud metadata service or anything else on the server's networks. So:

* never loopback, link-local (169.254.0.0/16: cloud metadata; fe80::/10), unspecified, multicast, reserved or
  broadcast addresses;
* private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7), where cameras usually live, only when they
  lie in ``[cameras] allowed_networks`` (the camera networks, CIDR list); any network listed there is allowed,
  loopback included (the test suite's cameras run on 127.0.0.1);
* public addresses are allowed.

The rule applies to IP literals when a camera is registered and before every fetch, and to every address a host
name resolves to, at connection time (:class:`GuardedResolver`), so a name that resolves to an internal address
(DNS rebinding included) is refused too. Redirects are never followed (``allow_redirects=False`` everywhere).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: internal to someone


class AddressRefused(OSError):
    """A camera address the guard does not allow; the message names the rule, not the address."""


def networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    """``[cameras] allowed_networks`` as networks (ValueError for a bad entry)."""
    return tuple(ipaddress.ip_network(c.strip(), strict=False) for c in cidrs if c.strip())


def refusal(address: Address, allowed: tuple[Network, ...] = ()) -> str | None:
    """Why the server may not fetch from ``address``, or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in net for net in allowed):
        return None
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link_local"
    if address.is_unspecified or address.is_multicast or address.is_reserved:
        return "reserved"
    if isinstance(address, ipaddress.IPv4Address) and address == ipaddress.IPv4Address("255.255.255.255"):
        return "reserved"
    if address.is_private or address in _SHARED:
        return "private_not_allowed"
    return None


def literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def url_refusal(url: str, allowed: tuple[Network, ...] = ()) -> str | None:
    """Why ``url`` may not be fetched, judging its host when it is an IP literal (names: at resolution)."""
    host = urlsplit(url).hostname or ""
    if host.rstrip(".").lower() in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return refusal(ipaddress.ip_address("127.0.0.1"), allowed)
    address = literal(host)
    return None if address is None else refusal(address, allowed)


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver, keeping only the addresses :func:`refusal` allows (else ``AddressRefused``).

    aiohttp connects only to the addresses its resolver returns, so the check holds for the socket actually
    opened; IP literals bypass resolvers and are checked with :func:`url_refusal` before each request.
    """

    def __init__(self, allowed: tuple[Network, ...] = (), inner: AbstractResolver | None = None) -> None:
        self._allowed = allowed
        self._inner = inner or DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        kept = [r for r in results if refusal(ipaddress.ip_address(r["host"]), self._allowed) is None]
        if not kept:
            raise AddressRefused("the camera's address is not allowed (loopback, link-local or private)")
        return kept

    async def close(self) -> None:
        await self._inner.close()


async def check_stream_host(url: str, allowed: tuple[Network, ...] = ()) -> None:
    """Before handing ``url`` to ffmpeg/ffprobe (which resolve names themselves): every address it names must be
    allowed. Raises ``AddressRefused``."""
    reason = url_refusal(url, allowed)
    if reason is not None:
        raise AddressRefused(f"camera address refused: {reason}")
    parts = urlsplit(url)
    if literal(parts.hostname or "") is None:
        await GuardedResolver(allowed).resolve(parts.hostname or "", parts.port or 0, socket.AF_UNSPEC)
