"""Sign-in for the web console: sessions, CSRF, login rate limits and per-role access.

``setup(app, settings)`` installs a middleware under which every route needs a signed-in user, except
:data:`PUBLIC_PATHS` and ``/static/``. An HTML ``GET`` without a session is redirected to ``/masuk``; any
other request gets 401 (JSON under ``/api/``). Handlers narrow access with :func:`require`.

Sessions are server-side (:mod:`padang112.accounts.sessions`): the cookie holds only a random token, and
signing out, disabling a user or changing a password ends the session at once. Every ``POST``/``PUT``/
``PATCH``/``DELETE`` must carry the session's CSRF token as form field ``csrf_token`` or header
``X-CSRF-Token``. The sign-in form itself, posted before any session exists, carries an HMAC-SHA256 (keyed
with the installation's ``session_key``) of a random nonce kept in its own cookie (see :mod:`.login`).
"""

from __future__ import annotations

import functools
import hmac
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112.accounts import ROLES
from padang112.accounts.backoff import CODE, LoginBackoff
from padang112.accounts.second_factor import SecondFactorStore
from padang112.accounts.sessions import ActiveSession, SessionStore
from padang112.accounts.users import Clock, UserRecord, UserStore, utc_now
from padang112.config import Settings
from padang112.storage.db import create_engine
from padang112.storage.migrate import upgrade_async
from padang112.web import tls

# Module constants until they become settings.
IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_LIFETIME = timedelta(hours=12)
KIOSK_LIFETIME = timedelta(days=30)  # the "wall" role: a big screen signed in once, kept active by its own polling
SECURE_COOKIE = True  # the console is served over HTTPS; settings may drop it on loopback (web/tls.py)
IP_ATTEMPTS_PER_MINUTE = 20  # sign-in form posts per client address (after the form token is checked)

SESSION_COOKIE = "padang112_session"
LANG_COOKIE = "lang"
LANGS = ("id", "en")
# /metrics is not behind the sign-in layer: it admits its scrape addresses and checks sessions itself
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/masuk", "/masuk/kode", "/metrics"})
PUBLIC_PREFIXES = ("/static/",)
MEDIA_PREFIXES = ("/kamera/",)  # the camera proxy: a player, not a person, asks; it gets 401, not the sign-in form
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

MESSAGES = {
    "id": {
        "unauthenticated": "Silakan masuk terlebih dahulu.",
        "forbidden": "Anda tidak berwenang membuka halaman ini.",
        "csrf": "Permintaan ditolak: token keamanan (CSRF) tidak ada atau salah. Muat ulang halaman.",
    },
    "en": {
        "unauthenticated": "Please sign in first.",
        "forbidden": "You are not allowed to open this page.",
        "csrf": "Request refused: the security (CSRF) token is missing or wrong. Reload the page.",
    },
}


@dataclass(frozen=True)
class AuthPolicy:
    idle_timeout: timedelta = IDLE_TIMEOUT
    absolute_lifetime: timedelta = ABSOLUTE_LIFETIME
    kiosk_lifetime: timedelta = KIOSK_LIFETIME
    secure_cookie: bool = SECURE_COOKIE
    ip_attempts_per_minute: int = IP_ATTEMPTS_PER_MINUTE
    trusted_proxies: frozenset[str] = frozenset()  # X-Forwarded-For is read only from these peers
    require_totp: bool = False  # admins and supervisors must have a second factor (accounts/totp.py)


class AttemptLimiter:
    """Sign-in attempts per client address in a sliding minute (in memory: one process serves the console)."""

    def __init__(self, per_minute: int, clock: Clock) -> None:
        self._per_minute = per_minute
        self._clock = clock
        self._seen: dict[str, list[datetime]] = {}

    def allow(self, client: str) -> bool:
        """Count one attempt from ``client``; False if it is over the limit (refused attempts count too)."""
        now = self._clock()
        horizon = now - timedelta(minutes=1)
        if len(self._seen) > 4096:  # forget quiet addresses so the table cannot grow without bound
            self._seen = {k: v for k, v in self._seen.items() if v and v[-1] > horizon}
        recent = [t for t in self._seen.get(client, []) if t > horizon]
        recent.append(now)
        self._seen[client] = recent[-(self._per_minute + 1) :]
        return len(recent) <= self._per_minute


