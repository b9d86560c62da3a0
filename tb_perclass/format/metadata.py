"""The plugin's name and the versioned metadata every tb-perclass summary carries.

This module is the single owner of the data contract's header (docs/data-contract.md): the
plugin name, the kinds of summary, the tag layout `<name>/<kind>` and the JSON `content` stored in
`SummaryMetadata.plugin_data`. Both the logger (to write) and the plugin (to read) go through it.
It imports only protobuf classes so that TensorBoard's start-up stays cheap.
"""

from __future__ import annotations

import collections
import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from tensorboard.compat.proto import summary_pb2

PLUGIN_NAME = "perclass"

# Bump when the meaning of a field changes; readers refuse versions newer than they know.
# Version 2: the `stats` tensor gained the non-finite-outputs row and the two columns of
# elements counted for no class (see STATS_ROWS and STATS_EXTRA_COLUMNS).
# Version 3: compact steps (docs/data-contract.md): `stats` is one packed record of named arrays
# (`packed_arrays`) with the step's TP/FP/FN per class when confusion counts are recorded, and
# `confusion` is a blob sequence of one `sparse_counts` blob per step, read one step at a time.
# Version 4: `scores` is a packed record (one array, SCORES_COLUMNS: the int64 vector of
# versions 3 and before in the smallest unsigned dtype) rather than int64 varints, which
# TensorBoard kept as 8 bytes a value. Readers tell the two forms apart by the step's dtype.
PROTOCOL_VERSION = 4

KIND_STATS = "stats"
KIND_CONFUSION = "confusion"
KIND_SAMPLES = "samples"
KIND_SCORES = "scores"
# Training dynamics per sample (format/dynamics.py): per-class counts at every write, and a
# snapshot of every tracked sample about once per epoch.
KIND_DYNAMICS = "dynamics"
KIND_DYNAMICS_SAMPLES = "dynamics_samples"
KINDS = (
    KIND_STATS,
    KIND_CONFUSION,
    KIND_SAMPLES,
    KIND_SCORES,
    KIND_DYNAMICS,
    KIND_DYNAMICS_SAMPLES,
)

# Snapshots go under a plugin name of their own so that TensorBoard keeps only the last few
# (its reservoir always keeps the latest) while every step of the other kinds is kept: the
# loader sets `--samples_per_plugin perclass_snapshots=SNAPSHOTS_KEPT` unless the user chose.
SNAPSHOT_PLUGIN_NAME = "perclass_snapshots"
SNAPSHOTS_KEPT = 10
PLUGIN_NAMES = (PLUGIN_NAME, SNAPSHOT_PLUGIN_NAME)


def plugin_name_for(kind: str) -> str:
    """The plugin name a summary of `kind` is written under."""
    return SNAPSHOT_PLUGIN_NAME if kind == KIND_DYNAMICS_SAMPLES else PLUGIN_NAME


TASK_MULTICLASS = "multiclass"
TASK_BINARY = "binary"
TASK_MULTILABEL = "multilabel"
# Regression binned by target: the "classes" are target ranges, predictions binned alike.
TASK_REGRESSION = "regression"
TASKS = (TASK_MULTICLASS, TASK_BINARY, TASK_MULTILABEL, TASK_REGRESSION)

DEFAULT_NAME = "perclass"

# What a reader accepts in the metadata, far beyond any real classifier: a class list past these
# is a damaged or hostile file, refused rather than sent to every browser that lists the runs.
MAX_CLASSES = 2**20
MAX_CLASS_NAME_LENGTH = 4096

# Row order of the `stats` tensor. Version 2 writes [5, C + 2]; version 1 wrote [4, C] (the
# first four rows, class columns only), which readers still accept.
STATS_ROWS = ("loss", "count", "correct", "nonfinite", "nonfinite_outputs")
STATS_ROWS_V1 = STATS_ROWS[:4]
# Columns after the C class columns of a version-2 `stats` tensor: elements that belong to no
# class, in their `count` row (every other row is 0 there). Invalid targets (outside [0, C),
# not 0/1, not a number) are counted, not dropped; `ignore_index` elements are counted apart.
STATS_EXTRA_COLUMNS = ("invalid_targets", "ignored")


# Rows of the `dynamics` tensor, int64 [6, C + 4]: per class (by given label) the tracked
# samples visited so far, those in each data-map region, the likely label errors and the samples
# forgotten at least once. The four last columns, in the `visited` row (0 elsewhere): the
# dataset size, the visits whose id was outside [0, size), the ids repeated within a batch and
# the visits that could not count (ignored or invalid target, NaN outputs); all cumulative.
DYNAMICS_ROWS = ("visited", "easy", "ambiguous", "hard", "likely_errors", "forgotten")
DYNAMICS_EXTRA_COLUMNS = ("dataset_size", "invalid_id_visits", "repeated_ids", "skipped_visits")


def dynamics_shape(num_classes: int) -> tuple[int, int]:
    return (len(DYNAMICS_ROWS), num_classes + len(DYNAMICS_EXTRA_COLUMNS))


