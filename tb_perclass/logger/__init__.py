"""The logger: per-class statistics accumulated on the data's device, written as summaries.

The data path of one batch, module by module:

- `spec`: the task specification (`TaskSpec`) and every check of the arguments that set it, for
  `PerClassWriter` and the Keras and Lightning callbacks alike.
- `arrays`: which library a batch comes from and the few operations the math needs, one module
  per library (`numpy_ops`, `torch_ops`, `tensorflow_ops`, imported lazily).
- `tasks`: one module per task (`multiclass`, `binary`, `multilabel`, `regression`), each
  checking a batch and formatting it to the common `Batch`, registered by task name.
- `losses`: the per-sample losses computed when the caller gives none.
- `state`: the statistics table and the confusion counts on the device (new, update, read),
  and the host-side `PerClassStats`; `output_kind`: logits-or-probabilities evidence.
- `samples`: the pipeline that keeps the most confident misclassified samples.
- `accumulator`: one writer's state, samples and the batches' checks, fed by `update()`.
- `distributed`: the merge of every rank's accumulator under torch.distributed.
- `step_writer`: the one end of a step (read state, stats, summaries, sink, reset, warnings);
  `steps`: what a step may be; `notices`: the warnings about a step's data.
- `sinks` and `destinations`: where the summaries go, one live writer per destination and name.
- `writer`: `PerClassWriter`, which only wires these together.
"""
