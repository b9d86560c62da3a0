"""The data contract between the logger and the plugin (docs/data-contract.md).

- `metadata`: the plugin name, the summary kinds, the tag layout and the versioned metadata
  every summary carries; what a reader accepts as class names. Imports protobuf only, so that
  TensorBoard's start-up (which imports `tb_perclass.plugin.loader`) stays cheap.
- `summary`: pure functions that build the `Summary` protos of each kind from NumPy arrays.
- `metrics`: the per-class metrics computed from counts (accuracy, TP/FP/FN, precision, recall,
  F1 and their averages), the same for the writer's results and the plugin's answers.

Nothing here imports the logger or the plugin, and this package's `__init__` imports nothing.
"""
