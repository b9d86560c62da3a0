"""The per-sample training-dynamics state (tb_perclass.logger.dynamics.state): its values
against a brute-force record of every visit on every backend, the rows of bad visits, repeated
ids, no device read and no O(N) op per batch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tb_perclass.logger.dynamics import state as dynamics
from tests.helpers import device_transfer_recorder

C = 5


def _visits(size: int, epochs: int, batch: int, seed: int = 0):
    """Shuffled epochs of batches: (ids, logits, labels) per batch, the logits drifting so that
    samples get learned, forgotten and relearned."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, C, size)
    for epoch in range(epochs):
        order = rng.permutation(size)
        for start in range(0, size, batch):
            ids = order[start : start + batch]
            logits = rng.normal(0, 1.5, (len(ids), C)).astype(np.float32)
            logits[np.arange(len(ids)), labels[ids]] += epoch * 0.4 - 1.0
            yield ids, logits, labels[ids]


def _brute_force(size: int, epochs: int, batch: int) -> dict[str, np.ndarray]:
    per_sample: dict[int, list] = {i: [] for i in range(size)}
    for ids, logits, labels in _visits(size, epochs, batch):
        probs = np.exp(logits - logits.max(1, keepdims=True))
        probs /= probs.sum(1, keepdims=True)
        for row, sample in enumerate(ids):
            p = probs[row].astype(np.float64)
            others = p.copy()
            others[labels[row]] = -1
            per_sample[int(sample)].append(
                (
                    p[labels[row]],
                    p[labels[row]] - others.max(),
                    logits[row].argmax() == labels[row],
                    others.argmax(),
                    labels[row],
                )
            )
    result = {
        key: np.zeros(size)
        for key in (
            "confidence",
            "variability",
            "margin",
            "correctness",
            "forgets",
            "preferred",
            "label",
            "visits",
        )
    }
    for sample, visits in per_sample.items():
        given, margin, correct, preferred, label = map(np.array, zip(*visits))
        result["confidence"][sample] = given.mean()
        result["variability"][sample] = given.std()
        result["margin"][sample] = margin.mean()
        result["correctness"][sample] = correct.mean()
        result["forgets"][sample] = np.sum(correct[:-1] & ~correct[1:])
        result["preferred"][sample] = preferred[-1]
        result["label"][sample] = label[-1]
        result["visits"][sample] = len(visits)
    return result


LIBRARIES = ["numpy", "torch", "tensorflow"]


def _converter(library: str):
    if library == "tensorflow":
        import tensorflow as tf

        return tf.convert_to_tensor
    return torch.as_tensor if library == "torch" else np.asarray


@pytest.mark.parametrize("library", LIBRARIES)
def test_state_matches_a_record_of_every_visit(library):
    ops = dynamics.backend(library)
    size, epochs, batch = 300, 6, 64
    convert = _converter(library)
    state = ops.new_state(size, convert(np.zeros(1, np.float32)))
    for ids, logits, labels in _visits(size, epochs, batch):
        ids, logits, labels = convert(ids), convert(logits), convert(labels)
        correct = convert(np.asarray(logits).argmax(1) == np.asarray(labels))
        ops.track(state, ids, logits, labels, correct, C, True, False, True)
    result = dynamics.compute(*ops.host_tables(state))
    expected = _brute_force(size, epochs, batch)
    np.testing.assert_array_equal(result.visits, expected["visits"])
    for key in ("confidence", "margin", "correctness"):
        np.testing.assert_allclose(getattr(result, key), expected[key], atol=2e-6, err_msg=key)
    np.testing.assert_allclose(result.variability, expected["variability"], atol=1e-3)
    np.testing.assert_array_equal(result.forgets, expected["forgets"])
    assert result.forgets.sum() > 50  # the drift above makes samples forget
    np.testing.assert_array_equal(result.preferred, expected["preferred"])
    np.testing.assert_array_equal(result.label, expected["label"])
    assert (result.invalid_visits, result.skipped_visits, result.repeated_ids) == (0, 0, 0)


