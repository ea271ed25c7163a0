"""The object store: atomic writes, content ids, listing — on local disk and on S3 (moto)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from stemcrate.errors import StoreError
from stemcrate.storage.store import ObjectStore, content_id, file_content_id


def test_local_roundtrip_and_listing(tmp_path: Path) -> None:
    store = ObjectStore((tmp_path / "store").as_uri())
    uri = store.put_bytes("tracks/abc/original.wav", b"RIFF....")
    assert uri == store.uri("tracks/abc/original.wav")
    assert store.key_of(uri) == "tracks/abc/original.wav"
    assert store.get_bytes("tracks/abc/original.wav") == b"RIFF...."
    store.put_bytes("tracks/abc/analysis/peaks.json", b"{}")
    assert store.list("tracks/abc") == ["tracks/abc/analysis/peaks.json",
                                        "tracks/abc/original.wav"]
    assert store.exists("tracks/abc/original.wav")
    assert not store.exists("tracks/abc/nothing")
    with store.open("tracks/abc/original.wav") as fh:
        fh.seek(4)
        assert fh.read() == b"...."


def test_put_file_keeps_bytes_and_never_touches_source(tmp_path: Path, rng) -> None:
    src = tmp_path / "song.flac"
    payload = rng.integers(0, 256, 3_000_000, dtype="uint8").tobytes()
    src.write_bytes(payload)
    store = ObjectStore(str(tmp_path / "store"))
    store.put_file("tracks/x/original.flac", src)
    assert store.get_bytes("tracks/x/original.flac") == payload
    assert src.read_bytes() == payload
    assert file_content_id(src) == content_id(payload)


def test_keys_cannot_escape_the_store(tmp_path: Path) -> None:
    store = ObjectStore(str(tmp_path / "store"))
    for bad in ("../etc/passwd", "a/../../b", ""):
        with pytest.raises(StoreError):
            store.put_bytes(bad, b"x")
    with pytest.raises(StoreError):
        store.key_of("file:///etc/passwd")


def test_concurrent_writers_leave_one_whole_object(tmp_path: Path) -> None:
    """Atomic writes: readers never see a partial object, and no temp files are left."""
    store = ObjectStore(str(tmp_path / "store"))
    blobs = [bytes([i]) * 2_000_000 for i in range(6)]
    threads = [threading.Thread(target=store.put_bytes, args=("k/obj", b)) for b in blobs]
    for t in threads:
        t.start()
    seen = []
    while any(t.is_alive() for t in threads):
        if store.exists("k/obj"):
            seen.append(store.get_bytes("k/obj"))
    for t in threads:
        t.join()
    final = store.get_bytes("k/obj")
    assert final in blobs
    assert all(s in blobs for s in seen)
    assert os.listdir(tmp_path / "store" / "k") == ["obj"]


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_s3_store_through_s3fs(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket="crate")
    store = ObjectStore("s3://crate/lib", endpoint_url=s3_endpoint)
    uri = store.put_bytes("tracks/t1/original.wav", b"abc")
    assert uri == "s3://crate/lib/tracks/t1/original.wav"
    store.put_bytes("tracks/t1/stems/r/vocals.flac", b"def")
    assert store.get_bytes("tracks/t1/original.wav") == b"abc"
    assert store.list("tracks/t1") == ["tracks/t1/original.wav", "tracks/t1/stems/r/vocals.flac"]
    assert store.local_path("tracks/t1/original.wav") is None
    url = store.presigned_url("tracks/t1/original.wav")
    assert url is not None and url.startswith(s3_endpoint)
    store.delete("tracks/t1/stems/r/vocals.flac")
    assert not store.exists("tracks/t1/stems/r/vocals.flac")
