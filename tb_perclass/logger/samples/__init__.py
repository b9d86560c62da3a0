"""Keeping the most confident misclassified samples of each step (the `samples` kind).

- `candidates`: each batch's mistakes scored on the device, one small block to the host.
- `buffer`: the capped set of kept mistakes on the host, and their manifest.
- `keeper`: the pipeline: check the inputs, pick from the candidates, fetch and convert the
  inputs of the mistakes kept.
- `media`: images and texts turned into what the tab shows (PNG, UTF-8).
"""
