"""All padang112 metrics in one registry, built by the runtime with the controller (see :mod:`padang112.metrics`)."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Iterable

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, ProcessCollector
from prometheus_client.aiohttp import make_aiohttp_handler
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112.config import Settings
from padang112.controller import Controller
from padang112.metrics.links import LinkMetrics
from padang112.metrics.room import RoomMetrics
from padang112.metrics.stores import StoreMetrics
from padang112.storage.repository import EventWriter

log = logging.getLogger(__name__)

REFRESH_TIMEOUT_S = 5.0

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def scrape_networks(addresses: Iterable[str]) -> list[Network]:
    """``127.0.0.0/8``, ``10.1.2.3`` (one host), ``::1/128`` ...; a bad entry is a configuration error."""
    return [ipaddress.ip_network(address, strict=False) for address in addresses]


def from_scraper(remote: str | None, networks: list[Network]) -> bool:
    if not remote:
        return False
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:  # a Unix socket peer, say
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


class Metrics:
    """Every padang112 metric in one registry: built with the controller, started once it runs."""

    def __init__(self, settings: Settings, controller: Controller, writer: EventWriter, engine: AsyncEngine) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.networks = scrape_networks(settings.metrics.scrape_addresses)  # see from_scraper
        self.room = RoomMetrics(self.registry, settings.seats)
        self.stores = StoreMetrics(self.registry, engine, settings.recordings_dir)
        self.links = LinkMetrics(self.registry, controller, writer, settings.metrics)
        self.scrape_errors = Counter(
            "padang112_scrape_errors", "Scrapes answered with stale database figures", registry=self.registry
        )
        self._controller = controller
        self._render = make_aiohttp_handler(self.registry)
        controller.subscribers.append(self.room.on_event)

    def start(self) -> None:
        self.links.start()

    async def stop(self) -> None:
        await self.links.stop()
        if self.room.on_event in self._controller.subscribers:
            self._controller.subscribers.remove(self.room.on_event)

    async def respond(self, request: web.Request) -> web.StreamResponse:
        try:
            await asyncio.wait_for(self.stores.refresh(), REFRESH_TIMEOUT_S)
        except Exception as exc:  # the rest of the figures are still worth a scrape
            log.warning("metrics: database figures not refreshed: %r", exc)
            self.scrape_errors.inc()
        return await self._render(request)
