"""The hold music: the packaged songs without their long silences, whole and cut into pieces, made once and
swapped in whole."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from padang112.pbx import prompts
from padang112.simulator import tones

RATE = 8000
LOUD, QUIET = b"\x00\x10", b"\x00\x00"  # a sample at -18 dBFS, and digital silence


def _song(path: Path, *parts: tuple[bytes, float]) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        for sample, seconds in parts:
            out.writeframes(sample * int(seconds * RATE))


def _lengths(directory: Path) -> list[float]:
    lengths = []
    for piece in sorted(directory.glob("*.wav")):
        with wave.open(str(piece), "rb") as music:
            assert (music.getnchannels(), music.getsampwidth(), music.getframerate()) == (1, 2, RATE)
            lengths.append(round(music.getnframes() / RATE, 2))
    return lengths


def test_songs_lose_their_long_silences_and_are_cut_into_pieces_of_the_announcement_interval(tmp_path: Path) -> None:
    moh, hold = tmp_path / "moh", tmp_path / "hold"
    moh.mkdir()
    # a song as the package has them: a quiet start, a pause inside, 9 s of silence at its end
    _song(moh / "a.wav", (QUIET, 0.8), (LOUD, 30), (QUIET, 2.0), (LOUD, 25), (QUIET, 9.0))
    _song(moh / "b.wav", (LOUD, prompts.HOLD_PIECE_S - 1))
    assert prompts.cut_hold_music(moh, hold, log=lambda _: None) == 2 + 4
    songs, pieces = hold / prompts.SONGS, hold / prompts.PIECES
    kept = prompts.QUIET_KEPT_S
    assert _lengths(songs) == [round(kept + 30 + kept + 25 + kept, 2), prompts.HOLD_PIECE_S - 1]
    assert sorted(_lengths(pieces)) == sorted([prompts.HOLD_PIECE_S] * 2 + [round(55 + 3 * kept - 50, 2), 24])
    for music in [*songs.glob("*.wav"), *pieces.glob("*.wav")]:
        assert tones.longest_silence(music) <= kept + 0.1, music.name
    assert not list(tmp_path.glob(".*")), "no half-built directory left beside it"


def test_making_it_again_changes_nothing_unless_the_songs_changed(tmp_path: Path) -> None:
    moh, hold = tmp_path / "moh", tmp_path / "hold"
    moh.mkdir()
    _song(moh / "a.wav", (LOUD, prompts.HOLD_PIECE_S + 5))
    assert prompts.cut_hold_music(moh, hold, log=lambda _: None) == 1 + 2
    assert prompts.cut_hold_music(moh, hold, log=lambda _: None) == 0
    _song(moh / "c.wav", (LOUD, 3))
    assert prompts.cut_hold_music(moh, hold, log=lambda _: None) == 2 + 3
    assert sorted(_lengths(hold / prompts.PIECES)) == [3, 5, prompts.HOLD_PIECE_S]


def test_no_music_on_hold_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="asterisk-moh-opsound-wav"):
        prompts.cut_hold_music(tmp_path, tmp_path / "hold", log=lambda _: None)
