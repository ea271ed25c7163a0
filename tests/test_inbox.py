"""The inbox watcher with real files, a real watchdog observer and real threads."""

from __future__ import annotations

import io
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from stemcrate.inbox import InboxWatcher, is_ignored_name, move_to_failed, move_to_processed


def wav_bytes(seconds: float = 1.0, sr: int = 8000, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    sf.write(buf, (0.1 * rng.standard_normal(int(sr * seconds))).astype(np.float32), sr,
             format="WAV", subtype="PCM_16")
    return buf.getvalue()


class Recorder:
    """A submit callable that records calls (thread-safe) and can be told to fail."""

    def __init__(self, fail: Callable[[Path], bool] | None = None) -> None:
        self.calls: list[Path] = []
        self.fail = fail
        self.cond = threading.Condition()

    def __call__(self, path: Path) -> None:
        with self.cond:
            self.calls.append(path)
            self.cond.notify_all()
        if self.fail is not None and self.fail(path):
            raise RuntimeError(f"submit exploded on {path.name}")

    def wait_for(self, pred: Callable[[list[Path]], bool], timeout: float = 10.0) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: pred(list(self.calls)), timeout=timeout)

    def names(self) -> list[str]:
        with self.cond:
            return [p.name for p in self.calls]


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


@pytest.fixture
def running() -> Iterator[Callable[..., InboxWatcher]]:
    watchers: list[InboxWatcher] = []

    def make(inbox: Path, submit: Callable[[Path], None], **kw: float | bool) -> InboxWatcher:
        opts: dict = {"poll_s": 0.2, "stable_s": 0.6, "settle_s": 2.0}
        opts.update(kw)
        w = InboxWatcher(inbox, submit, **opts)
        w.start()
        watchers.append(w)
        return w

    yield make
    for w in watchers:
        w.stop()


def all_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


# ----------------------------------------------------------------------- readiness


def test_slow_copy_is_submitted_once_when_complete(inbox: Path, running) -> None:
    data = wav_bytes(2.0)
    rec = Recorder()
    running(inbox, rec, stable_s=1.5)  # chunks arrive every 0.3 s
    target = inbox / "slow.wav"
    done = threading.Event()
    seen_while_writing: list[list[str]] = []

    def writer() -> None:
        chunks = np.array_split(np.frombuffer(data, dtype=np.uint8), 10)
        with open(target, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk.tobytes())
                fh.flush()
                os.fsync(fh.fileno())
                seen_while_writing.append(rec.names())
                time.sleep(0.3)
        done.set()

    t = threading.Thread(target=writer)
    t.start()
    t.join()
    assert done.is_set()
    assert all(names == [] for names in seen_while_writing)  # nothing while incomplete
    assert rec.wait_for(lambda c: len(c) >= 1)
    time.sleep(1.0)  # more scans and events: still one submit
    assert rec.calls == [target]
    assert target.read_bytes() == data


def test_file_dropped_while_not_running_is_found(inbox: Path, running) -> None:
    (inbox / "album" / "disc 1").mkdir(parents=True)
    early = inbox / "album" / "disc 1" / "01 early.flac"
    buf = io.BytesIO()
    sf.write(buf, np.zeros((4000, 2), dtype=np.float32), 8000, format="FLAC")
    early.write_bytes(buf.getvalue())
    rec = Recorder()
    running(inbox, rec)
    assert rec.wait_for(lambda c: len(c) == 1)
    assert rec.calls == [early]


def test_ignored_names_and_part_renamed_to_wav(inbox: Path, running) -> None:
    data = wav_bytes()
    ignored = [".hidden.wav", "song.wav.part", "x.crdownload", "x.download", "y.tmp",
               "~lock.wav", ".~lock.song.wav#", "z.wav.swp", "notes.txt",
               "processed/done.wav", "failed/bad.wav", "sub/processed/deep.wav",
               ".cache/inside.wav"]
    for name in ignored:
        (inbox / name).parent.mkdir(parents=True, exist_ok=True)
        (inbox / name).write_bytes(data)
    (inbox / "dir.wav").mkdir()  # a folder with an audio name is not a file
    rec = Recorder()
    running(inbox, rec)
    partial = inbox / "sub" / "download.wav.part"
    partial.write_bytes(data)
    final = inbox / "sub" / "download.wav"
    os.rename(partial, final)  # arrives as a move event
    assert rec.wait_for(lambda c: len(c) >= 1)
    time.sleep(1.2)
    assert rec.calls == [final]


def test_is_ignored_name() -> None:
    for name in (".x", "a.part", "a.PART", "a.crdownload", "a.tmp", "~a.wav", ".~lock.a#",
                 "a.swp", "a.download"):
        assert is_ignored_name(name), name
    for name in ("a.wav", "My Song (1).flac", "part.wav", "tmp.mp3"):
        assert not is_ignored_name(name), name


