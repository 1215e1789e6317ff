"""Tone detection on WAV recordings, in pure Python (no numpy), for audio-path tests.

The simulator plays a sine tone on each side of a call and records what it hears; a test then asks "does the
caller's recording contain the seat's 1000 Hz tone?". The Goertzel algorithm gives the power of one frequency
at the cost of one multiply-add per sample, so plain Python handles a minute of 16 kHz audio in well under a
second.

Measures work on short blocks (50 ms by default) so that codec drift, jitter-buffer gaps and prompts before the
tone do not smear the result:

- ``tone_level``: share of the signal's energy that sits at ``hz`` (1.0 for a pure tone, about 0.5 for each of
  two equally loud tones, about ``2 / block_samples`` for white noise, 0.0 for silence);
- ``tone_seconds``: how long the tone dominates (blocks whose own level is at least ``min_level``);
- ``contains_tone``: either of the two above passes a threshold;
- ``is_silent``: RMS below a threshold in dBFS;
- ``prompt_at``: where a known voice prompt was heard (its loudness contour matched, not its frequencies).
"""

from __future__ import annotations

import math
import sys
import wave
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BLOCK_S = 0.05
FULL_SCALE = 32768.0


@dataclass(frozen=True)
class Audio:
    """Mono samples (floats in -1..1) and their sample rate."""

    rate: int
    samples: list[float]

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate if self.rate else 0.0


def read_wav(path: str | Path, start_s: float = 0.0, end_s: float | None = None) -> Audio:
    """Read a 16-bit PCM WAV (mono or multi-channel, channels averaged) between ``start_s`` and ``end_s``."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit PCM is supported (sample width {wav.getsampwidth()})")
        rate, channels = wav.getframerate(), wav.getnchannels()
        first = max(0, int(start_s * rate))
        last = wav.getnframes() if end_s is None else min(wav.getnframes(), int(end_s * rate))
        if last <= first:
            return Audio(rate, [])
        wav.setpos(first)
        raw = wav.readframes(last - first)
    pcm = array("h")
    pcm.frombytes(raw[: len(raw) - len(raw) % 2])
    if sys.byteorder == "big":
        pcm.byteswap()
    if channels == 1:
        return Audio(rate, [s / FULL_SCALE for s in pcm])
    frames = len(pcm) // channels
    mixed = [sum(pcm[i * channels : (i + 1) * channels]) / (channels * FULL_SCALE) for i in range(frames)]
    return Audio(rate, mixed)


def goertzel_power(samples: list[float], rate: int, hz: float) -> float:
    """Energy of ``samples`` at ``hz``, scaled so that a pure tone gives its total energy (sum of squares)."""
    n = len(samples)
    if n == 0:
        return 0.0
    coeff = 2.0 * math.cos(2.0 * math.pi * hz / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2
    return 2.0 * power / n


def _blocks(audio: Audio, block_s: float) -> Iterator[list[float]]:
    size = max(1, int(audio.rate * block_s))
    data = audio.samples
    for i in range(0, len(data) - size + 1, size):
        yield data[i : i + size]


def _block_levels(audio: Audio, hz: float, block_s: float) -> Iterator[tuple[float, float]]:
    """(tone energy, total energy) per block."""
    for block in _blocks(audio, block_s):
        total = sum(x * x for x in block)
        yield (goertzel_power(block, audio.rate, hz) if total > 0 else 0.0), total


def tone_level(
    path: str | Path, hz: float, start_s: float = 0.0, end_s: float | None = None, block_s: float = BLOCK_S
) -> float:
    """Share (0..1) of the energy between ``start_s`` and ``end_s`` that is at ``hz``; 0.0 for silence."""
    tone = total = 0.0
    for t, e in _block_levels(read_wav(path, start_s, end_s), hz, block_s):
        tone += t
        total += e
    return min(1.0, tone / total) if total > 0 else 0.0


def tone_seconds(
    path: str | Path,
    hz: float,
    min_level: float = 0.5,
    start_s: float = 0.0,
    end_s: float | None = None,
    block_s: float = BLOCK_S,
    min_dbfs: float = -50.0,
) -> float:
    """Seconds during which ``hz`` carries at least ``min_level`` of a block's (non-silent) energy."""
    audio = read_wav(path, start_s, end_s)
    size = max(1, int(audio.rate * block_s))
    floor = size * 10 ** (min_dbfs / 10)  # energy of a block at min_dbfs RMS
    hits = sum(1 for t, e in _block_levels(audio, hz, block_s) if e > floor and t >= min_level * e)
    return hits * size / audio.rate if audio.rate else 0.0


