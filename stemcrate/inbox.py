"""The inbox watcher: hands each finished audio file dropped into a folder to ``submit``.

Public API
----------
``InboxWatcher(inbox, submit, *, poll_s=2.0, stable_s=2.0, settle_s=10.0, use_events=True,
extensions=AUDIO_EXTENSIONS)``
    ``start()`` / ``stop()`` run it on its own thread; ``scan_once() -> list[Path]`` does one
    pass by hand (what the thread does every ``poll_s``) and returns the files submitted on
    it; ``release(path)`` tells it the submit side is done with ``path``.
``move_to_processed(path, inbox, *, note=None) -> Path``
``move_to_failed(path, inbox, error) -> Path`` (also writes ``<name>.error.txt`` beside it)

How a file becomes ready (the traps, and what this module does about them)
-------------------------------------------------------------------------
* watchdog reports a file when it *appears*, not when it is finished; renames into the
  inbox arrive as *moves*; events get lost (queue overflow, network shares, a watch that
  could not be set up); an exception in a handler kills the observer thread silently.
  So events are only **hints**: the handler just records the path and wakes the watcher
  (it does no I/O and cannot raise), and a **full rescan** of the inbox every ``poll_s``
  seconds finds whatever the events missed (files dropped while nothing was running
  included). If the observer thread dies it is restarted; if it cannot be started the
  watcher keeps working by polling alone.
* A file is **ready** when its signature ``(size, mtime)`` has been seen unchanged for at
  least ``stable_s`` seconds — measured between observations (scans), never by sleeping in
  a handler — **and** it opens as audio (:func:`stemcrate.audio.decode.audio_info`).
* A file that is stable but does **not** open (a text file named ``.wav``, an empty file, a
  truncated mp3 whose copy stalled) is handed over anyway once it has been stable for
  ``settle_s`` seconds (default 10 s), so the ingest fails it clearly and it ends up in
  ``failed/``; waiting the longer ``settle_s`` first keeps a half-copied file from being
  failed early. The decode check runs once per signature (same size and mtime → same
  bytes), so a large undecodable file is not decoded on every pass.
* A submitted file is **in flight** until ``release(path)``: it is not submitted again,
  however many events or scans see it, unless its signature changes (it was replaced).
  After ``release`` a file still in the inbox is eligible again on the next scan (that is
  how an ingest killed half-way is redone); a file that vanished from the inbox is
  forgotten, so a new file of the same name is a new candidate.
* ``submit`` runs on the watcher's thread and must be quick. If it raises, the error is
  logged, the file is not in flight, and it is retried after ``settle_s``; an error in a
  scan is logged too. Nothing stops the watcher but ``stop()``.

Ignored
-------
Names starting with ``.`` (files and folders: hidden, ``.~lock…``), partial/temporary
names (``*.part``, ``*.partial``, ``*.crdownload``, ``*.download``, ``*.tmp``, ``*.temp``,
``*.swp``, ``~*``), folders named ``processed`` or ``failed`` and everything inside them
(at any depth), anything that is not a regular file (symlinks to files are followed), and
files whose extension is not in ``extensions`` (the audio extensions of
:mod:`stemcrate.audio.decode` by default; pass ``None`` to consider every file).
Subfolders are scanned recursively.

Moving files
------------
``move_to_processed`` / ``move_to_failed`` move a file into ``<inbox>/processed/`` or
``<inbox>/failed/`` keeping its path relative to the inbox (a file outside the inbox keeps
just its name). They never overwrite: an existing name gets `` (1)``, `` (2)`` … before the
extension, for the ``.error.txt`` too. They never delete: the move is a hard link then an
unlink of the source (a crash in between leaves two names for one file, never none), or,
across file systems, a copy, an fsync and then the unlink.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from stemcrate.audio.decode import AUDIO_EXTENSIONS

__all__ = ["InboxWatcher", "is_ignored_name", "move_to_failed", "move_to_processed"]

log = logging.getLogger("stemcrate.inbox")

IGNORED_DIRS = frozenset({"processed", "failed"})
_PARTIAL_SUFFIXES = (".part", ".partial", ".crdownload", ".download", ".tmp", ".temp", ".swp")

Signature = tuple[int, int]  # (size in bytes, mtime in ns)


def is_ignored_name(name: str) -> bool:
    """True for hidden, temporary and partial-download file names."""
    lower = name.lower()
    return (
        not name
        or name.startswith(".")
        or name.startswith("~")
        or lower.endswith(_PARTIAL_SUFFIXES)
    )


@dataclass
class _Candidate:
    sig: Signature
    since: float  # monotonic time the signature was first seen
    decodable: bool | None = None  # decode check result for ``sig`` (None: not checked yet)
    retry_at: float = 0.0  # after a failed submit


class InboxWatcher:
    """Watch ``inbox`` and call ``submit(path)`` once for each finished audio file.

    Parameters
    ----------
    inbox : folder to watch (created if missing).
    submit : called with the absolute path of each ready file, on the watcher's thread;
        must return quickly (start a flow run, put on a queue).
    poll_s : seconds between full rescans of the inbox.
    stable_s : seconds a file's size and mtime must stay unchanged before it is checked.
    settle_s : seconds of stability after which a file that does not open as audio is
        handed over anyway (the ingest then fails it); also the retry delay after
        ``submit`` raised.
    use_events : use watchdog events as hints (polling alone still finds everything).
    extensions : lower-case suffixes (with the dot) considered at all; ``None`` for all.
    """

    def __init__(
        self,
        inbox: Path,
        submit: Callable[[Path], None],
        *,
        poll_s: float = 2.0,
        stable_s: float = 2.0,
        settle_s: float = 10.0,
        use_events: bool = True,
        extensions: Collection[str] | None = AUDIO_EXTENSIONS,
    ) -> None:
        self.inbox = Path(inbox).expanduser().absolute()
        self.submit = submit
        self.poll_s = float(poll_s)
        self.stable_s = float(stable_s)
        self.settle_s = max(float(settle_s), float(stable_s))
        self.use_events = use_events
        self.extensions = None if extensions is None else {e.lower() for e in extensions}
        self._candidates: dict[Path, _Candidate] = {}
        self._in_flight: dict[Path, Signature] = {}
        self._hints: set[Path] = set()
        self._state_lock = threading.Lock()  # _in_flight, _hints (touched from other threads)
        self._scan_lock = threading.RLock()  # one scan at a time
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._observer: Any = None
        self._observer_retry_at = 0.0

    # ------------------------------------------------------------------ public

    def start(self) -> None:
        """Start the watcher thread (and the watchdog observer); returns at once."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._ensure_inbox()
        if self.use_events:
            self._start_observer()
        self._thread = threading.Thread(target=self._run, name="stemcrate-inbox", daemon=True)
        self._thread.start()
        log.info("watching inbox %s (poll %.1fs, stable %.1fs)", self.inbox, self.poll_s,
                 self.stable_s)

    def stop(self) -> None:
        """Stop the thread and the observer; waits for a running scan to finish."""
        self._stop.set()
        self._wake.set()
        self._stop_observer()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=max(5.0, 2 * self.poll_s))

    def __enter__(self) -> InboxWatcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def release(self, path: Path) -> None:
        """The submit side is done with ``path`` (moved it, or gave up without moving).

        If the file is still in the inbox it is submitted again on the next scan.
        """
        key = self._key(path)
        with self._state_lock:
            self._in_flight.pop(key, None)
            self._hints.add(key)
        self._wake.set()

    def in_flight(self) -> list[Path]:
        """Paths submitted and not yet released."""
        with self._state_lock:
            return sorted(self._in_flight)

    def scan_once(self) -> list[Path]:
        """One full pass: rescan the inbox, submit every ready file; returns those submitted."""
        with self._scan_lock:
            with self._state_lock:
                self._hints.clear()
            present = self._walk()
            return self._process(present, full=True)

    # ------------------------------------------------------------------ thread

    def _run(self) -> None:
        next_full = 0.0
        while not self._stop.is_set():
            try:
                now = time.monotonic()
                if now >= next_full:
                    self._ensure_inbox()
                    self.scan_once()
                    next_full = time.monotonic() + self.poll_s
                    self._check_observer()
                else:
                    self._scan_hints()
                timeout = max(0.05, min(next_full, self._next_due()) - time.monotonic())
            except Exception:  # noqa: BLE001 - a scan error must never stop the watcher
                log.exception("inbox scan of %s failed; trying again", self.inbox)
                timeout = self.poll_s
                next_full = time.monotonic() + self.poll_s
            self._wake.wait(timeout)
            self._wake.clear()

    def _scan_hints(self) -> None:
        with self._scan_lock:
            with self._state_lock:
                hints, self._hints = self._hints, set()
            paths = {p for p in hints if self._wanted(p)} | set(self._candidates)
            self._process(paths, full=False)

    def _next_due(self) -> float:
        """Monotonic time at which some waiting candidate may become ready (inf: none)."""
        due = float("inf")
        with self._scan_lock:
            with self._state_lock:
                flying = set(self._in_flight)
            for path, cand in self._candidates.items():
                if path in flying:
                    continue
                wait = self.stable_s if cand.decodable is not False else self.settle_s
                due = min(due, max(cand.since + wait, cand.retry_at))
        return due

    # ------------------------------------------------------------------ scanning

    def _walk(self) -> set[Path]:
        found: set[Path] = set()
        stack = [self.inbox]
        while stack:
            folder = stack.pop()
            try:
                entries = list(os.scandir(folder))
            except OSError as exc:
                if folder == self.inbox:
                    log.warning("cannot list inbox %s: %s", folder, exc)
                continue
            for entry in entries:
                name = entry.name
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if not name.startswith(".") and name not in IGNORED_DIRS:
                            stack.append(Path(entry.path))
                    elif entry.is_file() and self._wanted_name(name):
                        found.add(Path(entry.path))
                except OSError:
                    continue
        return found

    def _wanted_name(self, name: str) -> bool:
        if is_ignored_name(name):
            return False
        return self.extensions is None or Path(name).suffix.lower() in self.extensions

    def _wanted(self, path: Path) -> bool:
        """Inside the inbox, not in an ignored folder, with a wanted name."""
        try:
            rel = path.relative_to(self.inbox)
        except ValueError:
            return False
        parts = rel.parts
        if not parts or any(p.startswith(".") or p in IGNORED_DIRS for p in parts[:-1]):
            return False
        return self._wanted_name(parts[-1])

    def _process(self, paths: set[Path], *, full: bool) -> list[Path]:
        now = time.monotonic()
        submitted: list[Path] = []
        seen: set[Path] = set()
        for path in sorted(paths):
            sig = _signature(path)
            if sig is None:
                self._candidates.pop(path, None)
                continue
            seen.add(path)
            with self._state_lock:
                flying = self._in_flight.get(path)
            if flying is not None and flying == sig:
                continue  # submitted, not released, unchanged
            cand = self._candidates.get(path)
            if cand is None or cand.sig != sig:
                self._candidates[path] = _Candidate(sig, now)
                continue  # new or changed: the stability clock starts now
            if now - cand.since < self.stable_s or now < cand.retry_at:
                continue
            if cand.decodable is None:
                cand.decodable = _opens_as_audio(path)
                if _signature(path) != sig:  # changed while we looked
                    self._candidates[path] = _Candidate(_signature(path) or sig, now)
                    continue
            if not cand.decodable and now - cand.since < self.settle_s:
                continue
            if self._submit(path, sig):
                submitted.append(path)  # the candidate stays: after release() it is ready
            else:
                cand.retry_at = now + self.settle_s
        if full:
            # forget what left the inbox (a new file of that name is a new candidate)
            for path in list(self._candidates):
                if path not in seen:
                    del self._candidates[path]
            with self._state_lock:
                for path in list(self._in_flight):
                    if path not in seen and not path.exists():
                        del self._in_flight[path]
        return submitted

    def _submit(self, path: Path, sig: Signature) -> bool:
        with self._state_lock:
            self._in_flight[path] = sig
        try:
            self.submit(path)
        except Exception:  # noqa: BLE001 - a failing submit must never stop the watcher
            log.exception("submitting %s failed; will retry in %.0fs", path, self.settle_s)
            with self._state_lock:
                if self._in_flight.get(path) == sig:
                    del self._in_flight[path]
            return False
        log.info("submitted %s", path)
        return True

    # ------------------------------------------------------------------ observer

    def _ensure_inbox(self) -> None:
        try:
            self.inbox.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.warning("cannot create inbox %s: %s", self.inbox, exc)

    def _start_observer(self) -> None:
        try:
            from watchdog.observers import Observer

            observer = Observer()
            observer.schedule(_hint_handler(self), str(self.inbox), recursive=True)
            observer.daemon = True
            observer.start()
            self._observer = observer
        except Exception as exc:  # noqa: BLE001 - polling alone still works
            log.warning("inbox events unavailable (%s); polling %s every %.1fs", exc,
                        self.inbox, self.poll_s)
            self._observer = None
            self._observer_retry_at = time.monotonic() + 30.0

    def _stop_observer(self) -> None:
        observer, self._observer = self._observer, None
        if observer is None:
            return
        try:
            observer.stop()
            observer.join(timeout=5.0)
        except Exception:  # noqa: BLE001
            log.debug("stopping the inbox observer failed", exc_info=True)

    def _check_observer(self) -> None:
        if not self.use_events or self._stop.is_set():
            return
        alive = self._observer is not None and self._observer.is_alive()
        if alive or time.monotonic() < self._observer_retry_at:
            return
        if self._observer is not None:
            log.warning("inbox observer stopped; restarting it")
        self._stop_observer()
        self._start_observer()

    def _hint(self, path: str | bytes) -> None:
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not path:
            return
        with self._state_lock:
            self._hints.add(self._key(Path(path)))
        self._wake.set()

    def _key(self, path: Path | str) -> Path:
        return Path(path).expanduser().absolute()


