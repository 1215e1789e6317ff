"""Accounts: Argon2id hashing, the password rules, the user store's lockout and audit, ``padang112 user``.

Real SQLite files in ``tmp_path``; the clock is injected, nothing sleeps.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncEngine

from padang112 import cli
from padang112.accounts import passwords
from padang112.accounts.users import AccountError, LoginOutcome, UserStore
from tests.unit.conftest import FakeClock, sql_at

pytestmark = pytest.mark.engines("sqlite", "postgresql")  # the storage contract, on both engines

PASSWORD = "kuranji-banjir-2023"


@pytest.fixture
def store(engine: AsyncEngine, clock: FakeClock) -> UserStore:
    return UserStore(engine, clock=clock)


# --- passwords -----------------------------------------------------------------------------------------------


def test_hashes_are_argon2id_salted_and_verify_only_the_right_password() -> None:
    first, second = passwords.hash_password(PASSWORD), passwords.hash_password(PASSWORD)
    assert first.startswith("$argon2id$") and first != second  # a fresh salt each time
    assert passwords.verify_password(first, PASSWORD)
    assert not passwords.verify_password(first, PASSWORD + "x")
    assert not passwords.verify_password("not a hash", PASSWORD)
    assert not passwords.needs_rehash(first)


def test_a_hash_made_with_weaker_parameters_needs_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    assert passwords.verify_password(weak, PASSWORD)
    assert passwords.needs_rehash(weak)


@pytest.mark.parametrize("password", ["short", "123456789", "Rina.Padang", " rina.padang "])
def test_password_policy_refuses_short_passwords_and_the_username(password: str) -> None:
    with pytest.raises(passwords.WeakPassword):
        passwords.check_policy("rina.padang", password)


# --- user store ----------------------------------------------------------------------------------------------


async def test_accounts_validate_role_agency_and_uniqueness(store: UserStore) -> None:
    await store.create("Joni", role="supervisor", password=PASSWORD, display_name="Pak Joni")
    with pytest.raises(AccountError, match="already exists"):
        await store.create("joni", role="supervisor", password=PASSWORD)  # usernames are case-insensitive
    with pytest.raises(AccountError, match="needs --agency"):
        await store.create("bpbd1", role="agency", password=PASSWORD)
    with pytest.raises(AccountError, match="only for the 'agency' role"):
        await store.create("rina", role="call_taker", password=PASSWORD, agency="bpbd")
    with pytest.raises(AccountError, match="unknown role"):
        await store.create("rina", role="root", password=PASSWORD)
    with pytest.raises(AccountError, match="username must"):
        await store.create("x'; DROP TABLE users;--", role="admin", password=PASSWORD)
    joni = await store.get_by_username("JONI")
    assert joni is not None and (joni.username, joni.display_name, joni.role) == ("joni", "Pak Joni", "supervisor")
    assert joni.created_at.tzinfo is not None


async def test_wrong_passwords_never_lock_the_account_against_the_right_one(store: UserStore) -> None:
    await store.create("rina", role="call_taker", password=PASSWORD)
    outcomes = [(await store.authenticate("rina", "wrong-password!")).outcome for _ in range(8)]
    assert outcomes == [LoginOutcome.BAD_CREDENTIALS] * 8

    result = await store.authenticate("rina", PASSWORD)
    assert result.outcome is LoginOutcome.OK and result.user is not None
    assert result.user.failed_logins == 0


async def test_a_success_restarts_the_failure_count(store: UserStore) -> None:
    await store.create("rina", role="call_taker", password=PASSWORD)
    for _ in range(4):
        await store.authenticate("rina", "wrong-password!")
    assert (await store.authenticate("rina", PASSWORD)).outcome is LoginOutcome.OK
    for _ in range(4):
        assert (await store.authenticate("rina", "wrong-password!")).outcome is LoginOutcome.BAD_CREDENTIALS


async def test_new_password_unlocks_and_every_change_is_audited(store: UserStore) -> None:
    await store.create("rina", role="call_taker", password=PASSWORD, by="cli:root")
    for _ in range(5):
        await store.authenticate("rina", "wrong-password!", client="10.0.0.7")
    await store.set_password("rina", PASSWORD + "!", by="cli:root")
    assert (await store.authenticate("rina", PASSWORD + "!")).outcome is LoginOutcome.OK
    await store.disable("rina", by="cli:root")

    actions = [e.action for e in reversed(await store.audit_entries())]
    assert actions == ["user_created"] + ["login_failed"] * 5 + [
        "password_changed",
        "login",
        "user_disabled",
    ]
    assert all(e.username == "rina" for e in await store.audit_entries())


# --- padang112 user ------------------------------------------------------------------------------------------


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str, backend: str) -> str:
    """The command line's configuration (``PADANG112_CONFIG``), on the test's database; returns its URL."""
    toml = tmp_path / "padang112.toml"
    database = "" if backend == "sqlite" else f'database_url = "{db_url}"\n'
    toml.write_text(f'state_dir = "{tmp_path / "state"}"\n{database}')
    monkeypatch.setenv("PADANG112_CONFIG", str(toml))
    return db_url


def run_cli(monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))  # not a terminal
    return cli.main(["user", *argv])


def users_table(db_url: str) -> dict[str, tuple[str, str | None, bool]]:
    rows = sql_at(db_url, "SELECT username, role, agency, disabled FROM users")
    return {name: (role, agency, bool(disabled)) for name, role, agency, disabled in rows}


def test_cli_adds_lists_changes_and_disables_users(
    config_file: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        run_cli(
            monkeypatch,
            "add",
            "rina",
            "--role",
            "call_taker",
            "--name",
            "Rina",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        == 0
    )
    assert (
        run_cli(
            monkeypatch,
            "add",
            "damkar1",
            "--role",
            "agency",
            "--agency",
            "damkar",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        == 0
    )
    assert users_table(config_file) == {"rina": ("call_taker", None, False), "damkar1": ("agency", "damkar", False)}

    assert run_cli(monkeypatch, "passwd", "rina", "--password-stdin", stdin="a-new-long-password\n") == 0
    [(encoded,)] = sql_at(config_file, "SELECT password_hash FROM users WHERE username = 'rina'")
    assert passwords.verify_password(encoded, "a-new-long-password")

    assert run_cli(monkeypatch, "disable", "damkar1") == 0
    assert users_table(config_file)["damkar1"] == ("agency", "damkar", True)

    capsys.readouterr()
    assert run_cli(monkeypatch, "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["USERNAME", "ROLE", "AGENCY", "STATUS", "TOTP", "NAME"]
    assert [line.split() for line in lines[1:]] == [
        ["damkar1", "agency", "damkar", "disabled", "-", "damkar1"],
        ["rina", "call_taker", "-", "active", "-", "Rina"],
    ]


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["add", "rina", "--role", "call_taker"], "", "use --password-stdin"),
        (["add", "rina", "--role", "call_taker", "--password-stdin"], "", "nothing on standard input"),
        (["add", "rina", "--role", "call_taker", "--password-stdin"], "short\n", "at least 10 characters"),
        (["add", "rina1234567", "--role", "call_taker", "--password-stdin"], "rina1234567\n", "not be the username"),
        (["add", "bp", "--role", "agency", "--password-stdin"], PASSWORD + "\n", "needs --agency"),
        (["passwd", "nobody", "--password-stdin"], PASSWORD + "\n", "no user 'nobody'"),
        (["disable", "nobody"], "", "no user 'nobody'"),
    ],
)
def test_cli_refuses_bad_input_with_exit_code_2_and_a_clear_message(
    config_file: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    stdin: str,
    message: str,
) -> None:
    assert run_cli(monkeypatch, *argv, stdin=stdin) == 2
    assert message in capsys.readouterr().err


def test_cli_refuses_a_duplicate_user(
    config_file: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ("add", "rina", "--role", "call_taker", "--password-stdin")
    assert run_cli(monkeypatch, *argv, stdin=PASSWORD + "\n") == 0
    assert run_cli(monkeypatch, *argv, stdin=PASSWORD + "\n") == 2
    assert "already exists" in capsys.readouterr().err


def test_cli_refuses_an_unknown_role(config_file: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SystemExit) as exit_:
        run_cli(monkeypatch, "add", "rina", "--role", "root", "--password-stdin", stdin=PASSWORD + "\n")
    assert exit_.value.code == 2


@pytest.mark.parametrize(
    "weak", ["password1234", "1234567890", "qwertyuiop", "Sunshine2026!", "padang112!!", "Rina20261234", "zzzzzzzzzzzz"]
)
async def test_common_and_decorated_common_passwords_are_refused(store: UserStore, weak: str) -> None:
    with pytest.raises(AccountError, match=r"common|repeat"):
        await store.create("rina", role="call_taker", password=weak)
    assert await store.get_by_username("rina") is None