@pytest.mark.parametrize("library", LIBRARIES)
def test_bad_visits_go_to_their_own_rows(library):
    ops = dynamics.backend(library)
    convert = _converter(library)
    state = ops.new_state(10, convert(np.zeros(1, np.float32)))
    logits = np.zeros((6, C), dtype=np.float32)
    logits[2, 0] = np.nan
    ids = convert(np.array([0, 10, -1, 3, 4, 4]))  # two outside [0, 10), one repeated
    labels = convert(np.array([1, 1, 2, 7, 1, 1]))  # 7: an ignored or invalid target's row
    correct = convert(np.array([False, False, False, False, True, True]))
    ops.track(state, ids, convert(logits), labels, correct, C, True, False, True)
    result = dynamics.compute(*ops.host_tables(state))
    assert result.invalid_visits == 2  # ids 10 and -1, whatever else is wrong with them
    assert result.skipped_visits == 1  # id 3: its target's row is no class
    assert result.repeated_ids == 1
    assert result.visits.tolist() == [1, 0, 0, 0, 2, 0, 0, 0, 0, 0]
    assert np.isnan(result.confidence[3]) and result.label[3] == -1


def test_update_reads_nothing_back_and_touches_only_the_batch_rows():
    from torch.utils._python_dispatch import TorchDispatchMode

    class Sizes(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.largest: dict[str, int] = {}

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            result = func(*args, **(kwargs or {}))
            name = str(func)
            # In-place scatters write B rows of the state; views copy nothing.
            if not name.endswith("_.default") and not func.is_view:
                outputs = result if isinstance(result, (tuple, list)) else (result,)
                size = max((t.numel() for t in outputs if isinstance(t, torch.Tensor)), default=0)
                self.largest[name] = max(self.largest.get(name, 0), size)
            return result

    ops = dynamics.backend("torch")
    size, batch = 100_000, 256
    like = torch.zeros(1, device="meta")
    state = ops.new_state(size, like)
    logits = torch.randn(batch, C, device="meta")
    labels = torch.randint(0, C, (batch,), device="meta")
    ids = torch.randint(0, size, (batch,), device="meta")
    correct = logits.argmax(1) == labels
    with device_transfer_recorder() as recorder, Sizes() as sizes:
        ops.track(state, ids, logits, labels, correct, C, True, False, True)
    assert recorder.transfers == []
    assert "aten.index_add_.default" in recorder.ops and "aten.index_copy_.default" in recorder.ops
    too_large = {name: n for name, n in sizes.largest.items() if n > batch * max(C, 6)}
    assert not too_large, too_large  # nothing of the state's size is made per batch


def test_ranking_puts_the_lowest_margins_first():
    sums = np.zeros((dynamics.SUM_COLUMNS, 6), dtype=np.float32)
    last = np.zeros((dynamics.LAST_COLUMNS, 6), dtype=np.int64)
    sums[dynamics.VISITS, :4] = 2
    sums[dynamics.SUM_MARGIN, :4] = [0.4, -1.2, -0.2, -1.2]
    result = dynamics.compute(sums, last)
    assert dynamics.ranking(result).tolist() == [1, 3, 2, 0]


@pytest.mark.parametrize("library", ["torch", "tensorflow"])
def test_binary_scores_match_the_numpy_reference(library):
    rng = np.random.default_rng(1)
    reference, ops = dynamics.backend("numpy"), dynamics.backend(library)
    convert = _converter(library)
    states = [b.new_state(50, convert(np.zeros(1, np.float32))) for b in (reference, ops)]
    for _ in range(8):
        ids = rng.permutation(50)[:16]
        scores = rng.normal(0, 2, 16).astype(np.float32)
        labels = rng.integers(0, 2, 16)
        labels[0] = 3  # an ignored target's row
        correct = (scores > 0) == (labels == 1)
        for backend, state, make in ((reference, states[0], np.asarray), (ops, states[1], convert)):
            args = (make(ids), make(scores), make(labels), make(correct), 2, True, True, True)
            backend.track(state, *args)
    expected = dynamics.compute(*reference.host_tables(states[0]))
    result = dynamics.compute(*ops.host_tables(states[1]))
    np.testing.assert_allclose(result.margin, expected.margin, atol=1e-6)
    np.testing.assert_allclose(result.confidence, expected.confidence, atol=1e-6)
    np.testing.assert_array_equal(result.preferred, expected.preferred)
    np.testing.assert_array_equal(result.forgets, expected.forgets)
    assert result.skipped_visits == expected.skipped_visits == 8
    assert set(result.preferred[result.visits > 0]) <= {0, 1}
