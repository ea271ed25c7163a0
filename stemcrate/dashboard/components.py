"""Browser-side components (Panel ``JSComponent``s, plain ES modules, no CDN imports).

* :class:`StemPlayer` — waveform with playhead, play/pause/seek, and a stem mixer: one
  ``<audio>`` element per stem (``media/<key>`` URLs, range requests), kept in sync with
  the first one (drift corrected every 250 ms); per-stem mute, solo and volume set each
  element's ``muted``/``volume`` (and ``data-audible``); lyrics that highlight the current
  line and word.
* :class:`SampleGrid` — samples as cards; one click plays (a shared ``<audio>``), a second
  button asks the server for "more like this"; selection is sent back to Python.
* :class:`UploadZone` — drag-and-drop (or pick) several files; each is POSTed to
  ``upload?name=…`` with a progress bar; the server enforces the size limit.

All text from the catalogue is set with ``textContent`` (never ``innerHTML``), so titles
or names containing markup are shown as text and run nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import param
from panel.custom import JSComponent

_CSS = """
.sc-player { font-family: system-ui, sans-serif; width: 100%; }
.sc-bar { display: flex; gap: 10px; align-items: center; margin: 4px 0; }
.sc-btn { padding: 4px 10px; border: 1px solid #888; border-radius: 4px; background: #f4f4f4;
          cursor: pointer; font-size: 13px; }