def contains_tone(
    path: str | Path,
    hz: float,
    min_fraction: float = 0.3,
    start_s: float = 0.0,
    end_s: float | None = None,
    min_seconds: float = 0.5,
) -> bool:
    """Whether ``hz`` is clearly there: it carries at least ``min_fraction`` of the window's energy, or it
    carries that share of the energy of the blocks making up at least ``min_seconds`` of audio.

    The second rule matters for a caller's recording, which starts with greeting prompts and music on hold:
    a call taker's tone heard for the last two seconds of a twenty-second recording is still heard.
    """
    if tone_level(path, hz, start_s, end_s) >= min_fraction:
        return True
    return tone_seconds(path, hz, min_fraction, start_s, end_s) >= min_seconds


def rms_dbfs(path: str | Path, start_s: float = 0.0, end_s: float | None = None) -> float:
    """RMS level in dBFS (-inf for digital silence or an empty window)."""
    samples = read_wav(path, start_s, end_s).samples
    if not samples:
        return -math.inf
    mean = sum(x * x for x in samples) / len(samples)
    return 10 * math.log10(mean) if mean > 0 else -math.inf


def is_silent(
    path: str | Path, threshold_dbfs: float = -50.0, start_s: float = 0.0, end_s: float | None = None
) -> bool:
    """True when the RMS level stays below ``threshold_dbfs`` (G.711 silence decodes to almost zero)."""
    return rms_dbfs(path, start_s, end_s) < threshold_dbfs


def silent_stretches(
    path: str | Path,
    threshold_dbfs: float = -50.0,
    block_s: float = 0.1,
    start_s: float = 0.0,
    end_s: float | None = None,
) -> list[tuple[float, float]]:
    """(start, length) in seconds of every run of blocks quieter than ``threshold_dbfs``: what a caller heard as
    silence (no greeting, music or voice)."""
    audio = read_wav(path, start_s, end_s)
    step = max(1, int(audio.rate * block_s))
    runs: list[tuple[float, float]] = []
    run_start: int | None = None
    floor = 10 ** (threshold_dbfs / 10)  # mean square of a block at the threshold (full scale = 1.0)
    for i in range(0, len(audio.samples) - step + 1, step):
        block = audio.samples[i : i + step]
        quiet = sum(x * x for x in block) / len(block) < floor
        if quiet and run_start is None:
            run_start = i
        elif not quiet and run_start is not None:
            runs.append((start_s + run_start / audio.rate, (i - run_start) / audio.rate))
            run_start = None
    if run_start is not None:
        end = len(audio.samples) - len(audio.samples) % step
        runs.append((start_s + run_start / audio.rate, (end - run_start) / audio.rate))
    return runs


def longest_silence(
    path: str | Path, threshold_dbfs: float = -50.0, start_s: float = 0.0, end_s: float | None = None
) -> float:
    """The longest silent stretch in seconds (0.0 if none)."""
    return max(
        (length for _, length in silent_stretches(path, threshold_dbfs, start_s=start_s, end_s=end_s)), default=0.0
    )


def first_tone_at(
    path: str | Path, hz: float, min_level: float = 0.5, hold_s: float = 0.5, block_s: float = BLOCK_S
) -> float | None:
    """Seconds into the recording where ``hz`` starts to dominate for ``hold_s`` (a call taker's tone: the caller
    was put through), or None if it never does."""
    audio = read_wav(path)
    size = max(1, int(audio.rate * block_s))
    floor = size * 10 ** (-50.0 / 10)
    need = max(1, round(hold_s / block_s))
    run = 0
    for i, (t, e) in enumerate(_block_levels(audio, hz, block_s)):
        run = run + 1 if e > floor and t >= min_level * e else 0
        if run == need:
            return (i + 1 - need) * size / audio.rate
    return None


def _contour(audio: Audio, block_s: float) -> list[float]:
    """Log loudness per block: speech's syllables and pauses, which survive the codecs of a phone line."""
    return [math.log(math.sqrt(sum(x * x for x in block) / len(block)) + 1e-4) for block in _blocks(audio, block_s)]


def _standardised(values: list[float]) -> list[float]:
    mean = sum(values) / len(values)
    centred = [v - mean for v in values]
    spread = math.sqrt(sum(c * c for c in centred))
    return [c / spread for c in centred] if spread > 0 else [0.0] * len(values)


def prompt_at(path: str | Path, prompt: str | Path, min_match: float = 0.9, block_s: float = 0.02) -> float | None:
    """Seconds into the recording where ``prompt`` (a WAV of the voice prompt the switch plays) was heard: where
    the prompt's loudness contour correlates best with the recording's, if at least ``min_match`` (1.0: the same
    contour); None if nowhere. Music and other prompts stay far below 0.9."""
    wanted = _standardised(_contour(read_wav(prompt), block_s))
    heard = _contour(read_wav(path), block_s)
    best, at = min_match, None
    for start in range(len(heard) - len(wanted) + 1):
        match = sum(w * h for w, h in zip(wanted, _standardised(heard[start : start + len(wanted)]), strict=True))
        if match >= best:
            best, at = match, start * block_s
    return at
