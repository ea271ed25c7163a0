"""The inbox under `stemcrate watch`: slow copies, duplicates, bad files, SIGKILL mid-ingest."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest

from stemcrate.storage.catalogue import Catalogue
from stemcrate.storage.store import ObjectStore
from tests.system.conftest import Stemcrate, wait_for

pytestmark = pytest.mark.slow

JAZZ = "Kevin_MacLeod_-_Vibe_Ace.ogg"


def _copy_slowly(src: Path, dst: Path, chunks: int = 12, pause: float = 0.4) -> None:
    data = src.read_bytes()
    step = len(data) // chunks + 1
    with open(dst, "wb") as fh:
        for i in range(0, len(data), step):
            fh.write(data[i:i + step])
            fh.flush()
            time.sleep(pause)


def test_watch_survives_bad_files_slow_copies_and_sigkill(
        stemcrate_cmd: Stemcrate, corpus: Path, bad_files_system: dict[str, Path],
        prefect_server: str) -> None:
    env = stemcrate_cmd.env
    env["PREFECT_API_URL"] = prefect_server
    env["STEMCRATE_STAGES"] = ""  # ingest only
    home = stemcrate_cmd.home
    inbox = home / "inbox"
    inbox.mkdir()
    store = ObjectStore(str(home / "store"))
    catalogue = Catalogue(home / "catalogue.duckdb")

    # 1. SIGKILL in the middle of an ingest, then start again: the file is ingested once
    src = corpus / JAZZ
    track_id = hashlib.sha256(src.read_bytes()).hexdigest()
    shutil.copy(src, inbox / JAZZ)
    first = stemcrate_cmd.start("watch")
    wait_for(lambda: store.list(f"manifests/{track_id}/run"), timeout_s=180,
             what="the ingest to start", poll_s=0.05)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    assert (inbox / JAZZ).exists() or (inbox / "processed" / JAZZ).exists()
    second = stemcrate_cmd.start("watch")
    wait_for(lambda: (inbox / "processed" / JAZZ).exists(), timeout_s=180,
             what="the file to be ingested after the restart")
    wait_for(lambda: catalogue.query("SELECT count(*) AS n FROM tracks")[0]["n"] == 1,
             timeout_s=30, what="the track in the catalogue")
    assert len(store.list(f"manifests/{track_id}/track")) == 1
    assert list((inbox / "processed").iterdir()) == [inbox / "processed" / JAZZ]

    # 2. bad files fail clearly, the watcher keeps going; a slow copy is taken once complete
    for path in bad_files_system.values():
        shutil.copy(path, inbox / path.name)
    slow_src = corpus / "sorohanro_-_solo-trumpet-06.ogg"
    writer = threading.Thread(target=_copy_slowly, args=(slow_src, inbox / slow_src.name))
    writer.start()
    # the same file dropped again (other name) is one track
    shutil.copy(src, inbox / "again.ogg")
    writer.join()
    def explained(p: Path) -> bool:
        note = inbox / "failed" / (p.name + ".error.txt")
        return note.exists() and "cause:" in note.read_text()

    wait_for(lambda: all(explained(p) for p in bad_files_system.values()),
             timeout_s=180, what="bad files set aside in failed/ with their .error.txt")
    for path in bad_files_system.values():
        assert (inbox / "failed" / path.name).read_bytes() == path.read_bytes()
        text = (inbox / "failed" / (path.name + ".error.txt")).read_text()
        assert path.name in text
    wait_for(lambda: (inbox / "processed" / slow_src.name).exists() and
             (inbox / "processed" / "again.ogg").exists(), timeout_s=180,
             what="good files processed")
    wait_for(lambda: catalogue.query("SELECT count(*) AS n FROM tracks")[0]["n"] == 2,
             timeout_s=30, what="two tracks")
    assert (inbox / "processed" / slow_src.name).read_bytes() == slow_src.read_bytes()
    assert not (inbox / "failed" / slow_src.name).exists()
    assert second.poll() is None, stemcrate_cmd.logs()
