"""The fallback queue's hold music: the packaged songs cut into pieces, once, swapped in whole."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from padang112.pbx import prompts

RATE = 8000


def _song(path: Path, seconds: float) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(b"\x01\x00" * int(seconds * RATE))


def _lengths(directory: Path) -> list[float]:
    lengths = []
    for piece in sorted(directory.glob("*.wav")):
        with wave.open(str(piece), "rb") as music:
            assert (music.getnchannels(), music.getsampwidth(), music.getframerate()) == (1, 2, RATE)
            lengths.append(music.getnframes() / RATE)
    return lengths


def test_each_song_is_cut_into_pieces_of_the_announcement_interval_and_nothing_is_lost(tmp_path: Path) -> None:
    moh, hold = tmp_path / "moh", tmp_path / "hold"
    moh.mkdir()
    _song(moh / "a.wav", 2 * prompts.HOLD_PIECE_S + 10)
    _song(moh / "b.wav", prompts.HOLD_PIECE_S - 1)
    assert prompts.cut_hold_music(moh, hold, log=lambda _: None) == 4
    assert sorted(_lengths(hold)) == sorted([prompts.HOLD_PIECE_S] * 2 + [10, prompts.HOLD_PIECE_S - 1])
    assert not list(tmp_path.glob(".*")), "no half-built directory left beside it"


def test_cutting_again_changes_nothing_unless_the_songs_changed(tmp_path: Path) -> None:
    moh, hold = tmp_path / "moh", tmp_path / "hold"
    moh.mkdir()
    _song(moh / "a.wav", prompts.HOLD_PIECE_S + 5)
    assert prompts.cut_hold_music(moh, hold, log=lambda _: None) == 2
    assert prompts.cut_hold_music(moh, hold, log=lambda _: None) == 0
    _song(moh / "c.wav", 3)
    assert prompts.cut_hold_music(moh, hold, log=lambda _: None) == 3
    assert sorted(_lengths(hold)) == [3, 5, prompts.HOLD_PIECE_S]


def test_no_music_on_hold_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="asterisk-moh-opsound-wav"):
        prompts.cut_hold_music(tmp_path, tmp_path / "hold", log=lambda _: None)
