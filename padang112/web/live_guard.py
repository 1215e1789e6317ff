"""Keeps each ``/ws`` connection tied to the sign-in session that opened it, and to this site's pages.

The auth middleware checks the session once, at the upgrade; a WebSocket then lives for hours. Without this
module it kept streaming calls and incidents after the user signed out, was disabled, got a new password or
the session expired. Now:

- signing out (``POST /keluar``) closes that session's sockets at once (:func:`end_session`);
- every socket re-checks its session every ``interval`` (disable and password change happen in the
  ``padang112 user`` CLI, another process; expiry happens by itself) and closes when it is gone. The check
  does not count as activity: an unattended console still reaches its idle timeout;
- a closed socket gets code :data:`SESSION_ENDED` (the page goes to the sign-in form instead of reconnecting);
- the upgrade is refused (403) when the browser says it comes from another site's page (``Origin``), so a
  page elsewhere cannot open a socket with the user's cookie (cross-site WebSocket hijacking). Clients that
  are not browsers send no ``Origin`` and are let through: they hold the cookie themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from aiohttp import web

from padang112.web import auth

log = logging.getLogger(__name__)

SESSION_ENDED = 4401  # a private close code (4000-4999): "signed out", the page shows the sign-in form
RECHECK_S = 10.0


class SessionSockets:
    """Open sockets by session token, each with the event that ends it, so a sign-out can close them."""

    def __init__(self) -> None:
        self._by_token: dict[str, dict[web.WebSocketResponse, asyncio.Event]] = {}

    def add(self, token: str, ws: web.WebSocketResponse) -> asyncio.Event:
        ended = asyncio.Event()
        self._by_token.setdefault(token, {})[ws] = ended
        return ended

    def discard(self, token: str, ws: web.WebSocketResponse) -> None:
        sockets = self._by_token.get(token)
        if sockets is not None:
            sockets.pop(ws, None)
            if not sockets:
                del self._by_token[token]

    def end(self, token: str) -> None:
        for ended in self._by_token.get(token, {}).values():
            ended.set()


SOCKETS = web.AppKey("live_sockets", SessionSockets)
RECHECK = web.AppKey("live_recheck_s", float)


def setup(app: web.Application, recheck_s: float = RECHECK_S) -> None:
    app[SOCKETS] = SessionSockets()
    app[RECHECK] = recheck_s


def origin_allowed(request: web.Request) -> bool:
    """No ``Origin`` (not a browser), or one naming this host (scheme aside: a TLS proxy may sit in front)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == request.host.lower()


def end_session(app: web.Application, token: str) -> None:
    """Close the sockets opened with ``token`` (the session was just closed); an app without /ws has none.

    Only signals: each socket's own watcher closes it, and its handler waits for that before returning.
    """
    sockets = app.get(SOCKETS)
    if sockets is not None:
        sockets.end(token)


async def _watch(
    request: web.Request, ws: web.WebSocketResponse, token: str, user_id: int, ended: asyncio.Event
) -> None:
    """Wait for a sign-out or the next re-check; close the socket once its session is gone."""
    sessions = request.app[auth.AUTH].sessions
    while not ws.closed:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ended.wait(), request.app[RECHECK])
        if not ended.is_set():
            try:
                active = await sessions.resolve(token, touch=False)
            except Exception:  # the database is busy or gone: keep the socket, try again next round
                log.exception("live: session re-check failed")
                continue
            if active is not None and active.user.id == user_id:
                continue
        log.info("live: session of user id %s ended; closing its socket", user_id)
        ended.set()  # the handler now waits for the close instead of cancelling it
        if not ws.closed:
            await ws.close(code=SESSION_ENDED, message=b"session ended")
        return


@contextlib.asynccontextmanager
async def guarded(request: web.Request, ws: web.WebSocketResponse) -> AsyncIterator[None]:
    """Around a prepared socket's lifetime: registered for sign-out, re-checked every interval."""
    token = request.cookies.get(auth.SESSION_COOKIE, "")
    user = auth.current_user(request)
    assert user is not None  # the auth middleware let only a signed-in request through
    sockets = request.app[SOCKETS]
    ended = sockets.add(token, ws)
    watcher = asyncio.create_task(_watch(request, ws, token, user.id, ended), name=f"ws-session:{user.id}")
    try:
        yield
    finally:
        sockets.discard(token, ws)
        if not ended.is_set():
            watcher.cancel()  # the client went away by itself
        await asyncio.gather(watcher, return_exceptions=True)  # else it finishes closing the socket