@dataclass
class AuthState:
    """What the auth middleware and the sign-in pages share; the stores are set when the app starts."""

    policy: AuthPolicy
    session_key: bytes
    clock: Clock
    limiter: AttemptLimiter
    users: UserStore = field(init=False)
    sessions: SessionStore = field(init=False)
    backoff: LoginBackoff = field(init=False)  # passwords, per (name, address)
    code_backoff: LoginBackoff = field(init=False)  # second-factor codes, per account
    second_factor: SecondFactorStore = field(init=False)

    def attach(self, engine: AsyncEngine) -> None:
        self.users = UserStore(engine, clock=self.clock, require_totp=self.policy.require_totp)
        self.backoff = LoginBackoff(engine, self.clock)
        self.code_backoff = LoginBackoff(engine, self.clock, scope=CODE)
        self.second_factor = SecondFactorStore(engine, clock=self.clock)
        self.sessions = SessionStore(
            engine,
            idle_timeout=self.policy.idle_timeout,
            absolute_lifetime=self.policy.absolute_lifetime,
            clock=self.clock,
            role_lifetimes={"wall": self.policy.kiosk_lifetime},
        )


AUTH = web.AppKey("auth", AuthState)
# web.RequestKey exists from aiohttp 3.12 on; older versions take a plain string.
_SESSION: Any = (
    web.RequestKey("padang112_session", ActiveSession) if hasattr(web, "RequestKey") else "padang112_session"
)
_ROLES_ATTR = "__padang112_roles__"


def setup(
    app: web.Application,
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    policy: AuthPolicy | None = None,
    clock: Clock = utc_now,
) -> None:
    """Install sessions and CSRF checks (``login.setup`` adds ``/masuk`` and ``/keluar`` on top). Without ``engine``,
    opens one on the database."""
    policy = policy or AuthPolicy(
        secure_cookie=tls.secure_cookies(settings.web),
        trusted_proxies=frozenset(settings.web.trusted_proxies),
        require_totp=settings.web.require_totp,
    )
    state = AuthState(
        policy=policy,
        session_key=settings.secrets().session_key.encode(),
        clock=clock,
        limiter=AttemptLimiter(policy.ip_attempts_per_minute, clock),
    )
    app[AUTH] = state
    if engine is not None:
        state.attach(engine)
    else:

        async def database(app: web.Application) -> AsyncIterator[None]:
            await upgrade_async(settings.db_url)  # a no-op when the storage stack already did it
            own = create_engine(settings.db_url)
            state.attach(own)
            try:
                yield
            finally:
                await own.dispose()

        app.cleanup_ctx.append(database)
    app.middlewares.append(_middleware)


def current_user(request: web.Request) -> UserRecord | None:
    """The signed-in user of this request (None on public routes and for anonymous requests)."""
    active = request.get(_SESSION)
    return None if active is None else active.user


def csrf_token(request: web.Request) -> str:
    """The token a form on this page must send back (pages of a signed-in user only)."""
    active: ActiveSession = request[_SESSION]
    return active.csrf_token


async def context_processor(request: web.Request) -> dict[str, Any]:
    """``current_user``, ``csrf_token`` (None on public pages) and ``lang`` for templates.

    Usable as an aiohttp_jinja2 context processor, or merged into a handler's context by hand.
    """
    active = request.get(_SESSION)
    return {
        "current_user": active and active.user,
        "csrf_token": active and active.csrf_token,
        "lang": language(request),
    }


