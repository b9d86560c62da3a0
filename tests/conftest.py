"""Shared pytest fixtures."""

from __future__ import annotations

import os

import pytest

# TensorFlow's start-up chatter hides test output; errors still show.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def logdir(tmp_path):
    return str(tmp_path / "runs")
