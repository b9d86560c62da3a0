"""Runnable demos, from the repository root: `python -m demo.train_torch runs/digits/torch`."""
