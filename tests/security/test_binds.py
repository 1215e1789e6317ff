"""The management plane, attacked on the live switch: ARI and AMI listen on the loopback management address only,
and the controller's own AMI account (as if its password leaked) cannot place a call, run a CLI command, write
the switch's database, read configuration or reload anything."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from padang112.pbx import chroot

pytestmark = pytest.mark.live


async def ami_session(credentials: dict, actions: list[dict[str, str]]) -> list[dict[str, str]]:
    """Log in with ``credentials`` and send each action; the first reply block of each (Response, Message)."""
    reader, writer = await asyncio.open_connection(credentials["host"], credentials["port"])
    await reader.readline()  # banner

    async def send(action: dict[str, str]) -> dict[str, str]:
        writer.write("".join(f"{k}: {v}\r\n" for k, v in action.items()).encode() + b"\r\n")
        await writer.drain()
        block = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)).decode()
        return dict(line.split(": ", 1) for line in block.strip().splitlines() if ": " in line)

    login = await send(
        {"Action": "Login", "Username": credentials["username"], "Secret": credentials["secret"], "Events": "off"}
    )
    assert login["Response"] == "Success"
    replies = [await send({**action, "ActionID": str(n)}) for n, action in enumerate(actions)]
    writer.close()
    return replies


ATTACKS = [
    {"Action": "Originate", "Channel": "PJSIP/+8821234567@telkomsel", "Application": "Wait", "Data": "1"},
    {"Action": "Command", "Command": "channel originate PJSIP/+8821234567@telkomsel application Wait 1"},
    {"Action": "Command", "Command": "core stop now"},
    {"Action": "DBPut", "Family": "p112fb_end", "Key": "1.1", "Val": "forged"},
    {"Action": "DBDel", "Family": "p112fb", "Key": "1.1"},
    {"Action": "DBDelTree", "Family": "p112fb"},
    {"Action": "GetConfig", "Filename": "pjsip.conf"},
    {"Action": "UpdateConfig", "SrcFilename": "extensions.conf", "DstFilename": "extensions.conf"},
    {"Action": "Reload"},
    {"Action": "ModuleLoad", "Module": "app_system.so", "LoadType": "load"},
    {"Action": "Setvar", "Variable": "GLOBAL(P112_X)", "Value": "1"},
    {"Action": "Redirect", "Channel": "PJSIP/seat01-00000001", "Context": "seats", "Exten": "1", "Priority": "1"},
    {"Action": "Hangup", "Channel": "PJSIP/seat01-00000001"},
]


async def test_the_controllers_ami_account_cannot_dial_run_commands_or_write(asterisk, ami_credentials):
    replies = await ami_session(ami_credentials, ATTACKS)
    refused = {a["Action"] + (f" {a.get('Command', '')}".rstrip()): r.get("Message") for a, r in zip(ATTACKS, replies)}
    assert all(r["Response"] == "Error" for r in replies), refused
    assert set(refused.values()) == {"Permission denied"}, refused
    # what it needs still works: reading the fallback notes and managing the fallback queue's members
    allowed = await ami_session(
        ami_credentials,
        [
            {"Action": "DBGetTree", "Family": "p112fb"},
            {"Action": "QueueRemove", "Queue": asterisk.settings.calls.fallback_queue, "Interface": "PJSIP/nobody"},
        ],
    )
    assert allowed[0]["Response"] == "Success"
    assert allowed[1].get("Message") != "Permission denied"


def _listeners(pid: int, port: int) -> set[str]:
    """Addresses the process listens on at TCP ``port`` (from /proc/<pid>/net/tcp, IPv4)."""
    found = set()
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def test_ari_and_ami_listen_on_the_loopback_management_address_only(asterisk):
    ast = asterisk.settings.asterisk
    pid = chroot.pid(asterisk.settings)
    assert pid is not None
    assert _listeners(pid, ast.http_port) == {ast.manager_address}
    assert _listeners(pid, ast.ami_port) == {ast.manager_address}
    for port in (ast.http_port, ast.ami_port):  # another local address (as a carrier-facing one would be): nothing
        with socket.socket() as probe, pytest.raises(OSError):
            probe.settimeout(1)
            probe.connect(("127.0.0.2", port))
