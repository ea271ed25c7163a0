# stemcrate — `make up` runs it, `make test` passes the tests; each sets itself up.
#
# Python: a .venv at the repo root. PyTorch is installed first from TORCH_SPEC (the CPU
# wheel on the build machines; on a CUDA machine `make TORCH_SPEC=torch …` or a torch you
# installed into .venv yourself is kept: an importable torch is never replaced).
# Basic Pitch is installed with --no-deps so TensorFlow never comes in (its ONNX model is in
# its wheel; its other needs are listed in pyproject.toml); so is aiSFX (the sample
# classifier's pretrained embedding, see AISFX_SPEC).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
TORCH_SPEC ?= torch==2.13.0
BASIC_PITCH_SPEC ?= basic-pitch==0.4.0
# aiSFX ships a pretrained sound-effects embedding (its checkpoint is in the wheel); its
# metadata pins numpy 1.23 and librosa 0.9, which it does not need for what we load.
AISFX_SPEC ?= aisfx==0.1.2
STAMP := $(VENV)/.stemcrate-installed
# Debian packages: ffmpeg (decoding), fluidsynth + soundfonts (rendered test/training
# sounds), sonic-pi-samples, lmms-common, hydrogen-drumkits, hydrogen-data (real one-shots
# for the classifier), csound-soundfont (one more GM bank for its training),
# espeak-ng + sox (speech for lyrics tests), flite (voices for classifier training),
# klettres-data + hedgewars-data (real recorded voices for classifier training and its
# held-out test), timidity + freepats (real sampled instruments, held out), the sound
# effects of a few games and of the freedesktop sound theme (the classifier's held-out
# effects: bzflag, chromium-bsu, frozen-bubble, tuxpaint, minetest, pingus,
# openttd-opensfx), chromium (dashboard browser tests).
APT_PACKAGES := ffmpeg fluidsynth fluid-soundfont-gm timgm6mb-soundfont \
	avldrums.lv2-soundfont hydrogen-drumkits hydrogen-data sonic-pi-samples lmms-common \
	csound-soundfont musescore-general-soundfont-small \
	espeak-ng flite klettres-data hedgewars-data timidity freepats sox chromium \
	bzflag-data chromium-bsu-data frozen-bubble-data tuxpaint-data minetest-data \
	sound-theme-freedesktop pingus-data openttd-opensfx
APT_RUNTIME := ffmpeg

.PHONY: up test deps system-deps system-deps-runtime lint typecheck unit bench clean

up: deps system-deps-runtime
	$(VENV)/bin/stemcrate up

test: deps system-deps lint typecheck unit

deps: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip 'setuptools<81' wheel
	$(PY) -c "import torch" 2>/dev/null || $(PIP) install -q "$(TORCH_SPEC)"
	$(PIP) install -q -e '.[test]'
	$(PIP) install -q --no-deps "$(BASIC_PITCH_SPEC)" "$(AISFX_SPEC)"
	touch $(STAMP)

system-deps:
	@bash scripts/apt-ensure.sh $(APT_PACKAGES)

system-deps-runtime:
	@bash scripts/apt-ensure.sh $(APT_RUNTIME)

lint: deps
	$(VENV)/bin/ruff check stemcrate tests bench

typecheck: deps
	$(VENV)/bin/mypy stemcrate tests bench

unit: deps
	$(VENV)/bin/pytest -q

bench: deps
	$(PY) bench/separation.py
	$(PY) bench/similarity.py
	$(PY) bench/dashboard.py
	$(PY) bench/classify_files.py
	$(PY) bench/ls_like.py

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
