"""A minimal SIP caller over UDP that sends exactly the bytes a test gives it (odd or malformed caller ids).

pjsua2 and SIPp both sanitise or re-encode what they send; a carrier or an attacker does not.
"""

from __future__ import annotations

import socket
import time
import uuid
from dataclasses import dataclass, field


@dataclass
class RawCallResult:
    statuses: list[int] = field(default_factory=list)
    call_id: str = ""

    @property
    def final(self) -> int | None:
        finals = [s for s in self.statuses if s >= 200]
        return finals[0] if finals else None


def _sdp(source: str, rtp_port: int) -> bytes:
    return (
        f"v=0\r\no=- 1 1 IN IP4 {source}\r\ns=-\r\nc=IN IP4 {source}\r\nt=0 0\r\n"
        f"m=audio {rtp_port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
    ).encode()


def _status(data: bytes) -> int | None:
    if not data.startswith(b"SIP/2.0 "):
        return None
    try:
        return int(data[8:11])
    except ValueError:
        return None


def _header(data: bytes, name: bytes) -> bytes:
    for line in data.split(b"\r\n"):
        if line.lower().startswith(name.lower() + b":"):
            return line.split(b":", 1)[1].strip()
    return b""


def raw_call(
    host: str,
    port: int,
    source: str,
    from_display: bytes,
    from_user: bytes,
    number: str = "112",
    hold_s: float = 2.0,
    timeout_s: float = 10.0,
) -> RawCallResult:
    """INVITE ``number``; if answered, ACK, hold ``hold_s`` seconds, BYE. Returns every status received."""
    result = RawCallResult(call_id=uuid.uuid4().hex)
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rtp,
    ):
        sock.bind((source, 0))
        rtp.bind((source, 0))
        local_port = sock.getsockname()[1]
        tag, branch = uuid.uuid4().hex[:8], "z9hG4bK" + uuid.uuid4().hex[:12]
        uri = f"sip:{number}@{host}:{port}".encode()
        from_line = b'From: "' + from_display + b'" <sip:' + from_user + f"@{source}>;tag={tag}".encode()
        common = [
            f"Via: SIP/2.0/UDP {source}:{local_port};branch={branch};rport".encode(),
            b"Max-Forwards: 70",
            from_line,
            f"To: <sip:{number}@{host}>".encode(),
            f"Call-ID: {result.call_id}".encode(),
        ]
        body = _sdp(source, rtp.getsockname()[1])
        invite = b"\r\n".join(
            [
                b"INVITE " + uri + b" SIP/2.0",
                *common,
                b"CSeq: 1 INVITE",
                f"Contact: <sip:caller@{source}:{local_port}>".encode(),
                b"Content-Type: application/sdp",
                f"Content-Length: {len(body)}".encode(),
                b"",
                body,
            ]
        )
        sock.sendto(invite, (host, port))
        sock.settimeout(0.5)
        deadline = time.monotonic() + timeout_s
        to_header = b""
        while time.monotonic() < deadline:
            try:
                data, _ = sock.recvfrom(65535)
            except TimeoutError:
                continue
            status = _status(data)
            if status is None:
                continue
            result.statuses.append(status)
            if status >= 200:
                to_header = _header(data, b"To")
                break
        if not to_header:
            return result
        ack = b"\r\n".join(
            [
                b"ACK " + uri + b" SIP/2.0",
                *[h if not h.startswith(b"To:") else b"To: " + to_header for h in common],
                b"CSeq: 1 ACK",
                b"Content-Length: 0",
                b"",
                b"",
            ]
        )
        if result.final != 200:
            sock.sendto(ack, (host, port))
            return result
        ack = ack.replace(branch.encode(), ("z9hG4bK" + uuid.uuid4().hex[:12]).encode())
        sock.sendto(ack, (host, port))
        time.sleep(hold_s)
        bye = b"\r\n".join(
            [
                b"BYE " + uri + b" SIP/2.0",
                *[h if not h.startswith(b"To:") else b"To: " + to_header for h in common],
                b"CSeq: 2 BYE",
                b"Content-Length: 0",
                b"",
                b"",
            ]
        )
        bye = bye.replace(branch.encode(), ("z9hG4bK" + uuid.uuid4().hex[:12]).encode())
        sock.sendto(bye, (host, port))
        end = time.monotonic() + 5
        while time.monotonic() < end:
            try:
                data, _ = sock.recvfrom(65535)
            except TimeoutError:
                continue
            status = _status(data)
            if status is not None:
                result.statuses.append(status)
                if status >= 200 and b"BYE" in _header(data, b"CSeq"):
                    break
    return result
