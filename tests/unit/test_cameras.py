"""Camera rules without I/O: admin input validation, distances and the nearest cameras, URL handling."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from padang112.cameras.addresses import networks
from padang112.cameras.model import Camera, CameraDraft
from padang112.cameras.nearest import haversine_m, nearest, place_of
from padang112.cameras.urls import RefTable, redact, rewrite_playlist, split_credentials, with_credentials
from padang112.cameras.validation import ValidationError, validate
from padang112.incidents import geography

GOOD = CameraDraft(
    name="  Simpang Haru ",
    kecamatan="padang  TIMUR",
    location_text="arah Bypass",
    latitude=-0.95,
    longitude=100.37,
    kind="Traffic",
    stream_type="HLS",
    stream_url="http://10.0.0.7/live/index.m3u8",
)
T0 = datetime(2023, 8, 7, 1, 0, tzinfo=UTC)
CAMERA_NET = networks(["10.0.0.0/8"])  # [cameras] allowed_networks: the city's camera network


def camera(id: int, lat: float, lon: float, enabled: bool = True) -> Camera:
    return Camera(
        id=id,
        name=f"cam{id}",
        kecamatan="Padang Barat",
        location_text="",
        latitude=lat,
        longitude=lon,
        kind="traffic",
        stream_type="snapshot",
        stream_url="http://x/s.jpg",
        enabled=enabled,
        created_by="t",
        created_at=T0,
        updated_at=T0,
    )


def errors_of(**changes) -> dict:
    with pytest.raises(ValidationError) as caught:
        validate(dataclasses.replace(GOOD, **changes), allowed=CAMERA_NET)
    return caught.value.errors


def test_a_valid_camera_is_cleaned_to_canonical_spelling():
    cleaned = validate(GOOD, allowed=CAMERA_NET)
    assert (cleaned.name, cleaned.kecamatan, cleaned.kind, cleaned.stream_type) == (
        "Simpang Haru",
        "Padang Timur",
        "traffic",
        "hls",
    )


def test_kecamatan_must_be_one_of_padangs_and_coordinates_inside_padang():
    assert set(errors_of(kecamatan="Menteng")) == {"kecamatan"}
    assert set(errors_of(latitude=-6.2, longitude=106.8)) == {"latitude"}  # Jakarta
    assert set(errors_of(latitude=None)) == {"latitude"}
    assert set(errors_of(latitude=float("nan"))) == {"latitude"}


def test_every_problem_is_reported_at_once_in_both_languages():
    errors = errors_of(name="", kind="drone", stream_type="webrtc", kecamatan="")
    assert set(errors) == {"name", "kind", "stream_type", "kecamatan"}
    assert all(isinstance(id_, str) and isinstance(en, str) for id_, en in errors.values())


@pytest.mark.parametrize(
    ("stream_type", "url", "ok"),
    [
        ("hls", "https://cctv.padang.go.id/a/index.m3u8", True),
        ("mjpeg", "http://user:pw@10.1.1.1:8080/video.cgi", True),
        ("snapshot", "rtsp://10.1.1.1/x", False),
        ("rtsp", "rtsp://admin:pw@10.1.1.1:554/Streaming/Channels/101", True),
        ("rtsp", "http://10.1.1.1/x", False),
        ("hls", "javascript:alert(1)", False),
        ("hls", "http:///nohost", False),
        ("hls", "http://10.0.0.1:99999/x", False),
        ("hls", "http://a b/x", False),
    ],
)
def test_the_stream_url_scheme_must_fit_its_type(stream_type, url, ok):
    draft = dataclasses.replace(GOOD, stream_type=stream_type, stream_url=url)
    if ok:
        assert validate(draft, allowed=CAMERA_NET).stream_url == url
    else:
        assert set(errors_of(stream_type=stream_type, stream_url=url)) == {"stream_url"}


def test_haversine_distance_matches_known_values():
    assert haversine_m((0.0, 0.0), (0.0, 1.0)) == pytest.approx(111_195, rel=1e-3)  # one degree at the equator
    assert haversine_m((-0.95, 100.35), (-0.95, 100.35)) == 0.0
    # Padang's Jam Gadang-free sanity check: 0.01 degree of latitude is about 1.11 km anywhere
    assert haversine_m((-0.95, 100.35), (-0.96, 100.35)) == pytest.approx(1112, abs=2)


def test_nearest_lists_cameras_within_the_radius_nearest_first():
    here = (-0.9300, 100.3500)
    cams = [
        camera(1, -0.9400, 100.3500),
        camera(2, -0.9301, 100.3500),
        camera(3, -0.9320, 100.3500),
        camera(4, -0.9302, 100.3500, enabled=False),
        camera(5, -1.05, 100.45),
    ]
    found = nearest(cams, here, radius_m=1500, limit=10)
    assert [n.camera.id for n in found] == [2, 3, 1]  # 4 is disabled, 5 is outside the radius
    assert found[0].distance_m == pytest.approx(11.1, abs=0.5)
    assert [n.camera.id for n in nearest(cams, here, radius_m=1500, limit=2)] == [2, 3]
    assert nearest(cams, here, radius_m=5, limit=10) == []


def test_an_incident_without_coordinates_is_placed_at_its_kecamatans_approximate_centre():
    assert place_of(-0.9, 100.4, "Kuranji").point == (-0.9, 100.4)
    kuranji = place_of(None, None, "kuranji")
    assert kuranji is not None and kuranji.approximate and kuranji.point == geography.centre_of("Kuranji")
    assert place_of(None, None, "") is None and place_of(None, None, "Menteng") is None


def test_credentials_are_split_from_the_address():
    upstream = split_credentials("http://admin:p%40ss%3Aw0rd@10.0.0.7:8080/live/index.m3u8?ch=1")
    assert upstream.url == "http://10.0.0.7:8080/live/index.m3u8?ch=1"
    assert (upstream.username, upstream.password) == ("admin", "p@ss:w0rd")
    assert upstream.credentials_for("http://10.0.0.7:8080/live/seg1.ts") == ("admin", "p@ss:w0rd")
    # never to another host, port or scheme named by a playlist
    assert upstream.credentials_for("http://cdn.example/seg1.ts") is None
    assert upstream.credentials_for("http://10.0.0.7:8081/seg1.ts") is None
    assert upstream.credentials_for("https://10.0.0.7:8080/seg1.ts") is None
    assert split_credentials("http://10.0.0.7/x").username is None
    assert with_credentials(upstream) == "http://admin:p%40ss%3Aw0rd@10.0.0.7:8080/live/index.m3u8?ch=1"


def test_redacted_urls_hide_passwords_and_secret_query_values():
    assert redact("rtsp://admin:s3cret@10.0.0.8:554/stream1") == "rtsp://admin:***@10.0.0.8:554/stream1"
    assert (
        redact("http://10.0.0.9/snap.jpg?user=admin&pwd=s3cret&ch=2")
        == "http://10.0.0.9/snap.jpg?user=***&pwd=***&ch=2"
    )
    assert redact("http://10.0.0.9/live.m3u8") == "http://10.0.0.9/live.m3u8"


MEDIA = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MAP:URI="init.mp4"
#EXT-X-KEY:METHOD=AES-128,URI="https://keys.example/k1",IV=0x1
#EXTINF:2.0,
seg100.m4s
#EXTINF:2.0,
http://10.0.0.7/other/seg101.m4s?token=abc
"""
MASTER = """#EXTM3U
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="x",URI="audio/index.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360
low/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=2000000
hi/stream
"""