def test_stable_but_undecodable_waits_for_settle(inbox: Path) -> None:
    rec = Recorder()
    watcher = InboxWatcher(inbox, rec, stable_s=0.3, settle_s=3.0, use_events=False)
    text = inbox / "not really.wav"
    text.write_text("this is a text file, not audio")
    good = inbox / "good.wav"
    good.write_bytes(wav_bytes())
    assert watcher.scan_once() == []  # first sight: clocks start
    time.sleep(0.5)
    assert watcher.scan_once() == [good]  # stable and decodable
    assert watcher.scan_once() == []  # the text file is stable but not settled
    time.sleep(3.0)
    assert watcher.scan_once() == [text]  # handed over so the ingest can fail it
    assert watcher.scan_once() == []
    assert rec.calls == [good, text]


def test_changed_file_restarts_the_clock(inbox: Path) -> None:
    rec = Recorder()
    watcher = InboxWatcher(inbox, rec, stable_s=0.5, settle_s=1.0, use_events=False)
    path = inbox / "growing.wav"
    data = wav_bytes(2.0)
    path.write_bytes(data[:1000])
    assert watcher.scan_once() == []
    time.sleep(0.6)
    path.write_bytes(data)  # grew since the last look
    assert watcher.scan_once() == []
    time.sleep(0.6)
    assert watcher.scan_once() == [path]


# ----------------------------------------------------------------------- in flight


def test_duplicate_events_and_scans_submit_once(inbox: Path) -> None:
    rec = Recorder()
    watcher = InboxWatcher(inbox, rec, stable_s=0.2, use_events=False)
    path = inbox / "a.wav"
    path.write_bytes(wav_bytes())
    watcher.scan_once()
    time.sleep(0.3)
    assert watcher.scan_once() == [path]
    st = path.stat()
    for _ in range(5):  # attribute-only touches and event hints change nothing
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        watcher._hint(str(path))
        watcher._scan_hints()
        assert watcher.scan_once() == []
    assert rec.calls == [path]
    assert watcher.in_flight() == [path]


def test_release_makes_a_file_still_there_eligible_again(inbox: Path) -> None:
    rec = Recorder()
    watcher = InboxWatcher(inbox, rec, stable_s=0.2, use_events=False)
    path = inbox / "a.wav"
    path.write_bytes(wav_bytes())
    watcher.scan_once()
    time.sleep(0.3)
    assert watcher.scan_once() == [path]
    assert watcher.scan_once() == []  # in flight, not released
    watcher.release(path)
    assert watcher.scan_once() == [path]  # e.g. the run was killed mid-ingest: redo it
    # replaced while in flight (new size/mtime): submitted again once stable
    path.write_bytes(wav_bytes(seed=1, seconds=1.5))
    assert watcher.scan_once() == []
    time.sleep(0.3)
    assert watcher.scan_once() == [path]
    # moved away by the ingest and released: gone, nothing more to do
    dest = move_to_processed(path, inbox)
    watcher.release(path)
    assert watcher.scan_once() == [] and dest.is_file()
    assert rec.calls == [path, path, path]


def test_vanished_in_flight_file_is_forgotten(inbox: Path) -> None:
    rec = Recorder()
    watcher = InboxWatcher(inbox, rec, stable_s=0.2, use_events=False)
    path = inbox / "same name.wav"
    data = wav_bytes()
    path.write_bytes(data)
    watcher.scan_once()
    time.sleep(0.3)
    assert watcher.scan_once() == [path]
    move_to_processed(path, inbox)  # not released by the submit side
    assert watcher.scan_once() == []
    path.write_bytes(data)  # the same name dropped again
    watcher.scan_once()
    time.sleep(0.3)
    assert watcher.scan_once() == [path]


# ----------------------------------------------------------------------- robustness


def test_exception_in_submit_is_survived(inbox: Path, running,
                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="stemcrate.inbox")
    attempts: dict[str, int] = {}

    def fail(path: Path) -> bool:
        attempts[path.name] = attempts.get(path.name, 0) + 1
        return path.name == "bad.wav" and attempts[path.name] == 1

    rec = Recorder(fail)
    running(inbox, rec, settle_s=1.0)
    (inbox / "bad.wav").write_bytes(wav_bytes())
    assert rec.wait_for(lambda c: len(c) == 1)
    (inbox / "good.wav").write_bytes(wav_bytes(seed=2))
    assert rec.wait_for(lambda c: "good.wav" in [p.name for p in c])
    # the failed submit is retried after settle_s and then succeeds
    assert rec.wait_for(lambda c: [p.name for p in c].count("bad.wav") == 2)
    time.sleep(0.8)
    assert sorted(rec.names()) == ["bad.wav", "bad.wav", "good.wav"]
    assert "submit exploded on bad.wav" in caplog.text


def test_exception_in_scanning_is_survived(inbox: Path, running, monkeypatch) -> None:
    rec = Recorder()
    real_walk = InboxWatcher._walk
    calls = {"n": 0}

    def flaky_walk(self: InboxWatcher) -> set[Path]:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise OSError("disk on fire")
        return real_walk(self)

    monkeypatch.setattr(InboxWatcher, "_walk", flaky_walk)
    watcher = running(inbox, rec, use_events=False)
    (inbox / "a.wav").write_bytes(wav_bytes())
    assert rec.wait_for(lambda c: len(c) == 1)
    assert calls["n"] > 2
    assert watcher._thread is not None and watcher._thread.is_alive()


