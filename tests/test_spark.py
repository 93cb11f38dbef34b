"""``--engine spark``: the same tables, diffs and exit codes as the embedded engines, counted by Spark.

Every test here runs on the shared local session (conftest ``spark``); the
differential tests of the condition tree itself are in test_columnar.py.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from click.testing import CliRunner

from harness import compile_query, parse_query
from harness.cli import main

from bundled import APPCMD

ROOT = Path(__file__).resolve().parent.parent
V214 = ROOT / "rules" / "iis_appcmd_password_dumped_v214.toml"
V220 = ROOT / "rules" / "iis_appcmd_password_dumped_v220.toml"


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of Parquet files, as a data lake holds a corpus: fleet noise and the whole catalogue."""
    from generators.corpus import write_corpus
    from generators.profiles import CorpusOptions

    folder = tmp_path_factory.mktemp("lake")
    write_corpus(CorpusOptions("mixed", events=5_000, seed=21, catalogue=APPCMD), folder / "part-0.parquet")
    write_corpus(
        CorpusOptions("scenarios", events=None, seed=21, catalogue=APPCMD), folder / "part-1.parquet"
    )
    return folder


@pytest.mark.spark
@pytest.mark.parametrize("rule_path", [V214, V220], ids=["v214", "v220"])
def test_validate_on_spark_prints_the_default_engines_table(spark: Any, lake: Path, rule_path: Path) -> None:
    on_spark = _cli("validate", str(rule_path), "--corpus", str(lake), "--engine", "spark")
    default = _cli("validate", str(rule_path), "--corpus", str(lake))
    rows = _cli("validate", str(rule_path), "--corpus", str(lake), "--engine", "compiled")
    assert on_spark[0] == default[0] == rows[0]
    assert on_spark[1] == default[1] == rows[1]
    assert "detection rate" in on_spark[1]


@pytest.mark.spark
def test_validate_on_spark_reports_the_same_metrics_and_cells(spark: Any, lake: Path) -> None:
    on_spark = json.loads(
        _cli("validate", str(V214), "--corpus", str(lake), "--engine", "spark", "--format", "json")[1]
    )
    default = json.loads(_cli("validate", str(V214), "--corpus", str(lake), "--format", "json")[1])
    assert on_spark["metrics"] == default["metrics"]
    assert on_spark["cells"] == default["cells"]
    assert on_spark["metrics"]["alerts"] > 0


@pytest.mark.spark
def test_a_violation_on_spark_carries_an_example_event(spark: Any, lake: Path, tmp_path: Path) -> None:
    strict = tmp_path / "strict.expect.toml"
    # The catalogue and no known gaps: every miss of v214 on the catalogue's attacks is a violation.
    strict.write_text('catalogue = "appcmd"\n', encoding="utf-8")
    code, out, _ = _cli(
        "validate",
        str(V214),
        "--corpus",
        str(lake),
        "--engine",
        "spark",
        "--expect",
        str(strict),
        "--format",
        "json",
    )
    report = json.loads(out)
    assert code == 1
    missed = [v for v in report["violations"] if v["kind"] == "missed"]
    assert missed
    for violation in missed:
        example = violation["example"]
        assert example["labels"]["scenario"] == violation["scenario"]
        assert not compile_query(report["rule"]["query"]).matches(example)


@pytest.mark.spark
def test_diff_on_spark_equals_the_default_engine(spark: Any, lake: Path) -> None:
    on_spark = _cli(
        "diff", str(V214), str(V220), "--corpus", str(lake), "--engine", "spark", "--format", "json"
    )
    default = _cli("diff", str(V214), str(V220), "--corpus", str(lake), "--format", "json")

    def strip(report: str) -> list[dict[str, Any]]:
        return [{k: v for k, v in c.items() if k != "example"} for c in json.loads(report)["changes"]]

    assert on_spark[0] == default[0]
    assert strip(on_spark[1]) == strip(default[1])
    assert any(c["change"] == "newly missed" for c in json.loads(on_spark[1])["changes"])


