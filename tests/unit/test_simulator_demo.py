"""``padang112 simulate``: plausible citizens, WIB progress lines, and a clean stop on time or on a signal."""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import sys
from pathlib import Path

from padang112 import config
from padang112.simulator import people
from tests.fixtures.simulator import FakeRegistrar

MOBILE = re.compile(r"^\+628\d{9,12}$")


def test_numbers_are_plausible_for_each_carrier() -> None:
    rng = random.Random(7)
    for carrier, prefixes in people.PREFIXES.items():
        for _ in range(50):
            number = people.phone_number(carrier, rng)
            assert number[3:6] in prefixes
            if carrier == "telkom":
                assert re.fullmatch(r"\+62751\d{7}", number)
            else:
                assert MOBILE.match(number), number


def test_times_are_shown_in_western_indonesia_time() -> None:
    assert people.wib(0) == "07:00:00 WIB"  # UTC+7, no daylight saving
    assert people.short_number("+6281234567890") == "+62812…890"


def write_config(tmp_path: Path, port: int) -> tuple[Path, config.Settings]:
    toml = tmp_path / "padang112.toml"
    toml.write_text(f'state_dir = "{tmp_path}"\n[asterisk]\nsip_port = {port}\n[calls]\nseat_count = 5\n')
    return toml, config.load(toml, environ={})


async def run_demo(toml: Path, *args: str, stop_after: float | None = None) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PADANG112_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "padang112.cli",
        "--config",
        str(toml),
        "simulate",
        "--",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
    )
    if stop_after is not None:
        await asyncio.sleep(stop_after)
        proc.send_signal(signal.SIGINT)
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    return proc.returncode or 0, out.decode()


async def test_demo_registers_seats_places_calls_and_stops_on_time(
    tmp_path: Path, fake_registrar: FakeRegistrar
) -> None:
    toml, settings = write_config(tmp_path, int(fake_registrar.address.rsplit(":", 1)[1]))
    fake_registrar.passwords.update(settings.secrets().seat_passwords)
    fake_registrar.passwords.update(settings.secrets().duty_passwords)
    code, out = await run_demo(toml, "--duration", "3", "--rate", "300")
    assert code == 0, out
    for seat in settings.seats + list(settings.duty_phones.values()):  # 5 seats (4 + 1), 7 duty phones (4 + 3)
        assert f"{seat} terdaftar" in out
    assert fake_registrar.bindings == {}, "seats must unregister on the way out"
    assert len(fake_registrar.invites) >= 3
    assert re.search(r"^\d\d:\d\d:\d\d WIB  \w+ \+62\d{3}…\d{3} -> 11\d  memanggil", out, re.M), out
    assert "SIP 480" in out and "ringkasan:" in out
    carriers = {c.address for c in settings.carriers}
    assert all(re.search(r"@(127\.0\.0\.\d+)", f).group(1) in carriers for f in fake_registrar.invites)


async def test_demo_stops_cleanly_on_ctrl_c(tmp_path: Path, fake_registrar: FakeRegistrar) -> None:
    toml, settings = write_config(tmp_path, int(fake_registrar.address.rsplit(":", 1)[1]))
    fake_registrar.passwords.update(settings.secrets().seat_passwords)
    fake_registrar.passwords.update(settings.secrets().duty_passwords)
    code, out = await run_demo(toml, "--seats", "2", "--no-callers", stop_after=2.0)
    assert code == 0, out
    assert "seat01 terdaftar" in out and "seat02 terdaftar" in out and "seat03" not in out
    assert "menghentikan simulasi" in out
    assert fake_registrar.bindings == {}


async def test_demo_reports_a_refused_registration(tmp_path: Path, fake_registrar: FakeRegistrar) -> None:
    toml, _ = write_config(tmp_path, int(fake_registrar.address.rsplit(":", 1)[1]))
    code, out = await run_demo(toml, "--seats", "1", "--no-callers", "--duration", "5")  # no passwords known
    assert code == 1 and "403" in out, out