def _hint_handler(watcher: InboxWatcher) -> Any:
    """A watchdog handler that records event paths as hints: no I/O, never raises."""
    from watchdog.events import FileSystemEventHandler

    class HintHandler(FileSystemEventHandler):
        def dispatch(self, event: Any) -> None:
            try:
                if getattr(event, "event_type", "") in ("opened", "closed_no_write"):
                    return
                for attr in ("src_path", "dest_path"):
                    value = getattr(event, attr, "")
                    if value:
                        watcher._hint(value)
            except Exception:  # noqa: BLE001 - an exception here would kill the observer
                pass

    return HintHandler()


def _signature(path: Path) -> Signature | None:
    try:
        st = path.stat()
    except OSError:
        return None
    if not _is_regular(st.st_mode):
        return None
    return (int(st.st_size), int(st.st_mtime_ns))


def _is_regular(mode: int) -> bool:
    import stat

    return stat.S_ISREG(mode)


def _opens_as_audio(path: Path) -> bool:
    from stemcrate.audio.decode import audio_info

    try:
        info = audio_info(path)
    except Exception:  # noqa: BLE001 - any failure means "not (yet) audio"
        return False
    return info.frames > 0 and info.sample_rate > 0


# ---------------------------------------------------------------------------- moving


def move_to_processed(path: Path, inbox: Path, *, note: str | None = None) -> Path:
    """Move ``path`` to ``<inbox>/processed/<path relative to inbox>``; returns the new path.

    Never overwrites (`` (1)``, `` (2)`` … before the extension) and never deletes. With
    ``note``, a ``<new name>.note.txt`` holding it is written beside the file (e.g. "already
    in the library as track …").
    """
    dest = _move(Path(path), Path(inbox), "processed")
    if note is not None:
        _write_new(dest.parent, f"{dest.name}.note.txt", note.rstrip("\n") + "\n")
    return dest


