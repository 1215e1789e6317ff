"""``GET/POST /masuk/kode``: the second sign-in step (a TOTP code) of admins and supervisors who enrolled one.

After the right password (:mod:`.login`) such a user gets no session, only a step cookie (``padang112_step``,
``/masuk`` only, :data:`STEP_LIFETIME`): ``<user id>.<issued>.<HMAC-SHA256(session_key, both)>``. No page or API
accepts it, so calling them straight after the password step gets 401 like any anonymous request. The session
is opened only here, once :meth:`~padang112.accounts.second_factor.SecondFactorStore.check` accepted a code:
right, within one step of now, and never used before. Wrong codes are counted per account from every address
(scope ``code`` of :mod:`padang112.accounts.backoff`, kept in the database); while the account waits, every
code, the right one too, gets the wrong code's answer. The per-address form limit of ``/masuk`` applies too.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from padang112.accounts import totp
from padang112.web.auth import AUTH, CSRF_FIELD, client_address, language, safe_next, see_other, start_session

STEP_COOKIE = "padang112_step"
STEP_LIFETIME = 300  # seconds from the right password to the code
PATH = "/masuk/kode"

TEXT = {
    "id": {
        "title": "Kode verifikasi",
        "code": "Kode 6 angka dari aplikasi autentikator",
        "submit": "Masuk",
        "hint": "Buka aplikasi autentikator di ponsel Anda dan ketik kode untuk Padang112.",
        "wrong": "Kode salah atau sudah dipakai. Tunggu kode berikutnya. Setelah 5 kali salah, akun ini "
        "menunggu 5 menit.",
        "too_many": "Terlalu banyak percobaan dari alamat ini. Tunggu satu menit.",
        "csrf": "Formulir kedaluwarsa. Silakan coba lagi.",
        "restart": "Masuk ulang dengan kata sandi",
        "other_lang": "English",
        "other_code": "en",
    },
    "en": {
        "title": "Verification code",
        "code": "6-digit code from the authenticator app",
        "submit": "Sign in",
        "hint": "Open the authenticator app on your phone and type the code for Padang112.",
        "wrong": "Wrong or already used code. Wait for the next code. After 5 wrong codes this account waits "
        "5 minutes.",
        "too_many": "Too many attempts from this address. Wait a minute.",
        "csrf": "The form has expired. Please try again.",
        "restart": "Sign in again with the password",
        "other_lang": "Bahasa Indonesia",
        "other_code": "id",
    },
}


def add_routes(app: web.Application) -> None:
    app.router.add_get(PATH, code_page)
    app.router.add_post(PATH, code_submit)


def _mac(request: web.Request, payload: str) -> str:
    key = request.app[AUTH].session_key
    return hmac.new(key, b"padang112-step:" + payload.encode(), hashlib.sha256).hexdigest()


def begin(request: web.Request, user_id: int, next_path: str) -> web.Response:
    """The password was right: hand out the step cookie and go to the code form."""
    payload = f"{user_id}.{int(request.app[AUTH].clock().timestamp())}"
    response = see_other(PATH + ("" if next_path == "/" else "?" + urlencode({"next": next_path})))
    secure = request.app[AUTH].policy.secure_cookie
    cookie = f"{payload}.{_mac(request, payload)}"
    response.set_cookie(STEP_COOKIE, cookie, httponly=True, samesite="Strict", path="/masuk", secure=secure)
    return response


def _user_id(request: web.Request) -> int | None:
    """Whose password step this browser passed, if its step cookie is genuine and fresh."""
    parts = request.cookies.get(STEP_COOKIE, "").split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    if not hmac.compare_digest(parts[2], _mac(request, f"{parts[0]}.{parts[1]}")):
        return None
    if not 0 <= request.app[AUTH].clock().timestamp() - int(parts[1]) <= STEP_LIFETIME:
        return None
    return int(parts[0])


def _form_token(request: web.Request) -> str:
    return _mac(request, "form:" + request.cookies.get(STEP_COOKIE, ""))


def _render(request: web.Request, next_path: str, *, status: int = 200, error: str | None = None) -> web.Response:
    lang = language(request)
    context = {
        "t": TEXT[lang],
        "lang": lang,
        "error": TEXT[lang][error] if error else None,
        "next": next_path,
        "csrf_field": CSRF_FIELD,
        "csrf_token": _form_token(request),
    }
    response = aiohttp_jinja2.render_template("login_code.html", request, context, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _field(form: Mapping[str, object], name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def code_page(request: web.Request) -> web.Response:
    if _user_id(request) is None:
        return see_other("/masuk")
    return _render(request, safe_next(request.query.get("next")))


async def code_submit(request: web.Request) -> web.Response:
    state = request.app[AUTH]
    user_id = _user_id(request)
    if user_id is None:  # no password step, a forged or an expired one: start again
        return see_other("/masuk")
    form = await request.post()
    next_path = safe_next(_field(form, "next"))
    if not hmac.compare_digest(_field(form, CSRF_FIELD), _form_token(request)):
        return _render(request, next_path, status=403, error="csrf")
    client = client_address(request)
    if not state.limiter.allow(client):
        return _render(request, next_path, status=429, error="too_many")
    account = f"id:{user_id}"
    waiting = await state.code_backoff.waiting(account)
    code = _field(form, "code")[:32]
    result, user = await state.second_factor.check(user_id, code, client=client, waiting=waiting)
    if result is not totp.Check.OK or user is None:
        if not waiting:
            await state.code_backoff.failed(account)
        return _render(request, next_path, status=401, error="wrong")
    await state.code_backoff.succeeded(account)
    response = await start_session(request, user.id, next_path)
    response.del_cookie(STEP_COOKIE, path="/masuk")
    return response
