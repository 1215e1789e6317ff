"""Goertzel tone detection: finds the tone that is there, rejects the one that is not."""

from __future__ import annotations

import math
import random
import struct
import wave
from pathlib import Path

import pytest

from padang112.simulator import tones


def write_wav(
    path: Path,
    rate: int,
    freqs: list[float],
    seconds: float,
    amp: float = 0.4,
    channels: int = 1,
    noise: float = 0.0,
    seed: int = 1,
) -> Path:
    rng = random.Random(seed)
    frames = bytearray()
    for i in range(int(rate * seconds)):
        t = i / rate
        x = sum(amp * math.sin(2 * math.pi * f * t) for f in freqs) + (rng.gauss(0, noise) if noise else 0.0)
        s = max(-32768, min(32767, int(x * 32767)))
        frames += struct.pack("<h", s) * channels
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(bytes(frames))
    return path


def concat(out: Path, rate: int, *parts: Path) -> Path:
    with wave.open(str(out), "wb") as dst:
        dst.setnchannels(1)
        dst.setsampwidth(2)
        dst.setframerate(rate)
        for part in parts:
            with wave.open(str(part), "rb") as src:
                dst.writeframes(src.readframes(src.getnframes()))
    return out


@pytest.mark.parametrize("rate", [8000, 16000, 44100])
def test_pure_tone_is_found_at_any_sample_rate(tmp_path: Path, rate: int) -> None:
    wav = write_wav(tmp_path / "a.wav", rate, [440], 1.0)
    assert tones.tone_level(wav, 440) > 0.9
    assert tones.contains_tone(wav, 440)
    assert not tones.contains_tone(wav, 1000)
    assert tones.tone_level(wav, 1000) < 0.01
    assert not tones.is_silent(wav)


def test_two_tones_each_carry_about_half(tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "mix.wav", 16000, [440, 1000], 1.0, amp=0.3)
    assert 0.4 < tones.tone_level(wav, 440) < 0.6
    assert 0.4 < tones.tone_level(wav, 1000) < 0.6
    assert tones.contains_tone(wav, 440) and tones.contains_tone(wav, 1000)
    assert not tones.contains_tone(wav, 700)


def test_stereo_is_mixed_down(tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "st.wav", 8000, [1000], 0.5, channels=2)
    assert tones.contains_tone(wav, 1000)


def test_silence_is_silent_and_has_no_tone(tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "s.wav", 8000, [], 1.0)
    assert tones.is_silent(wav)
    assert tones.tone_level(wav, 440) == 0.0
    assert tones.tone_seconds(wav, 440) == 0.0


def test_noise_is_not_a_tone(tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "n.wav", 16000, [], 1.0, noise=0.2)
    assert not tones.is_silent(wav)
    assert tones.tone_level(wav, 440) < 0.05
    assert not tones.contains_tone(wav, 1000)


def test_tone_in_noise_is_still_found(tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "tn.wav", 8000, [1000], 1.0, amp=0.3, noise=0.05)
    assert tones.contains_tone(wav, 1000)


def test_window_and_duration_measure_only_part_of_the_file(tmp_path: Path) -> None:
    rate = 8000
    quiet = write_wav(tmp_path / "q.wav", rate, [], 1.0)
    tone = write_wav(tmp_path / "t.wav", rate, [440], 2.0)
    joined = concat(tmp_path / "j.wav", rate, quiet, tone)
    assert tones.is_silent(joined, end_s=1.0)
    assert tones.contains_tone(joined, 440, start_s=1.0)
    assert tones.tone_seconds(joined, 440) == pytest.approx(2.0, abs=0.1)


def test_a_tone_after_long_loud_prompts_is_still_found(tmp_path: Path) -> None:
    """Like a caller's recording: greeting and queue music first, then the call taker's tone."""
    rate = 8000
    prompts = write_wav(tmp_path / "p.wav", rate, [300, 523, 784], 8.0, amp=0.25, noise=0.1)
    tone = write_wav(tmp_path / "t.wav", rate, [1000], 1.0, amp=0.2)
    joined = concat(tmp_path / "j.wav", rate, prompts, tone)
    assert tones.tone_level(joined, 1000) < 0.3  # diluted over the whole file...
    assert tones.contains_tone(joined, 1000)  # ...but present for a full second
    assert not tones.contains_tone(joined, 440)


