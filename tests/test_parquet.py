"""Parquet corpora built in columns hold what rendering every event and reading it as JSON gives."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from generators import fastpath
from generators import parquet as parquet_module
from generators.columnar import Block, Obj, Row, document_tree
from generators.columns import base64_column, guid_column, iso_column
from generators.corpus import CorpusStats, write_corpus
from generators.parquet import parquet_schema
from generators.profiles import CorpusOptions, corpus_launches
from generators.sources import SOURCES
from generators.sources.common import entity_guid, iso
from generators.sources.template import PartSlot, RowSlot, TemplateError

from bundled import APPCMD

CASES = {
    "fleet": CorpusOptions("fleet", events=6_000, seed=4, days=3, attack_rate=2_000.0, catalogue=APPCMD),
    "mixed": CorpusOptions("mixed", events=4_000, seed=21, catalogue=APPCMD),
    "background-alone": CorpusOptions("fleet", events=3_000, seed=9, days=2),
    "scenarios": CorpusOptions("scenarios", seed=7, catalogue=APPCMD),
}


def _documents_table(options: CorpusOptions) -> pa.Table:
    """The corpus as ``pa.Table.from_pylist`` of its documents in Parquet's spelling: no template, no JSON."""
    documents = [orjson.loads(src.dumps(launch, columnar=True)) for launch, src in corpus_launches(options)]
    return pa.Table.from_pylist(documents, schema=parquet_schema(options.catalogue))


@pytest.mark.parametrize("name", list(CASES))
def test_columns_hold_what_the_json_route_reads(tmp_path: Path, name: str) -> None:
    options = CASES[name]
    fast, reference = tmp_path / "fast.parquet", tmp_path / "reference.parquet"
    fast_stats = write_corpus(options, fast)
    reference_stats = write_corpus(options, reference, reference=True)
    table = pq.read_table(fast)
    assert table.equals(pq.read_table(reference))
    assert fast_stats == reference_stats
    assert table.equals(_documents_table(options))
    assert fast.read_bytes() == reference.read_bytes()


def test_every_source_and_spelling_is_in_the_fleet_case(tmp_path: Path) -> None:
    write_corpus(CASES["fleet"], tmp_path / "f.parquet")
    table = pq.read_table(tmp_path / "f.parquet")
    labels = table.column("labels").combine_chunks()
    assert set(labels.field("source").to_pylist()) == set(SOURCES)
    assert {"benign", "malicious"} <= set(labels.field("intent").to_pylist())
    endgame = [row for row in table.to_pylist() if row["labels"]["source"] == "endgame"]
    assert endgame and all(row["event"]["category"] == ["process"] for row in endgame)
    assert all(isinstance(row["@timestamp"], str) and row["@timestamp"].endswith("Z") for row in endgame)


def test_row_groups_of_a_fixed_size_whatever_made_the_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parquet_module, "ROW_GROUP", 1_000)
    monkeypatch.setattr(fastpath, "_CHUNK", 700)  # chunks that straddle row groups
    options = CorpusOptions("fleet", events=4_500, seed=3, days=2, attack_rate=1_000.0, catalogue=APPCMD)
    fast, reference = tmp_path / "fast.parquet", tmp_path / "reference.parquet"
    write_corpus(options, fast)
    write_corpus(options, reference, reference=True)
    metadata = pq.ParquetFile(fast).metadata
    assert [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)] == [1_000] * 4 + [500]
    assert fast.read_bytes() == reference.read_bytes()


def test_memory_does_not_grow_with_the_corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parquet_module, "ROW_GROUP", 2_048)
    monkeypatch.setattr(fastpath, "_CHUNK", 2_000)

    def peak(events: int) -> int:
        pool = pa.proxy_memory_pool(pa.default_memory_pool())
        previous = pa.default_memory_pool()
        pa.set_memory_pool(pool)
        try:
            write_corpus(
                CorpusOptions("fleet", events=events, seed=5, days=1), tmp_path / f"{events}.parquet"
            )
        finally:
            pa.set_memory_pool(previous)
        return int(pool.max_memory() or 0)

    small, large = peak(10_000), peak(40_000)
    assert small > 0
    assert large < 1.5 * small, f"peak Arrow memory {small:,} B at 10,000 events, {large:,} B at 40,000"


