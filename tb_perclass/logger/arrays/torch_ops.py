"""`ArrayOps` for PyTorch tensors. Every operation stays on the tensors' device and is
asynchronous on accelerators; only `min_max` and `to_numpy` read values back.

Written for few dispatched operations: right after a training step each small op costs several
microseconds on CPU (cold caches), so `update()`'s cost is mostly its op count.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from tb_perclass.format import score_bins


def _state_dtype(device: torch.device) -> torch.dtype:
    # MPS has no float64; there counts stay exact in float32 up to 2**24 per cell and step.
    return torch.float32 if device.type == "mps" else torch.float64


class TorchOps:
    name = "torch"

    def __init__(self) -> None:
        # Tensors reused across batches (constants, index ranges, scratch blocks), per device.
        self._cache: dict[tuple, Any] = {}

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        return x.detach()  # the statistics must never enter the autograd graph

    def device(self, x: torch.Tensor) -> str:
        return str(x.device)

    def is_on_host(self, x: torch.Tensor) -> bool:
        return x.device.type == "cpu"

    def shape(self, x: torch.Tensor) -> tuple[int, ...]:
        return tuple(x.shape)

    def dtype_name(self, x: torch.Tensor) -> str:
        return str(x.dtype).removeprefix("torch.")

    def is_integer(self, x: torch.Tensor) -> bool:
        return not x.dtype.is_floating_point and not x.dtype.is_complex and x.dtype != torch.bool

    def is_floating(self, x: torch.Tensor) -> bool:
        return x.dtype.is_floating_point

    def zeros(self, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
        return torch.zeros(shape, dtype=_state_dtype(like.device), device=like.device)

    def to_index(self, x: torch.Tensor) -> torch.Tensor:
        return x.long()

    def argmax_rows(self, x: torch.Tensor) -> torch.Tensor:
        # max(dim).indices follows argmax's rule (a NaN wins, else the first maximum) and is
        # ~3x faster than argmax on CPU for wide rows.
        return x.max(dim=1).indices

    def log_softmax_rows(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(x, dim=1)

    def softmax_cross_entropy(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(logits, labels, reduction="none")

    def log(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log(x)

    def clip(self, x: torch.Tensor, low: float, high: float) -> torch.Tensor:
        return torch.clamp(x, low, high)

    def sum_rows(self, x: torch.Tensor, keepdims: bool = False) -> torch.Tensor:
        return x.sum(dim=1, keepdim=keepdims)

    def take_rows(self, x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        return x.gather(1, index.unsqueeze(1)).squeeze(1)

    def finite_or_zero(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)

    def equal(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x == y

    def stack_columns(self, columns: Sequence[torch.Tensor]) -> torch.Tensor:
        # Copies into a reused scratch block (half the cost of a dtype-promoting stack). Safe to
        # reuse: the scatter-add that reads it runs before the next batch writes it, in stream
        # order on an accelerator.
        first = columns[0]
        key = ("block", first.shape[0], len(columns), first.device)
        block = self._cache.get(key)
        if block is None:
            block = self._cache[key] = torch.empty(
                (first.shape[0], len(columns)),
                dtype=_state_dtype(first.device),
                device=first.device,
            )
        for target, column in zip(block.unbind(1), columns):
            target.copy_(column)
        return block

    def stats_columns(
        self, losses: torch.Tensor, correct: torch.Tensor, decided_by: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        # Written in place into a reused block whose ones column is filled once: eight ops where
        # building it anew takes twelve (each costs ~1 us on CPU right after a training step).
        # Reuse is safe for the reason given in stack_columns.
        key = ("stats", losses.shape[0], losses.device)
        if key not in self._cache:
            block = torch.ones(
                (losses.shape[0], 5), dtype=_state_dtype(losses.device), device=losses.device
            )
            self._cache[key] = (block, *block.unbind(1))  # the column views, made once
        block, finite_loss, _, correct_column, nonfinite, finite_outputs = self._cache[key]
        finite_loss.copy_(losses).nan_to_num_(nan=0.0, posinf=0.0, neginf=0.0)
        # A loss differs from its zeroed copy exactly when it was NaN or infinite.
        torch.ne(finite_loss, losses, out=nonfinite)
        # x - x is 0 where x is finite and NaN elsewhere, and only NaN differs from itself: two
        # tensor-tensor ops where isfinite takes four (and out= into float columns is slower).
        zero_or_nan = decided_by - decided_by
        finite = zero_or_nan == zero_or_nan
        finite_outputs.copy_(finite)
        correct_column.copy_(correct & finite)  # a prediction from NaN or inf is never correct
        return block, finite_outputs

    def count_into(
        self, table: torch.Tensor, row: int, flags: Sequence[torch.Tensor]
    ) -> torch.Tensor:
        table[row, : len(flags)].add_(torch.stack([flag.sum() for flag in flags]))
        return table

    def is_finite(self, x: torch.Tensor) -> torch.Tensor:
        return torch.isfinite(x)

    def min_rows(self, x: torch.Tensor) -> torch.Tensor:
        return x.amin(dim=1)

    def scatter_add_rows(
        self, table: torch.Tensor, rows: torch.Tensor, values: torch.Tensor
    ) -> torch.Tensor:
        return table.index_add_(0, rows, values)

    def reset(self, table: torch.Tensor) -> torch.Tensor:
        return table.zero_()

    def min_max(self, x: torch.Tensor) -> tuple[int, int]:
        low, high = torch.aminmax(x)
        return int(low), int(high)

    def to_numpy(self, x: torch.Tensor) -> Any:
        # copy=True: on CPU, .cpu() would alias the state table that write() resets next.
        return x.detach().to("cpu", copy=True).numpy()

    def cast_like(self, x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return x.to(like.dtype)

    def is_bool(self, x: torch.Tensor) -> bool:
        return x.dtype == torch.bool

    def reshape(self, x: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
        return x.reshape(shape)

    def where(self, condition: torch.Tensor, x: Any, y: Any) -> torch.Tensor:
        return torch.where(condition, x, y)

    def logical_or(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x | y

    def greater(self, x: torch.Tensor, y: Any) -> torch.Tensor:
        return x > y

    def to_float(self, x: torch.Tensor) -> torch.Tensor:
        return x.float()

    def constant(self, values: tuple[float, ...], like: torch.Tensor) -> torch.Tensor:
        # Cached: creating it per batch would copy from the host to the device every time.
        key = ("constant", values, like.device, like.dtype)
        if key not in self._cache:
            self._cache[key] = torch.tensor(values, dtype=like.dtype, device=like.device)
        return self._cache[key]

    def tiled_range(self, length: int, repeats: int, like: torch.Tensor) -> torch.Tensor:
        key = ("tiled_range", length, repeats, like.device)
        if key not in self._cache:
            self._cache[key] = torch.arange(length, device=like.device).repeat(repeats)
        return self._cache[key]

    def sigmoid_cross_entropy(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.binary_cross_entropy_with_logits(
            logits, targets.to(logits.dtype), reduction="none"
        )

    def all_true(self, x: torch.Tensor) -> bool:
        return bool(x.all())

    def first_where_false(self, mask: torch.Tensor, values: torch.Tensor) -> Any:
        return values[~mask][0].item()

    def nonzero_entries(self, flat: torch.Tensor) -> tuple[Any, Any]:
        # Reads the count of nonzeros (a sync, fine in write()) and then moves only those.
        index = flat.nonzero().squeeze(1)
        values = flat[index]
        return index.cpu().numpy(), values.cpu().numpy()

    def combine_index(self, major: torch.Tensor, minor: torch.Tensor, width: int) -> torch.Tensor:
        return torch.add(minor, major, alpha=width)  # one op for major * width + minor

    def max_rows(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        values, index = x.max(dim=1)
        return values, index

    def logsumexp_rows(self, x: torch.Tensor) -> torch.Tensor:
        return torch.logsumexp(x, dim=1)

    def exp(self, x: torch.Tensor) -> torch.Tensor:
        return torch.exp(x)

    def sigmoid(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(x)

    def top_k(self, x: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        values, index = torch.topk(x, k)
        return values, index

    def gather(self, x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        return x.index_select(0, index)

    def logical_and(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x & y

    def logical_not(self, x: torch.Tensor) -> torch.Tensor:
        return ~x

    def less(self, x: torch.Tensor, y: Any) -> torch.Tensor:
        return x < y

    def fetch_rows(self, x: torch.Tensor, rows: Any) -> Any:
        index = torch.as_tensor(rows, dtype=torch.long, device=x.device)
        picked = x.detach().index_select(0, index)
        if picked.dtype == torch.bfloat16:  # NumPy has no bfloat16
            picked = picked.float()
        return picked.cpu().numpy()

    def fetch_images(self, x: torch.Tensor, rows: Any, layout: str, factor: int) -> Any:
        """Rows of an image batch, average-pooled by `factor` on the device, on the host."""
        index = torch.as_tensor(rows, dtype=torch.long, device=x.device)
        images = x.detach().index_select(0, index)
        if factor > 1:
            if not images.dtype.is_floating_point:
                images = images.float()
            as_nchw = {"NCHW": images, "NHWC": images.permute(0, 3, 1, 2), "NHW": images[:, None]}
            pooled = torch.nn.functional.avg_pool2d(
                as_nchw[layout], factor, ceil_mode=True, count_include_pad=False
            )
            images = {"NCHW": pooled, "NHWC": pooled.permute(0, 2, 3, 1), "NHW": pooled[:, 0]}[
                layout
            ]
        if images.dtype == torch.bfloat16:  # NumPy has no bfloat16
            images = images.float()
        return images.cpu().numpy()

    def maximum(self, x: torch.Tensor, y: Any) -> torch.Tensor:
        return torch.clamp_min(x, y) if not isinstance(y, torch.Tensor) else torch.maximum(x, y)

    def log1p(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log1p(x)

    def abs(self, x: torch.Tensor) -> torch.Tensor:
        return torch.abs(x)

    def mean_rows(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=1)

    def bucketize(
        self, x: torch.Tensor, edges: tuple[float, ...], like: torch.Tensor
    ) -> torch.Tensor:
        # right=True: a value equal to an edge goes to the bin that starts there, as searchsorted
        # with side="right" does.
        return torch.bucketize(x, self.constant(edges, like=x), right=True)

    # --- score histograms (`score_state`; bins of `format.score_bins`) -------------------------
    # The B x C path (probabilities -> bin index -> add_counts, and top_k_hits) writes into
    # scratch tensors reused across batches: fresh megabyte-sized buffers page-fault on every
    # batch (4 ms instead of 0.6 at 256 x 1000 on CPU). Reuse is safe for the reason given in
    # stack_columns.

    def _scratch(self, name: str, shape: tuple[int, ...], dtype: Any, device: Any) -> Any:
        key = ("scratch", name, shape, dtype, device)
        if key not in self._cache:
            self._cache[key] = torch.empty(shape, dtype=dtype, device=device)
        return self._cache[key]

    def score_probabilities(self, outputs: torch.Tensor, from_logits: bool) -> torch.Tensor:
        """float32 probabilities in a scratch tensor the caller may overwrite."""
        p = self._scratch("p", tuple(outputs.shape), torch.float32, outputs.device)
        if not from_logits:
            return p.copy_(outputs)
        return torch.softmax(outputs.float(), dim=1, out=p)

    def exclude_score_rows(self, probabilities: torch.Tensor, excluded: Any) -> torch.Tensor:
        return probabilities.masked_fill_(excluded[:, None], score_bins.EXCLUDED_VALUE)

    def score_bin_index(self, probabilities: torch.Tensor, width: int) -> torch.Tensor:
        """(B, W) float32 probabilities, overwritten in place, -> int64 column *
        CELLS_PER_COLUMN + bin. Scores at or above 1/2 get the first bin above 1/2 here; only a
        row's top score can be there (`top_score_bins` gives its bin). The result is the head of
        a scratch vector with room for one more cell per row after it (`add_score_counts`
        fills it)."""
        keys = probabilities.view(torch.int32).bitwise_right_shift_(score_bins.SHIFT)
        keys.clamp_(score_bins.LOW_KEY, score_bins.EXCLUDED_KEY)
        key = ("score_base", width, keys.device)
        if key not in self._cache:
            base = torch.arange(width, dtype=torch.int32, device=keys.device)
            self._cache[key] = base * score_bins.CELLS_PER_COLUMN - score_bins.LOW_KEY
        # Added in int32 (int64 arithmetic is several times slower on CPU), then widened.
        narrow = self._scratch("index32", tuple(keys.shape), torch.int32, keys.device)
        torch.add(keys, self._cache[key], out=narrow)
        rows, columns = keys.shape
        flat = self._scratch("index64", (rows * (columns + 1),), torch.int64, keys.device)
        return flat[: rows * columns].view(rows, columns).copy_(narrow)

    def top_score_bins(self, top: torch.Tensor) -> torch.Tensor:
        """int32 bins of the (B,) top scores, from the keys of (1 - p, p) in one (B, 2) block."""
        key = ("top_bins", top.device)
        if key not in self._cache:
            self._cache[key] = (
                torch.tensor([1.0, 0.0], device=top.device),
                torch.tensor([-1.0, 1.0], device=top.device),
                torch.tensor([score_bins.LOW_KEY] * 2, dtype=torch.int32, device=top.device),
                torch.tensor(score_bins.TOP_KEY_BOUNDS, dtype=torch.int32, device=top.device),
            )
        offset, sign, low, high = self._cache[key]
        # 1 + (-1) * p is 1 - p and 0 + 1 * p is p, bit for bit: both columns in one op.
        pair = torch.addcmul(offset, top.float()[:, None], sign)
        keys = pair.view(torch.int32).bitwise_right_shift_(score_bins.SHIFT).clamp_(low, high)
        return score_bins.top_bin(keys[:, 1], keys[:, 0])

    def label_score_bins(
        self, scores: torch.Tensor, from_logits: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        s = scores.float()
        if from_logits:
            p = torch.sigmoid(s)
            nearer = torch.sigmoid(s.abs().neg_())  # min(p, 1 - p), exact in the tails
            upper = s >= 0
        else:
            p, upper = s, s >= 0.5
            nearer = torch.where(upper, 1.0 - s, s)
        keys = nearer.view(torch.int32).bitwise_right_shift_(score_bins.SHIFT)
        keys = keys.clamp_(score_bins.LOW_KEY, score_bins.HALF_KEY - 1).sub_(score_bins.LOW_KEY)
        return torch.where(upper, (score_bins.NUM_BINS - 1) - keys, keys).long(), p

    def set_columns(self, index: torch.Tensor, columns: Any, values: Any) -> torch.Tensor:
        return index.scatter_(1, columns[:, None], values[:, None])

    def zeros_counts(self, size: int, like: torch.Tensor) -> torch.Tensor:
        # int32: exact to 2**31 per cell and step, half the memory (and cache) of float64.
        return torch.zeros(size, dtype=torch.int32, device=like.device)

    def add_counts(self, state: torch.Tensor, flat: Any, weights: Any = None) -> torch.Tensor:
        flat = flat.reshape(-1)
        if weights is None:
            key = ("count_ones", flat.shape[0], flat.device, state.dtype)
            if key not in self._cache:
                self._cache[key] = torch.ones(flat.shape[0], dtype=state.dtype, device=flat.device)
            weights = self._cache[key]
        else:
            weights = weights.reshape(-1).to(state.dtype)
        return state.scatter_add_(0, flat, weights)  # 1-D scatter_add_ beats index_add_ here

    def add_score_counts(
        self, state: torch.Tensor, index: torch.Tensor, columns: Any, offset: int
    ) -> torch.Tensor:
        """Adds the cells of the (B, W) `index` and, once more, each row's cell in `columns`
        moved by `offset`, in one scatter-add: `index` comes from `score_bin_index`, whose
        scratch vector has room for the B extra cells right after it."""
        rows, width = index.shape
        key = ("scratch", "index64", (rows * (width + 1),), torch.int64, index.device)
        flat = self._cache.get(key)
        if flat is None or flat.data_ptr() != index.data_ptr():
            picked = index.gather(1, columns[:, None]).add_(offset)
            return self.add_counts(self.add_counts(state, index), picked)
        extra = flat[rows * width :]
        torch.gather(index, 1, columns[:, None], out=extra[:, None]).add_(offset)
        return self.add_counts(state, flat)

    def all_finite(self, x: torch.Tensor) -> bool:
        # One reduction and one read (host data only): probabilities and most scores are far
        # from overflowing a sum; if one does, the caller only takes its slower path.
        return math.isfinite(x.sum().item())

    def top_k_hits(self, outputs: torch.Tensor, labels: Any, k: int, like: Any) -> torch.Tensor:
        """1 where fewer than k outputs of the row exceed the target's (ties count for it)."""
        target = outputs.gather(1, labels[:, None])
        rows, width = outputs.shape
        greater = self._scratch("greater", (rows, width), torch.float32, outputs.device)
        torch.gt(outputs, target, out=greater)  # as 0.0 / 1.0
        # Counted by a matrix-vector product with ones: ~3x faster on CPU than a sum of the
        # comparison's bytes, and exact (integers below 2**24 in float32).
        key = ("ones", width, outputs.device)
        if key not in self._cache:
            self._cache[key] = torch.ones(width, dtype=torch.float32, device=outputs.device)
        rank = torch.mv(greater, self._cache[key])
        hits = self._scratch("top_k_hits", (rows,), like.dtype, like.device)
        return torch.lt(rank, k, out=hits)

    def reliability_columns(self, correct: torch.Tensor, confidence: torch.Tensor) -> torch.Tensor:
        """(B, 3) [1, correct, confidence] in a reused block whose ones column is filled once
        (reuse is safe for the reason given in stack_columns)."""
        key = ("reliability", confidence.shape[0], confidence.device)
        if key not in self._cache:
            block = torch.ones(
                (confidence.shape[0], 3),
                dtype=_state_dtype(confidence.device),
                device=confidence.device,
            )
            self._cache[key] = (block, *block.unbind(1)[1:])
        block, correct_column, confidence_column = self._cache[key]
        correct_column.copy_(correct)
        confidence_column.copy_(confidence)
        return block

    def lookup(self, table: Any, index: torch.Tensor) -> torch.Tensor:
        key = ("lookup", id(table), index.device)
        if key not in self._cache:
            self._cache[key] = torch.as_tensor(table, device=index.device)
        return self._cache[key].index_select(0, index)


OPS = TorchOps()
