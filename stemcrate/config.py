"""One typed settings object, built once and passed down.

Every setting is read from the environment (prefix ``STEMCRATE_``), or from a TOML config
file (``STEMCRATE_CONFIG``, else ``<home>/stemcrate.toml`` when it exists); the environment
wins over the file. The defaults below are the only place defaults live.

==========================  ===============================  ==================================
setting (env var)           default                          meaning
==========================  ===============================  ==================================
STEMCRATE_HOME              ``~/.stemcrate``                 data home: store, catalogue, inbox
STEMCRATE_STORE             ``file://<home>/store``          fsspec URL of the object store
STEMCRATE_CATALOGUE         ``<home>/catalogue.duckdb``      the DuckDB catalogue file
STEMCRATE_INBOX             ``<home>/inbox``                 watched folder (processed/, failed/)
STEMCRATE_DEVICE            ``auto``                         auto | cpu | cuda
STEMCRATE_SEPARATION_MODEL  ``htdemucs``                     demucs model name
STEMCRATE_SEPARATION_REPO   unset (download from the hub)    local folder of demucs model files
STEMCRATE_STEM_FORMAT       ``flac``                         flac (24-bit) | wav (24-bit)
STEMCRATE_LYRICS_ENGINE     ``faster-whisper``               faster-whisper | openai-whisper
STEMCRATE_LYRICS_MODEL      ``small``                        whisper model name or local path
STEMCRATE_STAGES            separate,slice,midi,lyrics       stages process_track runs
STEMCRATE_HOST              ``127.0.0.1``                    dashboard host
STEMCRATE_PORT              ``5006``                         dashboard port
STEMCRATE_PREFECT_PORT      ``4200``                         port of the local Prefect server
STEMCRATE_MAX_UPLOAD_MB     ``1024``                         upload size limit (server side)
STEMCRATE_MIN_DURATION_S    ``0.5``                          shorter audio is refused at ingest
STEMCRATE_POLL_S            ``2.0``                          inbox rescan / manifest apply period
==========================  ===============================  ==================================
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

ALL_STAGES = ("separate", "slice", "midi", "lyrics")


def _default_home() -> Path:
    return Path(os.path.expanduser("~")) / ".stemcrate"


def _config_file() -> Path | None:
    explicit = os.environ.get("STEMCRATE_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    home = Path(os.environ.get("STEMCRATE_HOME", str(_default_home()))).expanduser()
    candidate = home / "stemcrate.toml"
    return candidate if candidate.exists() else None


class Settings(BaseSettings):
    """All of stemcrate's settings (see the module docstring for the table)."""

    model_config = SettingsConfigDict(env_prefix="STEMCRATE_", extra="ignore")

    home: Path = Field(default_factory=_default_home)
    store: str = ""
    catalogue: Path | None = None
    inbox: Path | None = None
    device: Literal["auto", "cpu", "cuda"] = "auto"
    separation_model: str = "htdemucs"
    separation_repo: Path | None = None
    stem_format: Literal["flac", "wav"] = "flac"
    lyrics_engine: Literal["faster-whisper", "openai-whisper"] = "faster-whisper"
    lyrics_model: str = "small"
    stages: str = ",".join(ALL_STAGES)
    host: str = "127.0.0.1"
    port: int = 5006
    prefect_port: int = 4200
    max_upload_mb: int = 1024
    min_duration_s: float = 0.5
    poll_s: float = 2.0

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _config_file()
        if path is not None and path.exists():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @model_validator(mode="after")
    def _fill_derived(self) -> Settings:
        self.home = Path(self.home).expanduser()
        if not self.store:
            self.store = (self.home / "store").resolve().as_uri()
        if self.catalogue is None:
            self.catalogue = self.home / "catalogue.duckdb"
        if self.inbox is None:
            self.inbox = self.home / "inbox"
        return self

    @property
    def catalogue_path(self) -> Path:
        assert self.catalogue is not None
        return Path(self.catalogue).expanduser()

    @property
    def inbox_path(self) -> Path:
        assert self.inbox is not None
        return Path(self.inbox).expanduser()

    @property
    def stage_list(self) -> list[str]:
        return [s.strip() for s in self.stages.split(",") if s.strip()]

    def resolved_device(self) -> str:
        """``cuda`` when asked for or when ``auto`` finds a GPU, else ``cpu`` (imports torch)."""
        if self.device != "auto":
            return self.device
        try:
            import torch
        except ImportError:
            return "cpu"
        return "cuda" if torch.cuda.is_available() else "cpu"

    def public_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.model_dump().items()}


def get_settings(**overrides: Any) -> Settings:
    """Build the settings from the environment and config file (``overrides`` win)."""
    return Settings(**overrides)
