"""``--spark-master spark://...``: a real standalone cluster (a master and a worker JVM) on this machine.

Local mode runs the tasks inside the driver's JVM; here they run in an executor the
worker launches, so the SQL, the views and the aggregation cross process boundaries
as they do on a cluster. The harness runs as a user would start it: a subprocess.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bundled import APPCMD

ROOT = Path(__file__).resolve().parent.parent
V214 = ROOT / "rules" / "iis_appcmd_password_dumped_v214.toml"
V220 = ROOT / "rules" / "iis_appcmd_password_dumped_v220.toml"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for(log: Path, text: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text(errors="replace"):
            return
        time.sleep(0.5)
    raise AssertionError(f"{log.name} never said {text!r}:\n{log.read_text(errors='replace')[-2000:]}")


@pytest.fixture(scope="module")
def cluster(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A standalone master and one two-core worker; yields the master's URL."""
    import pyspark

    home = Path(pyspark.__file__).parent
    folder = tmp_path_factory.mktemp("cluster")
    environment = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1"}
    environment["SPARK_WORKER_DIR"] = str(folder / "work")
    port = _free_port()
    url = f"spark://127.0.0.1:{port}"
    daemons = []
    try:
        for name, arguments in [
            ("master", ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port)]),
            ("worker", ["org.apache.spark.deploy.worker.Worker", "--cores", "2", "--memory", "2g", url]),
        ]:
            log = folder / f"{name}.log"
            with log.open("w") as stream:
                daemons.append(
                    subprocess.Popen(
                        [str(home / "bin" / "spark-class"), *arguments, "--webui-port", str(_free_port())],
                        stdout=stream,
                        stderr=subprocess.STDOUT,
                        env=environment,
                    )
                )
            _wait_for(
                log, "I have been elected leader" if name == "master" else "Successfully registered", 90
            )
        yield url
    finally:
        for daemon in daemons:
            daemon.terminate()
        for daemon in daemons:
            daemon.wait(timeout=30)


def _harness(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], capture_output=True, text=True, timeout=600, check=False
    )


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from generators.corpus import write_corpus
    from generators.profiles import CorpusOptions

    folder = tmp_path_factory.mktemp("lake")
    write_corpus(CorpusOptions("mixed", events=3_000, seed=5, catalogue=APPCMD), folder / "part-0.parquet")
    write_corpus(CorpusOptions("scenarios", events=None, seed=5, catalogue=APPCMD), folder / "part-1.parquet")
    return folder


@pytest.mark.spark
def test_a_standalone_cluster_prints_the_default_engines_table_and_diff(cluster: str, lake: Path) -> None:
    validate = ["validate", str(V214), "--corpus", str(lake)]
    on_cluster = _harness(*validate, "--engine", "spark", "--spark-master", cluster)
    default = _harness(*validate)
    assert on_cluster.returncode == default.returncode == 1, on_cluster.stderr
    assert on_cluster.stdout == default.stdout
    diff = ["diff", str(V214), str(V220), "--corpus", str(lake), "--format", "markdown"]
    on_cluster = _harness(*diff, "--engine", "spark", "--spark-master", cluster)
    default = _harness(*diff)
    assert on_cluster.returncode == default.returncode == 0, on_cluster.stderr
    assert on_cluster.stdout == default.stdout
