"""CLI commands, one module per area; each exposes ``register(app)``.

Shared helpers for commands: :func:`fail` prints a clear error and exits non-zero,
:func:`print_json` prints data for ``--json``.
"""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    """Print ``data`` as JSON on stdout (paths and other objects as strings)."""
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
