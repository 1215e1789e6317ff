"""Issue 10 item 6: sign-in guessing can neither lock a user out nor tell which names exist.

Attacks: five wrong passwords for a call taker's name from one address (which used to lock the account against
the right password everywhere); comparing the answers (status, text, time) for an unknown name and a name whose
back-off is running; posting the form with a wrong token to use up an address's sign-in attempts; writing
``X-Forwarded-For`` to pass for another address. The test instance has no trusted proxy.
"""

from __future__ import annotations

import statistics

import pytest

from padang112.web.auth import IP_ATTEMPTS_PER_MINUTE
from tests.security.conftest import client, error_text, post_sign_in

pytestmark = pytest.mark.live


async def test_guessing_from_one_address_does_not_lock_the_user_out_elsewhere(controller, make_account) -> None:
    victim = make_account("call_taker")
    async with client(controller.base_url, "127.0.0.61") as attacker:
        for i in range(5):
            assert (await post_sign_in(attacker, victim.username, f"tebakan-{i}-salah")).status == 401
        # now even the right password waits from the guesser's address, and a forged forwarded address is ignored
        forged = {"X-Forwarded-For": "127.0.0.62"}
        assert (await post_sign_in(attacker, victim.username, victim.password, headers=forged)).status == 401
    async with client(controller.base_url, "127.0.0.62") as desk:
        done = await post_sign_in(desk, victim.username, victim.password)
        assert done.status == 303, "the right password from the user's own desk must work"


async def test_unknown_and_waiting_names_get_the_same_answer_in_the_same_time(controller, make_account) -> None:
    known = make_account("call_taker")
    unknown = "sec-nobody-" + known.username[-6:]
    async with client(controller.base_url, "127.0.0.63") as http:
        for i in range(5):
            await post_sign_in(http, known.username, f"tebakan-{i}-salah")
        answers = {"unknown": [], "waiting": []}
        for _ in range(5):  # interleaved, so load on the machine falls on both alike
            answers["unknown"].append(await post_sign_in(http, unknown, known.password))
            answers["waiting"].append(await post_sign_in(http, known.username, known.password))
    seen = {(a.status, error_text(a.text)) for kind in answers for a in answers[kind]}
    assert len(seen) == 1 and next(iter(seen))[0] == 401, seen
    median = {kind: statistics.median(a.seconds for a in rows) for kind, rows in answers.items()}
    print(f"\nmedian answer: unknown name {median['unknown']:.3f} s, waiting name {median['waiting']:.3f} s")
    # both verify one Argon2 hash and write one audit row; a refusal that skipped the hash is ~10x faster
    assert 0.5 < median["unknown"] / median["waiting"] < 2.0


async def test_posts_without_the_form_token_do_not_use_up_the_address(controller, make_account) -> None:
    account = make_account("supervisor")
    async with client(controller.base_url, "127.0.0.64") as http:
        async with http.get("/masuk") as page:
            await page.read()  # the nonce cookie, which a cross-site form post would make the browser send
        forged = {"username": account.username, "password": "x", "csrf_token": "forged"}
        for _ in range(IP_ATTEMPTS_PER_MINUTE + 5):
            async with http.post("/masuk", data=forged, allow_redirects=False) as refused:
                assert refused.status == 403
        assert (await post_sign_in(http, account.username, account.password)).status == 303