.sc-btn.on { background: #2a6fdb; color: white; border-color: #2a6fdb; }
.sc-wave { width: 100%; height: 110px; background: #10131a; border-radius: 4px;
           cursor: pointer; display: block; }
.sc-stem { display: grid; grid-template-columns: 110px 60px 60px 1fr; gap: 8px;
           align-items: center; padding: 3px 0; border-bottom: 1px solid #eee; }
.sc-stem-name { font-weight: 600; }
.sc-msg { color: #8a5a00; margin: 4px 0; }
.sc-lyrics { max-height: 160px; overflow-y: auto; border: 1px solid #ddd; border-radius: 4px;
             padding: 6px; margin-top: 8px; background: #fafafa; }
.sc-line { padding: 1px 0; color: #666; }
.sc-line.active { color: #000; font-weight: 600; }
.sc-word.active { background: #ffe066; border-radius: 3px; }
.sc-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr));
           gap: 8px; font-family: system-ui, sans-serif; }
.sc-card { border: 1px solid #ccc; border-radius: 6px; padding: 6px; background: #fff; }
.sc-card.selected { border-color: #2a6fdb; box-shadow: 0 0 0 2px #2a6fdb55; }
.sc-card.playing { background: #eef4ff; }
.sc-card-title { font-weight: 600; white-space: nowrap; overflow: hidden;
                 text-overflow: ellipsis; }
.sc-card-meta { font-size: 12px; color: #555; }
.sc-card-actions { display: flex; gap: 4px; margin-top: 4px; }
.sc-drop { border: 2px dashed #888; border-radius: 8px; padding: 14px; text-align: center;
           color: #444; font-family: system-ui, sans-serif; }
.sc-drop.over { background: #eef4ff; border-color: #2a6fdb; }
.sc-upload-row { display: grid; grid-template-columns: 1fr 160px 180px; gap: 8px;
                 align-items: center; font-size: 13px; text-align: left; }
.sc-upload-row progress { width: 100%; }
"""


class StemPlayer(JSComponent):
    """Waveform + synced stem mixer + lyrics (see the module docstring).

    ``stems``: ``[{"name": str, "url": str}]`` (the first is the clock);
    ``peaks``: ``[[min, max], …]`` in -1…1 over the whole track; ``duration``: seconds;
    ``segments``: lyrics ``[{"start", "end", "text", "words": [{"word", "start", "end"}]}]``
    (seconds); ``message``: a note shown above the mixer (e.g. what is not computed yet).
    """

    stems = param.List(default=[])
    peaks = param.List(default=[])
    duration = param.Number(default=0.0)
    segments = param.List(default=[])
    message = param.String(default="")

    _stylesheets = [_CSS]

    _esm = r"""
export function render({ model, el }) {
  const root = document.createElement('div');
  root.className = 'sc-player';
  el.appendChild(root);
  let audios = [];
  let state = {};
  let lineEls = [];
  let raf = null;
  let lastSync = 0;

  const bar = document.createElement('div'); bar.className = 'sc-bar';
  const play = document.createElement('button'); play.className = 'sc-btn sc-play';
  play.textContent = '▶ Play';
  const stop = document.createElement('button'); stop.className = 'sc-btn sc-stop';
  stop.textContent = '⟲ Restart';
  const time = document.createElement('span'); time.className = 'sc-time';
  bar.append(play, stop, time);
  const msg = document.createElement('div'); msg.className = 'sc-msg';
  const canvas = document.createElement('canvas'); canvas.className = 'sc-wave';
  const mixer = document.createElement('div'); mixer.className = 'sc-mixer';
  const lyrics = document.createElement('div'); lyrics.className = 'sc-lyrics';
  root.append(msg, bar, canvas, mixer, lyrics);

  const fmt = (t) => {
    if (!isFinite(t)) t = 0;
    const m = Math.floor(t / 60), s = Math.floor(t % 60);
    return m + ':' + String(s).padStart(2, '0');
  };
  const master = () => audios.length ? audios[0] : null;
  const dur = () => {
    const a = master();
    return (a && isFinite(a.duration) && a.duration > 0) ? a.duration : (model.duration || 0);
  };

  function applyMix() {
    const anySolo = Object.values(state).some(s => s.solo);
    for (const a of audios) {
      const s = state[a.dataset.stem];
      const audible = !s.mute && (!anySolo || s.solo);
      a.muted = !audible;
      a.volume = s.vol;
      a.dataset.audible = audible ? 'true' : 'false';
      const row = mixer.querySelector('.sc-stem[data-stem="' + CSS.escape(a.dataset.stem) + '"]');
      if (row) {
        row.dataset.audible = a.dataset.audible;
        row.querySelector('.sc-mute').classList.toggle('on', s.mute);
        row.querySelector('.sc-solo').classList.toggle('on', s.solo);
      }
    }
  }

  function buildStems() {
    for (const a of audios) { a.pause(); a.removeAttribute('src'); a.load(); a.remove(); }
    audios = []; state = {}; mixer.replaceChildren();
    for (const s of model.stems) {
      const a = document.createElement('audio');
      a.className = 'sc-audio'; a.preload = 'auto'; a.dataset.stem = s.name; a.src = s.url;
      root.appendChild(a);
      audios.push(a);
      state[s.name] = { mute: false, solo: false, vol: 1.0 };
      const row = document.createElement('div'); row.className = 'sc-stem';
      row.dataset.stem = s.name;
      const name = document.createElement('span'); name.className = 'sc-stem-name';
      name.textContent = s.name;
      const mute = document.createElement('button'); mute.className = 'sc-btn sc-mute';
      mute.textContent = 'M'; mute.title = 'mute';
      mute.onclick = () => { state[s.name].mute = !state[s.name].mute; applyMix(); };
      const solo = document.createElement('button'); solo.className = 'sc-btn sc-solo';
      solo.textContent = 'S'; solo.title = 'solo';
      solo.onclick = () => { state[s.name].solo = !state[s.name].solo; applyMix(); };
      const vol = document.createElement('input'); vol.type = 'range'; vol.className = 'sc-vol';
      vol.min = '0'; vol.max = '1'; vol.step = '0.01'; vol.value = '1';
      vol.oninput = () => { state[s.name].vol = parseFloat(vol.value); applyMix(); };
      row.append(name, mute, solo, vol);
      mixer.appendChild(row);
    }
    if (audios.length) audios[0].addEventListener('ended', () => { pauseAll(); });
    applyMix();
    draw();
  }

  function buildLyrics() {
    lyrics.replaceChildren(); lineEls = [];
    const segs = model.segments || [];
    lyrics.style.display = segs.length ? 'block' : 'none';
    for (const seg of segs) {
      const line = document.createElement('div'); line.className = 'sc-line';
      line.dataset.start = seg.start; line.dataset.end = seg.end;
      const words = seg.words || [];
      if (words.length) {
        words.forEach((w, i) => {
          const sp = document.createElement('span'); sp.className = 'sc-word';
          sp.textContent = (i ? ' ' : '') + String(w.word).trim();
          sp.dataset.start = w.start; sp.dataset.end = w.end;
          line.appendChild(sp);
        });
      } else {
        line.textContent = seg.text;
      }
      line.onclick = () => seek(parseFloat(seg.start));
      lyrics.appendChild(line);
      lineEls.push(line);
    }
  }

  function draw() {
    const w = canvas.clientWidth || 600, h = canvas.clientHeight || 110;
    if (canvas.width !== w) canvas.width = w;
    if (canvas.height !== h) canvas.height = h;
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#10131a'; ctx.fillRect(0, 0, w, h);
    const peaks = model.peaks || [];
    const d = dur();
    const pos = master() ? master().currentTime : 0;
    const px = d > 0 ? (pos / d) * w : 0;
    if (peaks.length) {
      const mid = h / 2;
      for (let x = 0; x < w; x++) {
        const i0 = Math.floor(x * peaks.length / w);
        const i1 = Math.max(i0 + 1, Math.floor((x + 1) * peaks.length / w));
        let lo = 0, hi = 0;
        for (let i = i0; i < i1 && i < peaks.length; i++) {
          const p = peaks[i];
          const mn = Array.isArray(p) ? p[0] : -Math.abs(p);
          const mx = Array.isArray(p) ? p[1] : Math.abs(p);
          if (mn < lo) lo = mn; if (mx > hi) hi = mx;
        }
        ctx.fillStyle = x < px ? '#5fa8ff' : '#56607a';
        ctx.fillRect(x, mid - hi * mid, 1, Math.max(1, (hi - lo) * mid));
      }
    }
    ctx.fillStyle = '#ffcc00'; ctx.fillRect(Math.floor(px), 0, 2, h);
    time.textContent = fmt(pos) + ' / ' + fmt(d);
    canvas.dataset.position = pos.toFixed(3);
  }

  function highlight(t) {
    for (const line of lineEls) {
      const on = t >= parseFloat(line.dataset.start) && t < parseFloat(line.dataset.end);
      if (on !== line.classList.contains('active')) {
        line.classList.toggle('active', on);
        if (on) lyrics.scrollTop = line.offsetTop - lyrics.offsetTop - 40;
      }
      for (const w of line.querySelectorAll('.sc-word')) {
        w.classList.toggle('active', on && t >= parseFloat(w.dataset.start)
                                         && t < parseFloat(w.dataset.end));
      }
    }
  }

  function tick(now) {
    const m = master();
    if (m) {
      if (!m.paused && now - lastSync > 250) {
        lastSync = now;
        for (const a of audios.slice(1)) {
          if (Math.abs(a.currentTime - m.currentTime) > 0.08) a.currentTime = m.currentTime;
          if (a.paused) a.play().catch(() => {});
        }
      }
      highlight(m.currentTime);
    }
    draw();
    raf = requestAnimationFrame(tick);
  }

  function playAll() {
    const m = master(); if (!m) return;
    for (const a of audios) a.currentTime = m.currentTime;
    for (const a of audios) a.play().catch((e) => { msg.textContent = 'Cannot play: ' + e; });
    play.textContent = '‖ Pause'; root.dataset.playing = 'true';
  }
  function pauseAll() {
    for (const a of audios) a.pause();
    play.textContent = '▶ Play'; root.dataset.playing = 'false';
  }
  function seek(t) {
    t = Math.max(0, Math.min(t, dur()));
    for (const a of audios) a.currentTime = t;
    draw(); highlight(t);
  }
  play.onclick = () => { (master() && !master().paused) ? pauseAll() : playAll(); };
  stop.onclick = () => { seek(0); };
  canvas.onclick = (ev) => {
    const r = canvas.getBoundingClientRect();
    seek(((ev.clientX - r.left) / r.width) * dur());
  };

  const setMsg = () => {
    msg.textContent = model.message;
    msg.style.display = model.message ? 'block' : 'none';
  };
  model.on('stems', () => { pauseAll(); buildStems(); });
  model.on('segments', buildLyrics);
  model.on('peaks', draw);
  model.on('message', setMsg);
  model.on('remove', () => {
    if (raf) cancelAnimationFrame(raf);
    for (const a of audios) a.pause();
  });
  setMsg(); buildStems(); buildLyrics();
  raf = requestAnimationFrame(tick);
}
"""


class SampleGrid(JSComponent):
    """Samples as cards: one click plays, "more like this", select (see module docstring).

    ``samples``: ``[{"id", "title", "meta", "url"}]``; ``selected``: the id last selected.
    ``on_similar(callback)`` registers ``callback(sample_id)`` for "more like this".
    """

    samples = param.List(default=[])
    selected = param.String(default="")
    like_href = param.String(default="", doc="when set, 'More like this' opens this URL + id")

    _stylesheets = [_CSS]

    _esm = r"""
export function render({ model, el }) {
  const grid = document.createElement('div'); grid.className = 'sc-grid';
  const player = document.createElement('audio'); player.className = 'sc-sample-audio';
  player.preload = 'none';
  el.append(grid, player);
  let playing = null;
  player.addEventListener('ended', () => { if (playing) playing.classList.remove('playing'); });

  function build() {
    grid.replaceChildren();
    for (const s of model.samples) {
      const card = document.createElement('div'); card.className = 'sc-card';
      card.dataset.id = s.id;
      if (s.id === model.selected) card.classList.add('selected');
      const title = document.createElement('div'); title.className = 'sc-card-title';
      title.textContent = s.title; title.title = s.title;
      const meta = document.createElement('div'); meta.className = 'sc-card-meta';
      meta.textContent = s.meta;
      const actions = document.createElement('div'); actions.className = 'sc-card-actions';
      const playBtn = document.createElement('button'); playBtn.className = 'sc-btn sc-card-play';
      playBtn.textContent = '▶';
      playBtn.onclick = (ev) => { ev.stopPropagation(); playCard(card, s); };
      const like = document.createElement('button'); like.className = 'sc-btn sc-card-like';
      like.textContent = 'More like this';
      like.onclick = (ev) => {
        ev.stopPropagation();
        if (model.like_href) window.location.href = model.like_href + encodeURIComponent(s.id);
        else model.send_msg({ similar: s.id });
      };
      actions.append(playBtn, like);
      card.append(title, meta, actions);
      card.onclick = () => {
        playCard(card, s);
        model.selected = s.id;
      };
      grid.appendChild(card);
    }
    if (!model.samples.length) {
      const none = document.createElement('div'); none.className = 'sc-card-meta';
      none.textContent = 'No samples.'; grid.appendChild(none);
    }
  }
  function playCard(card, s) {
    if (playing) playing.classList.remove('playing');
    playing = card; card.classList.add('playing');
    player.src = s.url; player.currentTime = 0;
    player.play().catch(() => {});
  }
  model.on('samples', build);
  model.on('selected', () => {
    for (const c of grid.querySelectorAll('.sc-card'))
      c.classList.toggle('selected', c.dataset.id === model.selected);
  });
  model.on('remove', () => player.pause());
  build();
}
"""

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._similar: list[Callable[[str], None]] = []

    def on_similar(self, callback: Callable[[str], None]) -> None:
        self._similar.append(callback)

    def _handle_msg(self, data: Any) -> None:
        if isinstance(data, dict) and isinstance(data.get("similar"), str):
            for cb in self._similar:
                cb(data["similar"])


class UploadZone(JSComponent):
    """Drag-and-drop upload of several files with progress (see the module docstring).

    ``endpoint``: the upload URL (relative, ``upload``); ``max_mb``: the server's limit
    (shown, and checked early in the browser too); ``uploaded``: names the server accepted
    (appended by the browser).
    """

    endpoint = param.String(default="upload")
    max_mb = param.Integer(default=1024)
    uploaded = param.List(default=[])

    _stylesheets = [_CSS]

    _esm = r"""
export function render({ model, el }) {
  const zone = document.createElement('div'); zone.className = 'sc-drop';
  const label = document.createElement('div');
  label.textContent = 'Drop audio files here, or click to choose (up to '
                      + model.max_mb + ' MB each)';
  const input = document.createElement('input'); input.type = 'file'; input.multiple = true;
  input.className = 'sc-file-input'; input.style.display = 'none';
  input.accept = 'audio/*,.wav,.flac,.mp3,.ogg,.m4a,.aif,.aiff,.opus';
  const list = document.createElement('div'); list.className = 'sc-upload-list';
  zone.append(label, input, list);
  el.appendChild(zone);

  zone.addEventListener('click', (ev) => {
    if (ev.target === zone || ev.target === label) input.click();
  });
  zone.addEventListener('dragover', (ev) => { ev.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (ev) => {
    ev.preventDefault(); zone.classList.remove('over');
    send(Array.from(ev.dataTransfer.files));
  });
  input.addEventListener('change', () => { send(Array.from(input.files)); input.value = ''; });

  function send(files) {
    for (const f of files) {
      const row = document.createElement('div'); row.className = 'sc-upload-row';
      const name = document.createElement('span'); name.textContent = f.name;
      const bar = document.createElement('progress'); bar.max = 100; bar.value = 0;
      const status = document.createElement('span'); status.className = 'sc-upload-status';
      row.append(name, bar, status); list.appendChild(row);
      if (f.size > model.max_mb * 1024 * 1024) {
        status.textContent = 'too large (limit ' + model.max_mb + ' MB)';
        row.dataset.state = 'refused';
        continue;
      }
      const xhr = new XMLHttpRequest();
      xhr.open('POST', model.endpoint + '?name=' + encodeURIComponent(f.name));
      xhr.upload.onprogress = (ev) => {
        if (ev.lengthComputable) {
          bar.value = Math.round(100 * ev.loaded / ev.total);
          status.textContent = bar.value + ' %';
        }
      };
      xhr.onload = () => {
        let body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) {}
        if (xhr.status === 200) {
          bar.value = 100; status.textContent = 'uploaded — ingesting';
          row.dataset.state = 'done';
          model.uploaded = [...model.uploaded, body.name || f.name];
        } else {
          status.textContent = 'refused: ' + (body.error || xhr.status);
          row.dataset.state = 'refused';
        }
      };
      xhr.onerror = () => {
        status.textContent = 'failed (connection closed)';
        row.dataset.state = 'refused';
      };
      xhr.send(f);
    }
  }
}
"""
