"""Seat registration without Asterisk: a minimal digest-auth registrar on loopback stands in for it."""

from __future__ import annotations

import asyncio

import pytest

from padang112.simulator.client import SimulatorError
from tests.fixtures.simulator import FakeRegistrar

pytest.importorskip("pjsua2")


@pytest.fixture
def registrar(fake_registrar: FakeRegistrar) -> tuple[FakeRegistrar, str]:
    fake_registrar.passwords.update(seat01="s3cret", seat02="other")
    return fake_registrar, fake_registrar.address


async def test_seat_registers_with_digest_auth_and_unregisters(registrar, simulator) -> None:
    reg, address = registrar
    sim = await simulator()
    reply = await sim.add_seat("seat01", password="s3cret", registrar=address)
    assert reply["expires"] > 0
    assert "seat01@127.0.0.1" in reg.bindings["seat01"]
    await sim.wait_event(lambda e: e.get("event") == "registered" and e.get("seat") == "seat01")
    await sim.unregister("seat01")
    assert "seat01" not in reg.bindings
    assert (await sim.request("status"))["accounts"] == 0


async def test_wrong_password_is_reported_with_the_sip_status(registrar, simulator) -> None:
    reg, address = registrar
    sim = await simulator()
    with pytest.raises(SimulatorError, match="403"):
        await sim.add_seat("seat02", password="wrong", registrar=address)
    assert "seat02" not in reg.bindings
    # The failed seat's account is gone, so the seat can be added again.
    await sim.add_seat("seat02", password="other", registrar=address)
    assert "seat02" in reg.bindings


async def test_quitting_unregisters_every_seat(registrar, simulator) -> None:
    reg, address = registrar
    sim = await simulator()
    await asyncio.gather(
        sim.add_seat("seat01", password="s3cret", registrar=address),
        sim.add_seat("seat02", password="other", registrar=address),
    )
    assert set(reg.bindings) == {"seat01", "seat02"}
    assert await sim.close() == 0
    assert reg.bindings == {}
