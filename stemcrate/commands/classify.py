"""``stemcrate classify FILE…`` and ``stemcrate train-classifier``."""

from __future__ import annotations

from pathlib import Path

import typer

from stemcrate.commands import fail, print_json

_REPO_ROOT = Path(__file__).resolve().parents[2]


def register(app: typer.Typer) -> None:
    """Add ``classify`` and ``train-classifier`` to ``app``."""

    @app.command("classify")
    def classify_cmd(
        files: list[Path] = typer.Argument(..., help="One-shot audio files to classify."),
        stem_kind: str | None = typer.Option(
            None, "--stem-kind",
            help="Prior from the stem the files came from: drums|bass|vocals|other|guitar|piano."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Label one-shot samples (kick, snare, …, vocal, melodic, fx) with tags."""
        from stemcrate.audio.classify import classify_many
        from stemcrate.audio.decode import load_audio
        from stemcrate.errors import StemcrateError

        rows: list[dict[str, object]] = []
        errors = 0
        for path in files:
            try:
                y, sr = load_audio(path)
                c = classify_many([y], sr, stem_kind=stem_kind)[0]
            except ValueError as exc:
                fail(str(exc))
            except StemcrateError as exc:
                errors += 1
                typer.echo(f"error: {exc}", err=True)
                rows.append({"path": str(path), "error": str(exc)})
                continue
            rows.append({"path": str(path), "label": c.label,
                         "confidence": round(c.confidence, 4), "tags": list(c.tags),
                         "probabilities": {k: round(v, 4) for k, v in c.probabilities.items()}})
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
