"""Maintenance scripts; the Python ones run from the repository root, e.g.
`python -m scripts.screenshot --view confusion`."""
