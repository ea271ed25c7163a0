"""RIFF ``smpl`` and ``acid`` chunks: root note and tempo inside a WAV, for samplers.

Samplers (Kontakt, Battery, Ableton Simpler/Sampler, Logic's Sampler, Bitwig's Sampler …)
read the root note of a one-shot from the ``smpl`` chunk, and ACID-aware hosts (Ableton,
FL Studio, Studio One, Reaper …) read tempo, beats and the one-shot flag from the ``acid``
chunk, so an exported sample maps to the right key and tempo without manual setup.

A WAV file is ``"RIFF" <u32 size> "WAVE"`` followed by chunks ``<4-byte id> <u32 size>
<payload>``, each payload padded with one zero byte to an even length (the pad is not counted
in ``size``). All integers are little-endian. :func:`add_sample_chunks` parses the chunks,
drops any existing ``smpl``/``acid`` chunk, inserts the new ones just before ``data`` (so
readers that stop at ``data`` still see them) and fixes the RIFF size. The audio bytes are
copied unchanged.

``smpl`` (36 bytes + 24 per loop)::

    offset size field
     0     u32  manufacturer          0 (none)
     4     u32  product               0
     8     u32  sample period         nanoseconds per sample frame = round(1e9 / sample rate)
    12     u32  MIDI unity note       root note, 0..127 (60 = C4 = middle C)
    16     u32  MIDI pitch fraction   0 (fine tuning above the unity note, 1/2**32 semitone)
    20     u32  SMPTE format          0
    24     u32  SMPTE offset          0
    28     u32  number of loops       0 for a one-shot, 1 for a loop
    32     u32  sampler data size     0
    36     loops, each 24 bytes: u32 cue point id, u32 type (0 = forward),
           u32 start frame, u32 end frame (inclusive), u32 fraction, u32 play count (0 = ∞)

``acid`` (24 bytes)::

    offset size field
     0     u32  flags       bit 0 one-shot, bit 1 root note set, bit 2 stretch,
                            bit 3 disk-based, bit 4 high-octave (unused here)
     4     u16  root note   MIDI note 0..127 (60 = C4)
     6     u16  reserved    0x8000 (as ACID writes it)
     8     f32  reserved    0.0
    12     u32  beats       length in beats at ``tempo``
    16     u16  meter denominator (4)
    18     u16  meter numerator   (4)
    20     f32  tempo       BPM

:func:`read_sample_chunks` parses both back (used by the tests and by anyone checking a file).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

SMPL_FORMAT = "<9I"
SMPL_LOOP_FORMAT = "<6I"
ACID_FORMAT = "<IHHfIHHf"
ACID_ONE_SHOT = 0x01
ACID_ROOT_SET = 0x02
ACID_STRETCH = 0x04


class RiffError(ValueError):
    """The bytes are not a RIFF/WAVE file this module can edit."""


@dataclass(frozen=True)
class SampleLoop:
    """One forward loop, frames ``start``..``end`` inclusive."""

    start: int
    end: int


@dataclass(frozen=True)
class SampleChunks:
    """What the ``smpl`` and ``acid`` chunks of a WAV say (``None`` where a chunk is absent)."""

    unity_note: int | None = None
    sample_period_ns: int | None = None
    loops: tuple[SampleLoop, ...] = ()
    acid_flags: int | None = None
    acid_root_note: int | None = None
    beats: int | None = None
    meter: tuple[int, int] | None = None
    tempo_bpm: float | None = None

    @property
    def one_shot(self) -> bool | None:
        return None if self.acid_flags is None else bool(self.acid_flags & ACID_ONE_SHOT)

    @property
    def root_note_set(self) -> bool | None:
        return None if self.acid_flags is None else bool(self.acid_flags & ACID_ROOT_SET)


def smpl_chunk(*, sample_rate: int, unity_note: int, loop: SampleLoop | None = None) -> bytes:
    """The payload of a ``smpl`` chunk (see the module docstring for the layout)."""
    if not 0 <= unity_note <= 127:
        raise ValueError(f"MIDI unity note must be 0..127, got {unity_note}")
    period = int(round(1e9 / sample_rate))
    loops = [loop] if loop is not None else []
    body = struct.pack(SMPL_FORMAT, 0, 0, period, unity_note, 0, 0, 0, len(loops), 0)
    for i, lp in enumerate(loops):
        body += struct.pack(SMPL_LOOP_FORMAT, i, 0, lp.start, lp.end, 0, 0)
    return body


def acid_chunk(*, tempo_bpm: float, beats: int, root_note: int | None, one_shot: bool,
               meter: tuple[int, int] = (4, 4)) -> bytes:
    """The payload of an ``acid`` chunk (see the module docstring for the layout).

    ``root_note`` ``None`` clears the "root note set" flag (stored note 60).
    """
    flags = (ACID_ONE_SHOT if one_shot else ACID_STRETCH)
    note = 60
    if root_note is not None:
        if not 0 <= root_note <= 127:
            raise ValueError(f"root note must be 0..127, got {root_note}")
        flags |= ACID_ROOT_SET
        note = root_note
    numerator, denominator = meter
    return struct.pack(ACID_FORMAT, flags, note, 0x8000, 0.0, max(0, int(beats)),
                       denominator, numerator, float(tempo_bpm))


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """The ``(id, payload)`` chunks of a RIFF/WAVE file, in order."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise RiffError("not a RIFF/WAVE file")
    out: list[tuple[bytes, bytes]] = []
    pos = 12
    end = min(len(data), 8 + struct.unpack_from("<I", data, 4)[0])
    while pos + 8 <= end:
        cid = data[pos:pos + 4]
        (size,) = struct.unpack_from("<I", data, pos + 4)
        payload = data[pos + 8:pos + 8 + size]
        if len(payload) < size:
            raise RiffError(f"chunk {cid!r} is truncated ({len(payload)} of {size} bytes)")
        out.append((cid, payload))
        pos += 8 + size + (size & 1)
    return out


