"""A signed-in console user over HTTP, as a browser is: the sign-in form, the session cookie, the CSRF token
sent with every change, the JSON API and the live ``/ws``. The demo's simulated staff use nothing else, so they
go through the same doors (and the same rules) as the people in the room.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

_FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_PAGE_TOKEN = re.compile(r'<script type="application/json" id="csrf">("[^"]*")</script>')


class ConsoleError(Exception):
    """The console refused a request (``status`` and its ``error`` code)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code = status, code


class ConsoleSession:
    def __init__(self, base_url: str, username: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.http = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # 127.0.0.1 is an IP address: keep its cookie anyway
            timeout=aiohttp.ClientTimeout(total=30),  # a sign-in (argon2) on a busy server
        )
        self.csrf = ""

    async def sign_in(self, password: str) -> str:
        """Sign in with the form; returns the page the console sent this role to (``/kursi``, ``/opd``, ...)."""
        async with self.http.get(self.base_url + "/masuk") as page:
            form = _FORM_TOKEN.search(await page.text())
        if form is None:
            raise ConsoleError(page.status, "no_form", "the sign-in page has no form")
        data = {"username": self.username, "password": password, "csrf_token": form.group(1), "next": "/"}
        async with self.http.post(self.base_url + "/masuk", data=data) as landed:
            token = _PAGE_TOKEN.search(await landed.text())
            if landed.status != 200 or token is None or landed.url.path == "/masuk":
                raise ConsoleError(landed.status, "sign_in_failed", f"{self.username} could not sign in")
            self.csrf = json.loads(token.group(1))
            return landed.url.path

    async def get(self, path: str) -> Any:
        return await self.request("GET", path)

    async def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return await self.request("POST", path, body or {})

    async def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        headers = {"X-CSRF-Token": self.csrf}
        async with self.http.request(method, self.base_url + path, json=body, headers=headers) as response:
            data = await response.json(content_type=None)
            if response.status >= 400:
                error = data if isinstance(data, dict) else {}
                raise ConsoleError(response.status, str(error.get("error", "")), str(error.get("message", "")))
            return data

    async def live(self) -> AsyncIterator[dict[str, Any]]:
        """The user's live messages (``/ws``) until the connection closes."""
        async with self.http.ws_connect(self.base_url + "/ws", heartbeat=20) as ws:
            async for message in ws:
                if message.type == aiohttp.WSMsgType.TEXT:
                    yield json.loads(message.data)
                elif message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    return

    async def close(self) -> None:
        await self.http.close()
