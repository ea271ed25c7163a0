"""The ``.dawproject`` writer: stems and MIDI as a project Bitwig, Studio One and Cubase open.

DAWproject (github.com/bitwig/dawproject, format version 1.0) is a ZIP holding
``project.xml`` (element ``Project``, schema ``Project.xsd``), ``metadata.xml`` (element
``MetaData``, schema ``MetaData.xsd``) and any embedded files, referenced by their path inside
the ZIP. What :func:`write_dawproject` writes::

    Project version="1.0"
      Application name="stemcrate" version=…
      Transport
        Tempo unit="bpm" value=<track BPM>          (120 when the BPM is unknown)
        TimeSignature numerator=4 denominator=4
      Structure
        Track contentType="audio" name=<stem>       one per stem
          Channel role="regular" destination=<master channel> (Mute, Pan, Volume)
        Track contentType="notes" name=<stem> MIDI  one per MIDI part
          Channel role="regular" …
        Track contentType="audio notes" name="Master"
          Channel role="master"
      Arrangement
        Lanes timeUnit="beats"
          Lanes track=<stem track>
            Clips / Clip time=0 duration=<beats>
              Warps timeUnit="beats" contentTimeUnit="seconds"
                Audio timeUnit="seconds" duration=<s> channels sampleRate
                  File path="audio/<stem>.wav"       (embedded in the ZIP)
                Warp time=0 contentTime=0 ; Warp time=<beats> contentTime=<s>
          Lanes track=<MIDI track>
            Clips / Clip time=0 duration=<beats>
              Notes / Note time duration (beats) key channel vel (0..1)

Times on the arrangement are in beats at the project tempo; the warp markers pin each stem's
seconds to those beats, so every stem starts at beat 0 and plays at its own speed whatever
tempo the user later sets. Metadata strings are written as XML text or attribute values
(escaped by ElementTree; characters XML cannot hold are dropped), never as markup.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

from stemcrate import __version__
from stemcrate.export.midifile import MidiPart

FORMAT_VERSION = "1.0"
DEFAULT_TEMPO = 120.0
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_COLORS = ("#d9534f", "#f0ad4e", "#5cb85c", "#5bc0de", "#9b59b6", "#e67e22", "#1abc9c",
           "#34495e")


@dataclass(frozen=True)
class AudioTrack:
    """One stem: its name, the local file to embed, and its format."""

    name: str
    file: Path
    sample_rate: int
    channels: int
    duration_s: float


@dataclass(frozen=True)
class NoteTrack:
    """One MIDI part, notes in beats at the project tempo."""

    name: str
    part: MidiPart


@dataclass
class DawProjectSpec:
    """Everything one ``.dawproject`` holds."""

    title: str
    artist: str | None = None
    album: str | None = None
    year: str | None = None
    genre: str | None = None
    bpm: float | None = None
    audio: list[AudioTrack] = field(default_factory=list)
    notes: list[NoteTrack] = field(default_factory=list)

    @property
    def tempo(self) -> float:
        return float(self.bpm) if self.bpm and self.bpm > 0 else DEFAULT_TEMPO


def _clean(text: object) -> str:
    return _XML_INVALID.sub("", "" if text is None else str(text))


def _num(x: float) -> str:
    return repr(round(float(x), 9))


class _Ids:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"id{self.n}"


def _channel(parent: ET.Element, ids: _Ids, *, role: str, channels: int,
             destination: str | None = None, cid: str | None = None) -> ET.Element:
    attrs = {"audioChannels": str(channels), "role": role, "solo": "false",
             "id": cid or ids()}
    if destination:
        attrs["destination"] = destination
    ch = ET.SubElement(parent, "Channel", attrs)
    ET.SubElement(ch, "Mute", {"value": "false", "id": ids(), "name": "Mute"})
    ET.SubElement(ch, "Pan", {"max": "1.0", "min": "0.0", "unit": "normalized", "value": "0.5",
                              "id": ids(), "name": "Pan"})
    ET.SubElement(ch, "Volume", {"max": "2.0", "min": "0.0", "unit": "linear", "value": "1.0",
                                 "id": ids(), "name": "Volume"})
    return ch


def audio_path_in_zip(index: int, track: AudioTrack) -> str:
    """Where a stem's file sits inside the ZIP (``audio/01 drums.wav``)."""
    return f"audio/{index + 1:02d} {track.file.name}"


