""""More like this": exact cosine search, IVF partitions, persistence, and real neighbours
(a kick's nearest samples are mostly kicks) among one-shots rendered from four kits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stemcrate.audio.similarity import SimilarityIndex
from stemcrate.errors import StoreError
from tests.audio.test_slicing import SR, render_midi


def brute_force(matrix: np.ndarray, q: np.ndarray, k: int) -> list[int]:
    m = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    scores = m @ (q / np.linalg.norm(q))
    return list(np.argsort(-scores, kind="stable")[:k])


def same_results(a: list, b: list) -> bool:
    """Same ids in the same order, scores equal to float32 rounding."""
    return [i for i, _ in a] == [i for i, _ in b] and bool(
        np.allclose([x for _, x in a], [x for _, x in b], atol=1e-5))


def clustered(rng: np.random.Generator, n: int, dim: int, centres: int) -> np.ndarray:
    c = rng.standard_normal((centres, dim)).astype(np.float32)
    x = c[rng.integers(0, centres, size=n)] + 0.15 * rng.standard_normal((n, dim))
    return x.astype(np.float32)


def test_exact_query_matches_brute_force(rng: np.random.Generator) -> None:
    matrix = rng.standard_normal((3000, 48)).astype(np.float32) * rng.uniform(0.1, 5, (3000, 1))
    ids = [f"sample-{i}" for i in range(3000)]
    index = SimilarityIndex(ids, matrix)
    assert len(index) == 3000 and index.dim == 48
    for j in (0, 17, 2999):
        q = matrix[j] + 0.05 * rng.standard_normal(48).astype(np.float32)
        got = index.query(q, k=10)
        assert [i for i, _ in got] == [ids[t] for t in brute_force(matrix, q, 10)]
        assert got[0][0] == ids[j]
        scores = [s for _, s in got]
        assert scores == sorted(scores, reverse=True) and -1.0 <= scores[-1] <= scores[0] <= 1.0
        # scale of the query does not matter (cosine)
        assert [i for i, _ in index.query(7.5 * q, k=10)] == [i for i, _ in got]


def test_exclude_neighbours_and_small_k(rng: np.random.Generator) -> None:
    matrix = rng.standard_normal((50, 8)).astype(np.float32)
    index = SimilarityIndex(list(range(50)), matrix)
    first = index.query(matrix[3], k=3)
    assert first[0][0] == 3 and first[0][1] == pytest.approx(1.0, abs=1e-5)
    without = index.query(matrix[3], k=3, exclude={3, 999})
    assert 3 not in [i for i, _ in without] and len(without) == 3
    assert [i for i, _ in without[:2]] == [i for i, _ in first[1:]]
    assert same_results(index.neighbours(3, k=2), without[:2])
    assert len(index.query(matrix[0], k=500)) == 50
    assert index.query(matrix[0], k=0) == []
    with pytest.raises(ValueError, match="dimension"):
        index.query(np.ones(9), k=1)
    with pytest.raises(ValueError, match="unique"):
        SimilarityIndex(["a", "a"], np.ones((2, 8)))
    with pytest.raises(ValueError, match="ids for"):
        SimilarityIndex(["a"], np.ones((2, 8)))


def test_query_many_matches_single_queries(rng: np.random.Generator) -> None:
    matrix = rng.standard_normal((400, 16)).astype(np.float32)
    index = SimilarityIndex([f"x{i}" for i in range(400)], matrix)
    queries = rng.standard_normal((5, 16)).astype(np.float32)
    batch = index.query_many(queries, k=4)
    for q, row in zip(queries, batch, strict=True):
        single = index.query(q, k=4)
        assert [i for i, _ in row] == [i for i, _ in single]
        np.testing.assert_allclose([s for _, s in row], [s for _, s in single], atol=1e-5)


def test_ivf_partitions_recall_and_persistence(rng: np.random.Generator, tmp_path: Path) -> None:
    matrix = clustered(rng, 20000, 32, 60)
    ids = [f"s{i}" for i in range(len(matrix))]
    index: SimilarityIndex[str] = SimilarityIndex(ids, matrix).build_partitions(seed=1)
    assert index.partitioned and index.centroids is not None
    assert index.centroids.shape == (141, 32)
    queries = matrix[rng.integers(0, len(matrix), 100)] + 0.05 * rng.standard_normal((100, 32))
    hits = 0
    for q in queries:
        approx = {i for i, _ in index.query(q, k=10, nprobe=8)}
        exact = {i for i, _ in index.query(q, k=10, exact=True)}
        hits += len(approx & exact)
    recall = hits / (10 * len(queries))
    print(f"IVF recall@10 {recall:.3f}")
    assert recall >= 0.9
    # scores of the approximate results are the true cosines
    q = queries[0]
    for i, s in index.query(q, k=5):
        v = matrix[ids.index(i)]
        assert s == pytest.approx(float(v @ q / np.linalg.norm(v) / np.linalg.norm(q)), abs=1e-4)
    # save/load keeps the partitions and the answers
    path = index.save(tmp_path / "lib" / "index.npz")
    loaded = SimilarityIndex.load(path)
    assert loaded.partitioned and loaded.ids == ids
    assert same_results(loaded.query(q, k=10), index.query(q, k=10))
    # added rows are found (they join their nearest partition)
    new = matrix[:3] * 1.0 + 0.01
    grown = index.add(["n0", "n1", "n2"], new)
    assert len(grown) == len(index) + 3 and grown.partitioned
    assert grown.query(new[1], k=1, nprobe=2)[0][0] in {"n1", "s1"}


def test_save_load_roundtrip_and_errors(rng: np.random.Generator, tmp_path: Path) -> None:
    matrix = rng.standard_normal((20, 6)).astype(np.float32)
    for ids in ([f"id-{i}" for i in range(20)], list(range(100, 120))):
        index = SimilarityIndex(ids, matrix)
        path = index.save(tmp_path / f"ix-{type(ids[0]).__name__}")
        assert path.suffix == ".npz" and path.exists()
        loaded = SimilarityIndex.load(path)
        assert loaded.ids == ids and not loaded.partitioned
        np.testing.assert_array_equal(loaded.matrix, index.matrix)
        assert same_results(loaded.query(matrix[4], k=3), index.query(matrix[4], k=3))
    empty: SimilarityIndex[str] = SimilarityIndex([], np.zeros((0, 6), dtype=np.float32))
    assert empty.query(np.ones(6), k=3) == []
    assert len(SimilarityIndex.load(empty.save(tmp_path / "empty.npz"))) == 0
    (tmp_path / "bad.npz").write_bytes(b"not numpy")
    with pytest.raises(StoreError, match="bad.npz"):
        SimilarityIndex.load(tmp_path / "bad.npz")


# --------------------------------------------------------------------------- real sounds

KITS = {  # soundfont -> rendered on the drum channel (bank 128) or as a bank-0 kit
    "FluidR3_GM": True, "TimGM6mb": True, "Black_Pearl_4_LV2": False, "Red_Zeppelin_4_LV2": False,
}
SHOTS = {35: "kick", 36: "kick", 38: "snare", 40: "snare", 42: "hihat_closed",
         44: "hihat_closed", 46: "hihat_open", 41: "tom", 45: "tom", 48: "tom", 50: "tom",
         49: "cymbal", 51: "cymbal", 57: "cymbal"}


@pytest.fixture(scope="module")
def one_shots(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str, np.ndarray]]:
    """(kit, label, audio (2, n)) one-shots at two velocities from four kits."""
    shots = []
    for kit, drum in KITS.items():
        font = Path(f"/usr/share/sounds/sf2/{kit}.sf2")
        if not font.exists():
            pytest.fail(f"{font} missing (Debian fluid-soundfont-gm, timgm6mb-soundfont, "
                        "avldrums.lv2-soundfont)")
        notes, order = [], []
        for i, (note, vel) in enumerate((n, v) for n in SHOTS for v in (75, 115)):
            notes.append((i * 1.5 + 0.1, i * 1.5 + 0.3, note, vel))
            order.append(note)
        y = render_midi(notes, tmp_path_factory.mktemp(kit), drum=drum, font=font,
                        reverb=False)
        for i, note in enumerate(order):
            a = int((i * 1.5 + 0.1) * SR)
            clip = y[:, a : a + int(1.2 * SR)]
            if np.max(np.abs(clip)) > 1e-3:  # a kit without this note renders silence
                shots.append((kit, SHOTS[note], clip))
    return shots


def test_a_kicks_neighbours_are_mostly_kicks(one_shots) -> None:
    from stemcrate.audio.classify import embed_many

    ids = [f"{kit}/{i}" for i, (kit, _, _) in enumerate(one_shots)]
    labels = {i: lab for i, (_, lab, _) in zip(ids, one_shots, strict=True)}
    index: SimilarityIndex[str] = SimilarityIndex(
        ids, embed_many([c for _, _, c in one_shots], SR))
    kicks = [i for i in ids if labels[i] == "kick"]
    assert len(kicks) >= 12
    within, across = [], []
    for i in kicks:
        within.append(np.mean([labels[j] == "kick" for j, _ in index.neighbours(i, k=5)]))
        kit = i.split("/")[0]
        others = [j for j in ids if j.startswith(kit + "/")]
        across.append(np.mean([labels[j] == "kick"
                               for j, _ in index.query(index.vector(i), k=5, exclude=others)]))
    print(f"kick neighbours that are kicks: {np.mean(within):.2f} (any kit), "
          f"{np.mean(across):.2f} (other kits only)")
    assert np.mean(within) >= 0.6
    assert np.mean(across) >= 0.5
