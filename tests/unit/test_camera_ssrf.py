"""The camera address guard and the playlist origin rule, as tables (the live attack: tests/security/)."""

from __future__ import annotations

import ipaddress

import pytest

from padang112.cameras.addresses import AddressRefused, GuardedResolver, networks, refusal, url_refusal
from padang112.cameras.urls import origin_of, rewrite_playlist

CAMERA_NET = networks(["10.20.0.0/16"])


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("169.254.169.254", "link_local"),  # cloud metadata
        ("fe80::1", "link_local"),
        ("0.0.0.0", "reserved"),
        ("::", "reserved"),
        ("224.0.0.1", "reserved"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("10.1.2.3", "private_not_allowed"),
        ("172.16.0.1", "private_not_allowed"),
        ("192.168.1.64", "private_not_allowed"),
        ("100.64.0.1", "private_not_allowed"),
        ("fd00::7", "private_not_allowed"),
        ("10.20.0.7", None),  # inside the configured camera network
        ("36.66.1.2", None),  # a public address (an Indonesian ISP)
        ("2001:4860::1", None),
    ],
)
def test_which_addresses_may_be_fetched(address: str, reason: str | None) -> None:
    assert refusal(ipaddress.ip_address(address), CAMERA_NET) == reason


def test_loopback_only_when_the_allowlist_names_it_and_names_are_judged_at_resolution() -> None:
    assert url_refusal("http://localhost:8088/ari") == "loopback"
    assert url_refusal("http://[::1]/x") == "loopback"
    assert url_refusal("http://127.0.0.1:9/x", networks(["127.0.0.1/32"])) is None
    assert url_refusal("http://cctv.padang.go.id/x.m3u8") is None  # resolved (and checked) when fetched


class FakeResolver:
    def __init__(self, addresses: list[str]) -> None:
        self.addresses = addresses

    async def resolve(self, host, port=0, family=0):
        return [
            {"hostname": host, "host": a, "port": port, "family": 2, "proto": 0, "flags": 0} for a in self.addresses
        ]

    async def close(self) -> None:
        pass


async def test_a_name_that_resolves_to_an_internal_address_is_refused_at_connection_time() -> None:
    rebinding = GuardedResolver(CAMERA_NET, FakeResolver(["127.0.0.1", "169.254.169.254"]))
    with pytest.raises(AddressRefused):
        await rebinding.resolve("camera.example", 80)
    mixed = GuardedResolver(CAMERA_NET, FakeResolver(["10.1.1.1", "10.20.0.9"]))
    assert [r["host"] for r in await mixed.resolve("camera.example", 80)] == ["10.20.0.9"]


PLAYLIST = """#EXTM3U
#EXT-X-TARGETDURATION:2
#EXT-X-KEY:METHOD=AES-128,URI="http://169.254.169.254/key"
#EXT-X-MAP:URI="init.mp4"
#EXTINF:2.0,
seg1.ts
#EXT-X-DISCONTINUITY
#EXTINF:2.0,
http://10.20.0.7:8080/elsewhere/seg2.ts
#EXTINF:2.0,
https://10.20.0.7/live/seg3.ts
#EXTINF:2.0,
/live/seg4.ts
"""


def test_a_playlist_keeps_only_uris_on_the_cameras_own_origin() -> None:
    base = "http://10.20.0.7/live/index.m3u8"
    asked: list[str] = []
    out = rewrite_playlist(PLAYLIST, base, lambda url, _: asked.append(url) or "T", origin=origin_of(base))
    assert asked == ["http://10.20.0.7/live/init.mp4", "http://10.20.0.7/live/seg1.ts", "http://10.20.0.7/live/seg4.ts"]
    assert out.splitlines() == [
        "#EXTM3U",
        "#EXT-X-TARGETDURATION:2",
        '#EXT-X-MAP:URI="T"',
        "#EXTINF:2.0,",
        "T",
        "#EXTINF:2.0,",
        "T",
    ]  # other port, other scheme: gone with their #EXTINF (and the discontinuity that announced them)
