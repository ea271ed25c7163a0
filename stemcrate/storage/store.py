"""The object store: every artefact under a content-addressed key, written atomically.

An :class:`ObjectStore` wraps an fsspec filesystem rooted at a URL (``file:///…`` by
default, ``s3://bucket/prefix`` through s3fs, ``memory://`` in tests). Keys are ``/``-joined
relative paths built by :mod:`stemcrate.storage.keys`; they never contain user file names.

Writes are atomic: locally a temporary file in the same folder renamed over the target;
on object stores one PUT. A reader therefore sees either nothing or the whole object.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlparse

from stemcrate.errors import StoreError


def content_id(data: bytes) -> str:
    """SHA-256 hex digest of ``data``: the content id of an artefact."""
    return hashlib.sha256(data).hexdigest()


def file_content_id(path: str | os.PathLike[str], *, chunk: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file's bytes, read in ``chunk``-byte blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


class ObjectStore:
    """An fsspec-backed store rooted at ``url``.

    Parameters
    ----------
    url : ``file:///abs/path``, a plain local path, ``s3://bucket/prefix`` or
        ``memory://name``.
    storage_options : passed to fsspec (e.g. ``{"endpoint_url": …}`` for an S3 server;
        s3fs also reads ``AWS_*``/``FSSPEC_S3_*`` environment variables).
    """

    def __init__(self, url: str, **storage_options: Any) -> None:
        import fsspec

        parsed = urlparse(url)
        if parsed.scheme in ("", "file"):
            root = Path(parsed.path if parsed.scheme else url).expanduser().resolve()
            root.mkdir(parents=True, exist_ok=True)
            self.protocol = "file"
            self.root = str(root)
            self.url = root.as_uri()
        else:
            self.protocol = parsed.scheme
            self.root = (parsed.netloc + parsed.path).rstrip("/")
            self.url = f"{parsed.scheme}://{self.root}"
        if self.protocol == "s3" and "endpoint_url" not in storage_options:
            endpoint = os.environ.get("STEMCRATE_S3_ENDPOINT")
            if endpoint:
                storage_options["endpoint_url"] = endpoint
        try:
            self.fs = fsspec.filesystem(self.protocol, **storage_options)
        except Exception as exc:  # noqa: BLE001
            raise StoreError(f"cannot open store {url}: {exc}") from exc

    # -- addressing -----------------------------------------------------------------------
    def _path(self, key: str) -> str:
        key = key.strip("/")
        if not key or ".." in key.split("/"):
            raise StoreError(f"invalid store key {key!r}")
        return f"{self.root}/{key}"

    def uri(self, key: str) -> str:
        """The full URL of ``key`` (``file:///…/key`` or ``s3://bucket/…/key``)."""
        return f"{self.url}/{key.strip('/')}"

    def key_of(self, uri: str) -> str:
        """The key of a URI from :meth:`uri` (raises StoreError for a foreign URI)."""
        prefix = self.url + "/"
        if not uri.startswith(prefix):
            raise StoreError(f"{uri} is not in the store {self.url}")
        key = uri[len(prefix):]
        self._path(key)
        return key

    def local_path(self, key: str) -> Path | None:
        """The local file of ``key`` for a ``file://`` store, else ``None``."""
        return Path(self._path(key)) if self.protocol == "file" else None

    # -- writing --------------------------------------------------------------------------
    def put_bytes(self, key: str, data: bytes) -> str:
        """Write ``data`` at ``key`` atomically; return its URI."""
        if self.protocol == "file":
            return self._put_local(key, lambda fh: fh.write(data))
        return self._put_remote(key, lambda path: self.fs.pipe_file(path, data))

    def put_file(self, key: str, source: str | os.PathLike[str]) -> str:
        """Copy a local file to ``key`` atomically (byte for byte); return its URI."""
        if self.protocol == "file":
            def copy(dst: IO[bytes]) -> None:
                with open(source, "rb") as src:
                    shutil.copyfileobj(src, dst, 1 << 20)

            return self._put_local(key, copy)
        return self._put_remote(key, lambda path: self.fs.put_file(str(source), path))

    def _put_local(self, key: str, write: Callable[[IO[bytes]], object]) -> str:
        """Write through ``write`` into a temporary file beside the target, then rename."""
        path = self._path(key)
        try:
            folder = os.path.dirname(path)
            os.makedirs(folder, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
            try:
                with os.fdopen(fd, "wb") as fh:
                    write(fh)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            raise StoreError(f"cannot write {self.uri(key)}: {exc}") from exc
        return self.uri(key)

    def _put_remote(self, key: str, put: Callable[[str], object]) -> str:
        """One PUT on an object store (atomic by nature)."""
        try:
            put(self._path(key))
        except OSError as exc:
            raise StoreError(f"cannot write {self.uri(key)}: {exc}") from exc
        return self.uri(key)

    def delete(self, key: str) -> None:
        """Remove ``key`` (only bookkeeping objects are ever deleted: pending markers)."""
        try:
            self.fs.rm_file(self._path(key))
        except FileNotFoundError:
            pass

    # -- reading --------------------------------------------------------------------------
    def exists(self, key: str) -> bool:
        return bool(self.fs.exists(self._path(key)))

    def get_bytes(self, key: str) -> bytes:
        try:
            return bytes(self.fs.cat_file(self._path(key)))
        except FileNotFoundError as exc:
            raise StoreError(f"{self.uri(key)} not found in the store") from exc
        except OSError as exc:
            raise StoreError(f"cannot read {self.uri(key)}: {exc}") from exc

    def size(self, key: str) -> int:
        return int(self.fs.size(self._path(key)))

    @contextmanager
    def open(self, key: str, mode: str = "rb") -> Iterator[IO[bytes]]:
        """A read-only binary file object for ``key`` (seekable, for range requests)."""
        if "w" in mode or "a" in mode:
            raise StoreError("use put_bytes/put_file to write: writes must be atomic")
        with self.fs.open(self._path(key), "rb") as fh:
            yield fh

    def list(self, prefix: str = "") -> list[str]:
        """All keys under ``prefix`` (recursive, sorted); temporary files excluded."""
        base = self._path(prefix) if prefix.strip("/") else self.root
        try:
            found = self.fs.find(base)
        except FileNotFoundError:
            return []
        root = self.root.rstrip("/") + "/"
        keys = []
        for p in found:
            p = str(p)
            if self.protocol == "file" and not p.startswith("/"):
                p = "/" + p
            rel = p[len(root):] if p.startswith(root) else p.lstrip("/")[len(root.lstrip("/")):]
            if rel.rsplit("/", 1)[-1].startswith(".tmp-"):
                continue
            keys.append(rel)
        return sorted(keys)

    def presigned_url(self, key: str, *, expires_s: int = 3600) -> str | None:
        """A time-limited HTTP URL for ``key`` on S3 (``None`` for local stores)."""
        if self.protocol != "s3":
            return None
        return str(self.fs.sign(self._path(key), expiration=expires_s))


def open_store(url: str) -> ObjectStore:
    """The store at ``url`` (see :class:`ObjectStore`)."""
    return ObjectStore(url)
