"""Shared fixtures and paths for the test suite."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# tests/ holds helper modules (strategies.py) that the property tests import by name.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def sigma_installed() -> None:
    """Skip a test without pySigma (``pip install -e '.[sigma]'``), unless HARNESS_REQUIRE_SIGMA
    is set, as CI sets it: there a missing extra is a failure, not a skip."""
    try:
        import sigma.backends.elasticsearch
        import sigma.pipelines.windows  # noqa: F401
    except ImportError:
        if os.environ.get("HARNESS_REQUIRE_SIGMA"):
            pytest.fail("HARNESS_REQUIRE_SIGMA is set but pySigma is not installed")
        pytest.skip("pySigma is not installed: pip install -e '.[sigma]'")


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark session (two cores) for every Spark test: starting one takes seconds.

    Skipped without PySpark (``pip install -e '.[spark]'``), unless HARNESS_REQUIRE_SPARK is
    set, as CI sets it: there a missing Spark is a failure, not a skip. With PySpark
    installed, a session that cannot start (no Java) fails the tests.
    """
    try:
        import pyspark  # noqa: F401
    except ImportError:
        if os.environ.get("HARNESS_REQUIRE_SPARK"):
            pytest.fail("HARNESS_REQUIRE_SPARK is set but PySpark is not installed")
        pytest.skip("PySpark is not installed: pip install -e '.[spark]'")
    from harness.spark import spark_session

    session = spark_session("local[2]")
    # Small test tables: a handful of partitions instead of Spark's default 200 after a shuffle.
    session.conf.set("spark.sql.shuffle.partitions", "4")
    yield session
    session.stop()