def test_a_blip_shorter_than_min_seconds_is_not_a_tone(tmp_path: Path) -> None:
    rate = 8000
    prompts = write_wav(tmp_path / "p.wav", rate, [], 5.0, noise=0.3)
    blip = write_wav(tmp_path / "b.wav", rate, [1000], 0.2)
    joined = concat(tmp_path / "j.wav", rate, prompts, blip)
    assert not tones.contains_tone(joined, 1000)
    assert tones.contains_tone(joined, 1000, min_seconds=0.15)


def test_eight_bit_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "8.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(8000)
        wav.writeframes(bytes(800))
    with pytest.raises(ValueError):
        tones.tone_level(path, 440)


def _concat(path: Path, parts: list[Path]) -> Path:
    frames = b""
    for part in parts:
        with wave.open(str(part), "rb") as wav:
            frames += wav.readframes(wav.getnframes())
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(frames)
    return path


def test_silent_stretches_finds_the_gap_a_caller_heard_and_its_length(tmp_path: Path) -> None:
    music = write_wav(tmp_path / "m.wav", 8000, [440], 1.0)
    gap = write_wav(tmp_path / "g.wav", 8000, [], 2.5)
    short = write_wav(tmp_path / "s.wav", 8000, [], 0.3)
    path = _concat(tmp_path / "all.wav", [music, short, music, gap, music])
    runs = tones.silent_stretches(path)
    assert [(round(start, 1), round(length, 1)) for start, length in runs] == [(1.0, 0.3), (2.3, 2.5)]
    assert tones.longest_silence(path) == pytest.approx(2.5, abs=0.11)
    assert tones.longest_silence(music) == 0.0


def test_first_tone_at_tells_when_the_call_taker_was_put_through(tmp_path: Path) -> None:
    music = write_wav(tmp_path / "m.wav", 8000, [440], 2.0)
    seat = write_wav(tmp_path / "t.wav", 8000, [1000], 1.0)
    path = _concat(tmp_path / "all.wav", [music, seat])
    assert tones.first_tone_at(path, 1000) == pytest.approx(2.0, abs=0.06)
    assert tones.first_tone_at(music, 1000) is None


def _spoken(path: Path, rate: int, syllables: list[float], seed: int) -> Path:
    """A stand-in for a voice prompt: bursts of noisy vowels of the given lengths, with pauses between them."""
    parts = []
    for i, length in enumerate(syllables):
        parts.append(write_wav(path.with_name(f"{path.stem}-s{i}.wav"), rate, [220, 660], length, 0.3, noise=0.05))
        parts.append(write_wav(path.with_name(f"{path.stem}-p{i}.wav"), rate, [], 0.08 + 0.05 * (i % 3), seed=seed))
    return concat(path, rate, *parts)


def test_a_voice_prompt_is_found_where_it_was_heard_between_music_and_not_where_it_was_not(tmp_path: Path) -> None:
    rate = 8000
    prompt = _spoken(tmp_path / "hold.wav", rate, [0.2, 0.35, 0.15, 0.3, 0.25, 0.4, 0.2], seed=2)
    other = _spoken(tmp_path / "other.wav", rate, [0.4, 0.15, 0.15, 0.35, 0.2, 0.2, 0.3], seed=3)
    music = write_wav(tmp_path / "music.wav", rate, [330, 392, 494], 3.0, amp=0.2, noise=0.02)
    heard = concat(tmp_path / "heard.wav", rate, music, prompt, music)
    assert tones.prompt_at(heard, prompt) == pytest.approx(3.0, abs=0.04)
    assert tones.prompt_at(heard, other) is None
    assert tones.prompt_at(concat(tmp_path / "none.wav", rate, music, other, music), prompt) is None
