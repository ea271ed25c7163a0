"""The Panel dashboard: browse, search, play and mix stems, edit, upload and export.

Entry point for other layers (``stemcrate dashboard``, ``stemcrate up``)::

    from stemcrate.dashboard import serve_dashboard
    handle = serve_dashboard(settings, host="127.0.0.1", port=5006, show=False,
                             on_upload=lambda path: ..., threaded=True)
    ...
    handle.stop()

See :mod:`stemcrate.dashboard.server` for the options (login included) and
:mod:`stemcrate.dashboard.handlers` for the HTTP endpoints (media with range requests,
upload, export downloads). Importing this package does not import Panel.
"""

from __future__ import annotations

from typing import Any

__all__ = ["serve_dashboard"]


def serve_dashboard(*args: Any, **kwargs: Any) -> Any:
    """See :func:`stemcrate.dashboard.server.serve_dashboard`."""
    from stemcrate.dashboard.server import serve_dashboard as serve

    return serve(*args, **kwargs)
