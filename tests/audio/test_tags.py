"""Tags written by mutagen and FFmpeg come back from ``read_tags`` unchanged."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from stemcrate.audio.tags import TAG_KEYS, read_tags, title_from_filename

HOSTILE = "<img src=x onerror=alert(1)>"
UNICODE = "Sigur Rós — Ágætis byrjun 日本語 🎺"
QUOTES = "Robert'); DROP TABLE tracks;-- \"x\" & y"

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")


def _tone(sr: int = 44100, seconds: float = 0.5) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def _ffmpeg(target: Path, metadata: dict[str, str]) -> None:
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
           "-i", "sine=frequency=440:duration=0.5"]
    for k, v in metadata.items():
        cmd += ["-metadata", f"{k}={v}"]
    subprocess.run([*cmd, str(target)], check=True, timeout=60)


def test_flac_vorbis_comments(tmp_path: Path) -> None:
    from mutagen.flac import FLAC

    path = tmp_path / "whatever.flac"
    sf.write(path, _tone(), 44100, format="FLAC")
    f = FLAC(path)
    f["TITLE"] = HOSTILE
    f["ARTIST"] = [UNICODE, "Second Artist"]
    f["ALBUM"] = QUOTES
    f["ALBUMARTIST"] = "Various"
    f["GENRE"] = "Jazz"
    f["DATE"] = "2019-04-02"
    f["TRACKNUMBER"] = "3/12"
    f["COMMENT"] = "line one\nline two"
    f["BPM"] = "90"
    f["INITIALKEY"] = "Fm"
    f.save()
    tags = read_tags(path)
    assert tags == {
        "title": HOSTILE, "artist": f"{UNICODE}; Second Artist", "album": QUOTES,
        "album_artist": "Various", "genre": "Jazz", "year": 2019, "track_number": 3,
        "comment": "line one\nline two", "bpm_tag": "90", "key_tag": "Fm",
    }


def test_ogg_vorbis(tmp_path: Path) -> None:
    from mutagen.oggvorbis import OggVorbis

    path = tmp_path / "x.ogg"
    sf.write(path, _tone(), 44100, format="OGG", subtype="VORBIS")
    f = OggVorbis(path)
    f["title"] = UNICODE
    f["artist"] = HOSTILE
    f["date"] = "1999"
    f["tracknumber"] = "7"
    f.save()
    tags = read_tags(path)
    assert tags["title"] == UNICODE and tags["artist"] == HOSTILE
    assert tags["year"] == 1999 and tags["track_number"] == 7
    assert tags["album"] is None and tags["key_tag"] is None


@needs_ffmpeg
def test_mp3_id3_from_ffmpeg(tmp_path: Path) -> None:
    path = tmp_path / "x.mp3"
    _ffmpeg(path, {"title": HOSTILE, "artist": UNICODE, "album": QUOTES,
                   "album_artist": "AA", "genre": "Hip-Hop", "date": "2020", "track": "5/9",
                   "comment": "hello", "TBPM": "128", "TKEY": "Am"})
    tags = read_tags(path)
    assert tags == {
        "title": HOSTILE, "artist": UNICODE, "album": QUOTES, "album_artist": "AA",
        "genre": "Hip-Hop", "year": 2020, "track_number": 5, "comment": "hello",
        "bpm_tag": "128", "key_tag": "Am",
    }


@needs_ffmpeg
def test_m4a_from_ffmpeg(tmp_path: Path) -> None:
    path = tmp_path / "x.m4a"
    _ffmpeg(path, {"title": UNICODE, "artist": HOSTILE, "album": "Alb",
                   "album_artist": "AA", "genre": "Soul", "date": "2018-11-30", "track": "4",
                   "comment": "c"})
    tags = read_tags(path)
    assert tags["title"] == UNICODE and tags["artist"] == HOSTILE
    assert tags["album"] == "Alb" and tags["album_artist"] == "AA"
    assert tags["genre"] == "Soul" and tags["comment"] == "c"
    assert tags["year"] == 2018 and tags["track_number"] == 4


def test_m4a_freeform_key_and_tempo(tmp_path: Path) -> None:
    from mutagen.mp4 import MP4, MP4FreeForm

    path = tmp_path / "x.m4a"
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg not installed")
    _ffmpeg(path, {})
    f = MP4(path)
    f["©nam"] = "T"
    f["tmpo"] = [174]
    f["trkn"] = [(2, 10)]
    f["----:com.apple.iTunes:initialkey"] = [MP4FreeForm(b"C#m")]
    f.save()
    tags = read_tags(path)
    assert (tags["title"], tags["bpm_tag"], tags["key_tag"], tags["track_number"]) == (
        "T", "174", "C#m", 2)


@needs_ffmpeg
def test_wav_riff_info_from_ffmpeg(tmp_path: Path) -> None:
    path = tmp_path / "x.wav"
    _ffmpeg(path, {"title": HOSTILE, "artist": UNICODE, "date": "2001", "genre": "Ambient"})
    tags = read_tags(path)
    assert tags["title"] == HOSTILE and tags["artist"] == UNICODE
    assert tags["year"] == 2001 and tags["genre"] == "Ambient"


def test_wav_and_aiff_with_id3(tmp_path: Path) -> None:
    import mutagen
    from mutagen.id3 import TIT2, TPE1, TRCK

    for name, fmt in (("a.wav", "WAV"), ("a.aiff", "AIFF")):
        path = tmp_path / name
        sf.write(path, _tone(), 44100, format=fmt)
        f = mutagen.File(path)
        f.add_tags()
        f.tags.add(TIT2(encoding=3, text=UNICODE))
        f.tags.add(TPE1(encoding=3, text=HOSTILE))
        f.tags.add(TRCK(encoding=3, text="11/12"))
        f.save()
        tags = read_tags(path)
        assert (tags["title"], tags["artist"], tags["track_number"]) == (UNICODE, HOSTILE, 11)


def test_untagged_wav_falls_back_to_file_name(tmp_path: Path) -> None:
    path = tmp_path / "01 - My Song_final.wav"
    sf.write(path, _tone(), 44100)
    tags = read_tags(path)
    assert set(tags) == set(TAG_KEYS)
    assert tags["title"] == "My Song_final"
    assert tags["artist"] is None
    assert all(tags[k] is None for k in TAG_KEYS if k != "title")

    named = tmp_path / "Kevin_MacLeod_-_Vibe_Ace.wav"
    sf.write(named, _tone(), 44100)
    tags = read_tags(named)
    assert (tags["artist"], tags["title"]) == ("Kevin MacLeod", "Vibe Ace")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("01 - My Song_final.wav", (None, "My Song_final")),
        ("07. Artist Name - Song Title.mp3", ("Artist Name", "Song Title")),
        ("Artist - Title - Live.flac", ("Artist", "Title - Live")),
        ("snake_case_name.wav", (None, "snake case name")),
        ("808 kick.wav", (None, "808 kick")),
        ("3_loop.wav", (None, "loop")),
        ("01.wav", (None, "01")),
        ("<i>x<i> - 日本.ogg", ("<i>x<i>", "日本")),
    ],
)
def test_title_from_filename(name: str, expected: tuple[str | None, str]) -> None:
    assert title_from_filename(name) == expected


def test_tag_title_wins_but_file_name_gives_artist(tmp_path: Path) -> None:
    from mutagen.flac import FLAC

    path = tmp_path / "Some Band - track.flac"
    sf.write(path, _tone(), 44100, format="FLAC")
    f = FLAC(path)
    f["TITLE"] = "Real Title"
    f.save()
    tags = read_tags(path)
    assert (tags["title"], tags["artist"]) == ("Real Title", "Some Band")


def test_odd_values_and_broken_files_never_raise(tmp_path: Path) -> None:
    from mutagen.flac import FLAC

    path = tmp_path / "odd.flac"
    sf.write(path, _tone(), 44100, format="FLAC")
    f = FLAC(path)
    f["DATE"] = "sometime in the nineties"
    f["TRACKNUMBER"] = "A-side/two"
    f["TITLE"] = "   "
    f["ARTIST"] = "\x00"
    f.save()
    tags = read_tags(path)
    assert tags["year"] is None and tags["track_number"] is None
    assert tags["title"] == "odd" and tags["artist"] is None

    fake = tmp_path / "Not Audio - Really.mp3"
    fake.write_text("this is not an mp3 file at all")
    assert read_tags(fake)["title"] == "Really"
    truncated = tmp_path / "trunc.flac"
    truncated.write_bytes(path.read_bytes()[:60])
    assert read_tags(truncated)["title"] == "trunc"
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    assert read_tags(empty)["title"] == "empty"
    assert read_tags(tmp_path / "missing.ogg")["title"] == "missing"
    garbage_riff = tmp_path / "garbage.wav"
    garbage_riff.write_bytes(b"RIFF\xff\xff\xff\xffWAVELIST\xff\xff\xff\x7fINFOINAM\xff\xff")
    assert read_tags(garbage_riff)["title"] == "garbage"


def test_corpus_tags(corpus: Path) -> None:
    tags = read_tags(corpus / "Kevin_MacLeod_-_Vibe_Ace.ogg")
    assert tags["title"] == "Vibe Ace" and tags["artist"] == "Kevin MacLeod"
    trumpet = read_tags(corpus / "sorohanro_-_solo-trumpet-06.ogg")
    assert trumpet["title"] == "solo-trumpet-06" and trumpet["artist"] == "sorohanro"
