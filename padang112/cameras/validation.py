"""Check what an admin submits for a camera, reporting every field error at once (Indonesian + English).

Kecamatan and coordinates follow the incident form's rules (:mod:`padang112.incidents.geography`): one of
Padang's 11 kecamatan, coordinates inside the box around the city. The stream URL's scheme must fit its type
(``rtsp``/``rtsps`` for RTSP, ``http``/``https`` otherwise), it must name a host, and an IP literal must be one
the server may fetch from (:mod:`padang112.cameras.addresses`).
"""

from __future__ import annotations

import dataclasses
import math
from urllib.parse import urlsplit

from padang112.cameras.addresses import Network, url_refusal
from padang112.cameras.model import KINDS, STREAM_TYPES, CameraDraft
from padang112.incidents import geography as geo
from padang112.incidents.validation import Message, ValidationError

MAX_NAME = 120
MAX_LOCATION_TEXT = 500
MAX_URL = 2000
SCHEMES = {
    "hls": ("http", "https"),
    "mjpeg": ("http", "https"),
    "snapshot": ("http", "https"),
    "rtsp": ("rtsp", "rtsps"),
}

__all__ = ["ValidationError", "url_problem", "validate"]


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def url_problem(stream_type: str, url: str, allowed: tuple[Network, ...] = ()) -> Message | None:
    """Why ``url`` cannot be a stream of this type, or None."""
    if not url:
        return ("Wajib diisi.", "Required.")
    if len(url) > MAX_URL or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return ("Alamat stream tidak sah.", "Invalid stream URL.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return ("Alamat stream tidak sah.", "Invalid stream URL.")
    schemes = SCHEMES.get(stream_type, ())
    if parts.scheme.lower() not in schemes:
        return (
            f"Untuk jenis {stream_type} alamat harus diawali {' atau '.join(s + '://' for s in schemes)}.",
            f"A {stream_type} stream URL must start with {' or '.join(s + '://' for s in schemes)}.",
        )
    if not parts.hostname:
        return ("Alamat stream tanpa host.", "The stream URL names no host.")
    if url_refusal(url, allowed) is not None:
        return (
            "Alamat kamera tidak diizinkan: loopback, link-local, atau jaringan privat di luar jaringan kamera "
            "(cameras.allowed_networks).",
            "Camera address not allowed: loopback, link-local, or a private network outside the camera networks "
            "(cameras.allowed_networks).",
        )
    return None


def validate(
    draft: CameraDraft, geography: geo.Geography | None = None, allowed: tuple[Network, ...] = ()
) -> CameraDraft:
    """The cleaned draft (text stripped, kecamatan canonical), or ``ValidationError`` listing every problem."""
    wilayah = geography or geo.load_geography()
    errors: dict[str, Message] = {}
    name = _text(draft.name)
    if not name:
        errors["name"] = ("Wajib diisi.", "Required.")
    elif len(name) > MAX_NAME:
        errors["name"] = (f"Maksimal {MAX_NAME} karakter.", f"At most {MAX_NAME} characters.")
    kecamatan = wilayah.normalise(_text(draft.kecamatan))
    if kecamatan is None:
        errors["kecamatan"] = ("Bukan kecamatan di Kota Padang.", "Not a kecamatan of Padang.")
    location = _text(draft.location_text)
    if len(location) > MAX_LOCATION_TEXT:
        errors["location_text"] = (
            f"Maksimal {MAX_LOCATION_TEXT} karakter.",
            f"At most {MAX_LOCATION_TEXT} characters.",
        )
    lat, lon = draft.latitude, draft.longitude
    if lat is None or lon is None:
        errors["latitude"] = ("Koordinat kamera wajib diisi.", "The camera's coordinates are required.")
    elif not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (lat, lon)):
        errors["latitude"] = ("Koordinat harus berupa angka.", "Coordinates must be numbers.")
    elif not geo.in_padang(lat, lon):
        errors["latitude"] = ("Koordinat di luar wilayah Kota Padang.", "The coordinates lie outside Padang.")
    kind = _text(draft.kind).lower()
    if kind not in KINDS:
        errors["kind"] = ("Jenis kamera tidak dikenal.", "Unknown camera kind.")
    stream_type = _text(draft.stream_type).lower()
    url = _text(draft.stream_url)
    if stream_type not in STREAM_TYPES:
        errors["stream_type"] = ("Jenis stream tidak dikenal.", "Unknown stream type.")
    elif problem := url_problem(stream_type, url, allowed):
        errors["stream_url"] = problem
    if errors or lat is None or lon is None:
        raise ValidationError(errors)
    return dataclasses.replace(
        draft,
        name=name,
        kecamatan=kecamatan or "",
        location_text=location,
        latitude=float(lat),
        longitude=float(lon),
        kind=kind,
        stream_type=stream_type,
        stream_url=url,
    )