def stats_shape(num_classes: int) -> tuple[int, int]:
    """The shape of a version-2 `stats` tensor for `num_classes` classes."""
    return (len(STATS_ROWS), num_classes + len(STATS_EXTRA_COLUMNS))


# The arrays of a version-3 `stats` record (`packed_arrays`), each [C] unless said otherwise:
# `loss` float32; the counts (the rows of STATS_ROWS after `loss`) in the smallest unsigned
# dtype that holds them; `tp`, `fp`, `fn` (same dtypes) only when the writer records confusion
# counts; `elements` [2] = STATS_EXTRA_COLUMNS. Readers ignore arrays they do not know.
STATS_COUNTS = STATS_ROWS[1:]
STATS_TRUE_FALSE = ("tp", "fp", "fn")
STATS_ELEMENTS = "elements"

# The one array of a version-4 `scores` record (`packed_arrays`): the `score_tensor` vector.
SCORES_COLUMNS = "columns"


# How a `confusion` step is laid out. Version 3 writes every step as one `sparse_counts` blob
# (the nonzero cells, about 1.5 bytes each). Versions 1 and 2 wrote tensors whose layout the
# metadata named, chosen from the class count (fixed for a tag): a dense C x C (or [L, 2, 2])
# matrix up to 64 classes and for multilabel, COO triplets [nnz, 3] of (true, predicted, count)
# beyond.
ENCODING_SPARSE = "sparse_counts"
ENCODING_DENSE = "dense"
ENCODING_COO = "coo"
ENCODINGS = (ENCODING_SPARSE, ENCODING_DENSE, ENCODING_COO)
DENSE_MAX_CLASSES = 64


def legacy_confusion_encoding(task: str, num_classes: int) -> str:
    """The layout a version-1/2 writer chose for a confusion tag."""
    if task == TASK_MULTILABEL or num_classes <= DENSE_MAX_CLASSES:
        return ENCODING_DENSE
    return ENCODING_COO


# A confusion tag of version 3 is a blob sequence (one step per `read_blob`); versions 1 and 2
# wrote tensors. Readers look for a confusion tag among both.
# The `scores` kind (score histograms): how probabilities are binned (`score_bins`), how many
# equal-width calibration bins its reliability uses, and its tensor's layout (`score_tensor`):
# "ranking" (multiclass: the bins holding positives and the negatives between them) or "full"
# (binary, multilabel: every nonempty bin). Metadata fields, constant for a tag.
SCORE_BINS = {"family": "float32_bits", "sub_bits": 5, "floor_exponent": -20}
SCORE_CALIBRATION_BINS = 16
SCORE_OFFSET_UNITS = 256  # sums of probabilities within a bin, in 1/256ths of its width
FORM_RANKING = "ranking"
FORM_FULL = "full"


def score_form(task: str) -> str:
    return FORM_RANKING if task == TASK_MULTICLASS else FORM_FULL


def score_fields(task: str, top_k: int) -> dict[str, Any]:
    """The `scores` kind's metadata fields (`top_k`: 0 when top-k accuracy is not recorded)."""
    return {
        "bins": dict(SCORE_BINS),
        "calibration_bins": SCORE_CALIBRATION_BINS,
        "offset_units": SCORE_OFFSET_UNITS,
        "form": score_form(task),
        "top_k": int(top_k),
    }


_DATA_CLASS = {
    KIND_STATS: summary_pb2.DATA_CLASS_TENSOR,
    KIND_CONFUSION: summary_pb2.DATA_CLASS_BLOB_SEQUENCE,
    KIND_SAMPLES: summary_pb2.DATA_CLASS_BLOB_SEQUENCE,
    KIND_SCORES: summary_pb2.DATA_CLASS_TENSOR,
    KIND_DYNAMICS: summary_pb2.DATA_CLASS_TENSOR,
    KIND_DYNAMICS_SAMPLES: summary_pb2.DATA_CLASS_BLOB_SEQUENCE,
}
BLOB_KINDS = (KIND_SAMPLES, KIND_DYNAMICS_SAMPLES)


@dataclasses.dataclass(frozen=True)
class PerClassMetadata:
    """The parsed `content` of one tag's plugin data."""

    version: int
    kind: str
    task: str
    class_names: tuple[str, ...]
    loss: str
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def tag_for(name: str, kind: str) -> str:
    """The tag under which `kind` summaries of the head `name` are written."""
    return f"{name}/{kind}"


def split_tag(tag: str) -> tuple[str, str]:
    """Inverse of `tag_for`; names may themselves contain '/'."""
    name, _, kind = tag.rpartition("/")
    return name, kind


def validate_name(name: str) -> str:
    if not isinstance(name, str) or not name or name != name.strip("/"):
        raise ValueError(
            f"name={name!r} is not a usable tag prefix: pass a non-empty string that does not "
            "start or end with '/', e.g. name='perclass' or name='head_a'"
        )
    return name


