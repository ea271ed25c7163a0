"""HTTP endpoints served beside the Panel pages (tornado handlers, via ``extra_patterns``).

``GET/HEAD /media/<key>``
    A file of the object store, streamed with HTTP range requests (``Range: bytes=a-b`` →
    ``206 Partial Content``), so audio elements seek without downloading whole files and
    nothing is ever inlined as base64. Keys are validated: relative, no ``..``, no
    backslash or NUL, under ``tracks/`` (artefacts only) and present in the store; nothing
    outside the store can be read. On S3 the handler redirects to a presigned URL.
``POST /upload?name=<file name>``
    The raw bytes of one audio file (the browser's drop zone sends one request per file,
    with progress). The body is streamed to ``<inbox>/uploads/.upload-<uuid>.part`` and
    renamed to a unique, never overwritten, sanitised name when complete. The size limit
    (``settings.max_upload_mb``) is enforced here, on the server: a larger
    ``Content-Length`` is refused with 413 before any byte is read, and a body that grows
    past it is cut off. ``on_upload(path)`` is then called (off the event loop). A request
    whose ``Origin`` is another site is refused (no cross-site uploads into the inbox).
``GET /exports/<token>/<file>``
    The zip of an export made by the dashboard (only files under ``<home>/exports``).

When login is on (basic auth / OAuth), every handler requires the same signed ``user``
cookie as the Panel pages.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import os
import re
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import tornado.web
from tornado.ioloop import IOLoop

from stemcrate.audio.decode import AUDIO_EXTENSIONS
from stemcrate.dashboard.context import DashboardContext

log = logging.getLogger("stemcrate.dashboard")

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9 ._()+-]+")
CHUNK = 256 * 1024
MEDIA_PREFIXES = ("tracks/",)
_TYPES = {".wav": "audio/wav", ".flac": "audio/flac", ".ogg": "audio/ogg", ".mp3": "audio/mpeg",
          ".m4a": "audio/mp4", ".aif": "audio/aiff", ".aiff": "audio/aiff",
          ".opus": "audio/ogg", ".mid": "audio/midi", ".json": "application/json",
          ".lrc": "text/plain", ".srt": "text/plain"}


def valid_key(raw: str) -> str | None:
    """``raw`` (URL-decoded) as a store key when it is safe to serve, else ``None``."""
    key = unquote(raw)
    if not key or key.startswith("/") or "\\" in key or "\0" in key:
        return None
    parts = key.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return None
    if not key.startswith(MEDIA_PREFIXES):
        return None
    return key


def parse_range(header: str | None, size: int) -> tuple[int, int] | None | bool:
    """``(start, end)`` inclusive for a ``Range`` header; ``None`` when there is no
    (usable) header; ``False`` when it cannot be satisfied (→ 416)."""
    if not header:
        return None
    m = _RANGE.match(header.strip())
    if not m:
        return None  # multi-range or another unit: send the whole file
    first, last = m.group(1), m.group(2)
    if first == "" and last == "":
        return None
    if first == "":
        length = int(last)
        if length == 0:
            return False
        return max(size - length, 0), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        return False
    return start, min(end, size - 1)


def safe_upload_name(name: str) -> str | None:
    """A file name for an upload: base name only, odd characters replaced, audio extension
    required (``None`` when it has none)."""
    base = os.path.basename(name.replace("\\", "/")).strip()
    stem, ext = os.path.splitext(base)
    ext = ext.lower()
    if ext not in AUDIO_EXTENSIONS:
        return None
    stem = _UNSAFE_NAME.sub("_", stem).strip(" ._") or "upload"
    return stem[:120] + ext


class _Base(tornado.web.RequestHandler):
    ctx: DashboardContext

    def initialize(self, ctx: DashboardContext) -> None:
        self.ctx = ctx

    async def _authorised(self) -> bool:
        if not self.ctx.auth:
            return True
        provider = getattr(self.application, "auth_provider", None)
        if provider is None:
            return True
        user: Any = None
        if getattr(provider, "get_user_async", None):
            user = await provider.get_user_async(self)
        elif getattr(provider, "get_user", None):
            user = provider.get_user(self)
        if not user:
            self.send_error(403)
            return False
        return True


class MediaHandler(_Base):
    """Range-request streaming of store files (see the module docstring)."""

    async def head(self, raw: str) -> None:
        await self._serve(raw, body=False)

    async def get(self, raw: str) -> None:
        await self._serve(raw, body=True)

    async def _serve(self, raw: str, *, body: bool) -> None:
        if not await self._authorised():
            return
        key = valid_key(raw)
        store = self.ctx.library.store
        if key is None:
            raise tornado.web.HTTPError(404)
        if store.protocol == "s3":
            url = store.presigned_url(key)
            if url:
                self.redirect(url)
                return
        if not store.exists(key):
            raise tornado.web.HTTPError(404)
        size = store.size(key)
        ext = os.path.splitext(key)[1].lower()
        ctype = _TYPES.get(ext) or mimetypes.guess_type(key)[0] or "application/octet-stream"
        self.set_header("Content-Type", ctype)
        self.set_header("Accept-Ranges", "bytes")
        self.set_header("Cache-Control", "private, max-age=3600")
        rng = parse_range(self.request.headers.get("Range"), size)
        if rng is False:
            self.set_status(416)
            self.set_header("Content-Range", f"bytes */{size}")
            return
        if isinstance(rng, tuple):
            start, end = rng
            self.set_status(206)
            self.set_header("Content-Range", f"bytes {start}-{end}/{size}")
        else:
            start, end = 0, size - 1
        length = end - start + 1 if size else 0
        self.set_header("Content-Length", str(length))
        if not body or length == 0:
            return
        with store.open(key) as fh:
            fh.seek(start)
            remaining = length
            while remaining > 0:
                chunk = fh.read(min(CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                self.write(chunk)
                try:
                    await self.flush()
                except tornado.iostream.StreamClosedError:
                    return


@tornado.web.stream_request_body
class UploadHandler(_Base):
    """Streamed, size-limited, atomic uploads into the inbox (see the module docstring)."""

    _fh: Any = None
    _part: Path | None = None
    _received = 0
    _name: str | None = None
    _refused = False

    async def prepare(self) -> None:
        if self.request.method != "POST":
            return
        if not await self._authorised():
            self._refused = True
            return
        origin = self.request.headers.get("Origin")
        if origin and urlparse(origin).netloc != self.request.host:
            self._refuse(403, "cross-origin upload refused")
            return
        limit = self.ctx.max_upload_bytes
        declared = self.request.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            self._refuse(413, f"file too large: {int(declared)} bytes, the limit is "
                              f"{self.ctx.settings.max_upload_mb} MB")
            return
        connection: Any = self.request.connection
        connection.set_max_body_size(limit)
        name = safe_upload_name(self.get_query_argument("name", ""))
        if name is None:
            self._refuse(415, "not an audio file (extensions: "
                              + ", ".join(sorted(AUDIO_EXTENSIONS)) + ")")
            return
        self._name = name
        folder = self.ctx.uploads_dir
        folder.mkdir(parents=True, exist_ok=True)
        self._part = folder / f".upload-{uuid.uuid4().hex}.part"
        self._fh = open(self._part, "wb")  # noqa: SIM115 - closed in post/on_connection_close

    def _refuse(self, status: int, message: str) -> None:
        self._refused = True
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.set_header("Connection", "close")
        self.finish(json.dumps({"error": message}))

    def data_received(self, chunk: bytes) -> None:
        if self._refused or self._fh is None:
            return
        self._received += len(chunk)
        if self._received > self.ctx.max_upload_bytes:
            self._discard()
            self._refuse(413, f"file too large: the limit is {self.ctx.settings.max_upload_mb} MB")
            return
        self._fh.write(chunk)

    def _discard(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self._part is not None and self._part.exists():
            self._part.unlink()
        self._part = None

    def on_connection_close(self) -> None:
        self._discard()

    async def post(self) -> None:
        if self._refused or self._fh is None or self._part is None or self._name is None:
            return
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        self._fh = None
        if self._received == 0:
            self._discard()
            self._refuse(400, "empty file")
            return
        final = _claim_unique(self._part, self.ctx.uploads_dir, self._name)
        self._part = None
        log.info("upload %s (%d bytes)", final, self._received)
        if self.ctx.on_upload is not None:
            callback = self.ctx.on_upload

            def run() -> None:
                try:
                    callback(final)
                except Exception:  # noqa: BLE001 - the inbox watcher retries; keep serving
                    log.exception("on_upload failed for %s", final)

            IOLoop.current().run_in_executor(None, run)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"name": final.name, "size": self._received}))


def _claim_unique(part: Path, folder: Path, name: str) -> Path:
    """Rename ``part`` to ``folder/name`` (or ``name-1``, ``name-2``… when taken), never
    overwriting: a hard link fails when the target exists, so two uploads cannot race."""
    stem, ext = os.path.splitext(name)
    n = 0
    while True:
        candidate = folder / (f"{stem}{ext}" if n == 0 else f"{stem}-{n}{ext}")
        try:
            os.link(part, candidate)
        except FileExistsError:
            n += 1
            continue
        except OSError:  # no hard links on this file system: exclusive create + replace
            try:
                fd = os.open(candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                n += 1
                continue
            os.close(fd)
            os.replace(part, candidate)
            return candidate
        part.unlink()
        return candidate


class ExportHandler(_Base):
    """Downloads of dashboard exports (files under ``<home>/exports`` only)."""

    async def get(self, token: str, name: str) -> None:
        if not await self._authorised():
            return
        if not re.fullmatch(r"[0-9a-f]{32}", token) or "/" in name or name.startswith("."):
            raise tornado.web.HTTPError(404)
        root = self.ctx.exports_dir.resolve()
        path = (root / token / name).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            raise tornado.web.HTTPError(404)
        self.set_header("Content-Type", "application/zip" if name.endswith(".zip")
                        else "application/octet-stream")
        self.set_header("Content-Disposition", f'attachment; filename="{name}"')
        self.set_header("Content-Length", str(path.stat().st_size))
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                self.write(chunk)
                try:
                    await self.flush()
                except tornado.iostream.StreamClosedError:
                    return


def patterns(ctx: DashboardContext) -> list[tuple[str, type, dict[str, Any]]]:
    """The tornado routes to pass as ``extra_patterns``."""
    return [
        (r"/media/(.+)", MediaHandler, {"ctx": ctx}),
        (r"/upload", UploadHandler, {"ctx": ctx}),
        (r"/exports/([0-9a-f]+)/([^/]+)", ExportHandler, {"ctx": ctx}),
    ]
