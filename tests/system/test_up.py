"""`stemcrate up` end to end: a real Prefect server, the flow runner, the inbox watcher."""

from __future__ import annotations

import json
import shutil
import signal
import urllib.request
from pathlib import Path

import pytest

from stemcrate.storage.catalogue import Catalogue
from tests.system.conftest import Stemcrate, wait_for

pytestmark = pytest.mark.slow


def _flow_runs(api: str) -> list[dict]:
    req = urllib.request.Request(f"{api}/flow_runs/filter", data=b"{}", method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return list(json.load(resp))


def test_up_ingests_files_dropped_into_the_inbox(stemcrate_cmd: Stemcrate, corpus: Path) -> None:
    env = stemcrate_cmd.env
    env["STEMCRATE_STAGES"] = "separate"  # no model here: separate ends unavailable
    proc = stemcrate_cmd.start("up", "--no-dashboard")
    out_log = stemcrate_cmd.home / "up-0.log"
    wait_for(lambda: "Inbox:" in out_log.read_text() or proc.poll() is not None,
             timeout_s=240, what="`stemcrate up` to print its URLs")
    assert proc.poll() is None, stemcrate_cmd.logs()
    text = out_log.read_text()
    ui = next(line.split()[-1] for line in text.splitlines() if line.startswith("Prefect UI:"))
    inbox = Path(next(line.split(None, 1)[1].strip() for line in text.splitlines()
                      if line.startswith("Inbox:")))
    assert inbox == stemcrate_cmd.home / "inbox"
    api = ui.rstrip("/") + "/api"

    for name in ("sorohanro_-_solo-trumpet-06.ogg", "198-209-0000.ogg"):
        shutil.copy(corpus / name, inbox / name)
    catalogue = Catalogue(stemcrate_cmd.home / "catalogue.duckdb")
    rows = wait_for(lambda: len(catalogue.query("SELECT * FROM tracks")) == 2 and
                    catalogue.query("SELECT * FROM tracks"),
                    timeout_s=240, what="two analysed tracks in the catalogue")
    assert isinstance(rows, list)
    assert all(r["loudness_lufs"] is not None and r["duration_s"] > 5 for r in rows)
    trumpet = next(r for r in rows if r["original_name"].startswith("sorohanro"))
    assert abs(trumpet["bpm"] - 90) <= 2
    runs = _flow_runs(api)
    ingest_runs = [r for r in runs if r["name"] and r["parameters"].get("paths")]
    assert len(ingest_runs) >= 2
    assert {Path(r["parameters"]["paths"][0]).name for r in ingest_runs} >= {
        "sorohanro_-_solo-trumpet-06.ogg", "198-209-0000.ogg"}
    wait_for(lambda: sorted(p.name for p in (inbox / "processed").iterdir()) == [
        "198-209-0000.ogg", "sorohanro_-_solo-trumpet-06.ogg"], timeout_s=60,
        what="files moved to processed/")
    # Ctrl-C stops every part cleanly
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 0
    import time

    time.sleep(1)
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{api}/health", timeout=3)