def project_xml(spec: DawProjectSpec) -> bytes:
    """The ``project.xml`` document for ``spec`` (UTF-8 bytes with an XML declaration)."""
    ids = _Ids()
    tempo = spec.tempo
    per_s = tempo / 60.0
    root = ET.Element("Project", {"version": FORMAT_VERSION})
    ET.SubElement(root, "Application", {"name": "stemcrate", "version": __version__})
    transport = ET.SubElement(root, "Transport")
    ET.SubElement(transport, "Tempo", {"max": "999.0", "min": "20.0", "unit": "bpm",
                                       "value": _num(tempo), "id": ids(), "name": "Tempo"})
    ET.SubElement(transport, "TimeSignature", {"denominator": "4", "numerator": "4",
                                               "id": ids()})
    structure = ET.SubElement(root, "Structure")
    master_track_id, master_channel_id = ids(), ids()
    lanes_for: list[tuple[str, ET.Element]] = []  # (track id, clip content)
    audio_beats = max((a.duration_s * per_s for a in spec.audio), default=0.0)

    for i, a in enumerate(spec.audio):
        tid = ids()
        track = ET.SubElement(structure, "Track", {
            "contentType": "audio", "loaded": "true", "id": tid, "name": _clean(a.name),
            "color": _COLORS[i % len(_COLORS)]})
        _channel(track, ids, role="regular", channels=a.channels,
                 destination=master_channel_id)
        beats = a.duration_s * per_s
        clip = ET.Element("Clip", {"time": "0.0", "duration": _num(beats), "playStart": "0.0",
                                   "name": _clean(a.name)})
        warps = ET.SubElement(clip, "Warps", {"contentTimeUnit": "seconds",
                                              "timeUnit": "beats", "id": ids()})
        audio = ET.SubElement(warps, "Audio", {
            "algorithm": "stretch", "channels": str(a.channels), "duration": _num(a.duration_s),
            "sampleRate": str(a.sample_rate), "timeUnit": "seconds", "id": ids()})
        ET.SubElement(audio, "File", {"path": audio_path_in_zip(i, a)})
        ET.SubElement(warps, "Warp", {"time": "0.0", "contentTime": "0.0"})
        ET.SubElement(warps, "Warp", {"time": _num(beats), "contentTime": _num(a.duration_s)})
        lanes_for.append((tid, clip))

    for j, n in enumerate(spec.notes):
        tid = ids()
        track = ET.SubElement(structure, "Track", {
            "contentType": "notes", "loaded": "true", "id": tid, "name": _clean(n.name),
            "color": _COLORS[(len(spec.audio) + j) % len(_COLORS)]})
        _channel(track, ids, role="regular", channels=2, destination=master_channel_id)
        end = max((x.time_beats + x.duration_beats for x in n.part.notes), default=0.0)
        length = max(end, audio_beats, 4.0)
        clip = ET.Element("Clip", {"time": "0.0", "duration": _num(length), "playStart": "0.0",
                                   "name": _clean(n.name)})
        notes = ET.SubElement(clip, "Notes", {"id": ids()})
        for x in n.part.notes:
            ET.SubElement(notes, "Note", {
                "time": _num(x.time_beats), "duration": _num(x.duration_beats),
                "channel": str(x.channel), "key": str(x.key), "vel": _num(x.velocity)})
        lanes_for.append((tid, clip))

    master = ET.SubElement(structure, "Track", {
        "contentType": "audio notes", "loaded": "true", "id": master_track_id, "name": "Master"})
    _channel(master, ids, role="master", channels=2, cid=master_channel_id)

    arrangement = ET.SubElement(root, "Arrangement", {"id": ids()})
    top = ET.SubElement(arrangement, "Lanes", {"timeUnit": "beats", "id": ids()})
    for tid, clip in lanes_for:
        lane = ET.SubElement(top, "Lanes", {"track": tid, "id": ids()})
        clips = ET.SubElement(lane, "Clips", {"id": ids()})
        clips.append(clip)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def metadata_xml(spec: DawProjectSpec) -> bytes:
    """The ``metadata.xml`` document (elements in the order ``MetaData.xsd`` requires)."""
    root = ET.Element("MetaData")
    for tag, value in (("Title", spec.title), ("Artist", spec.artist), ("Album", spec.album),
                       ("Year", spec.year), ("Genre", spec.genre),
                       ("Comment", f"Stems and MIDI exported by stemcrate {__version__}")):
        if value:
            ET.SubElement(root, tag).text = _clean(value)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def write_dawproject(spec: DawProjectSpec, target: Path) -> list[str]:
    """Write ``target`` (a new ``.dawproject`` ZIP); return the names inside it.

    XML is deflated; audio is stored as is (already dense, and DAWs stream it faster).
    """
    names = ["project.xml", "metadata.xml"]
    with zipfile.ZipFile(target, "x") as zf:
        zf.writestr("project.xml", project_xml(spec), compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("metadata.xml", metadata_xml(spec), compress_type=zipfile.ZIP_DEFLATED)
        for i, a in enumerate(spec.audio):
            name = audio_path_in_zip(i, a)
            zf.write(a.file, name, compress_type=zipfile.ZIP_STORED)
            names.append(name)
    return names