def test_polling_alone_and_dead_observer(inbox: Path, running) -> None:
    rec = Recorder()
    w = running(inbox, rec, use_events=False)
    (inbox / "a.wav").write_bytes(wav_bytes())
    assert rec.wait_for(lambda c: len(c) == 1)
    w.stop()

    rec2 = Recorder()
    w2 = running(inbox, rec2, poll_s=0.2)
    assert w2._observer is not None
    w2._observer.stop()  # the observer thread dies (as after an exception in a handler)
    w2._observer.join()
    (inbox / "b.wav").write_bytes(wav_bytes(seed=3))
    assert rec2.wait_for(lambda c: "b.wav" in [p.name for p in c])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not (w2._observer and w2._observer.is_alive()):
        time.sleep(0.05)
    assert w2._observer is not None and w2._observer.is_alive()  # restarted


# ----------------------------------------------------------------------- moving


def test_move_to_failed_writes_error_and_never_overwrites(inbox: Path) -> None:
    first, second = wav_bytes(seed=1), wav_bytes(seed=2)
    (inbox / "sub").mkdir()
    src = inbox / "sub" / "x.wav"
    src.write_bytes(first)
    dest1 = move_to_failed(src, inbox, "InputError: x.wav: not a readable audio file")
    assert dest1 == inbox / "failed" / "sub" / "x.wav"
    assert dest1.read_bytes() == first and not src.exists()
    err1 = (inbox / "failed" / "sub" / "x.wav.error.txt").read_text()
    assert "x.wav" in err1 and "not a readable audio file" in err1

    src.write_bytes(second)  # the same name dropped again, fails again
    # a stray error file already holds the next name
    (inbox / "failed" / "sub" / "x (1).wav.error.txt").write_text("older")
    dest2 = move_to_failed(src, inbox, "empty file (0 bytes)")
    assert dest2 == inbox / "failed" / "sub" / "x (1).wav"
    assert dest2.read_bytes() == second and dest1.read_bytes() == first
    assert (inbox / "failed" / "sub" / "x (1).wav.error.txt").read_text() == "older"
    err2 = (inbox / "failed" / "sub" / "x (1).wav (1).error.txt").read_text()
    assert "empty file (0 bytes)" in err2 and "x.wav" in err2
    assert sorted(all_files(inbox)) == [
        "failed/sub/x (1).wav", "failed/sub/x (1).wav (1).error.txt",
        "failed/sub/x (1).wav.error.txt", "failed/sub/x.wav", "failed/sub/x.wav.error.txt",
    ]


def test_move_to_processed_keeps_subpath_and_never_overwrites(inbox: Path) -> None:
    blobs = [wav_bytes(seed=s) for s in range(3)]
    (inbox / "a" / "b").mkdir(parents=True)
    src = inbox / "a" / "b" / "My Song.flac"
    dests = []
    for i, blob in enumerate(blobs):
        src.write_bytes(blob)
        dests.append(move_to_processed(src, inbox, note="already in the library" if i else None))
    assert [d.name for d in dests] == ["My Song.flac", "My Song (1).flac", "My Song (2).flac"]
    assert all(d.parent == inbox / "processed" / "a" / "b" for d in dests)
    assert [d.read_bytes() for d in dests] == blobs
    assert (inbox / "processed" / "a" / "b" / "My Song (1).flac.note.txt").read_text() == (
        "already in the library\n")
    assert (inbox / "a" / "b").is_dir()  # folders are left in place
    with pytest.raises(FileNotFoundError):
        move_to_processed(src, inbox)


def test_watcher_with_moves_deletes_nothing(inbox: Path, running) -> None:
    """End to end: the submit side moves good files to processed/ and bad ones to failed/."""
    rec = Recorder()
    moved: list[Path] = []

    def submit(path: Path) -> None:
        rec(path)
        if path.read_bytes().startswith(b"RIFF"):
            moved.append(move_to_processed(path, inbox))
        else:
            moved.append(move_to_failed(path, inbox, "not a readable audio file"))
        watcher.release(path)

    watcher = running(inbox, submit, settle_s=1.0)
    originals = {"one.wav": wav_bytes(seed=1), "two.wav": wav_bytes(seed=2),
                 "fake.wav": b"plain text pretending"}
    for name, blob in originals.items():
        (inbox / name).write_bytes(blob)
    assert rec.wait_for(lambda c: len(c) == 3)
    (inbox / "one.wav").write_bytes(originals["one.wav"])  # the same file again
    assert rec.wait_for(lambda c: len(c) == 4)
    time.sleep(0.8)
    assert len(rec.calls) == 4
    files = all_files(inbox)
    assert files["processed/one.wav"] == files["processed/one (1).wav"] == originals["one.wav"]
    assert files["processed/two.wav"] == originals["two.wav"]
    assert files["failed/fake.wav"] == originals["fake.wav"]
    assert "failed/fake.wav.error.txt" in files
    assert not any((inbox / n).exists() for n in originals)
