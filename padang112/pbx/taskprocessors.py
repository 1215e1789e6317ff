"""Asterisk's taskprocessor queues for Prometheus: ``padang112 asterisk taskprocessors [--listen 127.0.0.1:9112]``.

A taskprocessor is one of Asterisk's internal work queues (PJSIP's distributors, stasis subscribers such as AMI
and each ARI app, sorcery...). When one holds as many tasks as its high water mark, Asterisk raises an alert for
its subsystem (the name up to the first ``/``) until it drains to its low water mark. PJSIP ignores new requests
(over UDP; 503 over TCP and TLS) while ``pjsip`` has one: ``taskprocessor_overload_trigger = pjsip_only`` in
pjsip.conf, where the default ``global`` would do so for any subsystem's. ``res_prometheus`` exports none of this
and the controller's AMI account has no ``command`` rights (docs/SECURITY.md), so this small exporter runs beside
Asterisk instead, with the rights of the other Asterisk tooling (``asterisk -rx`` in the chroot:
:func:`padang112.pbx.chroot.asterisk_rx`). At each scrape it runs two read-only CLI commands, ``core show
taskprocessors`` and ``core show taskprocessor alerted subsystems``. Per-queue series are kept to the ``top``
fullest (relative to their high water, then the deepest ever), so the number of series stays bounded however
many taskprocessors a busy switch has.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import logging
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, generate_latest, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric

from padang112 import config
from padang112.pbx import chroot

log = logging.getLogger(__name__)

LIST_COMMAND = "core show taskprocessors"
ALERTS_COMMAND = "core show taskprocessor alerted subsystems"
# the columns read, in Asterisk's order; Asterisk 22.10 adds "Low time(us)" and "High time(us)" after them
COLUMNS = "Processor Processed In Queue Max Depth Low water High water"
WATCHED_SUBSYSTEM = "pjsip"  # the one PJSIP's overload check reads (always exported, 0 when calm)
READ_TIMEOUT_S = 5.0


class ParseError(ValueError):
    """The CLI's answer does not look like the table this parser knows."""


@dataclass(frozen=True)
class Taskprocessor:
    name: str
    processed: int
    queued: int  # "In Queue"
    max_depth: int  # the deepest the queue has been since Asterisk started
    low_water: int
    high_water: int

    @property
    def fill(self) -> float:
        """How full the queue is relative to its high water mark (1.0: Asterisk raises its alert)."""
        return self.queued / max(self.high_water, 1)


def _table(text: str, header: str, footer_word: str) -> list[list[str]]:
    """The rows of a CLI table (as words) between ``header`` and the footer ``<count> <footer_word>``."""
    lines = [line.split() for line in text.splitlines() if line.strip()]
    if len(lines) < 2 or lines[0][: len(header.split())] != header.split():
        raise ParseError(f"unexpected header: {' '.join(lines[0]) if lines else '(no output)'!r}")
    *rows, footer = lines[1:]
    if footer[1:] != [footer_word] or not footer[0].isdigit() or int(footer[0]) != len(rows):
        raise ParseError(f"footer {' '.join(footer)!r} does not count the {len(rows)} rows read")
    return rows


def _split_numbers(words: list[str], least: int) -> tuple[str, list[int]]:
    """A row's name (the words before the numbers at its end) and those numbers."""
    count = 0
    while count < len(words) - 1 and words[-1 - count].isdigit():
        count += 1
    if count < least:
        raise ParseError(f"unexpected row: {' '.join(words)!r}")
    return " ".join(words[:-count]), [int(word) for word in words[-count:]]


def parse_taskprocessors(text: str) -> list[Taskprocessor]:
    """``core show taskprocessors``: one :class:`Taskprocessor` per row (columns after High water ignored)."""
    found = []
    for words in _table(text, COLUMNS, "taskprocessors"):
        name, numbers = _split_numbers(words, 5)
        found.append(Taskprocessor(name, *numbers[:5]))
    return found


