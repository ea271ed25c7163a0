"""What the pages share: navigation, formatting, stage badges, live refresh.

Everything that ends up in HTML goes through :func:`esc` (``html.escape`` with quotes), so
metadata from files (titles, artists, error texts) is always shown as text.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import panel as pn

from stemcrate.config import ALL_STAGES
from stemcrate.dashboard.context import DashboardContext, prefect_ui_url

STAGES = ("ingest", *ALL_STAGES)
"""Stages shown as columns, in pipeline order (others found in ``runs`` follow)."""

CSS = """
:host, body { font-family: system-ui, sans-serif; }
.sc-nav { display: flex; gap: 18px; align-items: baseline; font-size: 15px; }
.sc-nav .sc-brand { font-weight: 700; font-size: 18px; }
.sc-nav a { text-decoration: none; color: #2a6fdb; }
.sc-nav a.current { color: #000; font-weight: 600; }
table.sc-table { border-collapse: collapse; width: 100%; font-size: 13px; }
table.sc-table th { text-align: left; border-bottom: 2px solid #ccc; padding: 4px 6px;
                    white-space: nowrap; }
table.sc-table td { border-bottom: 1px solid #eee; padding: 3px 6px; vertical-align: top; }
table.sc-table td.num { text-align: right; font-variant-numeric: tabular-nums; }
.sc-state { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 12px;
            background: #e6e6e6; color: #333; white-space: nowrap; }
.sc-state-completed, .sc-state-cached { background: #d5f2dc; color: #145c2a; }
.sc-state-running { background: #d8e6ff; color: #173f8a; }
.sc-state-pending { background: #f0f0f0; color: #666; }
.sc-state-failed { background: #ffd9d6; color: #8a1c12; }
.sc-state-unavailable, .sc-state-skipped { background: #fff1cc; color: #6b4d00; }
.sc-error { color: #8a1c12; font-size: 12px; max-width: 320px; overflow-wrap: anywhere; }
.sc-missing { color: #8a5a00; background: #fff8e1; border-left: 3px solid #e0a800;
              padding: 4px 8px; margin: 4px 0; }
.sc-muted { color: #777; }
"""


def esc(value: Any) -> str:
    """``value`` as HTML-escaped text (``None`` → empty)."""
    return "" if value is None else html.escape(str(value), quote=True)


def fmt_duration(seconds: float | None) -> str:
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return ""
    s = int(round(seconds))
    return f"{s // 60}:{s % 60:02d}"


def fmt_num(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.{digits}f}"


def fmt_date(value: Any) -> str:
    return "" if value is None else str(value)[:16].replace("T", " ")


def session_arg(name: str) -> str | None:
    """A query-string argument of the current page (``?name=value``), decoded."""
    args = pn.state.session_args or {}
    values = args.get(name)
    if not values:
        return None
    raw = values[0]
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def nav(current: str) -> pn.pane.HTML:
    links = [("library", "./", "Library"), ("samples", "samples", "Samples")]
    parts = ['<div class="sc-nav"><span class="sc-brand">stemcrate</span>']
    for key, href, text in links:
        cls = ' class="current"' if key == current else ""
        parts.append(f'<a href="{href}"{cls}>{text}</a>')
    parts.append("</div>")
    return pn.pane.HTML("".join(parts), stylesheets=[CSS], margin=(5, 10))


def run_link(run: dict[str, Any]) -> str | None:
    """The Prefect UI URL of a run's flow run, when both are known."""
    ui = prefect_ui_url()
    fid = run.get("flow_run_id")
    if not ui or not fid:
        return None
    return f"{ui}/runs/flow-run/{quote(str(fid), safe='')}"


def state_badge(stage: str, run: dict[str, Any] | None, *, with_error: bool = True) -> str:
    """HTML (escaped) for a stage's run state, linked to Prefect, error shown when failed."""
    if run is None:
        return f'<span class="sc-state sc-state-none" data-stage="{esc(stage)}">—</span>'
    state = str(run.get("state") or "unknown")
    error = run.get("error")
    title = f' title="{esc(error)}"' if error else ""
    badge = (f'<span class="sc-state sc-state-{esc(state)}" data-stage="{esc(stage)}"'
             f"{title}>{esc(state)}</span>")
    link = run_link(run)
    if link:
        badge = f'<a href="{esc(link)}" target="_blank" rel="noopener">{badge}</a>'
    if with_error and state == "failed" and error:
        short = str(error) if len(str(error)) <= 140 else str(error)[:137] + "…"
        badge += f'<div class="sc-error">{esc(short)}</div>'
    return badge


def live(ctx: DashboardContext, refresh: Callable[[], None], *, period_ms: int = 1000) -> None:
    """Call ``refresh`` in this session whenever the catalogue changed (no reload needed)."""
    seen = {"version": ctx.version}

    def check() -> None:
        if ctx.version != seen["version"]:
            seen["version"] = ctx.version
            refresh()

    if pn.state.curdoc is not None:
        pn.state.add_periodic_callback(check, period=period_ms)


def missing(text: str) -> pn.pane.HTML:
    """A plain note that something has not been computed yet."""
    return pn.pane.HTML(f'<div class="sc-missing">{esc(text)}</div>', stylesheets=[CSS],
                        sizing_mode="stretch_width")


def stage_note(what: str, stage: str, runs: dict[str, dict[str, Any]]) -> str:
    """E.g. ``"Stems not computed yet — stage separate: pending"`` (with the error if any)."""
    run = runs.get(stage)
    state = run.get("state") if run else "not started"
    note = f"{what} not computed yet — stage {stage}: {state}"
    if run and run.get("error"):
        note += f" ({run['error']})"
    return note