@pytest.mark.spark
def test_bench_times_spark_against_duckdb_on_the_same_files(spark: Any, lake: Path) -> None:
    code, out, _ = _cli(
        "bench", str(V214), "--corpus", str(lake), "--engine", "spark", "--repeat", "1", "--json"
    )
    assert code == 0
    rows = {row["engine"]: row for row in json.loads(out)}
    duckdb = rows.pop("duckdb (parquet)")
    (on_spark,) = rows.values()
    assert on_spark["engine"].startswith("spark local")
    assert on_spark["matches"] == duckdb["matches"] > 0
    import pyarrow.dataset as ds

    assert on_spark["events"] == duckdb["events"] == ds.dataset(lake, format="parquet").count_rows()
    assert duckdb["ratio_to_duckdb_parquet"] == pytest.approx(1.0)
    assert on_spark["ratio_to_duckdb_parquet"] == pytest.approx(
        on_spark["events_per_second"] / duckdb["events_per_second"]
    )


@pytest.mark.spark
def test_field_names_are_case_sensitive_as_in_elasticsearch(spark: Any) -> None:
    from harness.spark import spark_verdicts

    table = pa.table({"process": pa.array([{"Name": "appcmd.exe", "name": "cmd.exe"}])})
    query = parse_query('any where process.name : "appcmd.exe"')
    assert spark_verdicts(spark, query, table) == [False]
    assert spark_verdicts(spark, parse_query('any where process.Name : "appcmd.exe"'), table) == [True]


@pytest.mark.spark
def test_spark_types_convert_to_arrow_for_the_translation(spark: Any, lake: Path) -> None:
    import pyarrow.dataset as ds

    from harness.spark import SparkTable

    assert SparkTable(str(lake), session=spark).schema.equals(ds.dataset(lake, format="parquet").schema)


@pytest.mark.spark
def test_a_path_spark_cannot_read_is_a_clear_error(spark: Any, tmp_path: Path) -> None:
    code, _, err = _cli("validate", str(V214), "--corpus", str(tmp_path / "nowhere"), "--engine", "spark")
    assert code == 2
    assert "nowhere: Spark cannot read this as Parquet" in err


def test_without_pyspark_the_engine_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark... raises ImportError
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    code, _, err = _cli("validate", str(V214), "--corpus", str(tmp_path), "--engine", "spark")
    assert code == 2
    assert "pip install 'detection-harness[spark]'" in err


def test_spark_needs_a_corpus() -> None:
    code, _, err = _cli("validate", str(V214), "--engine", "spark")
    assert code == 2
    assert "--engine spark reads Parquet corpora" in err
    assert "s3a://" in err


@pytest.mark.spark
def test_spark_counts_per_partition_and_reads_only_the_columns_it_needs(spark: Any, lake: Path) -> None:
    """What crosses the network on a cluster: per-partition counts per group, never events."""
    from harness import load_rule
    from harness.spark import SparkTable
    from harness.sql import translate
    from harness.validation.columnar_runner import alerts_statement

    table = SparkTable(str(lake), session=spark)
    condition = translate(parse_query(load_rule(V214).query), table.schema, engine="spark")
    plan = spark.sql(alerts_statement(table, condition))._jdf.queryExecution().executedPlan().toString()
    partial, exchange, final = (
        plan.index(s) for s in ("partial_count(1)", "Exchange hashpartitioning", "count(1)")
    )
    assert final < exchange < partial  # printed top-down: the shuffle sits on partial aggregates
    scanned = re.search(r"FileScan parquet \[([^\]]*)\]", plan)
    assert scanned is not None
    assert sorted(c.split("#")[0] for c in scanned.group(1).split(",")) == [
        "event",
        "host",
        "labels",
        "process",
    ]


@pytest.mark.spark
def test_nan_orders_above_every_number_in_spark_as_in_duckdb(spark: Any) -> None:
    from harness.spark import spark_verdicts

    table = pa.Table.from_pylist([{"process": {"ratio": float("nan")}}, {"process": {"ratio": 0.5}}])
    assert spark_verdicts(spark, parse_query("any where process.ratio > 1"), table) == [True, False]


