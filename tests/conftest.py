"""Shared pytest fixtures."""

from __future__ import annotations

import os

import pytest

# TensorFlow's start-up chatter hides test output; errors still show.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Google's auth libraries (gcsfs, TensorFlow's GCS client) would probe a GCE metadata server on
# a link-local address; google-auth reads these when first imported, so they are set before
# any test imports it: no probe, or one to a closed loopback port.
os.environ.update(
    NO_GCE_CHECK="true", GCE_METADATA_HOST="127.0.0.1:9", GCE_METADATA_IP="127.0.0.1:9"
)


@pytest.fixture
def logdir(tmp_path):
    return str(tmp_path / "runs")
