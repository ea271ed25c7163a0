"""The one entry point: ``stemcrate …``.

Commands live in ``stemcrate/commands/<area>.py``, each with ``register(app)``. Nothing heavy
(torch, demucs, whisper, panel, prefect, duckdb) is imported at module level anywhere on this
path, so ``stemcrate --help`` answers at once.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="stemcrate",
    help="Turn a pile of songs into a searchable library of stems, samples, MIDI and lyrics.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

COMMAND_MODULES = (
    "pipeline",  # up, ingest, process, watch
    "library",  # ls, catalogue rebuild, doctor
    "separate",  # separate, models list|pull
    "slicing",  # slice
    "classify",  # classify, train-classifier
    "transcribe",  # midi, lyrics
    "export",  # export
    "dashboard",  # dashboard
)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"stemcrate.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"stemcrate.commands.{name}":
                continue  # area not built yet
            raise
        module.register(app)


_register_all()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