@pytest.mark.spark
def test_a_clusters_literal_string_setting_cannot_break_the_patterns(spark: Any) -> None:
    from harness.spark import spark_session, spark_verdicts

    table = pa.table({"process": pa.array([{"name": "appcmd.exe"}, {"name": "cmd.exe"}])})
    spark.conf.set("spark.sql.parser.escapedStringLiterals", "true")  # as a spark-defaults.conf might
    session = spark_session("local[2]")  # the harness's session settings win again
    assert session.conf.get("spark.sql.parser.escapedStringLiterals") == "false"
    assert spark_verdicts(session, parse_query('any where process.name : "app*.exe"'), table) == [True, False]


@pytest.mark.spark
def test_a_naive_timestamp_column_is_refused_on_spark_as_on_duckdb(spark: Any, tmp_path: Path) -> None:
    import datetime as dt

    import pyarrow.parquet as pq

    from harness.errors import EqlUnsupportedError
    from harness.spark import SparkTable
    from harness.validation.columnar_runner import validate_table
    from harness.validation.expectations import Expectations

    path = tmp_path / "naive.parquet"
    stamp = dt.datetime(2026, 11, 27, 10, 0)  # no zone: Spark reads TIMESTAMP_NTZ
    pq.write_table(pa.table({"@timestamp": pa.array([stamp], pa.timestamp("us"))}), path)
    table = SparkTable(str(path), session=spark)
    assert table.schema.field("@timestamp").type == pa.timestamp("us")
    with pytest.raises(EqlUnsupportedError, match="date/time column"):
        validate_table(parse_query('any where @timestamp == "x"'), table, Expectations(), rule_name="r")


@pytest.mark.spark
def test_a_terminal_sees_spark_tasks_complete(spark: Any) -> None:
    import io

    from rich.console import Console

    from harness.spark.progress import spark_progress

    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=100)
    with spark_progress(spark, "a long scan", console=terminal):
        total = spark.range(0, 200_000_000, numPartitions=8).selectExpr("sum(id % 7)").collect()[0][0]
    assert total > 0
    assert "Spark: a long scan" in screen.getvalue()
    assert re.search(r"\d+/8", screen.getvalue())  # tasks done of the stage's eight


def test_nothing_is_drawn_when_stderr_is_not_a_terminal() -> None:
    import io

    from rich.console import Console

    from harness.spark.progress import spark_progress

    screen = io.StringIO()
    with spark_progress(object(), "a scan", console=Console(file=screen, force_terminal=False)):
        pass  # the session is never touched off a terminal
    assert screen.getvalue() == ""


@pytest.mark.spark
@pytest.mark.parametrize(
    "query", ["any where amount == 1.5", "any where amount > 1", "any where amount != 1.5"]
)
def test_a_decimal_column_never_equals_a_number_in_spark_as_in_duckdb(spark: Any, query: str) -> None:
    from decimal import Decimal

    from harness.spark import spark_verdicts

    table = pa.table({"amount": pa.array([Decimal("1.50")], pa.decimal128(5, 2))})
    assert spark_verdicts(spark, parse_query(query), table) == [query.endswith("!= 1.5")]


@pytest.fixture(scope="module")
def unlabelled_lake(lake: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lake as real telemetry arrives: the same events without ``labels``."""
    import pyarrow.parquet as pq

    folder = tmp_path_factory.mktemp("real")
    for part in sorted(lake.glob("*.parquet")):
        pq.write_table(pq.read_table(part).drop_columns(["labels"]), folder / part.name)
    return folder


@pytest.mark.spark
def test_alerts_on_real_telemetry_are_listed_alike_by_spark_and_duckdb(
    spark: Any, unlabelled_lake: Path
) -> None:
    validate = ["validate", str(V214), "--corpus", str(unlabelled_lake)]
    on_spark = _cli(*validate, "--engine", "spark")
    default = _cli(*validate)
    assert on_spark[1] == default[1]
    assert "alerts on events without labels (the first 20 of" in default[1]
    reports = [
        json.loads(_cli(*validate, *extra, "--format", "json")[1]) for extra in ([], ["--engine", "spark"])
    ]
    listed = [r["unlabelled_alert_examples"] for r in reports]
    assert listed[0] == listed[1]
    assert len(listed[0]) == 20
    assert [row["@timestamp"] for row in listed[0]] == sorted(row["@timestamp"] for row in listed[0])