def _assemble(chunks: list[tuple[bytes, bytes]]) -> bytes:
    body = bytearray(b"WAVE")
    for cid, payload in chunks:
        body += cid + struct.pack("<I", len(payload)) + payload
        if len(payload) & 1:
            body += b"\0"
    return b"RIFF" + struct.pack("<I", len(body)) + bytes(body)


def add_sample_chunks(wav: bytes, *, sample_rate: int, root_note: int | None,
                      tempo_bpm: float | None, duration_s: float, one_shot: bool = True,
                      loop: SampleLoop | None = None) -> bytes:
    """``wav`` with a ``smpl`` chunk and (when ``tempo_bpm`` is known) an ``acid`` chunk.

    Parameters
    ----------
    wav : a complete RIFF/WAVE file (PCM or float), as bytes
    sample_rate : Hz, for the sample period in ``smpl``
    root_note : MIDI note of the sample's pitch; ``None`` writes 60 (C4) as the unity note
        and leaves ACID's "root note set" flag clear
    tempo_bpm : the tempo the sample was cut at (its track's BPM)
    duration_s : the sample's length in seconds, for the beat count at ``tempo_bpm``
    one_shot : ACID one-shot flag (samples are one-shots unless a loop is given)
    loop : an optional forward loop for ``smpl``

    Raises :class:`RiffError` when ``wav`` is not a RIFF/WAVE file.
    """
    chunks = [c for c in _chunks(wav) if c[0] not in (b"smpl", b"acid")]
    new = [(b"smpl", smpl_chunk(sample_rate=sample_rate,
                                unity_note=60 if root_note is None else root_note, loop=loop))]
    if tempo_bpm is not None and tempo_bpm > 0:
        beats = int(round(duration_s * tempo_bpm / 60.0))
        new.append((b"acid", acid_chunk(tempo_bpm=tempo_bpm, beats=beats, root_note=root_note,
                                        one_shot=one_shot and loop is None)))
    index = next((i for i, c in enumerate(chunks) if c[0] == b"data"), len(chunks))
    return _assemble(chunks[:index] + new + chunks[index:])


def read_sample_chunks(wav: bytes) -> SampleChunks:
    """Parse the ``smpl`` and ``acid`` chunks of ``wav`` (absent chunks give ``None``s)."""
    fields: dict[str, object] = {}
    for cid, payload in _chunks(wav):
        if cid == b"smpl" and len(payload) >= 36:
            vals = struct.unpack_from(SMPL_FORMAT, payload, 0)
            loops = []
            for i in range(vals[7]):
                off = 36 + 24 * i
                if off + 24 > len(payload):
                    break
                _, _, start, end, _, _ = struct.unpack_from(SMPL_LOOP_FORMAT, payload, off)
                loops.append(SampleLoop(start, end))
            fields.update(unity_note=vals[3], sample_period_ns=vals[2], loops=tuple(loops))
        elif cid == b"acid" and len(payload) >= 24:
            flags, note, _, _, beats, denom, numer, tempo = struct.unpack_from(
                ACID_FORMAT, payload, 0)
            fields.update(acid_flags=flags, acid_root_note=note, beats=beats,
                          meter=(numer, denom), tempo_bpm=float(tempo))
    return SampleChunks(**fields)  # type: ignore[arg-type]


def chunk_ids(wav: bytes) -> list[str]:
    """The chunk ids of ``wav`` in file order (e.g. ``['fmt ', 'smpl', 'acid', 'data']``)."""
    return [cid.decode("latin-1") for cid, _ in _chunks(wav)]
