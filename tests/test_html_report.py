"""The HTML report: a well-formed, self-contained page whose numbers can be read back."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harness import report
from harness.cli import main
from harness.html_report import ReportData, render_html

ROOT = Path(__file__).resolve().parents[1]
V214 = ROOT / "rules" / "iis_appcmd_password_dumped_v214.toml"
V220 = ROOT / "rules" / "iis_appcmd_password_dumped_v220.toml"
FLEET_EVENTS = 3000
# Elements that never have a closing tag in HTML.
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "source", "wbr"}


class _Page(HTMLParser):
    """Checks that every opened tag is closed in order, and keeps every element's attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.errors: list[str] = []
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.open[-1] if self.open else 'nothing'}")
            return
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def data() -> ReportData:
    return report(
        [V214, V220], seed=0, fleet_events=FLEET_EVENTS, generated_at="2026-11-27T00:00Z", mutations=False
    )


@pytest.fixture(scope="module")
def page(data: ReportData) -> str:
    return render_html(data)


@pytest.fixture(scope="module")
def parsed(page: str) -> _Page:
    return _parse(page)


def _overall(parsed: _Page, scenario: str, version: str) -> dict[str, str]:
    (cell,) = [
        attrs
        for tag, attrs in parsed.elements
        if tag == "td"
        and attrs.get("data-scenario") == scenario
        and attrs.get("data-version") == version
        and attrs.get("data-source") == "all"
    ]
    return cell


def test_every_opened_tag_is_closed(parsed: _Page) -> None:
    assert parsed.errors == []
    assert parsed.open == []


def test_the_page_loads_nothing_from_elsewhere(page: str, parsed: _Page) -> None:
    assert "http://" not in page
    assert "https://" not in page
    assert not [tag for tag, _ in parsed.elements if tag in {"script", "link", "img", "iframe"}]
    assert not [attrs for _, attrs in parsed.elements if "src" in attrs or "href" in attrs]


def test_the_header_names_rules_corpora_seed_and_time(parsed: _Page) -> None:
    text = " ".join(parsed.text)
    for expected in (
        "v214",
        "v220",
        "profile scenarios (seed 0)",
        "3,000 events",
        "seed: 0",
        "2026-11-27T00:00Z",
    ):
        assert expected in text


@pytest.mark.parametrize(
    ("scenario", "alerting_in_v214", "alerting_in_v220"),
    [("monitor-list-apppools-text-name", True, False), ("appcmd-upper-case", True, False)],
)
def test_heatmap_cells_show_what_each_version_alerts_on(
    parsed: _Page, scenario: str, alerting_in_v214: bool, alerting_in_v220: bool
) -> None:
    assert (int(_overall(parsed, scenario, "v214")["data-alerts"]) > 0) is alerting_in_v214
    assert (int(_overall(parsed, scenario, "v220")["data-alerts"]) > 0) is alerting_in_v220


def test_heatmap_marks_the_expectation_status(parsed: _Page) -> None:
    statuses = {
        attrs["data-status"] for tag, attrs in parsed.elements if tag == "td" and "data-status" in attrs
    }
    assert statuses <= {"expected", "known-gap", "known-noise", "violation"}
    assert "expected" in statuses


# A fleet of a few thousand events holds no attack, so the chart's numbers are set by hand.
DAILY = {"v214": {"2026-11-02": 4, "2026-11-04": 10, "2026-11-05": 1}, "v220": {"2026-11-04": 5}}


@pytest.fixture(scope="module")
def charted(data: ReportData) -> tuple[ReportData, _Page]:
    versions = tuple(
        replace(version, noise=replace(version.noise, alerts_per_day=DAILY[version.label]))
        for version in data.versions
    )
    with_counts = replace(data, versions=versions)
    return with_counts, _parse(render_html(with_counts))


def _bars(parsed: _Page) -> list[dict[str, str]]:
    return [attrs for tag, attrs in parsed.elements if tag == "rect" and "data-count" in attrs]


def test_the_chart_has_one_bar_group_per_day(charted: tuple[ReportData, _Page]) -> None:
    data, parsed = charted
    groups = [attrs["data-group"] for tag, attrs in parsed.elements if tag == "g" and "data-group" in attrs]
    assert groups == list(data.fleet_days)
    assert len(_bars(parsed)) == len(groups) * len(data.versions)


