"""``stemcrate classify FILE…`` and ``stemcrate train-classifier``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from stemcrate.commands import fail, print_json

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

_REPO_ROOT = Path(__file__).resolve().parents[2]


#: files decoded and labelled together (one model call per batch and sample rate)
BATCH = 32
#: a file whose peak is below this (-100 dBFS; 16-bit audio's smallest step is -90 dBFS) is
#: silent, reported rather than labelled
SILENT_PEAK = 1e-5
#: seconds of each file kept after decoding: a one-shot is heard from where its sound starts
#: for 1.5 s (:data:`stemcrate.audio.features.MAX_SECONDS`), so a long file given by mistake
#: (a whole song) costs no more memory than this
KEEP_SECONDS = 30.0


def audio_files(inputs: list[Path]) -> list[tuple[Path, str | None]]:
    """What to classify, in order, as (path, problem or None): each file as given (any
    extension: the decoder decides), each folder's audio files
    (:data:`~stemcrate.audio.decode.AUDIO_EXTENSIONS`, recursively, hidden ones left out,
    sorted). A path that does not exist, or a folder without audio, comes with a problem
    naming the cause."""
    from stemcrate.audio.decode import AUDIO_EXTENSIONS

    out: list[tuple[Path, str | None]] = []
    for p in inputs:
        if p.is_dir():
            found = sorted(f for f in p.rglob("*")
                           if f.suffix.lower() in AUDIO_EXTENSIONS and f.is_file()
                           and not any(part.startswith(".") for part in f.relative_to(p).parts))
            out += [(f, None) for f in found] or [
                (p, "no audio files in this folder (looked for "
                    f"{', '.join(sorted(AUDIO_EXTENSIONS))})")]
        elif p.exists():
            out.append((p, None))
        else:
            out.append((p, "no such file or folder"))
    return out


def _classify_files(entries: list[tuple[Path, str | None]], stem_kind: str | None
                    ) -> list[dict[str, object]]:
    """One row per entry of :func:`audio_files`, in order: path, label, confidence, tags,
    probabilities; or path and error (a problem, a file that cannot be read or is silent;
    reported on stderr as it happens)."""
    import numpy as np
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from stemcrate.audio.classify import classify_many
    from stemcrate.audio.decode import load_audio
    from stemcrate.errors import InputError, ModelUnavailableError, StemcrateError

    paths = [p for p, _ in entries]
    rows: list[dict[str, object]] = [{"path": str(p)} for p in paths]
    console = Console(stderr=True)
    columns = (TextColumn("classifying"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True,
                  disable=len(paths) < 2 or not console.is_terminal) as progress:
        task = progress.add_task("classify", total=len(paths))
        for first in range(0, len(paths), BATCH):
            by_rate: dict[int, list[tuple[int, npt.NDArray[np.floating]]]] = {}
            for i in range(first, min(first + BATCH, len(paths))):
                problem = entries[i][1]
                try:
                    if problem is not None:
                        raise InputError(paths[i], problem)
                    y, sr = load_audio(paths[i])
                    y = y[:, : int(KEEP_SECONDS * sr)]  # a batch of whole songs stays small
                    if float(np.max(np.abs(y))) < SILENT_PEAK:
                        raise InputError(paths[i], "silent (its peak is below -100 dBFS): "
                                                   "nothing to classify")
                except StemcrateError as exc:
                    rows[i]["error"] = str(exc)
                    console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
                    progress.advance(task)
                    continue
                by_rate.setdefault(sr, []).append((i, y))
            for sr, items in by_rate.items():
                try:
                    got = classify_many([y for _, y in items], sr, stem_kind=stem_kind)
                except ModelUnavailableError as exc:
                    fail(str(exc))
                for (i, _), c in zip(items, got, strict=True):
                    rows[i].update(label=c.label, confidence=round(c.confidence, 4),
                                   tags=list(c.tags),
                                   probabilities={k: round(v, 4)
                                                  for k, v in c.probabilities.items()})
                progress.advance(task, len(items))
    return rows


def summary_line(rows: list[dict[str, object]]) -> str:
    """``"12 files labelled: kick 5, snare 4, fx 3; 1 not labelled"`` (labels by count, most
    first; a file is not labelled when it is missing, unreadable or silent)."""
    from collections import Counter

    counts = Counter(str(r["label"]) for r in rows if "error" not in r)
    errors = len(rows) - sum(counts.values())
    n = sum(counts.values())
    line = f"{n} file{'' if n == 1 else 's'} labelled"
    if counts:
        line += ": " + ", ".join(f"{lab} {n}" for lab, n in counts.most_common())
    return line + (f"; {errors} not labelled (see the errors above)" if errors else "")


def register(app: typer.Typer) -> None:
    """Add ``classify`` and ``train-classifier`` to ``app``."""

    @app.command("classify")
    def classify_cmd(
        files: list[Path] = typer.Argument(
            ..., help="One-shot audio files, or folders (their audio files, recursively)."),
        stem_kind: str | None = typer.Option(
            None, "--stem-kind",
            help="Prior from the stem the files came from: drums|bass|vocals|other|guitar|piano."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Label one-shot samples (kick, snare, …, vocal, melodic, fx) with tags.

        Files are read and labelled in batches, in the order given (a folder's files sorted
        by path), with a progress bar on stderr. A file that is missing, cannot be read or is
        silent is reported on stderr (and as an ``error`` row with --json) without stopping
        the others; the exit status is then 1.
        """
        from stemcrate.audio.classify import STEM_PRIORS

        if stem_kind is not None and stem_kind not in STEM_PRIORS:
            fail(f"unknown --stem-kind {stem_kind!r} (stem_kind must be one of "
                 f"{', '.join(sorted(STEM_PRIORS))})")
        rows = _classify_files(audio_files(files), stem_kind)
        errors = sum("error" in r for r in rows)
        if as_json:
            print_json(rows)
        else:
            for r in rows:
                if "error" in r:
                    continue
                tags = r["tags"]
                assert isinstance(tags, list)
                typer.echo(f"{r['path']}\t{r['label']}\t{float(str(r['confidence'])):.2f}\t"
                           f"{' '.join(tags)}")
        if len(rows) > 1:
            typer.echo(summary_line(rows), err=True)
        if errors:
            raise typer.Exit(1)

    @app.command("train-classifier")
    def train_classifier_cmd(
        out: Path = typer.Option(None, "--out",
                                 help="Folder for classifier.npz (default: the shipped "
                                      "stemcrate/audio/weights/)."),
        report: Path | None = typer.Option(None, "--report",
                                           help="Write the held-out evaluation (Markdown)."),
        cache: Path = typer.Option(Path("build/classifier-data"), "--cache",
                                   help="Cache for rendered clips (not committed)."),
        corpus: Path | None = typer.Option(
            None, "--corpus", help="Shared corpus for the real speech/trumpet hold-out "
                                   "(default ../shared/corpus or $STEMCRATE_CORPUS)."),
        evaluate: Path | None = typer.Option(
            None, "--evaluate", metavar="WEIGHTS",
            help="Do not train: score this classifier.npz on the held-out sources (the same "
                 "clips and splits as the report) and print macro-F1 per source and split; "
                 "with --report, write the report for these weights."),
        cross_validate: bool = typer.Option(
            False, "--cross-validate",
            help="Do not train the shipped model: cross-validate the MLP half of the recipe "
                 "over groups of training sources (no held-out source is looked at) and "
                 "print its out-of-fold scores, to choose a training change on."),
    ) -> None:
        """Render the training data and train the sample classifier from scratch (seeded)."""
        import os
        import shutil
        import sys

        from stemcrate.audio.classify import WEIGHTS_PATH
        from stemcrate.audio.training.train import run, score, summary

        if cross_validate and (evaluate is not None or out is not None or report is not None):
            fail("--cross-validate trains no shipped model; it takes no --evaluate, --out or "
                 "--report")
        if evaluate is not None:
            if out is not None:
                fail("--evaluate scores existing weights; it takes no --out")
            if not evaluate.is_file():
                fail(f"{evaluate}: no such weights file")

        for exe in ("fluidsynth", "timidity", "espeak-ng", "flite"):
            if shutil.which(exe) is None:
                fail(f"{exe} is not installed; it renders the training data")
        from stemcrate.audio.training.dataset import missing_files

        missing = missing_files()
        if missing:
            fail("training data missing (`make system-deps` installs it):\n  "
                 + "\n  ".join(missing))
        if corpus is None:
            env = os.environ.get("STEMCRATE_CORPUS")
            corpus = Path(env) if env else _REPO_ROOT.parent / "shared" / "corpus"
        if cross_validate:
            from stemcrate.audio.training import crossval

            crossval.run(cache, corpus if corpus.is_dir() else None)
            return
        command = ("stemcrate train-classifier " + " ".join(sys.argv[2:])).strip()
        if evaluate is not None:
            from stemcrate.errors import StemcrateError

            try:
                results = score(evaluate, cache, corpus if corpus.is_dir() else None,
                                report_path=report, command=command)
            except StemcrateError as exc:
                fail(str(exc))
            typer.echo(summary(results))
            return
        run(out or WEIGHTS_PATH.parent, report, cache,
            corpus if corpus.is_dir() else None, command=command)
