"""``GET/POST /akun/kode``: an admin or supervisor enrols their own second factor (TOTP) from the console.

The page shows a new secret (grouped, to type) and its ``otpauth://`` URI (a link a phone opens in its
authenticator app); nothing is stored until the user confirms with their password and a code the app made from
that secret. The secret travels back in the form with an HMAC (session key, user id, secret), so a page cannot
plant a secret of its own choosing for another account. The password is asked again (a borrowed or stolen
session alone cannot enrol an attacker's phone) and counts in the sign-in back-off of its (name, address).
Enrolling ends the account's other sessions (:meth:`SecondFactorStore.enrol`); this browser gets a new one. To
replace or remove a second factor an admin runs ``padang112 user totp-reset`` (recovery).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from padang112.accounts import totp
from padang112.accounts.users import UserRecord
from padang112.web import auth
from padang112.web.i18n import words

PATH = "/akun/kode"
TEXT = {
    "id": {
        "title": "Kode verifikasi (masuk 2 langkah)",
        "active": "Kode verifikasi aktif untuk akun ini: setelah kata sandi, aplikasi autentikator diminta kodenya."
        " Ponsel hilang atau ganti ponsel? Minta admin menjalankan: padang112 user totp-reset.",
        "intro": "Pasang aplikasi autentikator (mis. Google Authenticator, FreeOTP, Aegis) di ponsel Anda, "
        "tambahkan akun dengan rahasia di bawah (atau buka tautannya di ponsel), lalu ketik kata sandi dan kode "
        "6 angka yang ditampilkan aplikasi.",
        "secret": "Rahasia",
        "link": "Buka di aplikasi autentikator",
        "password": "Kata sandi",
        "code": "Kode 6 angka",
        "submit": "Aktifkan",
        "wrong_password": "Kata sandi salah.",
        "wrong_code": "Kode salah. Periksa jam ponsel dan ketik kode yang sedang tampil.",
        "expired": "Formulir tidak sah atau kedaluwarsa. Muat ulang halaman.",
    },
    "en": {
        "title": "Verification code (two-step sign-in)",
        "active": "A verification code is active for this account: after the password, the authenticator app's "
        "code is asked for. Phone lost or replaced? Ask the admin to run: padang112 user totp-reset.",
        "intro": "Install an authenticator app (e.g. Google Authenticator, FreeOTP, Aegis) on your phone, add an "
        "account with the secret below (or open its link on the phone), then type your password and the 6-digit "
        "code the app shows.",
        "secret": "Secret",
        "link": "Open in the authenticator app",
        "password": "Password",
        "code": "6-digit code",
        "submit": "Turn on",
        "wrong_password": "Wrong password.",
        "wrong_code": "Wrong code. Check the phone's clock and type the code shown now.",
        "expired": "Invalid or expired form. Reload the page.",
    },
}


def setup(app: web.Application) -> None:
    app.router.add_get(PATH, page)
    app.router.add_post(PATH, confirm)


def _binding(request: web.Request, user: UserRecord, secret: str) -> str:
    key = request.app[auth.AUTH].session_key
    return hmac.new(key, f"padang112-enrol:{user.id}:{secret}".encode(), hashlib.sha256).hexdigest()


async def _render(
    request: web.Request, user: UserRecord, secret: str | None, *, error: str | None = None, status: int = 200
) -> web.Response:
    lang = auth.language(request)
    context: dict[str, Any] = {
        **await auth.context_processor(request),
        "t": {**words(lang), **TEXT[lang]},
        "error": TEXT[lang][error] if error else None,
        "enrolled": user.second_factor,
        "secret": secret,
        "grouped": secret and totp.grouped(secret),
        "uri": secret and totp.otpauth_uri(secret, user.username),
        "binding": secret and _binding(request, user, secret),
    }
    response = aiohttp_jinja2.render_template("account_code.html", request, context, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _user(request: web.Request) -> UserRecord:
    user = auth.current_user(request)
    assert user is not None  # auth.require let the request in
    return user


@auth.require(*totp.ROLES)
async def page(request: web.Request) -> web.Response:
    user = _user(request)
    return await _render(request, user, None if user.second_factor else totp.new_secret())


@auth.require(*totp.ROLES)
async def confirm(request: web.Request) -> web.Response:
    """Turn the shown secret on: the password again and a code made from it (the CSRF token was checked)."""
    state, user = request.app[auth.AUTH], _user(request)
    if user.second_factor:
        return auth.see_other(PATH)
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    secret = form.get("secret", "")
    if not secret or not hmac.compare_digest(form.get("binding", ""), _binding(request, user, secret)):
        return await _render(request, user, totp.new_secret(), error="expired", status=400)
    client = auth.client_address(request)
    waiting = await state.backoff.waiting(user.username, client)
    if waiting or not await state.users.password_matches(user.username, form.get("password", "")):
        if not waiting:
            await state.backoff.failed(user.username, client)
        await state.users.audit("totp_enrol_refused", user.username, client=client, reason="wrong_password")
        return await _render(request, user, secret, error="wrong_password", status=400)
    result, step = totp.check(secret, form.get("code", ""), state.clock(), None)
    if result is not totp.Check.OK:
        await state.users.audit("totp_enrol_refused", user.username, client=client, reason="wrong_code")
        return await _render(request, user, secret, error="wrong_code", status=400)
    await state.second_factor.enrol(user.username, by="self", secret=secret, confirmed_step=step)
    return await auth.start_session(request, user.id, PATH)
