"""File names from metadata: safe, unique, and the way sample packs name things."""

from __future__ import annotations

from pathlib import Path

import pytest

from stemcrate.export.layout import (
    UniqueNames,
    note_name,
    parse_note,
    safe_name,
    sample_file_name,
    short_key,
    track_folder_name,
)
from stemcrate.export.pack import OutsideExportError, inside, reserve_dir, reserve_file


@pytest.mark.parametrize("raw", [
    "../../etc/passwd", "..", ".", "/", "a/b\\c", "<img src=x onerror=alert(1)>",
    "nul\x00byte", "tab\tnew\nline\x1b[31m", "\u202etxt.exe", "CON", "com1.wav", "  . ",
    "x" * 500, "é" * 300, "a:b*c?d\"e|f",
])
def test_safe_name_is_one_plain_name(raw: str, tmp_path: Path) -> None:
    name = safe_name(raw)
    assert name and name not in (".", "..")
    assert not any(ch in name for ch in '/\\:*?"<>|\x00')
    assert all(ord(ch) >= 32 and ch != "\x7f" for ch in name)
    assert len(name.encode()) <= 120
    assert ".." not in name
    assert name.split(".")[0].upper() not in ("CON", "NUL", "COM1")
    assert "\u202e" not in name
    target = tmp_path / name
    target.write_bytes(b"x")  # the filesystem accepts it, inside tmp_path
    assert target.resolve().parent == tmp_path.resolve()


def test_unique_names_are_case_insensitive() -> None:
    names = UniqueNames(["Kick.wav"])
    assert names.claim("kick.wav") == "kick (2).wav"
    assert names.claim("KICK.wav") == "KICK (3).wav"
    assert names.claim("snare.wav") == "snare.wav"
    assert names.claim("Stems") == "Stems"
    assert names.claim("stems") == "stems (2)"


def test_sample_names_carry_label_note_key_and_bpm() -> None:
    assert sample_file_name(label="kick", index=1, note="C1", midi_note=24, key="F minor",
                            bpm=90.0) == "Kick_01_C1_90bpm.wav"
    # a tonal sound without a note carries the track's key
    assert sample_file_name(label="vocal", index=3, note=None, midi_note=None, key="F minor",
                            bpm=89.7) == "Vocal_03_Fmin_90bpm.wav"
    # a drum without a note never carries a key
    assert sample_file_name(label="snare", index=12, note=None, midi_note=None, key="C major",
                            bpm=120) == "Snare_12_120bpm.wav"
    # the note from midi_note when no name is stored
    assert sample_file_name(label="bass", index=2, note=None, midi_note=41, key=None,
                            bpm=None) == "Bass_02_F2.wav"
    assert sample_file_name(label="hihat_closed", index=1, note=None, midi_note=None,
                            key=None, bpm=100) == "ClosedHat_01_100bpm.wav"
    hostile = sample_file_name(label="../../x", index=1, note=None, midi_note=None, key=None,
                               bpm=None)
    assert "/" not in hostile and ".." not in hostile


def test_keys_and_notes() -> None:
    assert short_key("F minor") == "Fmin"
    assert short_key("F#:maj") == "F#maj"
    assert short_key("Bbm") == "Bbmin"
    assert short_key("C") == "Cmaj"
    assert short_key("unknown") is None
    assert note_name(60) == "C4" and note_name(24) == "C1" and note_name(61) == "C#4"
    assert parse_note("C1") == 24 and parse_note("F#2") == 42 and parse_note("Bb1") == 34
    assert parse_note("H2") is None
    for n in range(128):
        assert parse_note(note_name(n)) == n


def test_track_folder_name() -> None:
    assert track_folder_name({"track_id": "abc", "title": "Song", "artist": "Band"}) == \
        "Band - Song"
    assert track_folder_name({"track_id": "abc", "title": "", "artist": None,
                              "original_name": "my file.mp3"}) == "my file"
    assert track_folder_name({"track_id": "abcdef1234567890", "title": None}) == \
        "track abcdef123456"


def test_inside_refuses_escapes(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (root / "link").symlink_to(tmp_path / "elsewhere")
    assert inside(root, "a", "b.wav") == root / "a" / "b.wav"
    for parts in (("..", "x"), ("a/../../x",), ("",), ("link", "x.wav")):
        with pytest.raises(OutsideExportError):
            inside(root, *parts)


def test_reserve_never_reuses_a_name(tmp_path: Path) -> None:
    first = reserve_dir(tmp_path, "Export")
    second = reserve_dir(tmp_path, "Export")
    assert first.name == "Export" and second.name == "Export (2)"
    path, fh = reserve_file(tmp_path, "Export", ".zip")
    fh.close()
    path2, fh2 = reserve_file(tmp_path, "Export", ".zip")
    fh2.close()
    assert path.name == "Export.zip" and path2.name == "Export (2).zip"