def parse_alerted_subsystems(text: str) -> dict[str, int]:
    """``core show taskprocessor alerted subsystems``: subsystem -> taskprocessors in high-water alert."""
    rows = (_split_numbers(words, 1) for words in _table(text, "Subsystem Alert Count", "subsystems"))
    return {name: numbers[-1] for name, numbers in rows}


def fullest(processors: list[Taskprocessor], top: int) -> list[Taskprocessor]:
    """The ``top`` fullest relative to their high water, then the deepest ever (on a calm switch), then by name."""
    return sorted(processors, key=lambda t: (-t.fill, -t.max_depth / max(t.high_water, 1), t.name))[:top]


class TaskprocessorCollector:
    """A prometheus-client collector that reads Asterisk at each scrape through ``read(command) -> output``."""

    def __init__(self, read: Callable[[str], str], top: int) -> None:
        self._read = read
        self._top = top
        self.read_ok = False  # how the last scrape went

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "padang112_asterisk_taskprocessors_up", "1 when Asterisk's CLI answered and both tables were read"
        )
        try:
            processors = parse_taskprocessors(self._read(LIST_COMMAND))
            alerts = parse_alerted_subsystems(self._read(ALERTS_COMMAND))
        except (chroot.AsteriskError, OSError, ParseError) as exc:
            log.warning("taskprocessors not read: %s", exc)
            self.read_ok = False
            up.add_metric([], 0)
            yield up
            return
        self.read_ok = True
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily("padang112_asterisk_taskprocessors", "Taskprocessors in Asterisk", len(processors))
        yield GaugeMetricFamily(
            "padang112_asterisk_taskprocessors_queued",
            "Tasks waiting in all of Asterisk's taskprocessor queues",
            sum(t.queued for t in processors),
        )
        alerted = GaugeMetricFamily(
            "padang112_asterisk_taskprocessor_alerts",
            "Taskprocessors in high-water alert, by subsystem; PJSIP ignores new requests while pjsip has one",
            labels=["subsystem"],
        )
        for subsystem, count in sorted({WATCHED_SUBSYSTEM: 0, **alerts}.items()):
            alerted.add_metric([subsystem], count)
        yield alerted
        families = {
            "queue": ("Tasks waiting in the queue (the fullest taskprocessors only)", "queued"),
            "max_depth": ("The deepest the queue has been since Asterisk started", "max_depth"),
            "high_water": ("Queue length at which Asterisk raises a high-water alert", "high_water"),
        }
        shown = fullest(processors, self._top)
        for suffix, (documentation, field) in families.items():
            family = GaugeMetricFamily(f"padang112_asterisk_taskprocessor_{suffix}", documentation, labels=["name"])
            for processor in shown:
                family.add_metric([processor.name], getattr(processor, field))
            yield family


def listen_address(text: str) -> tuple[str, int]:
    """``127.0.0.1:9112`` or ``[::1]:9112``, loopback only: Prometheus scrapes it on the same machine."""
    host, _, port = text.rpartition(":")
    try:
        address = ipaddress.ip_address(host.strip("[]"))
        number = int(port)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an address:port: {text!r}") from exc
    if not address.is_loopback or not 0 < number < 65536:
        raise argparse.ArgumentTypeError(f"{text!r}: listen on a loopback address only (127.0.0.1:9112)")
    return str(address), number


def top_count(text: str) -> int:
    """``--top``: at least one queue, so the fullest is always among the series."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a whole number from 1: {text!r}")
    return int(text)


def run(settings: config.Settings, listen: tuple[str, int] | None, top: int) -> int:
    """Serve the gauges on ``listen`` until stopped, or (without it) print them once; 1 if Asterisk was not read."""
    registry = CollectorRegistry()
    collector = TaskprocessorCollector(lambda command: chroot.asterisk_rx(settings, command, READ_TIMEOUT_S), top)
    registry.register(collector)
    if listen is None:
        sys.stdout.write(generate_latest(registry).decode())
        return 0 if collector.read_ok else 1
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    host, port = listen
    _server, thread = start_http_server(port, addr=host, registry=registry)
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    print(f"[asterisk] taskprocessors of instance {settings.asterisk.instance}: http://{where}/metrics", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        thread.join()  # SIGTERM (systemctl stop) ends the process
    return 0