@pytest.mark.parametrize("label", ["v214", "v220"])
def test_the_chart_counts_each_versions_alerts_per_day(charted: tuple[ReportData, _Page], label: str) -> None:
    data, parsed = charted
    counts = [int(bar["data-count"]) for bar in _bars(parsed) if bar["data-series"] == label]
    assert counts == [DAILY[label].get(day, 0) for day in data.fleet_days]


def test_the_chart_bar_heights_are_proportional_to_counts(charted: tuple[ReportData, _Page]) -> None:
    bars = _bars(charted[1])
    tallest = max(float(bar["height"]) for bar in bars)
    assert tallest > 0
    for bar in bars:
        assert float(bar["height"]) == pytest.approx(int(bar["data-count"]) / 10 * tallest, abs=0.01)


def test_a_rule_name_is_escaped(tmp_path: Path) -> None:
    copy = tmp_path / V214.name
    text = V214.read_text(encoding="utf-8")
    copy.write_text(
        re.sub(r'(?m)^name = ".*"$', 'name = "<script>alert(1)</script>"', text), encoding="utf-8"
    )
    shutil.copy(V214.with_name(V214.stem + ".expect.toml"), tmp_path / (V214.stem + ".expect.toml"))
    data = report([copy], seed=0, fleet_events=500, mutations=False)
    page = render_html(data)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert _parse(page).errors == []


def test_the_same_inputs_give_the_same_bytes(data: ReportData, page: str) -> None:
    again = report(
        [V214, V220], seed=0, fleet_events=FLEET_EVENTS, generated_at="2026-11-27T00:00Z", mutations=False
    )
    assert render_html(again) == page


def test_without_a_time_the_page_says_so(data: ReportData) -> None:
    page = render_html(replace(data, generated_at=None))
    assert "generated: not given" in page


def test_mutation_testing_not_run_says_so(parsed: _Page) -> None:
    assert "Mutation testing: not run." in " ".join(parsed.text)


MUTATION: Mapping[str, Any] = {
    "score": 0.75,
    "killed": 3,
    "total": 4,
    "survivors": [{"description": "drop <args>", "query": 'process.name : "x"', "note": "n", "extra": 1}],
    "engine": "an extra key the renderer ignores",
}


def test_mutation_results_are_shown_and_escaped() -> None:
    plain = report([V214], seed=0, fleet_events=500, mutations=False)
    data = replace(plain, versions=(replace(plain.versions[0], mutation=MUTATION),))
    page = render_html(data)
    parsed = _parse(page)
    assert parsed.errors == []
    assert "score 75.0%: 3 of 4 mutants killed" in page
    assert "drop &lt;args&gt;" in page
    assert "process.name : &quot;x&quot;" in page


def test_cli_writes_the_page_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.cli.judging

    out = tmp_path / "report.html"
    used: list[str] = []
    real = harness.cli.judging.atomic_writer

    def spy(path: str) -> Any:
        used.append(str(path))
        return real(path)

    monkeypatch.setattr(harness.cli.judging, "atomic_writer", spy)
    result = CliRunner().invoke(
        main, ["report", str(V214), str(V220), "--html", str(out), "--events", "1000", "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    assert used == [str(out)]
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary file left behind
    page = out.read_text(encoding="utf-8")
    # The CLI runs mutation testing for each version; the scores are the pinned ones of seed 7
    # only, so here it is enough that both sections carry a score.
    assert page.count("mutants killed") == 2
    assert "Mutation testing: not run." not in page


@pytest.mark.skipif(
    shutil.which("chromium") is None, reason="chromium is not installed (apt-get install chromium)"
)
def test_a_headless_browser_renders_the_page(tmp_path: Path, page: str) -> None:
    html = tmp_path / "report.html"
    html.write_text(page, encoding="utf-8")
    png = tmp_path / "x.png"
    subprocess.run(
        [
            "chromium",
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            f"--screenshot={png}",
            "--window-size=1280,2000",
            html.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 1000


def test_a_sequence_rule_is_reported_beside_a_single_event_one() -> None:
    webshell = ROOT / "rules" / "iis_webshell_appcmd_sequence.toml"
    data = report([V214, webshell], seed=0, fleet_events=FLEET_EVENTS, mutations=False)
    single, searched = data.versions
    assert searched.scenarios.sequences is not None and single.scenarios.sequences is None
    # The two web-shell chains in the six sources that write process.args, and PowerUp's enumeration.
    assert searched.scenarios.alerts == 18
    page = render_html(data)
    assert "sequences, " in page and "building blocks" in page