def move_to_failed(path: Path, inbox: Path, error: str) -> Path:
    """Move ``path`` to ``<inbox>/failed/<path relative to inbox>`` and explain why.

    Writes ``<new name>.error.txt`` beside it (never overwriting one: `` (1)`` …) naming the
    original file, where it went, when, and ``error``. Returns the file's new path.
    """
    src = Path(path)
    dest = _move(src, Path(inbox), "failed")
    text = (
        f"file: {src}\n"
        f"moved to: {dest}\n"
        f"failed at: {datetime.now(timezone.utc).isoformat(timespec='seconds')}\n"
        f"cause: {error.rstrip()}\n"
    )
    _write_new(dest.parent, f"{dest.name}.error.txt", text)
    return dest


def _move(src: Path, inbox: Path, folder: str) -> Path:
    src = src.expanduser().absolute()
    inbox = inbox.expanduser().absolute()
    if not src.is_file():
        raise FileNotFoundError(f"{src}: cannot move to {folder}/: no such file")
    try:
        rel = src.relative_to(inbox)
    except ValueError:
        try:  # one of them reached through a symlink
            rel = src.resolve().relative_to(inbox.resolve())
        except (ValueError, OSError):
            rel = Path(src.name)
    if rel.parts and rel.parts[0] in IGNORED_DIRS:
        rel = Path(*rel.parts[1:]) if len(rel.parts) > 1 else Path(src.name)
    target_dir = inbox / folder / rel.parent
    target_dir.mkdir(parents=True, exist_ok=True)
    for candidate in _unique_names(target_dir, rel.name):
        try:
            _link_or_copy(src, candidate)
        except FileExistsError:
            continue
        _unlink_source(src, candidate)
        return candidate
    raise RuntimeError("unreachable")  # pragma: no cover


