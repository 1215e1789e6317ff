"""Generate the Indonesian voice prompts with espeak-ng and sox and install them into the switch's sounds.

Files land in ``<sounds>/<LANGUAGE>/padang112/<name>.wav`` (8 kHz, mono, 16-bit: Asterisk's native
slin rate, so no resampling per call). Channels get ``language=<LANGUAGE>`` (endpoints, asterisk.conf
defaultlanguage) and Asterisk looks in ``sounds/<language>/`` first; ``sounds/padang112`` is also linked to
the same folder so that a channel with any other language (say "en") still finds the prompts through
Asterisk's language-less fallback. Referenced as ``padang112/<name>`` (dialplan) or
``sound:padang112/<name>`` (ARI).

It also cuts the switch's music on hold into the fallback queue's hold music (``cut_hold_music``).

Only stdlib imports: the Docker image build runs ``python3 -m padang112.pbx.prompts ...`` without the
project's dependencies.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import wave
from array import array
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from padang112.pbx import prompt_texts

MANIFEST = ".padang112-prompts.json"
SOUNDS_DIR = PurePosixPath("/usr/share/asterisk/sounds")
FOLDER = "padang112"
MOH_DIR = PurePosixPath("/usr/share/asterisk/moh")  # asterisk-moh-opsound-wav: 8 kHz mono 16-bit WAV songs
HOLD_MUSIC_DIR = PurePosixPath("/usr/share/asterisk/padang112-hold")
SONGS, PIECES = "songs", "pieces"  # its two folders: the default music class's, the fallback queue's
# Asterisk plays the fallback queue's music class's announcement (please-hold) between two of its files: the
# pieces' length is how often a caller waiting there is told to stay on the line (~30 s with the prompt).
HOLD_PIECE_S = 25
# The packaged songs end in up to 9 s of silence (and some start with 0.7-0.9 s): a caller on hold must never hear
# that long a silence, so a quiet stretch is kept only up to QUIET_KEPT_S.
QUIET_BLOCK_S = 0.02
QUIET_MEAN_SQUARE = (10 ** (-50 / 20) * 32768) ** 2  # below -50 dBFS, as tones.silent_stretches hears silence
QUIET_KEPT_S = 0.3
HOLD_MANIFEST = ".padang112-hold.json"


def _fingerprint(text: str) -> str:
    key = f"{prompt_texts.ESPEAK_VOICE}|{prompt_texts.ESPEAK_SPEED}|8000/1/16|{text}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _synthesise(text: str, out: Path, work: Path) -> None:
    raw = work / "raw.wav"
    subprocess.run(
        ["espeak-ng", "-v", prompt_texts.ESPEAK_VOICE, "-s", str(prompt_texts.ESPEAK_SPEED), "-w", str(raw), text],
        check=True,
        capture_output=True,
    )
    tmp = out.with_name(f".{out.name}.tmp.wav")
    # norm -3: espeak is quiet; a phone line wants a healthy level without clipping
    subprocess.run(
        ["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", str(tmp), "norm", "-3"],
        check=True,
        capture_output=True,
    )
    os.replace(tmp, out)


def _print(message: str) -> None:
    print(f"[asterisk] {message}", flush=True)


def generate(directory: Path, log: Callable[[str], None] = _print) -> list[str]:
    """Create or refresh every prompt in ``directory``; returns the names (re)generated.

    A manifest of text fingerprints makes this idempotent: unchanged prompts are not synthesised again.
    """
    missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
    if missing:
        raise RuntimeError(f"{' and '.join(missing)} not found (apt-get install espeak-ng sox)")
    directory.mkdir(parents=True, exist_ok=True)
    manifest_path = directory / MANIFEST
    try:
        manifest: dict[str, str] = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        manifest = {}
    done: list[str] = []
    with tempfile.TemporaryDirectory(prefix="padang112-prompts-") as tmp:
        for name, text in prompt_texts.PROMPTS.items():
            out = directory / f"{name}.wav"
            fingerprint = _fingerprint(text)
            if out.exists() and manifest.get(name) == fingerprint:
                continue
            _synthesise(text, out, Path(tmp))
            out.chmod(0o644)
            manifest[name] = fingerprint
            done.append(name)
    if done:
        manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        log(f"generated {len(done)} voice prompt(s) in {directory}")
    return done


def _squeezed(song: Path) -> tuple[wave._wave_params, bytes]:
    """The song's frames with every quiet stretch cut to ``QUIET_KEPT_S`` (16-bit mono expected)."""
    with wave.open(str(song), "rb") as music:
        params = music.getparams()
        frames = music.readframes(params.nframes)
    if (params.nchannels, params.sampwidth) != (1, 2):
        raise RuntimeError(f"{song}: music on hold must be 16-bit mono")
    block = int(params.framerate * QUIET_BLOCK_S) * 2
    kept_blocks = round(QUIET_KEPT_S / QUIET_BLOCK_S)
    kept, quiet_run = bytearray(), 0
    for start in range(0, len(frames), block):
        chunk = frames[start : start + block]
        samples = array("h", chunk[: len(chunk) - len(chunk) % 2])
        if sys.byteorder == "big":
            samples.byteswap()
        quiet = not samples or sum(x * x for x in samples) / len(samples) < QUIET_MEAN_SQUARE
        quiet_run = quiet_run + 1 if quiet else 0
        if quiet_run <= kept_blocks:
            kept += chunk
    return params, bytes(kept)


