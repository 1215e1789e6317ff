"""The audio of a simulated call: a sine tone played to the peer, and a WAV file of what the peer sends."""

from __future__ import annotations

import time
from pathlib import Path

import pjsua2 as pj


def wav_complete(path: str) -> bool:
    """True once the RIFF header of a WAV file accounts for the whole file (the writer has closed it)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
            size = fh.seek(0, 2)
    except OSError:
        return False
    return len(head) == 12 and head[:4] == b"RIFF" and int.from_bytes(head[4:8], "little") == size - 8 > 36


class MediaLeg:
    """The audio of one call: a looping sine tone sent to the peer, and a WAV of what the peer sends."""

    def __init__(self, tone_hz: float | None, record_path: str | None) -> None:
        self.tone_hz = tone_hz
        self.record_path = record_path
        self.tone: pj.ToneGenerator | None = None
        self.recorder: pj.AudioMediaRecorder | None = None
        self.started: float | None = None

    def attach(self, aud: pj.AudioMedia) -> None:
        """Connect (again, after a re-INVITE) the tone and the recorder to the call's audio."""
        if self.started is None:
            self.started = time.time()
            if self.tone_hz:
                self.tone = pj.ToneGenerator()
                self.tone.createToneGenerator(16000, 1)
                desc = pj.ToneDesc()
                desc.freq1, desc.freq2, desc.on_msec, desc.off_msec = int(self.tone_hz), 0, 30000, 0
                tones = pj.ToneDescVector()
                tones.append(desc)
                self.tone.play(tones, True)
            if self.record_path:
                Path(self.record_path).parent.mkdir(parents=True, exist_ok=True)
                self.recorder = pj.AudioMediaRecorder()
                self.recorder.createRecorder(self.record_path)
        if self.tone is not None:
            self.tone.startTransmit(aud)
        if self.recorder is not None:
            aud.startTransmit(self.recorder)

    def close(self) -> str | None:
        """Destroy the ports; destroying the recorder writes the final WAV header. Returns the recording."""
        self.tone = None
        had_recorder = self.recorder is not None
        self.recorder = None
        return self.record_path if had_recorder else None
