"""The per-class math, as pure functions over the arrays of NumPy, PyTorch or TensorFlow.

- `arrays`: which library a batch comes from, and the few operations the math needs from it;
  each library's implementation (`numpy_ops`, `torch_ops`, `tensorflow_ops`) is imported lazily.
- `batches`: validate one batch of any task (multiclass, binary, multilabel) and turn it into
  elements with a row, a confusion cell, correctness and a loss.
- `losses`: per-sample losses computed from outputs when the caller gives none.
- `perclass`: the `stats` state table (update on device) and its host-side compute.
- `confusion`: the confusion counts (update on device) and their host-side compute.
"""
