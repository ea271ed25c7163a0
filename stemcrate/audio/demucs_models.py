"""Demucs model resolution: where a model comes from, loading it once, its fingerprint.

A model is named like demucs names it (``htdemucs``, ``htdemucs_ft``, ``htdemucs_6s``, or any
bag/signature a local folder holds) and comes from one of two places:

* a **local model folder** (``repo``; stemcrate's ``STEMCRATE_SEPARATION_REPO``) in demucs'
  own local-repo format: ``<name>.yaml`` (``models: [sig, …]``, optional ``weights`` and
  ``segment``) beside one ``<sig>.th`` or ``<sig>-<sha256[:8]>.th`` file per signature, loaded
  through ``demucs.pretrained.get_model(name, repo=folder)`` exactly as demucs does;
* the **hub** (``repo=None``): the HuggingFace hub cache or torch-hub cache when the files are
  already there (no network), else demucs' own download (HuggingFace, then the legacy AWS repo).

Public API
----------
``load_model(name, repo=None, device="cpu") -> demucs.apply.BagOfModels``
    Loaded once per process per ``(name, repo, device)`` and kept (eval mode, on ``device``).
    Single models are wrapped into a bag of one, so callers see one shape. Raises
    :class:`~stemcrate.errors.ModelUnavailableError` (which model, where we looked, what to do).
``model_fingerprint(name, repo=None) -> str``
    sha256 (hex) over the weights (every tensor of every sub-model, in order), the bag
    weights and segment: the same weights give the same fingerprint whatever the file format.
``list_models(repo=None) -> list[ModelAvailability]``
    Which models are usable here and from where, without touching the network (for
    ``stemcrate doctor`` and ``stemcrate models list``).
``pull_model(name, *, to=None, source_repo=None) -> PulledModel``
    Fetch a model (download from the hub, or read from ``source_repo``) and, with ``to``, write
    it into that folder in demucs' local-repo format so an offline machine can load it.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stemcrate.errors import ModelUnavailableError

if TYPE_CHECKING:
    from demucs.apply import BagOfModels

KNOWN_MODELS: tuple[str, ...] = ("htdemucs", "htdemucs_ft", "htdemucs_6s")
"""The Demucs v4 models stemcrate offers (default first)."""

DEFAULT_MODEL = "htdemucs"

_LOCK = threading.RLock()
_CPU_CACHE: dict[tuple[str, str], BagOfModels] = {}
_DEVICE_CACHE: dict[tuple[str, str, str], BagOfModels] = {}
_FINGERPRINTS: dict[tuple[str, str], str] = {}
_ORIGINS: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class ModelAvailability:
    """Whether a model can be loaded here, and from where."""

    name: str
    usable: bool
    where: str  # "folder", "hub cache", "hub (download)" or "" when unusable
    location: str  # the folder / cache file, or the hub repository
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "usable": self.usable, "where": self.where,
                "location": self.location, "detail": self.detail}


@dataclass(frozen=True)
class PulledModel:
    """What :func:`pull_model` fetched and (with ``to``) wrote."""

    name: str
    fingerprint: str
    files: list[Path] = field(default_factory=list)


def _repo_key(repo: Path | None) -> str:
    return str(Path(repo).expanduser().resolve()) if repo is not None else "<hub>"


def _what_to_do(name: str, repo: Path | None) -> str:
    if repo is None:
        return (f"run `stemcrate models pull {name}` on a machine that is online (the hub "
                f"cache is then reused), or set STEMCRATE_SEPARATION_REPO to a folder holding "
                f"{name}.yaml and its .th files (`stemcrate models pull {name} --to DIR`)")
    return (f"put {name}.yaml and the .th files it names into {repo} (`stemcrate models pull "
            f"{name} --to {repo}` on a machine that is online), or unset "
            f"STEMCRATE_SEPARATION_REPO to download {name} from the hub")


def _unavailable(name: str, repo: Path | None, cause: str) -> ModelUnavailableError:
    where = f"the local model folder {repo}" if repo is not None else (
        "the hub (HuggingFace cache, torch hub cache, then download)")
    return ModelUnavailableError(
        f"separation model {name!r} is not available: looked in {where}: {cause}. "
        f"To fix: {_what_to_do(name, repo)}."
    )


def _as_bag(model: Any) -> BagOfModels:
    from demucs.apply import BagOfModels

    if isinstance(model, BagOfModels):
        return model
    return BagOfModels([model])


# --------------------------------------------------------------------------- local folder

def _folder_entries(repo: Path) -> tuple[dict[str, Path], dict[str, Path]]:
    """(signature -> .th file, bag name -> .yaml file) in a local model folder."""
    models: dict[str, Path] = {}
    bags: dict[str, Path] = {}
    for file in sorted(repo.iterdir()):
        if file.suffix == ".th":
            sig = file.stem.rsplit("-", 1)[0] if "-" in file.stem else file.stem
            models[sig] = file
        elif file.suffix == ".yaml":
            bags[file.stem] = file
    return models, bags


def _check_folder(name: str, repo: Path) -> None:
    """Raise a clear error when ``repo`` cannot provide ``name`` (before demucs exits)."""
    import yaml

    if not repo.is_dir():
        raise _unavailable(name, repo, "the folder does not exist")
    models, bags = _folder_entries(repo)
    if name in models:
        return
    if name not in bags:
        have = sorted(set(bags) | set(models))
        raise _unavailable(name, repo, f"no {name}.yaml and no {name}.th there (it holds: "
                           f"{', '.join(have) if have else 'nothing usable'})")
    try:
        bag = yaml.safe_load(bags[name].read_text())
        sigs = [str(s) for s in bag["models"]]
    except Exception as exc:  # noqa: BLE001 - any malformed yaml is the same problem
        raise _unavailable(name, repo, f"{bags[name].name} is not a valid bag ({exc})") from exc
    missing = [s for s in sigs if s not in models]
    if missing:
        raise _unavailable(name, repo, f"{bags[name].name} names "
                           f"{', '.join(s + '.th' for s in missing)}, missing from the folder")


def _load_from_folder(name: str, repo: Path) -> BagOfModels:
    from demucs.pretrained import get_model

    _check_folder(name, repo)
    try:
        return _as_bag(get_model(name, repo=repo))
    except ModelUnavailableError:
        raise
    except Exception as exc:  # noqa: BLE001 - corrupt files, bad checksums, …
        raise _unavailable(name, repo, f"loading failed ({type(exc).__name__}: {exc})") from exc


# --------------------------------------------------------------------------- hub

def _remote_bag(name: str) -> dict[str, Any] | None:
    """The bag definition demucs ships for ``name`` (``demucs/remote/<name>.yaml``)."""
    import yaml
    from demucs.pretrained import REMOTE_ROOT

    path = REMOTE_ROOT / f"{name}.yaml"
    if not path.exists():
        return None
    data = yaml.safe_load(path.read_text())
    return data if isinstance(data, dict) else None


def _hf_cached_files(name: str) -> tuple[Path, list[Path]] | None:
    """(yaml, safetensors files) when the HuggingFace cache already holds all of ``name``."""
    try:
        import yaml
        from demucs.hf import DEFAULT_NAMESPACE, hf_repo_name
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    repo_id = f"{DEFAULT_NAMESPACE}/{hf_repo_name(name)}"
    bag_file = try_to_load_from_cache(repo_id, f"{name}.yaml")
    if not isinstance(bag_file, str):
        return None
    bag = yaml.safe_load(Path(bag_file).read_text())
    files: list[Path] = []
    for sig in bag["models"]:
        cached = try_to_load_from_cache(repo_id, f"{sig}.safetensors")
        if not isinstance(cached, str):
            return None
        files.append(Path(cached))
    return Path(bag_file), files


def _torchhub_cached_files(name: str) -> list[Path] | None:
    """The legacy ``<sig>-<sha>.th`` files in the torch hub cache, when all are there."""
    import torch
    from demucs.pretrained import REMOTE_ROOT, _parse_remote_files

    bag = _remote_bag(name)
    if bag is None:
        return None
    urls = _parse_remote_files(REMOTE_ROOT / "files.txt")
    folder = Path(torch.hub.get_dir()) / "checkpoints"
    files: list[Path] = []
    for sig in bag["models"]:
        url = urls.get(str(sig))
        if url is None:
            return None
        path = folder / url.rsplit("/", 1)[-1]
        if not path.exists():
            return None
        files.append(path)
    return files


def _load_from_hub(name: str, *, allow_download: bool = True) -> tuple[BagOfModels, str]:
    import yaml
    from demucs.apply import BagOfModels
    from demucs.states import load_model as demucs_load

    hf = _hf_cached_files(name)
    if hf is not None:
        from demucs.hf import load_safetensors_model

        bag_def = yaml.safe_load(hf[0].read_text())
        models = [load_safetensors_model(p) for p in hf[1]]
        bag = BagOfModels(models, bag_def.get("weights"), bag_def.get("segment"))
        return bag, f"hub cache {hf[0].parent}"
    th_files = _torchhub_cached_files(name)
    remote = _remote_bag(name)
    if th_files is not None and remote is not None:
        models = [demucs_load(p) for p in th_files]
        bag = BagOfModels(models, remote.get("weights"), remote.get("segment"))
        return bag, f"torch hub cache {th_files[0].parent}"
    if not allow_download:
        raise _unavailable(name, None, "not in the local hub caches")
    from demucs.pretrained import get_model

    try:
        model = get_model(name)
    except BaseException as exc:  # noqa: BLE001 - demucs may sys.exit via `fatal`
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise _unavailable(name, None, f"download failed ({type(exc).__name__}: {exc})") from exc
    return _as_bag(model), "hub (downloaded)"


# --------------------------------------------------------------------------- public

def _load_cpu(name: str, repo: Path | None) -> BagOfModels:
    key = (name, _repo_key(repo))
    with _LOCK:
        cached = _CPU_CACHE.get(key)
        if cached is not None:
            return cached
        if repo is not None:
            folder = Path(repo).expanduser()
            bag = _load_from_folder(name, folder)
            origin = f"folder {folder.resolve()}"
        else:
            bag, origin = _load_from_hub(name)
        bag.eval()
        for param in bag.parameters():
            param.requires_grad_(False)
        _CPU_CACHE[key] = bag
        _ORIGINS[key] = origin
        return bag


def load_model(name: str = DEFAULT_MODEL, repo: Path | None = None,
               device: str = "cpu") -> BagOfModels:
    """The model ``name`` from ``repo`` (``None``: the hub), on ``device``, loaded once.

    Returns a ``demucs.apply.BagOfModels`` in eval mode whose sub-models sit on ``device``
    (``.sources``, ``.samplerate`` (Hz), ``.audio_channels``, ``.models``, ``.weights``).
    The same object is returned on every later call: do not modify it.

    Raises :class:`ModelUnavailableError` when the model cannot be had.
    """
    import torch

    dev = str(torch.device(device))
    key = (name, _repo_key(repo), dev)
    with _LOCK:
        cached = _DEVICE_CACHE.get(key)
        if cached is not None:
            return cached
        cpu_bag = _load_cpu(name, repo)
        bag = cpu_bag if dev == "cpu" else copy.deepcopy(cpu_bag).to(dev)
        _DEVICE_CACHE[key] = bag
        return bag


def submodels(bag: BagOfModels) -> list[Any]:
    """The sub-models of ``bag`` (``HTDemucs`` instances for the v4 models), typed loosely."""
    return list(bag.models)


def model_origin(name: str, repo: Path | None = None) -> str:
    """Where the loaded ``name`` came from (``folder …``, ``hub cache …``, …); loads it."""
    _load_cpu(name, repo)
    return _ORIGINS[(name, _repo_key(repo))]


def model_fingerprint(name: str = DEFAULT_MODEL, repo: Path | None = None) -> str:
    """sha256 hex digest of the weights of ``name`` (see the module docstring); loads it."""
    key = (name, _repo_key(repo))
    with _LOCK:
        if key not in _FINGERPRINTS:
            _FINGERPRINTS[key] = _fingerprint_of(_load_cpu(name, repo))
        return _FINGERPRINTS[key]


def _fingerprint_of(bag: BagOfModels) -> str:
    import numpy as np
    import torch

    digest = hashlib.sha256()
    digest.update(repr([[float(w) for w in ws] for ws in bag.weights]).encode())
    for sub in submodels(bag):
        digest.update(f"{type(sub).__name__}|{float(getattr(sub, 'segment', 0))}|"
                      f"{list(sub.sources)}|{sub.samplerate}".encode())
        for tensor_name, tensor in sorted(sub.state_dict().items()):
            data = tensor.detach().to("cpu", torch.float32).contiguous().numpy()
            digest.update(f"{tensor_name}:{tuple(data.shape)}".encode())
            digest.update(np.ascontiguousarray(data).tobytes())
    return digest.hexdigest()


def clear_cache() -> None:
    """Forget every loaded model (frees memory; the next load reads the files again)."""
    with _LOCK:
        _CPU_CACHE.clear()
        _DEVICE_CACHE.clear()
        _FINGERPRINTS.clear()
        _ORIGINS.clear()


def list_models(repo: Path | None = None) -> list[ModelAvailability]:
    """Which models are usable here and from where; never touches the network.

    With ``repo`` (a local model folder): the known models plus every bag/model the folder
    holds, each usable when all its files are there. Without: the known models, usable when
    the HuggingFace or torch hub cache holds them ("hub (download)" otherwise: usable online).
    """
    out: list[ModelAvailability] = []
    if repo is not None:
        folder = Path(repo).expanduser()
        names = list(KNOWN_MODELS)
        if folder.is_dir():
            _, bags = _folder_entries(folder)
            names += [b for b in bags if b not in names]
        for name in names:
            try:
                _check_folder(name, folder)
            except ModelUnavailableError as exc:
                out.append(ModelAvailability(name, False, "", str(folder), str(exc)))
            else:
                out.append(ModelAvailability(name, True, "folder", str(folder)))
        return out
    for name in KNOWN_MODELS:
        hf = _hf_cached_files(name)
        if hf is not None:
            out.append(ModelAvailability(name, True, "hub cache", str(hf[0].parent)))
            continue
        th = _torchhub_cached_files(name)
        if th is not None:
            out.append(ModelAvailability(name, True, "hub cache", str(th[0].parent)))
            continue
        out.append(ModelAvailability(
            name, False, "hub (download)", "huggingface.co / dl.fbaipublicfiles.com",
            f"not cached; needs a download (`stemcrate models pull {name}`)"))
    return out


def pull_model(name: str, *, to: Path | None = None,
               source_repo: Path | None = None) -> PulledModel:
    """Fetch ``name`` (from the hub, or from the local folder ``source_repo``) and keep it.

    From the hub the files land in the hub cache (so later loads with ``repo=None`` work
    offline). With ``to``, the model is also written into that folder in demucs' local-repo
    format (``<name>.yaml`` + ``<sig>-<sha8>.th``), ready for ``STEMCRATE_SEPARATION_REPO``.
    Raises :class:`ModelUnavailableError` when it cannot be fetched.
    """
    import io

    import torch
    import yaml

    if source_repo is not None:
        bag = _load_from_folder(name, Path(source_repo).expanduser())
        sigs = _bag_signatures(name, Path(source_repo).expanduser())
    else:
        bag, _ = _load_from_hub(name)
        remote = _remote_bag(name)
        sigs = [str(s) for s in remote["models"]] if remote else []
    if len(sigs) != len(bag.models):
        sigs = [f"{name}_{i}" for i in range(len(bag.models))]
    files: list[Path] = []
    if to is not None:
        folder = Path(to).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        for sig, sub in zip(sigs, submodels(bag), strict=True):
            args, kwargs = sub._init_args_kwargs
            package = {"klass": type(sub), "args": args, "kwargs": kwargs,
                       "state": {k: v.detach().cpu().clone() for k, v in
                                 sub.state_dict().items()}}
            buf = io.BytesIO()
            torch.save(package, buf)
            data = buf.getvalue()
            for old in folder.glob(f"{sig}-*.th"):
                old.unlink()
            target = folder / f"{sig}-{hashlib.sha256(data).hexdigest()[:8]}.th"
            _atomic_write(target, data)
            files.append(target)
        bag_def: dict[str, Any] = {"models": sigs}
        if any(any(w != 1.0 for w in ws) for ws in bag.weights):
            bag_def["weights"] = [[float(w) for w in ws] for ws in bag.weights]
        yaml_file = folder / f"{name}.yaml"
        _atomic_write(yaml_file, yaml.safe_dump(bag_def).encode())
        files.append(yaml_file)
    fingerprint = _fingerprint_of(bag)
    return PulledModel(name, fingerprint, files)


def _bag_signatures(name: str, repo: Path) -> list[str]:
    import yaml

    models, bags = _folder_entries(repo)
    if name in bags:
        return [str(s) for s in yaml.safe_load(bags[name].read_text())["models"]]
    return [name] if name in models else []


def _atomic_write(target: Path, data: bytes) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(target)
