"""The compact encodings of a step's data: exact round trips, clear errors on malformed bytes,
and the sizes that bound what TensorBoard keeps per step."""

from __future__ import annotations

import numpy as np
import pytest

from tb_perclass.format import packed_arrays, sparse_counts


def realistic_confusion(classes: int, seed: int = 0) -> np.ndarray:
    """A trained model's validation matrix: 50 samples per class, 25% mistakes, mostly to a few
    similar classes."""
    rng = np.random.default_rng(seed)
    matrix = np.zeros((classes, classes), dtype=np.int64)
    neighbours = rng.integers(0, classes, (classes, 20))
    for true in range(classes):
        wrong = rng.binomial(50, 0.25)
        matrix[true, true] += 50 - wrong
        picks = np.where(rng.random(wrong) < 0.85, neighbours[true, rng.integers(0, 20, wrong)],
                         rng.integers(0, classes, wrong))  # fmt: skip
        np.add.at(matrix[true], picks, 1)
    return matrix


@pytest.mark.parametrize("shape", [(1000, 1000), (5, 5), (7, 2, 2), (3, 3)])
def test_sparse_counts_round_trip(shape):
    rng = np.random.default_rng(1)
    matrix = rng.integers(0, 4, shape) * (rng.random(shape) < 0.3)
    if shape == (3, 3):
        matrix[:] = 0  # an empty step
    matrix.flat[0] = 2**40  # counts beyond 32 bits survive
    cells, counts, width = sparse_counts.decode(sparse_counts.encode_dense(matrix))
    dense = np.zeros(matrix.size, dtype=np.int64)
    dense[cells] = counts
    assert np.array_equal(dense.reshape(shape), matrix)
    assert width == int(np.prod(shape[1:]))


def test_sparse_counts_of_a_1000_class_step_take_under_two_bytes_a_cell():
    matrix = realistic_confusion(1000)
    encoded = sparse_counts.encode_dense(matrix)
    nonzero = np.count_nonzero(matrix)
    assert nonzero > 10_000
    # int64 COO triplets take 24 bytes a cell in TensorBoard's memory
    assert len(encoded) < 2.0 * nonzero


@pytest.mark.parametrize(
    "blob, message",
    [
        (b"XXXX", "bad magic"),
        (sparse_counts.MAGIC + b"not zlib", "do not inflate"),
        (sparse_counts.encode(np.array([1, 5]), np.array([3, 4]), 10)[:-3], "inflate"),
    ],
)
def test_sparse_counts_refuse_malformed_bytes(blob, message):
    with pytest.raises(ValueError, match=message):
        sparse_counts.decode(blob)


def test_sparse_counts_refuse_unsorted_cells_and_zero_counts():
    with pytest.raises(ValueError, match="increasing"):
        sparse_counts.encode(np.array([5, 1]), np.array([1, 1]), 10)
    with pytest.raises(ValueError, match="positive"):
        sparse_counts.encode(np.array([1, 5]), np.array([1, 0]), 10)


def step_arrays(classes: int, rng) -> dict[str, np.ndarray]:
    return {
        "loss": rng.exponential(1.0, classes).astype(np.float32),
        "count": np.full(classes, 50, dtype=np.uint8),
        "correct": rng.integers(0, 51, classes).astype(np.uint8),
        "predicted": rng.integers(0, 120, classes).astype(np.uint16),
        "nonfinite": np.zeros(classes, dtype=np.uint8),
        "elements": np.array([0, 7], dtype=np.uint64),
    }


def test_packed_arrays_round_trip_one_and_many():
    rng = np.random.default_rng(2)
    steps = [step_arrays(300, rng) for _ in range(20)]
    blobs = [packed_arrays.pack(s) for s in steps]
    one = packed_arrays.unpack(blobs[3])
    assert all(np.array_equal(one[k], v) and one[k].dtype == v.dtype for k, v in steps[3].items())
    [(positions, stacked)] = packed_arrays.unpack_many(blobs)
    assert positions == list(range(20))
    assert stacked["loss"].shape == (20, 300)
    assert np.array_equal(stacked["predicted"][17], steps[17]["predicted"])


def test_packed_arrays_group_steps_of_different_layouts():
    rng = np.random.default_rng(3)
    small, large = step_arrays(10, rng), step_arrays(12, rng)
    groups = packed_arrays.unpack_many([packed_arrays.pack(small), packed_arrays.pack(large),
                                        packed_arrays.pack(small)])  # fmt: skip
    assert sorted(positions for positions, _ in groups) == [[0, 2], [1]]


def test_a_1000_class_stats_step_packs_to_under_8_bytes_a_class():
    # a float64 [5, C + 2] tensor (version 2) takes 40 bytes a class
    packed = packed_arrays.pack(step_arrays(1000, np.random.default_rng(4)))
    assert len(packed) < 8 * 1000


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda b: b"NOPE" + b[4:], "bad magic"),
        (lambda b: b[:6], "cut short"),
        (lambda b: b[:4] + (10**6).to_bytes(4, "little") + b[8:], "header"),
        (lambda b: b[:-4], "inflate|match"),
    ],
)
def test_packed_arrays_refuse_malformed_bytes(mutate, message):
    blob = packed_arrays.pack(step_arrays(10, np.random.default_rng(5)))
    with pytest.raises(ValueError, match=message):
        packed_arrays.unpack(mutate(blob))


def test_packed_arrays_refuse_unknown_dtypes():
    with pytest.raises(ValueError, match="dtype"):
        packed_arrays.pack({"text": np.array(["a"])})
