"""``GET/POST /masuk`` (sign in) and ``POST /keluar`` (sign out); Indonesian first, English with ``?lang=en``.

The sign-in form is posted before a session exists, so its CSRF token cannot be the session's: the page sets
a random nonce in a cookie limited to ``/masuk`` and puts HMAC-SHA256(session_key, nonce) in the form. A
cross-site page can neither read the cookie nor compute the HMAC. Every failure shows the same page with a
fixed message; what the user typed is echoed only through the template's autoescaping.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112.accounts.users import Clock, LoginOutcome, normalize_username, utc_now
from padang112.config import Settings
from padang112.web import live_guard, second_step
from padang112.web.auth import (
    AUTH,
    CSRF_FIELD,
    LANG_COOKIE,
    SESSION_COOKIE,
    AuthPolicy,
    client_address,
    current_user,
    language,
    resolve_session,
    safe_next,
    see_other,
    start_session,
)
from padang112.web.auth import setup as auth_setup

LOGIN_COOKIE = "padang112_login"
_MAX_TYPED = 128  # longest username echoed back or looked up

TEXT = {
    "id": {
        "title": "Masuk",
        "username": "Nama pengguna",
        "password": "Kata sandi",
        "submit": "Masuk",
        "other_lang": "English",
        "other_code": "en",
        LoginOutcome.BAD_CREDENTIALS.value: "Nama pengguna atau kata sandi salah. Setelah 5 kali salah dari "
        "komputer ini, tunggu 5 menit atau masuk dari komputer lain.",
        LoginOutcome.DISABLED.value: "Akun ini dinonaktifkan. Hubungi admin.",
        LoginOutcome.TOTP_MISSING.value: "Akun ini wajib memakai kode verifikasi (2 langkah), tetapi belum "
        "terdaftar. Minta admin menjalankan: padang112 user totp-enrol.",
        "too_many": "Terlalu banyak percobaan masuk dari alamat ini. Tunggu satu menit.",
        "csrf": "Formulir kedaluwarsa. Silakan coba lagi.",
    },
    "en": {
        "title": "Sign in",
        "username": "Username",
        "password": "Password",
        "submit": "Sign in",
        "other_lang": "Bahasa Indonesia",
        "other_code": "id",
        LoginOutcome.BAD_CREDENTIALS.value: "Wrong username or password. After 5 wrong tries from this "
        "computer, wait 5 minutes or sign in from another one.",
        LoginOutcome.DISABLED.value: "This account is disabled. Contact the admin.",
        LoginOutcome.TOTP_MISSING.value: "This account must use a verification code (two steps) but has none "
        "enrolled yet. Ask the admin to run: padang112 user totp-enrol.",
        "too_many": "Too many sign-in attempts from this address. Wait a minute.",
        "csrf": "The form has expired. Please try again.",
    },
}


def setup(
    app: web.Application,
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    policy: AuthPolicy | None = None,
    clock: Clock = utc_now,
) -> None:
    """Sign-in for an application: sessions and CSRF checks (:func:`auth.setup`), ``/masuk`` and ``/keluar``."""
    auth_setup(app, settings, engine=engine, policy=policy, clock=clock)
    add_routes(app)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/masuk", login_page)
    app.router.add_post("/masuk", login_submit)
    app.router.add_post("/keluar", logout)
    second_step.add_routes(app)


def _form_token(request: web.Request, nonce: str) -> str:
    key = request.app[AUTH].session_key
    return hmac.new(key, b"padang112-login:" + nonce.encode(), hashlib.sha256).hexdigest()


def _field(form: Mapping[str, object], name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _render(
    request: web.Request, *, status: int = 200, error: str | None = None, username: str = "", next_path: str = "/"
) -> web.Response:
    lang = language(request)
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not 16 <= len(nonce) <= 64:
        nonce = secrets.token_urlsafe(24)
    context = {
        "t": TEXT[lang],
        "lang": lang,
        "error": TEXT[lang][error] if error else None,
        "username": username,
        "next": next_path,
        "csrf_field": CSRF_FIELD,
        "csrf_token": _form_token(request, nonce),
    }
    response = aiohttp_jinja2.render_template("login.html", request, context, status=status)
    secure = request.app[AUTH].policy.secure_cookie
    response.set_cookie(LOGIN_COOKIE, nonce, httponly=True, samesite="Strict", path="/masuk", secure=secure)
    if request.query.get("lang") == lang:
        response.set_cookie(LANG_COOKIE, lang, samesite="Lax", path="/", max_age=365 * 86400, secure=secure)
    response.headers["Cache-Control"] = "no-store"
    return response


async def login_page(request: web.Request) -> web.Response:
    next_path = safe_next(request.query.get("next"))
    if await resolve_session(request) is not None:
        return see_other(next_path)
    return _render(request, next_path=next_path)


async def login_submit(request: web.Request) -> web.Response:
    state = request.app[AUTH]
    form = await request.post()
    username = _field(form, "username")[:_MAX_TYPED]
    next_path = safe_next(_field(form, "next"))
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    # The form token first: a cross-site page posting wrong passwords must not use up this address's attempts.
    if not nonce or not hmac.compare_digest(_field(form, CSRF_FIELD), _form_token(request, nonce)):
        return _render(request, status=403, error="csrf", username=username, next_path=next_path)
    client = client_address(request)
    if not state.limiter.allow(client):
        return _render(request, status=429, error="too_many", username=username, next_path=next_path)

    name, password = normalize_username(username), _field(form, "password")
    if await state.backoff.waiting(name, client):  # answered exactly like a wrong password, at the same cost
        result = await state.users.refuse(username, password, client=client, reason="backoff")
    else:
        result = await state.users.authenticate(username, password, client=client)
        if result.outcome is LoginOutcome.BAD_CREDENTIALS:
            await state.backoff.failed(name, client)
    passed = (LoginOutcome.OK, LoginOutcome.CODE_NEEDED)
    if result.outcome not in passed or result.user is None:
        return _render(request, status=401, error=result.outcome.value, username=username, next_path=next_path)
    await state.backoff.succeeded(name, client)
    if result.outcome is LoginOutcome.CODE_NEEDED:  # no session before the code: second_step opens it
        return second_step.begin(request, result.user.id, next_path)
    response = await start_session(request, result.user.id, next_path)
    response.del_cookie(LOGIN_COOKIE, path="/masuk")
    return response


async def logout(request: web.Request) -> web.Response:
    """Reached only with a live session and its CSRF token (the middleware checked both)."""
    state = request.app[AUTH]
    user = current_user(request)
    token = request.cookies[SESSION_COOKIE]
    await state.sessions.close(token)
    live_guard.end_session(request.app, token)  # its live sockets stop streaming now
    if user is not None:
        await state.users.audit("logout", user.username, client=client_address(request))
    response = see_other("/masuk")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response
