"""Real sampled drum kits from Debian's hydrogen-drumkits and hydrogen-data, labelled from
instrument names."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import numpy.typing as npt

from stemcrate.audio.decode import load_audio
from stemcrate.audio.features import FEATURE_SR

HYDROGEN_DRUMKITS = Path("/usr/share/hydrogen/data/drumkits")
#: kits of Debian's hydrogen-data (the others come with hydrogen-drumkits)
HYDROGEN_DATA_KITS = frozenset({"GMRockKit", "TR808EmulationKit"})
ELECTRONIC_KITS = frozenset({"Audiophob", "ElectricEmpireKit", "HardElectro1",
                             "TR808EmulationKit", "VariBreaks", "rumpf_kit_z01_h2"})

#: (regular expression on the lower-cased instrument name, label or None = not used), first
#: match wins
RULES: tuple[tuple[str, str | None], ...] = (
    (r"kick|bass ?drum|bassdrum", "kick"),
    (r"snare roll|swish|choke|semi|(hat|hh) free|side o?hh|hat low|hat ring|whistle|click|drum \d|"
     r"^\d+$|^$|flink|waterglass|sample:", None),
    (r"clap|snap", "clap"),
    (r"snare", "snare"),
    (r"(hi.?hat|hh|hat).*(open|opened|op\b|\bop )|open ?(hi.?hat|hh|hat)|(hat|hh).* op",
     "hihat_open"),
    (r"(hi.?hat|hh|hat)", "hihat_closed"),
    (r"stick|rim|cowbell|tambourine|agogo|conga|bongo|clave|woodblock|maraca|cajon|djembe|"
     r"sangban|dununba|kenkeni|shaker", "percussion"),
    (r"crash|ride|china|splash|cymbal|bell$|cup", "cymbal"),
    (r"tom", "tom"),
    (r"zap|fx", "fx"),
)


#: sample files left out whatever their instrument is called: a snare drum with its snares
#: off (ForzeeStereo's "Snare 2" layers are ``SnareOff*.wav``) sounds like a tom, not a snare
SKIP_FILES = r"snare_?off"


def label_for(name: str) -> str | None:
    """Our label for a hydrogen instrument name, or None when unclear (not used)."""
    low = name.lower().strip()
    low = re.sub(r"^[a-g]#?\d - ", "", low)  # rumpf kit: "c3 - bass drum 1"
    for pattern, label in RULES:
        if re.search(pattern, low):
            return label
    return None


def kit_samples(kit_dir: Path) -> list[tuple[str, Path]]:
    """(label, sample path) for every layer of every mapped instrument of one kit."""
    xml = (kit_dir / "drumkit.xml").read_text(encoding="utf-8", errors="replace")
    xml = re.sub(r'\sxmlns(:\w+)?="[^"]*"', "", xml, count=0)
    root = ET.fromstring(xml)
    out: list[tuple[str, Path]] = []
    for inst in root.iter("instrument"):
        label = label_for(inst.findtext("name") or "")
        if label is None:
            continue
        for fn in inst.iter("filename"):
            if re.search(SKIP_FILES, fn.text or "", re.IGNORECASE):
                continue
            if fn.text and (kit_dir / fn.text).is_file():
                out.append((label, kit_dir / fn.text))
    seen: set[Path] = set()
    return [(lab, p) for lab, p in out if not (p in seen or seen.add(p))]  # type: ignore[func-returns-value]


def load_kit(kit_dir: Path) -> list[tuple[str, npt.NDArray[np.float64]]]:
    """(label, mono float64 clip at FEATURE_SR, ≤ 1.6 s) for every sample of one kit."""
    out = []
    for label, path in kit_samples(kit_dir):
        y, _ = load_audio(path, sr=FEATURE_SR, mono=True)
        clip = np.asarray(y[0, : int(1.6 * FEATURE_SR)], dtype=np.float64)
        if clip.size and float(np.max(np.abs(clip))) > 1e-4:
            out.append((label, clip))
    return out
