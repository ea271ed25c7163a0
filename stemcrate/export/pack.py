"""Folders for an export: fresh (never an existing one), contained, and zipped on request.

:func:`reserve_dir` and :func:`reserve_file` claim a new name next to existing exports
(``name``, ``name (2)``, ``name (3)`` …) with an exclusive create, so two exports never write
into the same place and nothing that exists is overwritten. :func:`inside` joins already
sanitised name parts under a root and refuses anything that would resolve outside it.
:func:`zip_folder` writes a folder into a new ZIP with the folder's name as the top entry.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import IO

from stemcrate.export.layout import safe_name

MAX_TRIES = 1000
_STORED_EXT = {".wav", ".flac", ".dawproject", ".zip", ".mp3", ".ogg"}


class OutsideExportError(ValueError):
    """A path would have left the export folder."""


def _candidates(folder: Path, name: str, ext: str = "") -> list[Path]:
    return [folder / (f"{name}{ext}" if n == 1 else f"{name} ({n}){ext}")
            for n in range(1, MAX_TRIES + 1)]


def reserve_dir(folder: Path, name: str) -> Path:
    """Create and return a new folder ``folder/name`` (or ``name (2)`` … when taken)."""
    base = safe_name(name, fallback="stemcrate export")
    for path in _candidates(folder, base):
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free export folder name for {base!r} in {folder}")


def reserve_file(folder: Path, name: str, ext: str) -> tuple[Path, IO[bytes]]:
    """Create ``folder/name+ext`` (or ``name (2)+ext`` …) exclusively; return it open."""
    base = safe_name(name, fallback="stemcrate export")
    for path in _candidates(folder, base, ext):
        try:
            return path, open(path, "xb")  # noqa: SIM115 - the caller closes it
        except FileExistsError:
            continue
    raise FileExistsError(f"no free file name for {base + ext!r} in {folder}")


def inside(root: Path, *parts: str) -> Path:
    """``root/parts…`` after checking each part is one plain name and the result stays
    inside ``root`` (symbolic links included)."""
    for part in parts:
        if not part or part in (".", "..") or "/" in part or "\\" in part or "\0" in part:
            raise OutsideExportError(f"unsafe path part {part!r}")
    path = root.joinpath(*parts)
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    if os.path.commonpath([real_root, real]) != real_root or real == real_root:
        raise OutsideExportError(f"{path} is outside the export folder {root}")
    return path


def zip_folder(folder: Path, fh: IO[bytes], *, top: str) -> int:
    """Write every file under ``folder`` into the ZIP ``fh`` as ``top/<relative path>``.

    Audio and nested archives are stored, text is deflated. Returns the number of files.
    """
    count = 0
    with zipfile.ZipFile(fh, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or path.is_symlink():
                continue
            rel = path.relative_to(folder).as_posix()
            method = zipfile.ZIP_STORED if path.suffix.lower() in _STORED_EXT \
                else zipfile.ZIP_DEFLATED
            zf.write(path, f"{top}/{rel}", compress_type=method)
            count += 1
    return count
