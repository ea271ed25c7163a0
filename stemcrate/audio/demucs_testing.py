"""Small randomly initialised HTDemucs models in a local model folder, for tests and benches.

No weights can be downloaded in tests, so the real loading path
(``demucs.pretrained.get_model(name, repo=folder)``) is exercised with tiny models written
here in demucs' own local-repo format: ``<name>.yaml`` naming the signatures, plus one
``<sig>-<sha256[:8]>.th`` package (``klass``, ``args``, ``kwargs``, ``state``) per model.

>>> repo = write_test_model_repo(tmp_path / "models")            # doctest: +SKIP
>>> separate_tracks([(y, sr)], model="htdemucs", repo=repo)     # doctest: +SKIP

The default model (``channels=8, t_layers=1, segment=4``, depth 4) has 0.36 M parameters and
costs a fraction of a second per 4-s segment on an idle CPU core; ``segment=2`` halves the
cost of clips shorter than 2 s (pipeline tests).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

SOURCES_4 = ("drums", "bass", "other", "vocals")
SOURCES_6 = ("drums", "bass", "other", "vocals", "guitar", "piano")


def make_test_htdemucs(
    sources: Sequence[str] = SOURCES_4,
    *,
    seed: int = 0,
    channels: int = 8,
    t_layers: int = 1,
    segment: float | Fraction = 4,
    samplerate: int = 44100,
    audio_channels: int = 2,
    **kwargs: Any,
) -> Any:
    """A randomly initialised ``demucs.htdemucs.HTDemucs`` (eval mode, seeded weights).

    ``kwargs`` go to ``HTDemucs`` unchanged (e.g. ``bottom_channels=512, dconv_mode=3`` and
    the defaults for an htdemucs-shaped ~42 M-parameter model).
    """
    import torch
    from demucs.htdemucs import HTDemucs

    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        model = HTDemucs(list(sources), audio_channels=audio_channels, samplerate=samplerate,
                         segment=segment, channels=channels, t_layers=t_layers, **kwargs)
    finally:
        torch.random.set_rng_state(state)
    model.eval()
    return model


def save_model_package(model: Any, folder: Path, signature: str) -> Path:
    """Write ``model`` as ``<folder>/<signature>-<sha256[:8]>.th`` (demucs' package format)."""
    import torch

    args, kwargs = model._init_args_kwargs
    package = {"klass": type(model), "args": args, "kwargs": kwargs,
               "state": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}}
    buf = io.BytesIO()
    torch.save(package, buf)
    data = buf.getvalue()
    path = folder / f"{signature}-{hashlib.sha256(data).hexdigest()[:8]}.th"
    path.write_bytes(data)
    return path


def write_test_model_repo(
    folder: Path,
    *,
    name: str = "htdemucs",
    sources: Sequence[str] = SOURCES_4,
    n_models: int = 1,
    seed: int = 0,
    weights: Sequence[Sequence[float]] | None = None,
    **model_kwargs: Any,
) -> Path:
    """Write a random HTDemucs model (or a bag of ``n_models``) named ``name`` into ``folder``.

    Creates ``folder`` if needed and returns it; ``demucs.pretrained.get_model(name,
    repo=folder)`` (and stemcrate's ``load_model``/``separate_tracks`` with ``repo=folder``)
    then load it. Sub-model ``i`` is seeded with ``seed + i``. For ``n_models > 1`` and no
    ``weights``, each source is taken from one model, round-robin (like ``htdemucs_ft``'s
    one-hot weights). ``model_kwargs`` go to :func:`make_test_htdemucs` (``channels=8,
    t_layers=1, segment=4`` by default). Several names may share one folder.
    """
    import yaml

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sigs: list[str] = []
    for i in range(n_models):
        model = make_test_htdemucs(sources, seed=seed + i, **model_kwargs)
        sig = hashlib.sha256(f"{name}/{seed + i}/{i}".encode()).hexdigest()[:8]
        for old in folder.glob(f"{sig}-*.th"):
            old.unlink()
        save_model_package(model, folder, sig)
        sigs.append(sig)
    bag: dict[str, Any] = {"models": sigs}
    if weights is not None:
        bag["weights"] = [[float(w) for w in ws] for ws in weights]
    elif n_models > 1:
        bag["weights"] = [[1.0 if s % n_models == i else 0.0 for s in range(len(sources))]
                          for i in range(n_models)]
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(bag))
    return folder
