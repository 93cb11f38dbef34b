"""One Spark session per master URL, configured for Elasticsearch's answers.

* ``spark.sql.caseSensitive``: field names are case-sensitive in Elasticsearch;
  Spark's default would resolve ``Process.Name`` to ``process.name``.
* The console progress bar and the UI are off, and Spark logs only errors (to stderr):
  the harness reports on stdout, and a validation run serves no web page.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from harness.errors import HarnessError

__all__ = ["INSTALL_HINT", "spark_session"]

_LOG_CONFIG = Path(__file__).with_name("log4j2.properties")
INSTALL_HINT = "install the Spark extra: pip install 'detection-harness[spark]' (it needs Java 17 or newer)"


def spark_session(master: str = "local[*]") -> Any:
    """The Spark session for ``master`` (``local[*]``, ``local[2]``, ``spark://host:7077``, ``yarn``...)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        raise HarnessError(f"--engine spark needs PySpark, which is not installed: {INSTALL_HINT}") from error
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise HarnessError("--engine spark needs a Java runtime (17 or newer) on PATH or in JAVA_HOME")
    try:
        session = (
            SparkSession.builder.master(master)
            .appName("detection-harness")
            .config("spark.sql.caseSensitive", "true")
            # Backslashes in string literals are escapes (sqlglot writes them so); a cluster's
            # defaults must not turn every pattern's backslash literal.
            .config("spark.sql.parser.escapedStringLiterals", "false")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={_LOG_CONFIG.as_uri()}")
            .getOrCreate()
        )
    except Exception as error:  # py4j and PySpark raise several kinds; all mean no session
        raise HarnessError(f"could not start Spark with master {master!r}: {error}") from error
    session.sparkContext.setLogLevel("ERROR")
    return session
