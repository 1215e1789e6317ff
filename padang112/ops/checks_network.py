"""Network go-live checks of ``padang112 doctor``: ports, carrier addresses, TLS certificates (see checks.py)."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from padang112.config import Settings
from padang112.ops.checks_base import FAIL, OK, WARN, Check, make

# ---- ports -------------------------------------------------------------------------------------------------


def port_free(address: str, port: int, kind: int = socket.SOCK_STREAM) -> bool:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((address, port))
            return True
        except OSError:
            return False


def ours_on(address: str, port: int, expect: bytes, request: bytes = b"") -> bool:
    """Whether what listens there answers like our service (``expect`` in its first bytes)."""
    try:
        with socket.create_connection((address, port), timeout=2.0) as sock:
            if request:
                sock.sendall(request)
            answer = b""
            while len(answer) < 16384 and (chunk := sock.recv(4096)):  # headers (security ones are long), body
                answer += chunk
                if expect in answer:
                    return True
            return False
    except OSError:
        return False


def ports(settings: Settings, free: Callable[..., bool] = port_free, ours: Callable[..., bool] = ours_on) -> Check:
    """Each port is free (service stopped) or held by the padang112 service meant to hold it."""
    ast, web = settings.asterisk, settings.web
    http_get = b"GET /healthz HTTP/1.0\r\n\r\n"  # padang112 answers {"status": "ok"}, Asterisk's HTTP names itself
    tcp = [
        ("konsol/console", web.host, web.port, b'"status": "ok"', http_get),
        ("ARI", ast.bind_address, ast.http_port, b"Server: Asterisk", http_get),
        ("AMI", ast.bind_address, ast.ami_port, b"Asterisk Call Manager", b""),
    ]
    foreign = [
        f"{name} {host}:{port}"
        for name, host, port, banner, req in tcp
        if not free(host, port) and not ours(host, port, banner, req)
    ]
    sip_busy = not free(ast.bind_address, ast.sip_port, socket.SOCK_DGRAM)
    if sip_busy and not ours(ast.bind_address, ast.ami_port, b"Asterisk Call Manager"):
        foreign.append(f"SIP udp {ast.bind_address}:{ast.sip_port}")
    if foreign:
        return make(
            "ports",
            FAIL,
            f"port dipakai program lain: {', '.join(foreign)}",
            f"ports held by another program: {', '.join(foreign)}",
            "hentikan program itu (ss -ltnup) atau ubah port di padang112.toml",
            "stop that program (ss -ltnup) or change the port in padang112.toml",
        )
    return make("ports", OK, "port bebas atau dipakai padang112", "ports free or held by padang112")


# ---- carriers ----------------------------------------------------------------------------------------------


def carriers(settings: Settings) -> Check:
    problems: list[str] = []
    seen: dict[str, str] = {}
    for carrier in settings.carriers:
        try:
            address = ipaddress.ip_address(carrier.address)
        except ValueError:
            problems.append(f"{carrier.name}: {carrier.address!r}")
            continue
        if address.is_unspecified or address.is_multicast or str(address) == settings.asterisk.bind_address:
            problems.append(f"{carrier.name}: {address}")
        if str(address) in seen:
            problems.append(f"{carrier.name} = {seen[str(address)]}: {address}")
        seen[str(address)] = carrier.name
    if not settings.carriers:
        problems.append("-")
    if problems:
        return make(
            "carriers",
            FAIL,
            f"alamat operator tidak sah atau ganda: {'; '.join(problems)}",
            f"carrier addresses invalid or shared: {'; '.join(problems)}",
            "beri setiap operator alamat IP trunk-nya sendiri ([[carriers]] address)",
            "give each carrier its own trunk source address ([[carriers]] address)",
        )
    names = ", ".join(f"{c.name} {c.address}" for c in settings.carriers)
    return make(
        "carriers", OK, f"{len(settings.carriers)} operator: {names}", f"{len(settings.carriers)} carriers: {names}"
    )


# ---- TLS certificates ----------------------------------------------------------------------------------------


def cert_not_after(path: Path) -> float:
    """The certificate's expiry (epoch seconds), read with ``openssl x509``."""
    done = subprocess.run(
        ["openssl", "x509", "-noout", "-enddate", "-in", str(path)], capture_output=True, text=True, timeout=10
    )
    if done.returncode != 0 or not done.stdout.startswith("notAfter="):
        raise ValueError(done.stderr.strip() or "not a PEM certificate")
    return float(ssl.cert_time_to_seconds(done.stdout.strip().removeprefix("notAfter=")))


def certificates(
    settings: Settings, not_after: Callable[[Path], float] = cert_not_after, now: float | None = None
) -> Check:
    files = settings.operations.tls_certificates
    if not files:
        return make("tls", OK, "tidak ada sertifikat TLS yang dikonfigurasi", "no TLS certificate configured")
    now = time.time() if now is None else now
    bad: list[str] = []
    soon: list[str] = []
    fine: list[str] = []
    for name in files:
        try:
            days = (not_after(Path(name)) - now) / 86400
        except (OSError, ValueError) as exc:
            bad.append(f"{name} ({exc})")
            continue
        (bad if days < 0 else soon if days < 30 else fine).append(f"{name} ({days:.0f} d)")
    if bad:
        return make(
            "tls",
            FAIL,
            f"sertifikat tidak terbaca atau kedaluwarsa: {', '.join(bad)}",
            f"certificates unreadable or expired: {', '.join(bad)}",
            "pasang sertifikat yang berlaku (PEM) dan muat ulang layanan",
            "install a valid (PEM) certificate and reload",
        )
    if soon:
        return make(
            "tls",
            WARN,
            f"sertifikat habis < 30 hari: {', '.join(soon)}",
            f"certificates expire in < 30 days: {', '.join(soon)}",
            "perpanjang sertifikat sekarang",
            "renew the certificates now",
        )
    return make("tls", OK, f"sertifikat berlaku: {', '.join(fine)}", f"certificates valid: {', '.join(fine)}")