def require(*roles: str) -> Callable[[Handler], Handler]:
    """Allow a handler to the given roles only (no roles: any signed-in user); others get 403."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            user = current_user(request)
            if user is None:
                return unauthenticated(request)
            if roles and user.role not in roles:
                return refusal(request, 403, "forbidden")
            return await handler(request)

        setattr(guarded, _ROLES_ATTR, frozenset(roles or ROLES))
        return guarded

    return decorate


def allowed_roles(path: str, handler: Callable[..., Any]) -> frozenset[str] | None:
    """Who may call ``handler`` at ``path``: None for public, else the roles (all of them when undeclared)."""
    if is_public(path):
        return None
    return getattr(handler, _ROLES_ATTR, frozenset(ROLES))


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def language(request: web.Request) -> str:
    """``?lang=`` first, then the ``lang`` cookie, else Indonesian."""
    for lang in (request.query.get("lang"), request.cookies.get(LANG_COOKIE)):
        if lang in LANGS:
            return lang
    return "id"


def client_address(request: web.Request) -> str:
    """The client's address: the TCP peer's, or behind a configured reverse proxy what it forwarded.

    ``X-Forwarded-For`` is believed only when the peer is one of ``web.trusted_proxies`` (anyone else could
    write any address there and dodge the sign-in limits), and then only its last entry that is not itself a
    trusted proxy: the entries before it were written by the client.
    """
    peer = request.remote or "unknown"
    trusted = request.app[AUTH].policy.trusted_proxies
    if peer not in trusted:
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getall("X-Forwarded-For", [])).split(",") if h.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop[:64]
    return peer


def wants_json(request: web.Request) -> bool:
    return request.path.startswith("/api/")


def refusal(request: web.Request, status: int, what: str) -> web.Response:
    message = MESSAGES[language(request)][what]
    if wants_json(request):
        return web.json_response({"error": what, "message": message}, status=status)
    page = f'<!doctype html><html lang="{language(request)}"><meta charset="utf-8"><p>{message}</p>'
    if status == 401:
        page += '<p><a href="/masuk">Masuk / Sign in</a></p>'
    return web.Response(text=page, status=status, content_type="text/html")


def unauthenticated(request: web.Request) -> web.StreamResponse:
    """A page asked for by a browser goes to the sign-in form; an API call or a WebSocket upgrade gets 401."""
    websocket = request.headers.get("Upgrade", "").lower() == "websocket"
    media = request.path.startswith(MEDIA_PREFIXES)
    if request.method in ("GET", "HEAD") and not wants_json(request) and not websocket and not media:
        raise web.HTTPFound(login_url(request.path_qs))
    return refusal(request, 401, "unauthenticated")


def login_url(next_path: str) -> str:
    return "/masuk" if next_path in ("", "/") else "/masuk?" + urlencode({"next": next_path})


_LOCAL_PATH = re.compile(r"/(?![/\\\\])[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*")


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a page path on this site, else ``/``.

    Only ``/`` followed by URL path and query characters, never ``//`` or ``/\\``: browsers drop tabs and
    newlines and read ``\\`` as ``/``, so ``/%09/evil.example`` (a tab once decoded) or ``/\\evil.example`` would
    leave the site. Percent escapes stay escaped in ``Location`` and so stay inside the path.
    """
    if not value or len(value) > 2048 or not _LOCAL_PATH.fullmatch(value):
        return "/"
    return value


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})


async def start_session(request: web.Request, user_id: int, next_path: str) -> web.Response:
    """Sign ``user_id`` in (every step passed): a new session, never one carried over (fixation); go to ``next``."""
    state = request.app[AUTH]
    if old := request.cookies.get(SESSION_COOKIE):
        await state.sessions.close(old)
    await state.sessions.purge_expired()
    new = await state.sessions.open(user_id)
    response = see_other(next_path)
    response.set_cookie(
        SESSION_COOKIE, new.token, httponly=True, samesite="Strict", path="/", secure=state.policy.secure_cookie
    )
    return response


async def resolve_session(request: web.Request) -> ActiveSession | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 256:
        return None
    return await request.app[AUTH].sessions.resolve(token)


async def _csrf_ok(request: web.Request, expected: str) -> bool:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.content_type in _FORM_TYPES:
        value = (await request.post()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    return sent is not None and hmac.compare_digest(sent.encode(), expected.encode())


@web.middleware
async def _middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if is_public(request.path):
        return await handler(request)
    active = await resolve_session(request)
    if active is None:
        return unauthenticated(request)
    request[_SESSION] = active
    if request.method not in SAFE_METHODS and not await _csrf_ok(request, active.csrf_token):
        await request.app[AUTH].users.audit(
            "csrf_refused",
            active.user.username,
            path=request.path,
            method=request.method,
            client=client_address(request),
        )
        return refusal(request, 403, "csrf")
    return await handler(request)
