"""The chroot's asterisk account never shares an id with a host account (same kernel: signals, ptrace, files)."""

from __future__ import annotations

from pathlib import Path

from padang112.pbx import users


def _etc(base: Path, passwd: list[tuple[str, int]], group: list[tuple[str, int]]) -> Path:
    base.mkdir(parents=True)
    (base / "passwd").write_text("".join(f"{n}:x:{i}:{i}::/:/bin/false\n" for n, i in passwd))
    (base / "group").write_text("".join(f"{n}:x:{i}:\n" for n, i in group))
    return base


def test_an_id_used_by_a_host_account_is_a_collision(tmp_path: Path) -> None:
    host = _etc(tmp_path / "host", [("root", 0), ("postgres", 101)], [("root", 0), ("_ssh", 101)])
    assert users.host_collisions(101, 101, host) == ["user postgres (uid 101)", "group _ssh (gid 101)"]
    assert users.host_collisions(112, 112, host) == []


def test_a_host_account_named_asterisk_is_not_a_collision(tmp_path: Path) -> None:
    host = _etc(tmp_path / "host", [("asterisk", 130)], [("asterisk", 130)])
    assert users.host_collisions(130, 130, host) == []


def test_the_chosen_id_is_free_on_the_host_and_in_the_chroot(tmp_path: Path) -> None:
    host = _etc(tmp_path / "host", [("postgres", 101), ("x", 200)], [("_ssh", 101)])
    root = tmp_path / "root"
    _etc(root / "etc", [("root", 0)], [("root", 0)])
    assert users.choose_id(root, host) == users.PREFERRED_ID
    _etc(tmp_path / "host2", [("y", users.PREFERRED_ID), ("w", 200)], [("z", 201)])
    assert users.choose_id(root, tmp_path / "host2") == 202