def test_every_uri_of_a_media_playlist_is_resolved_and_replaced():
    seen: list[tuple[str, bool]] = []

    def ref(url: str, is_playlist: bool) -> str:
        seen.append((url, is_playlist))
        return f"/kamera/7/{'p' if is_playlist else 's'}/{len(seen)}"

    out = rewrite_playlist(MEDIA, "http://10.0.0.7/live/index.m3u8", ref)
    assert seen == [
        ("http://10.0.0.7/live/init.mp4", False),
        ("https://keys.example/k1", False),
        ("http://10.0.0.7/live/seg100.m4s", False),
        ("http://10.0.0.7/other/seg101.m4s?token=abc", False),
    ]
    assert '#EXT-X-MAP:URI="/kamera/7/s/1"' in out and 'METHOD=AES-128,URI="/kamera/7/s/2",IV=0x1' in out
    assert "10.0.0.7" not in out and "keys.example" not in out and "token=abc" not in out
    assert out.splitlines()[:3] == MEDIA.splitlines()[:3]  # tags kept


def test_variant_and_rendition_playlists_are_marked_as_playlists():
    kinds: dict[str, bool] = {}
    rewrite_playlist(MASTER, "http://cam/live/master.m3u8", lambda url, p: (kinds.setdefault(url, p) and "") or "x")
    assert kinds == {
        "http://cam/live/audio/index.m3u8": True,
        "http://cam/live/low/index.m3u8": True,
        "http://cam/live/hi/stream": True,
    }


def test_the_token_table_is_bounded_and_tokens_are_stable_and_opaque():
    table = RefTable(b"k", size=3)
    first = table.token("http://10.0.0.7/seg1.ts", False)
    assert table.token("http://10.0.0.7/seg1.ts", False) == first and "10.0.0.7" not in first
    for n in range(2, 6):
        table.token(f"http://10.0.0.7/seg{n}.ts", False)
    assert len(table) == 3 and table.resolve(first) is None
    assert RefTable(b"other").token("http://10.0.0.7/seg1.ts", False) != first
