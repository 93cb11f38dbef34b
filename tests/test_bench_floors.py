"""``harness bench --generate`` and ``bench RULE --corpus X.ndjson``: each job beside its floor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import run

V214 = Path(__file__).resolve().parents[1] / "rules" / "iis_appcmd_password_dumped_v214.toml"


def test_generate_is_timed_beside_pyarrow_writing_the_same_rows() -> None:
    code, out, err = run("bench", "--generate", "--events", "500", "--seed", "3", "--json")
    assert code == 0, err
    ours, floor = json.loads(out)
    assert ours["name"].startswith("harness generate") and floor["name"].startswith("pq.write_table")
    # why: the floor writes the generator's own table read back, so both hold the same rows
    assert ours["events"] == floor["events"] == 500
    assert floor["ratio_to_floor"] == 1.0
    assert ours["ratio_to_floor"] == pytest.approx(floor["seconds"] / ours["seconds"])


def test_ndjson_validation_is_timed_beside_an_orjson_loop(tmp_path: Path) -> None:
    corpus = tmp_path / "fleet.ndjson"
    code, _, err = run("generate", "--profile", "mixed", "--events", "400", "--out", str(corpus))
    assert code == 0, err
    code, out, err = run("bench", str(V214), "--corpus", str(corpus), "--repeat", "1", "--json")
    assert code == 0, err
    timed = json.loads(out)
    lines = len(corpus.read_bytes().splitlines())
    assert timed["events"] == lines  # every line judged or counted unread, none skipped
    assert timed["alerts"] > 0  # the mixed profile holds the rule's scenarios
    assert timed["ratio"] == pytest.approx(timed["floor_seconds"] / timed["validate_seconds"])
    assert timed["validate_cpu_seconds"] > 0
    assert timed["cpu_ratio"] == pytest.approx(timed["floor_seconds"] / timed["validate_cpu_seconds"])


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--generate", str(V214)), "give no RULE"),
        (("--generate", "--plot", "x.svg"), "--plot"),
        (("--generate", "--corpus", "x.parquet"), "--corpus"),
        ((str(V214), "--corpus", "x.ndjson", "--engine", "spark"), "--engine"),
        ((), "--generate"),
    ],
)
def test_forms_of_bench_that_do_not_fit_are_refused_by_name(args: tuple[str, ...], says: str) -> None:
    code, out, err = run("bench", *args)
    assert code == 2
    assert says in out + err