def test_progress_is_reported_per_chunk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastpath, "_CHUNK", 1_000)
    seen: list[int] = []
    write_corpus(
        CorpusOptions("fleet", events=3_500, seed=2, days=1), tmp_path / "p.parquet", on_progress=seen.append
    )
    assert seen == [1_000, 2_000, 3_000, 3_500]


def test_a_field_the_schema_lacks_is_refused_with_its_source_and_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = parquet_schema(None)
    process = schema.field("process").type
    narrower = pa.struct([f for f in process if f.name != "pe"])
    monkeypatch.setattr(
        parquet_module,
        "parquet_schema",
        lambda catalogue: schema.set(schema.get_field_index("process"), pa.field("process", narrower)),
    )
    out = tmp_path / "never.parquet"
    with pytest.raises(TemplateError, match=r"^endpoint: process\.pe: not in the Parquet schema"):
        write_corpus(CorpusOptions("fleet", events=2_000, seed=1, days=1), out)
    assert not out.exists()


@pytest.mark.parametrize("source", list(SOURCES))
def test_the_document_tree_places_every_slot_of_the_template(source: str) -> None:
    template = SOURCES[source].template(columnar=True)
    tree = document_tree(template)
    found: list[Any] = []

    def walk(node: Any) -> None:
        if isinstance(node, Obj):
            found.extend(node.spreads)
            for child in node.fields.values():
                walk(child)
        elif isinstance(node, Block):
            found.append(node.slot)
        elif isinstance(node, Row):
            found.append(RowSlot(node.name))

    walk(tree)
    slots = [p for p in template.pieces if isinstance(p, PartSlot | RowSlot)]
    assert sorted(map(repr, found)) == sorted(map(repr, slots))


RNG = np.random.default_rng(11)
# From the epoch to 2200 (the corpus's range), with the edges of days, leap days and centuries.
INSTANTS = np.concatenate(
    [
        RNG.integers(0, 7_258_118_400 * 10**9, size=5_000),
        np.array([0, 951_782_400, 951_868_799, 4_107_542_399, 7_258_118_399]) * 10**9 + 999_999_999,
    ]
)


@pytest.mark.parametrize("digits", [0, 3, 6, 7, 9])
def test_iso_column_is_the_renderers_iso(digits: int) -> None:
    assert iso_column(INSTANTS, digits).to_pylist() == [iso(int(ns), digits)[:-1] for ns in INSTANTS]


def test_guid_column_is_the_renderers_guid() -> None:
    hi, lo = RNG.integers(0, 2**63, size=(2, 2_000))
    for reverse in (False, True):
        expected = [
            entity_guid((f"{h:016x}{low:016x}")[:: -1 if reverse else 1])
            for h, low in zip(hi.tolist(), lo.tolist(), strict=True)
        ]
        assert guid_column(hi, lo, reverse).to_pylist() == expected


def test_base64_column_is_base64() -> None:
    texts = [
        "",
        "a",
        "ab",
        "abc",
        *(f"{'x' * int(n)}-{i}" for i, n in enumerate(RNG.integers(0, 40, size=3_000))),
    ]
    assert base64_column(pa.array(texts)).to_pylist() == [
        base64.b64encode(t.encode()).decode() for t in texts
    ]
    assert base64_column(pa.array(texts).slice(5)).to_pylist() == [
        base64.b64encode(t.encode()).decode() for t in texts[5:]
    ]


def test_stats_count_every_event_once(tmp_path: Path) -> None:
    options = CASES["fleet"]
    stats = write_corpus(options, tmp_path / "s.parquet")
    expected = CorpusStats()
    for launch, src in corpus_launches(options):
        expected.count(launch, src)
    assert stats == expected