def _unique_names(folder: Path, name: str) -> Iterator[Path]:
    """``name``, then ``stem (1).ext``, ``stem (2).ext`` … (``.error.txt`` style double
    suffixes keep theirs: ``x.wav (1).error.txt``)."""
    yield folder / name
    for marker in (".error.txt", ".note.txt"):
        if name.endswith(marker):
            stem, ext = name[: -len(marker)], marker
            break
    else:
        p = Path(name)
        stem, ext = (p.stem, p.suffix) if p.suffix and p.stem else (name, "")
    n = 1
    while True:
        yield folder / f"{stem} ({n}){ext}"
        n += 1


def _link_or_copy(src: Path, dest: Path) -> None:
    """Give ``src`` the new name ``dest`` without ever replacing an existing ``dest``."""
    try:
        os.link(src, dest)  # fails with FileExistsError if dest exists: no overwrite
        return
    except FileExistsError:
        raise
    except OSError:
        pass  # other file system, or no hard links here: copy
    with open(dest, "xb") as out, open(src, "rb") as inp:  # "x": never overwrite
        shutil.copyfileobj(inp, out, 1024 * 1024)
        out.flush()
        os.fsync(out.fileno())
    with contextlib.suppress(OSError):
        shutil.copystat(src, dest)


def _unlink_source(src: Path, dest: Path) -> None:
    """Remove the inbox name once the file is safely at ``dest`` (same size)."""
    try:
        if dest.stat().st_size == src.stat().st_size:
            src.unlink()
        else:  # pragma: no cover - a copy went wrong; keep both
            log.error("copy of %s to %s is incomplete; left the original in place", src, dest)
    except OSError as exc:
        log.error("moved %s to %s but could not remove the inbox copy: %s", src, dest, exc)


def _write_new(folder: Path, name: str, text: str) -> Path:
    for candidate in _unique_names(folder, name):
        try:
            with open(candidate, "x", encoding="utf-8") as fh:
                fh.write(text)
            return candidate
        except FileExistsError:
            continue
    raise RuntimeError("unreachable")  # pragma: no cover
