"""Keeping camera addresses and credentials on the server, and HLS playlists rewritten to point at the proxy.

A stream URL such as ``http://admin:s3cret@10.20.0.7/live/index.m3u8`` is split into the address the server
fetches and the credentials it sends as HTTP Basic auth. A browser only ever sees ``/kamera/<id>/...``:
every URI in a playlist (segments, variant playlists, keys, init sections) is replaced by an opaque token
that the proxy maps back (:class:`RefTable`). Only URIs on the camera's own origin (scheme, host and port) are
kept: a playlist naming any other address (the console itself, ARI, a metadata service) loses that line, so the
server never fetches it. Credentials are sent only to the camera's own origin too.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

SECRET_QUERY_KEYS = frozenset(
    {
        "user",
        "username",
        "usr",
        "pass",
        "passwd",
        "password",
        "pwd",
        "token",
        "auth",
        "key",
        "apikey",
        "api_key",
        "sig",
        "signature",
        "secret",
        "access_token",
    }
)
MASK = "***"
_URI_ATTR = re.compile(r'URI="([^"]*)"')
# Tags whose URI attribute names another playlist; every other URI attribute names a resource (key, map, part).
_PLAYLIST_TAGS = ("#EXT-X-MEDIA:", "#EXT-X-I-FRAME-STREAM-INF:", "#EXT-X-RENDITION-REPORT:")


@dataclass(frozen=True)
class Upstream:
    """Where the server fetches from: the URL without credentials, and the credentials for that origin."""

    url: str
    username: str | None = None
    password: str | None = None

    @property
    def origin(self) -> tuple[str, str, int | None]:
        return origin_of(self.url)

    def credentials_for(self, url: str) -> tuple[str, str] | None:
        """The credentials, only if ``url`` is on the camera's own scheme, host and port."""
        if self.username is None or origin_of(url) != self.origin:
            return None
        return (self.username, self.password or "")

    def headers_for(self, url: str) -> dict[str, str]:
        """HTTP Basic ``Authorization`` for ``url`` when it is on the camera's own origin, else nothing."""
        creds = self.credentials_for(url)
        if creds is None:
            return {}
        token = base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
        return {"Authorization": f"Basic {token}"}


def origin_of(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443, "rtsp": 554, "rtsps": 322}.get(parts.scheme.lower())
    return (parts.scheme.lower(), (parts.hostname or "").lower(), parts.port or default)


def split_credentials(url: str) -> Upstream:
    """``http://u:p@host/x`` → ``Upstream("http://host/x", "u", "p")`` (percent-escapes in u and p undone)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return Upstream(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return Upstream(clean, unquote(parts.username or ""), unquote(parts.password or ""))


def redact(url: str) -> str:
    """The URL with its password and secret-looking query values masked (what an admin's screen may show)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{MASK}@{hostport}" if ":" in userinfo else f"{user}@{hostport}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, MASK if k.lower() in SECRET_QUERY_KEYS else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def with_credentials(upstream: Upstream) -> str:
    """The URL with its credentials back in it (for ffmpeg, which takes RTSP credentials only that way)."""
    if upstream.username is None:
        return upstream.url
    parts = urlsplit(upstream.url)
    userinfo = quote(upstream.username, safe="") + (
        ":" + quote(upstream.password, safe="") if upstream.password else ""
    )
    return urlunsplit((parts.scheme, f"{userinfo}@{parts.netloc}", parts.path, parts.query, parts.fragment))


Ref = Callable[[str, bool], str]  # (absolute upstream URL, is a playlist) -> what the browser fetches instead


class _Foreign(Exception):
    """A URI off the playlist's origin: its line is dropped."""


def rewrite_playlist(text: str, base_url: str, ref: Ref, origin: tuple[str, str, int | None] | None = None) -> str:
    """Every URI of an HLS playlist, resolved against ``base_url`` and replaced by ``ref(url, is_playlist)``.

    URIs that are not http(s) after resolving (``data:``, ``skd:``) are left as they are, since they name no
    address. With ``origin``, a URI on another origin is never handed to ``ref``: a tag naming one is dropped, and
    so is a segment or variant line with the tag that announced it (``#EXTINF``, ``#EXT-X-STREAM-INF``).
    """
    out: list[str] = []
    next_is_playlist = False
    pending: list[str] = []  # tags that belong to the next URI line
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            out.append(line)
        elif stripped.startswith("#"):
            try:
                tag = _rewrite_tag(stripped, base_url, ref, origin)
            except _Foreign:
                continue  # a key, map or rendition elsewhere: the tag goes
            next_is_playlist = next_is_playlist or tag.startswith("#EXT-X-STREAM-INF")
            (pending if tag.startswith(_URI_LINE_TAGS) else out).append(tag)
        else:
            is_playlist = next_is_playlist or urlsplit(stripped).path.lower().endswith((".m3u8", ".m3u"))
            with contextlib.suppress(_Foreign):  # a segment or variant elsewhere goes, with its tags
                out += [*pending, _resolve(stripped, base_url, is_playlist, ref, origin)]
            pending, next_is_playlist = [], False
    return "\n".join(out) + "\n"


def _rewrite_tag(tag: str, base_url: str, ref: Ref, origin: tuple[str, str, int | None] | None) -> str:
    if 'URI="' not in tag:
        return tag
    is_playlist = tag.startswith(_PLAYLIST_TAGS)
    return _URI_ATTR.sub(partial(_uri_attr, base_url=base_url, playlist=is_playlist, ref=ref, origin=origin), tag)


def _uri_attr(
    match: re.Match[str], base_url: str, playlist: bool, ref: Ref, origin: tuple[str, str, int | None] | None
) -> str:
    return f'URI="{_resolve(match.group(1), base_url, playlist, ref, origin)}"'


_URI_LINE_TAGS = ("#EXTINF", "#EXT-X-STREAM-INF", "#EXT-X-BYTERANGE", "#EXT-X-DISCONTINUITY", "#EXT-X-PROGRAM-DATE")


def _resolve(uri: str, base_url: str, is_playlist: bool, ref: Ref, origin: tuple[str, str, int | None] | None) -> str:
    absolute = urljoin(base_url, uri)
    if urlsplit(absolute).scheme.lower() not in ("http", "https"):
        return uri
    if origin is not None and origin_of(absolute) != origin:
        raise _Foreign(uri)
    return ref(absolute, is_playlist)


class RefTable:
    """Opaque tokens for upstream URLs, the most recent ``size`` kept (a live playlist names new segments forever).

    A token is an HMAC of the URL, so a URL keeps its token (playlists re-fetched every few seconds name the
    same segments) and a token reveals nothing about the address. An unknown token is a 404: the player
    fetches the playlist again.
    """

    def __init__(self, key: bytes, size: int = 256) -> None:
        self._key = key
        self._size = size
        self._urls: OrderedDict[str, tuple[str, bool]] = OrderedDict()

    def token(self, url: str, is_playlist: bool) -> str:
        digest = hmac.new(self._key, url.encode(), hashlib.sha256).hexdigest()[:32]
        self._urls[digest] = (url, is_playlist)
        self._urls.move_to_end(digest)
        while len(self._urls) > self._size:
            self._urls.popitem(last=False)
        return digest

    def resolve(self, token: str) -> tuple[str, bool] | None:
        return self._urls.get(token)

    def __len__(self) -> int:
        return len(self._urls)