def create_summary_metadata(
    *,
    kind: str,
    task: str,
    class_names: Sequence[str],
    loss: str,
    description: str = "",
    **extra: Any,
) -> summary_pb2.SummaryMetadata:
    """Builds the `SummaryMetadata` for one summary of `kind`.

    TensorBoard keeps only the first metadata it sees per tag, so everything here must be fixed for
    the life of a tag: kind-specific `extra` fields may only hold per-tag constants.
    """
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r} is not one of {KINDS}")
    if task not in TASKS:
        raise ValueError(f"task={task!r} is not one of {TASKS}")
    class_names = [str(c) for c in class_names]
    check_class_names(class_names, "class_names")
    content = {
        "version": PROTOCOL_VERSION,
        "kind": kind,
        "task": task,
        "class_names": class_names,
        "loss": loss,
        **extra,
    }
    return summary_pb2.SummaryMetadata(
        summary_description=description,
        plugin_data=summary_pb2.SummaryMetadata.PluginData(
            plugin_name=plugin_name_for(kind),
            content=json.dumps(content, separators=(",", ":")).encode("utf-8"),
        ),
        data_class=_DATA_CLASS[kind],
    )


def parse_plugin_content(content: bytes) -> PerClassMetadata:
    """Parses `plugin_data.content`; raises ValueError naming what is wrong with it."""
    try:
        fields = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"plugin content is not UTF-8 JSON: {error}") from None
    if not isinstance(fields, dict):
        raise ValueError("plugin content is not a JSON object")
    version = fields.pop("version", None)
    if type(version) is not int or version < 1:
        raise ValueError(f"plugin content has no valid version (got {version!r:.80})")
    if version > PROTOCOL_VERSION:
        raise ValueError(
            f"summary was written with protocol version {version}; this tb-perclass reads up to "
            f"{PROTOCOL_VERSION}: upgrade tb-perclass"
        )
    kind = fields.pop("kind", None)
    task = fields.pop("task", None)
    class_names = fields.pop("class_names", None)
    loss = fields.pop("loss", "")
    if kind not in KINDS or task not in TASKS:
        raise ValueError(f"plugin content has unknown kind {kind!r:.80} or task {task!r:.80}")
    _check_class_names(class_names)
    _check_extra(kind, task, fields)
    return PerClassMetadata(
        version=version,
        kind=kind,
        task=task,
        class_names=tuple(class_names),
        loss=str(loss),
        extra=fields,
    )


def _check_class_names(class_names: Any) -> None:
    if not isinstance(class_names, list) or not all(isinstance(c, str) for c in class_names):
        raise ValueError("plugin content's class_names is not a list of strings")
    check_class_names(class_names, "plugin content")


def check_class_names(class_names: Sequence[str], where: str) -> None:
    """What a reader accepts as the classes of a summary: 1 to `MAX_CLASSES` unique strings of at
    most `MAX_CLASS_NAME_LENGTH` characters. The writer, the summary builders and the reader all
    check with this, so that nothing is written that the reader would refuse. Raises ValueError
    naming `where` (the argument or the data checked)."""
    if not 1 <= len(class_names) <= MAX_CLASSES:
        raise ValueError(
            f"{where} has {len(class_names)} class names; a summary has 1 to {MAX_CLASSES}"
        )
    longest = max(class_names, key=len)
    if len(longest) > MAX_CLASS_NAME_LENGTH:
        raise ValueError(
            f"{where} has a class name of {len(longest)} characters (starting "
            f"{longest[:40]!r}); names have at most {MAX_CLASS_NAME_LENGTH}"
        )
    if len(set(class_names)) != len(class_names):
        repeated = collections.Counter(class_names).most_common(1)[0][0]
        raise ValueError(
            f"{where} has the class name {repeated[:80]!r} more than once; names are unique"
        )


def _check_extra(kind: str, task: str, fields: Mapping[str, Any]) -> None:
    """The kind-specific fields this version reads (unknown ones are kept and ignored)."""
    encoding = fields.get("encoding", ENCODING_DENSE)
    if kind == KIND_CONFUSION and encoding not in ENCODINGS:
        raise ValueError(
            f"plugin content has confusion encoding {encoding!r:.80}; this version reads "
            f"{', '.join(map(repr, ENCODINGS))}"
        )
    for cap in ("samples_per_cell", "max_samples"):
        value = fields.get(cap)
        if kind == KIND_SAMPLES and value is not None and (type(value) is not int or value < 1):
            raise ValueError(f"plugin content has {cap}={value!r:.80}; a cap is a positive integer")
    if kind == KIND_SCORES:
        _check_score_fields(task, fields)


def _check_score_fields(task: str, fields: Mapping[str, Any]) -> None:
    """A `scores` tag this version can decode: our bins, calibration bins and offset units,
    the form of its task, and a top_k that is a whole number (0: none; multiclass only)."""
    expected = score_fields(task, 0)
    for field in ("bins", "calibration_bins", "offset_units", "form"):
        if fields.get(field) != expected[field]:
            raise ValueError(
                f"plugin content has scores {field} {fields.get(field)!r:.120}; this version "
                f"reads {expected[field]!r}: upgrade tb-perclass"
            )
    top_k = fields.get("top_k")
    if type(top_k) is not int or top_k < 0 or (top_k and task != TASK_MULTICLASS):
        raise ValueError(f"plugin content has scores top_k={top_k!r:.80}; expected k >= 0")