def _write(path: Path, params: wave._wave_params, frames: bytes) -> None:
    with wave.open(str(path), "wb") as out:
        out.setparams(params)
        out.writeframes(frames)


def cut_hold_music(source: Path, target: Path, log: Callable[[str], None] = _print) -> int:
    """Make the hold music from the songs in ``source``: in ``target``, ``SONGS`` has each song with its quiet
    stretches cut short (the default music class) and ``PIECES`` the same cut into ``HOLD_PIECE_S`` pieces (the
    fallback queue's class, which plays please-hold before each piece instead of app_queue's periodic
    announcement: that one blocked ringing, a seat that became free while a caller heard the 5.5 s announcement
    stayed idle until it ended, tests/chaos/test_duplicate_and_deaf_controller.py). Returns the files written (0:
    those there are already these)."""
    songs = sorted(source.glob("*.wav"))
    if not songs:
        raise RuntimeError(f"no music on hold in {source} (apt-get install asterisk-moh-opsound-wav)")
    wanted = {
        "piece_s": HOLD_PIECE_S,
        "quiet_kept_s": QUIET_KEPT_S,
        "songs": {song.name: song.stat().st_size for song in songs},
    }
    try:
        if json.loads((target / HOLD_MANIFEST).read_text()) == wanted:
            return 0
    except (OSError, ValueError):
        pass
    # built beside the target and swapped in: test workers install side by side, and Asterisk may be reading it
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    (building / SONGS).mkdir()
    (building / PIECES).mkdir()
    pieces = 0
    for song in songs:
        params, frames = _squeezed(song)
        _write(building / SONGS / song.name, params, frames)
        step = HOLD_PIECE_S * params.framerate * 2
        for number, start in enumerate(range(0, len(frames), step), start=1):
            _write(building / PIECES / f"{song.stem}-{number:02d}.wav", params, frames[start : start + step])
            pieces += 1
    (building / HOLD_MANIFEST).write_text(json.dumps(wanted, indent=1, sort_keys=True) + "\n")
    for path in building.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    building.chmod(0o755)
    old = target.with_name(f".{target.name}-old-{os.getpid()}")
    try:
        if target.exists():
            target.rename(old)
        building.rename(target)
    except OSError:  # another installer swapped the same music in at that instant
        shutil.rmtree(building, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)
    log(f"hold music: {len(songs)} song(s) without long silences, {pieces} piece(s) of {HOLD_PIECE_S} s in {target}")
    return len(songs) + pieces


def resolve_in_root(root: Path, inner: PurePosixPath) -> Path:
    """Host path of ``inner`` inside the chroot ``root``, following symlinks as the chroot would see them.

    (``sounds/en`` is an absolute link to ``/etc/alternatives/...``: followed on the host it would leave the
    chroot.) Components that do not exist yet are appended as they are.
    """
    current = PurePosixPath("/")
    parts = list(inner.relative_to("/").parts)
    hops = 0
    while parts:
        part = parts.pop(0)
        candidate = current / part
        host = root / candidate.relative_to("/")
        if host.is_symlink():
            hops += 1
            if hops > 40:
                raise RuntimeError(f"too many symbolic links under {root}{inner}")
            target = PurePosixPath(os.readlink(host))
            parts = list(target.parts[1:] if target.is_absolute() else target.parts) + parts
            if target.is_absolute():
                current = PurePosixPath("/")
            continue
        current = PurePosixPath(os.path.normpath(candidate))
    return root / current.relative_to("/")


def install(root: Path, log: Callable[[str], None] = _print) -> Path:
    """Generate the prompts straight into the chroot's shared sounds directory, and the fallback queue's hold
    music; returns the prompts' directory."""
    lang = prompt_texts.LANGUAGE
    target = resolve_in_root(root, SOUNDS_DIR / lang / FOLDER)
    generate(target, log)
    cut_hold_music(resolve_in_root(root, MOH_DIR), resolve_in_root(root, HOLD_MUSIC_DIR), log)
    # language-less fallback link: sounds/padang112 -> <lang>/padang112
    link = resolve_in_root(root, SOUNDS_DIR) / FOLDER
    wanted = f"{lang}/{FOLDER}"
    if link.is_symlink() and os.readlink(link) != wanted:
        link.unlink()
    if not link.exists() and not link.is_symlink():
        link.symlink_to(wanted)
    return target


if __name__ == "__main__":  # used by asterisk/Dockerfile
    if len(sys.argv) != 4:
        print(
            "usage: python3 -m padang112.pbx.prompts <asterisk sounds dir> <music on hold dir> <hold music dir>",
            file=sys.stderr,
        )
        sys.exit(2)
    sounds = Path(sys.argv[1])
    cut_hold_music(Path(sys.argv[2]), Path(sys.argv[3]))
    generate(sounds / prompt_texts.LANGUAGE / FOLDER)
    fallback = sounds / FOLDER
    if not fallback.exists():
        fallback.symlink_to(f"{prompt_texts.LANGUAGE}/{FOLDER}")
