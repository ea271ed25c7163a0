"""The dashboard, served for real (``stemcrate dashboard``) and driven in Debian Chromium.

One library and one server for the module (see conftest.py); tests that edit run last.
Screenshots of the three pages go to ``docs/screenshots/`` when
``STEMCRATE_UPDATE_SCREENSHOTS=1`` (the README shows them).
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import expect

from stemcrate.audio.decode import encode_audio, load_audio
from stemcrate.storage import keys
from tests.dashboard.conftest import MAX_UPLOAD_MB, PREFECT_UI
from tests.dashboard.library_data import FLOW_RUN_ID, HOSTILE_ARTIST, HOSTILE_TITLE, add_track

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
UPDATE_SHOTS = os.environ.get("STEMCRATE_UPDATE_SCREENSHOTS") == "1"


def shot(page: Any, name: str) -> None:
    """Screenshot the page: into docs/screenshots/ with STEMCRATE_UPDATE_SCREENSHOTS=1
    (for the README), else beside the test library (the tree stays clean)."""
    folder = SHOTS if UPDATE_SHOTS else Path(tempfile.gettempdir()) / "stemcrate-dashboard-shots"
    folder.mkdir(parents=True, exist_ok=True)
    data = page.screenshot(path=str(folder / name), full_page=True, type="png")
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) < 600_000


def rows(page: Any) -> Any:
    return page.locator("tr.sc-track-row")


def wait_rows(page: Any, n: int, timeout_s: float = 20) -> None:
    expect(rows(page)).to_have_count(n, timeout=timeout_s * 1000)
    if n:  # laid out and shown, not only in the DOM
        expect(rows(page).first).to_be_visible(timeout=timeout_s * 1000)


def audio_prop(page: Any, stem: str, prop: str) -> Any:
    return page.locator(f'audio.sc-audio[data-stem="{stem}"]').evaluate(f"a => a.{prop}")


def poll(fn: Any, *, timeout_s: float = 20, every_s: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every_s)


def test_library_lists_tracks_and_search_narrows(page: Any, dashboard_url: str) -> None:
    page.goto(dashboard_url)
    wait_rows(page, 3)
    table = page.locator(".sc-library")
    assert "Vibe Ace" in table.inner_text() and "Choice" in table.inner_text()
    # stage states, with the error of the failed one
    choice = page.locator("tr.sc-track-row", has_text="Choice")
    assert "failed" in choice.inner_text()
    assert "test failure: basic pitch model missing" in choice.inner_text()
    assert "pending" in choice.inner_text()
    # completed stages link to their Prefect flow run
    link = page.locator("tr.sc-track-row", has_text="Vibe Ace").locator(
        f'a[href="{PREFECT_UI}/runs/flow-run/{FLOW_RUN_ID}"]')
    assert link.count() == 4
    shot(page, "library.png")
    page.locator(".sc-library-table").wait_for()
    search = page.get_by_placeholder("title, artist, album, file name")
    search.fill("vibe")
    search.press("Enter")
    wait_rows(page, 1)
    expect(rows(page).first).to_contain_text("Vibe Ace")
    search.fill("admiralbob")
    search.press("Enter")
    expect(rows(page).first).to_contain_text("Choice")
    wait_rows(page, 1)
    search.fill("no such song")
    search.press("Enter")
    wait_rows(page, 0)


def test_hostile_title_renders_as_text(page: Any, dashboard_url: str,
                                       dash_library: Any) -> None:
    page.goto(dashboard_url)
    wait_rows(page, 3)
    row = page.locator("tr.sc-track-row", has_text=HOSTILE_TITLE)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(HOSTILE_TITLE)
    expect(row).to_contain_text(HOSTILE_ARTIST)
    assert page.locator(".sc-library img").count() == 0
    assert page.locator(".sc-library script").count() == 0
    page.goto(f"{dashboard_url}track?id={dash_library.track_ids['hostile']}")
    expect(page.locator(".sc-title")).to_have_text(HOSTILE_TITLE)
    assert page.locator(".sc-track-header img").count() == 0
    page.wait_for_timeout(1000)
    assert page.dialogs == []


def test_track_plays_stems_in_sync_with_mute_and_solo(page: Any, dashboard_url: str,
                                                      dash_library: Any) -> None:
    page.goto(f"{dashboard_url}track?id={dash_library.track_ids['vibe']}")
    page.locator(".sc-stem").first.wait_for()
    assert page.locator("audio.sc-audio").count() == 4
    srcs = page.locator("audio.sc-audio").evaluate_all("els => els.map(a => a.src)")
    assert all("/media/tracks/" in s and not s.startswith("data:") for s in srcs)
    assert page.get_by_text("bass (notes)").count() == 1  # the piano roll's tab
    page.locator(".sc-play").click()
    assert poll(lambda: audio_prop(page, "drums", "currentTime") > 0.5)
    t1 = audio_prop(page, "drums", "currentTime")
    page.wait_for_timeout(700)
    t2 = audio_prop(page, "drums", "currentTime")
    assert t2 > t1
    times = [audio_prop(page, s, "currentTime") for s in ("drums", "bass", "vocals", "other")]
    assert max(times) - min(times) < 0.5, times
    assert all(audio_prop(page, s, "paused") is False for s in ("drums", "bass"))
    # lyrics follow playback
    assert poll(lambda: page.locator(".sc-word.active").count() == 1)
    # mute bass: only bass silent
    page.locator('.sc-stem[data-stem="bass"] .sc-mute').click()
    muted = {s: audio_prop(page, s, "muted") for s in ("drums", "bass", "vocals", "other")}
    assert muted == {"drums": False, "bass": True, "vocals": False, "other": False}
    # solo drums: only drums audible
    page.locator('.sc-stem[data-stem="drums"] .sc-solo').click()
    muted = {s: audio_prop(page, s, "muted") for s in ("drums", "bass", "vocals", "other")}
    assert muted == {"drums": False, "bass": True, "vocals": True, "other": True}
    # solo bass too: bass is still muted by its own mute
    page.locator('.sc-stem[data-stem="other"] .sc-solo').click()
    muted = {s: audio_prop(page, s, "muted") for s in ("drums", "bass", "vocals", "other")}
    assert muted == {"drums": False, "bass": True, "vocals": True, "other": False}
    # volume
    page.locator('.sc-stem[data-stem="other"] .sc-vol').fill("0.25")
    assert abs(audio_prop(page, "other", "volume") - 0.25) < 1e-6
    shot(page, "track.png")
    # pause, then seek by clicking the waveform
    page.locator(".sc-play").click()
    assert poll(lambda: audio_prop(page, "drums", "paused"))
    box = page.locator("canvas.sc-wave").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2)
    assert poll(lambda: abs(audio_prop(page, "bass", "currentTime") - 6.0) < 0.4)


def test_track_says_what_is_not_computed(page: Any, dashboard_url: str,
                                         dash_library: Any) -> None:
    page.goto(f"{dashboard_url}track?id={dash_library.track_ids['choice']}")
    page.locator(".sc-title").wait_for()
    page.get_by_text("Stems not computed yet — stage separate: pending").wait_for()
    page.get_by_text("MIDI not computed yet — stage midi: failed").wait_for()
    page.get_by_text("Samples not computed yet — stage slice: not started").wait_for()
    # the original still plays
    assert page.locator('audio.sc-audio[data-stem="original"]').count() == 1


def test_media_range_requests_stay_in_the_store(dashboard_url: str, dash_library: Any) -> None:
    store = dash_library.library.store
    key = keys.original(dash_library.track_ids["vibe"], ".wav")
    whole = store.get_bytes(key)
    req = urllib.request.Request(f"{dashboard_url}media/{key}",
                                 headers={"Range": "bytes=100-1099"})
    with urllib.request.urlopen(req) as resp:
        assert resp.status == 206
        assert resp.headers["Content-Range"] == f"bytes 100-1099/{len(whole)}"
        assert resp.read() == whole[100:1100]
    with urllib.request.urlopen(f"{dashboard_url}media/{key}") as resp:
        assert resp.status == 200 and resp.read() == whole
    for bad in ("media/tracks/%2e%2e/%2e%2e/catalogue.duckdb", "media/manifests/x.json",
                "media/tracks/nope/original.wav", "media/..%2Fcatalogue.duckdb"):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(dashboard_url + bad)
        assert err.value.code == 404


def test_samples_browser_plays_filters_and_finds_similar(page: Any, dashboard_url: str,
                                                        dash_library: Any) -> None:
    page.goto(f"{dashboard_url}samples")
    page.locator(".sc-card").first.wait_for()
    assert page.locator(".sc-card").count() == 7
    shot(page, "samples.png")
    search = page.get_by_placeholder("name, label, tag, note, track")
    search.fill("snare")
    search.press("Enter")
    assert poll(lambda: page.locator(".sc-card").count() == 1)
    page.locator(".sc-card").first.click()
    player = page.locator("audio.sc-sample-audio")
    assert poll(lambda: player.evaluate("a => a.currentTime") > 0.05)
    assert "/media/tracks/" in player.evaluate("a => a.src")
    page.get_by_text("snare · drums").first.wait_for()
    # filters: stem and note
    search.fill("")
    search.press("Enter")
    assert poll(lambda: page.locator(".sc-card").count() == 7)
    page.locator(".sc-card").first.wait_for()
    note = page.get_by_placeholder("e.g. C#2")
    note.fill("C2")
    note.press("Enter")
    assert poll(lambda: page.locator(".sc-card").count() == 2)
    note.fill("")
    note.press("Enter")
    assert poll(lambda: page.locator(".sc-card").count() == 7)
    # more like this: the neighbours by embedding cosine, best first
    first = page.locator(".sc-card").first
    first.locator(".sc-card-like").click()
    page.locator(".sc-like-info").wait_for()
    assert poll(lambda: page.locator(".sc-card").count() == 7)
    metas = page.locator(".sc-card-meta").all_inner_texts()
    assert metas[0].startswith("this one")
    sims = [float(m.rsplit("sim ", 1)[1]) for m in metas[1:]]
    assert sims == sorted(sims, reverse=True)
    # the samples shown export as a sample pack
    page.locator(".sc-clear button").click()
    search.fill("bass")
    search.press("Enter")
    assert poll(lambda: page.locator(".sc-card").count() == 2)
    page.locator(".sc-export button").click()
    link = page.locator("a.sc-download")
    link.wait_for(timeout=60_000)
    with page.expect_download() as info:
        link.click()
    names = zipfile.ZipFile(io.BytesIO(Path(info.value.path()).read_bytes())).namelist()
    wavs = [n for n in names if n.endswith(".wav")]
    assert len(wavs) == 2 and all("/Samples/bass/" in n for n in wavs), names


def test_live_refresh_shows_new_tracks_without_reload(page: Any, dashboard_url: str,
                                                      dash_library: Any, corpus: Path) -> None:
    page.goto(dashboard_url)
    wait_rows(page, 3)
    add_track(dash_library.library.store, corpus / "147793__setuniman__sweet-waltz-0i-22mi.ogg",
              seconds=3.0, title="Sweet Waltz (live)", artist="setuniman", bpm=80.0,
              key="D major")
    page.get_by_text("Sweet Waltz (live)").wait_for(timeout=15_000)
    wait_rows(page, 4)


def test_export_zip_downloads_with_daw_layout(page: Any, dashboard_url: str) -> None:
    page.goto(dashboard_url)
    rows(page).first.wait_for()
    search = page.get_by_placeholder("title, artist, album, file name")
    search.fill("Vibe Ace")
    search.press("Enter")
    wait_rows(page, 1)
    page.locator(".sc-export button").click()
    link = page.locator("a.sc-download")
    link.wait_for(timeout=60_000)
    with page.expect_download() as info:
        link.click()
    data = Path(info.value.path()).read_bytes()
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    top = {n.split("/")[0] for n in names}
    assert len(top) == 1
    assert any(n.endswith("/index.csv") for n in names)
    track_dir = [n for n in names if "/Stems/" in n]
    assert {Path(n).name for n in track_dir} >= {"drums.wav", "bass.wav", "vocals.wav",
                                                  "other.wav"}
    assert any("/MIDI/" in n and n.endswith(".mid") for n in names)
    assert any("/Samples/kick/" in n and n.endswith(".wav") for n in names)
    assert any("/Lyrics/" in n and n.endswith(".lrc") for n in names)
    assert any(n.endswith(".dawproject") for n in names)
    assert all("Choice" not in n for n in names)  # only the filtered track


def test_upload_is_size_limited_on_the_server(dashboard_url: str, dash_library: Any) -> None:
    uploads = dash_library.home / "inbox" / "uploads"
    before = sorted(p.name for p in uploads.glob("*")) if uploads.exists() else []
    big = b"\0" * (MAX_UPLOAD_MB * 1024 * 1024 + 1)
    req = urllib.request.Request(f"{dashboard_url}upload?name=big.wav", data=big,
                                 method="POST")
    # the server answers 413 and may close the connection while the body is still being
    # sent, so the client sees either the 413 or a broken connection (wrapped by urllib)
    with pytest.raises((urllib.error.URLError, ConnectionError)) as err:
        urllib.request.urlopen(req)
    if isinstance(err.value, urllib.error.HTTPError):
        assert err.value.code == 413
    elif isinstance(err.value, urllib.error.URLError):
        assert isinstance(err.value.reason, ConnectionError), err.value
    req = urllib.request.Request(f"{dashboard_url}upload?name=notes.txt", data=b"hello",
                                 method="POST")
    with pytest.raises(urllib.error.HTTPError) as err2:
        urllib.request.urlopen(req)
    assert err2.value.code == 415
    after = sorted(p.name for p in uploads.glob("*")) if uploads.exists() else []
    assert after == before


def test_uploaded_files_land_in_the_inbox_and_the_library(page: Any, dashboard_url: str,
                                                          dash_library: Any, corpus: Path,
                                                          tmp_path: Path) -> None:
    y, sr = load_audio(corpus / "198-209-0000.ogg")
    first = tmp_path / "Uploaded Speech.wav"
    first.write_bytes(encode_audio(y[:, : sr * 3], sr, format="wav", bit_depth=16))
    y2, sr2 = load_audio(corpus / "147793__setuniman__sweet-waltz-0i-22mi.ogg")
    second = tmp_path / "Uploaded Waltz.flac"
    second.write_bytes(encode_audio(y2[:, sr2 * 10: sr2 * 13], sr2, format="flac"))
    page.goto(dashboard_url)
    rows(page).first.wait_for()
    page.locator("input.sc-file-input").set_input_files([str(first), str(second)])
    done = page.locator('.sc-upload-row[data-state="done"]')
    assert poll(lambda: done.count() == 2, timeout_s=30)
    inbox = dash_library.home / "inbox"
    for name in ("Uploaded Speech.wav", "Uploaded Waltz.flac"):
        found = poll(lambda n=name: [p for p in inbox.rglob(n)], timeout_s=10)
        assert found, f"{name} not in the inbox"
        original = first if name.endswith(".wav") else second
        assert found[0].read_bytes() == original.read_bytes()
    assert not list(inbox.rglob("*.part"))
    # the inbox ingest turns them into tracks, and the open page shows them
    try:
        from stemcrate.flows.runner import ingest_in_background  # noqa: F401
    except ImportError:
        pytest.skip("stemcrate.flows.runner.ingest_in_background is not there yet")
    for title in ("Uploaded Speech", "Uploaded Waltz"):
        expect(page.locator("tr.sc-track-row", has_text=title)).to_have_count(
            1, timeout=90_000)


def test_edits_are_manifests_rename_retag_delete(page: Any, dashboard_url: str,
                                                 dash_library: Any) -> None:
    lib = dash_library.library
    vibe = dash_library.track_ids["vibe"]
    # rename a track
    page.goto(f"{dashboard_url}track?id={dash_library.track_ids['choice']}")
    page.locator(".sc-title").wait_for()
    page.locator(".sc-edit-title input").fill("Choice (renamed)")
    page.locator(".sc-rename button").click()
    page.locator(".sc-title", has_text="Choice (renamed)").wait_for()
    assert lib.catalogue.query("SELECT title FROM tracks WHERE track_id = ?",
                               [dash_library.track_ids["choice"]])[0]["title"] == \
        "Choice (renamed)"
    # retag a sample (a correction) and rename it
    page.goto(f"{dashboard_url}samples?track={vibe}")
    page.locator(".sc-card", has_text="bass bass 1").click()
    page.locator(".sc-selected-name").wait_for()
    page.locator(".sc-sample-name input").fill("fat bass")
    page.locator(".sc-sample-label select").select_option("fx")
    page.locator(".sc-sample-save button").click()
    page.locator(".sc-edit-done").wait_for()
    row = lib.catalogue.query("SELECT name, label, model_label, corrected FROM samples "
                              "WHERE name = 'fat bass'")
    assert row == [{"name": "fat bass", "label": "fx", "model_label": "bass",
                    "corrected": True}]
    page.locator(".sc-card", has_text="fat bass").wait_for()
    # delete a sample (soft: the file stays)
    page.locator(".sc-card", has_text="vocals vocal 1").click()
    page.locator(".sc-selected-name", has_text="vocals vocal 1").wait_for()
    uri = lib.catalogue.query("SELECT uri FROM samples WHERE name = 'vocals vocal 1'")[0]["uri"]
    page.locator(".sc-sample-delete button").click()
    assert poll(lambda: page.locator(".sc-card").count() == 6)
    assert lib.catalogue.query("SELECT * FROM samples WHERE name = 'vocals vocal 1'") == []
    assert lib.store.exists(lib.store.key_of(uri))
    # every edit is a manifest in the store (so `catalogue rebuild` keeps it)
    edit_keys = [k for k in lib.store.list("manifests") if "/edit/" in k]
    actions = sorted(json.loads(lib.store.get_bytes(k))["data"]["action"] for k in edit_keys)
    assert actions == ["delete", "rename", "rename", "retag"]
    np.testing.assert_equal(len(edit_keys), 4)


def test_login_protects_pages_media_and_upload(dash_library: Any) -> None:
    """With STEMCRATE_DASHBOARD_PASSWORD set, nothing is served before logging in."""
    import http.cookiejar
    import os
    import subprocess
    import sys
    import urllib.parse

    from tests.dashboard.conftest import REPO, free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STEMCRATE_", "PREFECT_"))}
    env.update({"STEMCRATE_HOME": str(dash_library.home),
                "STEMCRATE_DASHBOARD_PASSWORD": "s3cret-test"})
    proc = subprocess.Popen([sys.executable, "-m", "stemcrate.cli", "dashboard", "--port",
                             str(port), "--no-browser"], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    key = keys.original(dash_library.track_ids["vibe"], ".wav")
    try:
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        assert poll(lambda: _answers(url), timeout_s=60)
        with opener.open(url) as resp:  # redirected to the login page
            assert "/login" in resp.url
        for path, data in ((f"media/{key}", None), ("upload?name=x.wav", b"abc")):
            with pytest.raises(urllib.error.HTTPError) as err:
                opener.open(url + path, data=data)
            assert err.value.code == 403
        form = urllib.parse.urlencode({"username": "me", "password": "wrong"}).encode()
        with opener.open(url + "login", data=form) as resp:
            assert "/login" in resp.url
        form = urllib.parse.urlencode({"username": "me", "password": "s3cret-test"}).encode()
        opener.open(url + "login", data=form).close()
        with opener.open(urllib.request.Request(url + f"media/{key}",
                                                headers={"Range": "bytes=0-9"})) as resp:
            assert resp.status == 206 and len(resp.read()) == 10
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=5).close()
        return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
