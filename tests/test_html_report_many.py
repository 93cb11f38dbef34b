"""The HTML report over a rule repository: a summary row per rule, each linking to its drill-down."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harness.app import Corpus, validate_many
from harness.app.report import SURVIVORS_SHOWN, compares_versions, report_repository
from harness.cli import main
from harness.eql import parse_statement
from harness.html_report.repository import RepositoryReport
from harness.html_report.repository_page import render_repository_html
from harness.rule_paths import expand_rule_paths
from harness.schedule.search_result import SequenceSimulation
from harness.validation.reports.many import SUMMARY_COLUMNS, summary_row
from harness.validation.sequences import is_multi_event
from harness.vocabulary import Profile

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "rules"
V214 = RULES / "iis_appcmd_password_dumped_v214.toml"
V220 = RULES / "iis_appcmd_password_dumped_v220.toml"
WEBSHELL = RULES / "iis_webshell_appcmd_sequence.toml"
ELASTIC = ROOT.parent / "shared" / "data" / "rules" / "elastic"
SCENARIOS = Corpus(profile=Profile.SCENARIOS, seed=0)
TIME = SUMMARY_COLUMNS.index("time")
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "source", "wbr"}


class _Page(HTMLParser):
    """Every element with its attributes and the text inside it; tags closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.errors: list[str] = []
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.rows: list[list[str]] = []  # each summary row's cell texts
        self._in_summary = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        self.elements.append((tag, found))
        if tag == "table":
            self._in_summary = "summary" in found.get("class", "").split()
        if self._in_summary and tag == "tr" and "data-path" in found:
            self.rows.append([])
        if self._in_summary and tag == "td":
            self._cell = []
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None
        if tag == "table":
            self._in_summary = False
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.open[-1] if self.open else 'nothing'}")
            return
        self.open.pop()

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    return parser


def _repository(tmp: Path) -> Path:
    """A failing rule (version 214 held to 220's expectations), a rule that cannot load, a passing one."""
    shutil.copy(V214, tmp / "failing.toml")
    shutil.copy(V220.with_name(V220.stem + ".expect.toml"), tmp / "failing.expect.toml")
    (tmp / "broken.toml").write_text("[rule\nname = ", encoding="utf-8")
    shutil.copy(WEBSHELL, tmp / "sequence.toml")
    shutil.copy(WEBSHELL.with_name(WEBSHELL.stem + ".expect.toml"), tmp / "sequence.expect.toml")
    return tmp


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> RepositoryReport:
    return report_repository([_repository(tmp_path_factory.mktemp("rules"))], SCENARIOS, mutations=False)


@pytest.fixture(scope="module")
def rules() -> RepositoryReport:
    return report_repository([RULES], SCENARIOS, mutations=False, generated_at="2026-12-02T00:00Z")


@pytest.fixture(scope="module")
def page(rules: RepositoryReport) -> str:
    return render_repository_html(rules)


@pytest.fixture(scope="module")
def parsed(page: str) -> _Page:
    return _parse(page)


def test_every_opened_tag_is_closed(parsed: _Page) -> None:
    assert parsed.errors == []
    assert parsed.open == []


def test_the_page_loads_nothing_from_elsewhere(page: str, parsed: _Page) -> None:
    assert "http://" not in page and "https://" not in page
    assert not [tag for tag, _ in parsed.elements if tag in {"script", "link", "img", "iframe"}]
    assert not [attrs for _, attrs in parsed.elements if "src" in attrs]
    assert all(attrs["href"].startswith("#") for _, attrs in parsed.elements if "href" in attrs)


def test_one_summary_row_per_rule_with_the_many_rule_reports_cells(
    rules: RepositoryReport, parsed: _Page
) -> None:
    expected = [list(summary_row(report)) for report in rules.reports]
    for row in expected:
        row[TIME] = "-"  # no clock on the page unless asked for
    assert parsed.rows == expected
    assert len(parsed.rows) == len(expand_rule_paths([RULES]))


def test_the_summary_numbers_are_validate_many_s(rules: RepositoryReport) -> None:
    """The same run as ``harness validate PATH``: every cell but the time is the same."""
    many = validate_many([RULES], SCENARIOS)
    by_path = {report.path: summary_row(report) for report in many.reports()}
    for report in rules.reports:
        ours, theirs = summary_row(report), by_path[report.path]
        assert ours[:TIME] + ours[TIME + 1 :] == theirs[:TIME] + theirs[TIME + 1 :]


def test_every_row_links_to_its_rule_s_drill_down(parsed: _Page) -> None:
    ids = {attrs["id"] for _, attrs in parsed.elements if "id" in attrs}
    links = [attrs["href"][1:] for tag, attrs in parsed.elements if tag == "a"]
    rules = len(expand_rule_paths([RULES]))
    assert len(links) == rules and len(set(links)) == rules
    assert set(links) <= ids


def test_versions_of_one_rule_share_a_drill_down(rules: RepositoryReport) -> None:
    (group,) = [g for g in rules.groups if len(g.reports) == 2]
    assert [Path(r.path).name for r in group.reports] == [V214.name, V220.name]
    assert group.versions is not None
    assert [v.label for v in group.versions.versions] == ["v214", "v220"]


def test_the_side_by_side_heatmap_tells_the_versions_apart(page: str) -> None:
    # SigmaHQ's rule shares the title; Elastic's two versions share the drill-down.
    section = _section(page, "Microsoft IIS Service Account Password Dumped", 'data-version="v214"')
    cells = {
        (match["version"], int(match["alerts"]))
        for match in re.finditer(
            r'data-scenario="monitor-list-apppools-text-name" data-version="(?P<version>[^"]+)" '
            r'data-source="all" data-alerts="(?P<alerts>\d+)"',
            section,
        )
    }
    assert {version for version, _ in cells} == {"v214", "v220"}
    assert dict(cells)["v214"] > 0 and dict(cells)["v220"] == 0


def test_a_sequence_rule_renders_its_searches(page: str) -> None:
    section = _section(page, "IIS Web Shell Dumps an Application Pool Password")
    assert "sequences, " in section and "building blocks" in section


def _section(page: str, title: str, holding: str = "") -> str:
    """The drill-down titled ``title`` (the one holding ``holding``, where rules share a title)."""
    (section,) = [
        s for s in page.split('<section class="rule">') if s.startswith(f"<h3>{title}</h3>") and holding in s
    ]
    return section


def test_failing_and_errored_rules_come_first(mixed: RepositoryReport) -> None:
    assert [(Path(r.path).name, r.status) for r in mixed.reports] == [
        ("broken.toml", "error"),
        ("failing.toml", "failed"),
        ("sequence.toml", "passed"),
    ]
    assert [Path(g.reports[0].path).name for g in mixed.groups] == [
        "broken.toml",
        "failing.toml",
        "sequence.toml",
    ]


def test_an_errored_rule_shows_its_error(mixed: RepositoryReport) -> None:
    page = render_repository_html(mixed)
    (error,) = [r.error for r in mixed.reports if r.error is not None]
    assert "broken.toml" in error
    from html import escape

    assert page.count(escape(error)) == 2  # its summary row and its drill-down
    assert _parse(page).errors == []


def test_a_failing_rule_s_full_report_is_open(mixed: RepositoryReport) -> None:
    page = render_repository_html(mixed)
    assert re.search(r"<details open><summary>[^<]*failing\.toml: the rule", page)
    assert re.search(r"<details><summary>[^<]*sequence\.toml: the rule", page)


def test_the_same_inputs_give_the_same_bytes(page: str) -> None:
    again = report_repository([RULES], SCENARIOS, mutations=False, generated_at="2026-12-02T00:00Z")
    assert render_repository_html(again) == page


def test_timings_fill_the_time_column(rules: RepositoryReport) -> None:
    rows = _parse(render_repository_html(replace(rules, timings=True))).rows
    assert all(re.fullmatch(r"\d+\.\d\ds", row[TIME]) for row in rows)


def test_an_extra_section_goes_between_the_summary_and_the_rules(rules: RepositoryReport) -> None:
    page = render_repository_html(rules, extra=[("Time against rules", '<p id="plot">plot</p>')])
    assert (
        page.index("<h2>Summary</h2>")
        < page.index("<h2>Time against rules</h2>")
        < page.index("<h2>Rules</h2>")
    )


@pytest.mark.parametrize(
    ("paths", "versions"),
    [
        ([V214], True),
        ([V214, V220], True),
        ([V214, WEBSHELL], False),
        ([RULES], False),
        ([str(RULES / "*.toml")], False),
        ([RULES / "missing.toml"], True),  # one rule's error, as before
    ],
    ids=["one-rule", "two-versions", "two-rule-ids", "folder", "glob", "missing-file"],
)
def test_which_page_the_arguments_ask_for(paths: list[Any], versions: bool) -> None:
    assert compares_versions(paths) is versions


def test_cli_writes_the_repository_page_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.cli.judging

    out = tmp_path / "out" / "report.html"
    out.parent.mkdir()
    used: list[str] = []
    real = harness.cli.judging.atomic_writer

    def spy(path: str) -> Any:
        used.append(str(path))
        return real(path)

    monkeypatch.setattr(harness.cli.judging, "atomic_writer", spy)
    result = CliRunner().invoke(
        main, ["report", str(RULES), "--html", str(out), "--events", "500", "--no-mutations"]
    )
    assert result.exit_code == 0, result.output
    assert used == [str(out)]
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]
    page = out.read_text(encoding="utf-8")
    assert "corpus: profile fleet (seed 7, 500 events)" in page
    assert len(_parse(page).rows) == len(expand_rule_paths([RULES]))
    assert "Mutation testing: not run." in page


def test_cli_refuses_repository_options_on_the_version_page(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["report", str(V214), str(V220), "--html", str(tmp_path / "r.html"), "--profile", "mixed"]
    )
    assert result.exit_code == 2
    assert "--profile: for the repository page" in result.output
    assert not (tmp_path / "r.html").exists()


@pytest.mark.skipif(not ELASTIC.is_dir(), reason="../shared/data/rules/elastic is not checked out")
def test_elastic_rules_with_their_sequences_render() -> None:
    data = report_repository([ELASTIC], Corpus(profile=Profile.FLEET, events=2000), mutations=False)
    assert len(data.reports) == 45
    page = render_repository_html(data)
    assert _parse(page).errors == []
    searched = [
        version
        for group in data.groups
        if group.versions is not None
        for version in group.versions.versions
        if is_multi_event(parse_statement(version.rule.query))
    ]
    assert len(searched) == 10  # nine sequences and a sample
    assert all(isinstance(version.simulation, SequenceSimulation) for version in searched)
    assert page.count("sequences, ") >= 10


def test_mutations_list_a_few_survivors_and_count_the_rest() -> None:
    data = report_repository([V220], SCENARIOS)
    (group,) = data.groups
    assert group.versions is not None
    mutation = group.versions.versions[0].mutation
    assert mutation is not None
    survivors, left_out = mutation["survivors"], mutation["survivors_left_out"]
    assert len(survivors) == min(SURVIVORS_SHOWN, mutation["total"] - mutation["killed"])
    assert len(survivors) + left_out == mutation["total"] - mutation["killed"]
    page = render_repository_html(data)
    assert ("more: harness mutate lists every one." in page) is (left_out > 0)
    assert "mutants killed" in page


def test_a_rule_that_cannot_be_mutation_tested_says_why(rules: RepositoryReport) -> None:
    (group, *_) = [g for g in rules.groups if g.versions is not None]
    assert group.versions is not None
    version = replace(group.versions.versions[0], mutation={"not_run": "no <catalogue>"})
    changed = replace(group, versions=replace(group.versions, versions=(version,)))
    page = render_repository_html(replace(rules, groups=(changed,)))
    assert "Mutation testing: not run (no &lt;catalogue&gt;)." in page


def test_cli_writes_the_page_and_exits_2_when_a_rule_cannot_run(tmp_path: Path) -> None:
    shutil.copy(V214, tmp_path / "v214.toml")
    (tmp_path / "broken.toml").write_text("[rule\nname = ", encoding="utf-8")
    out = tmp_path / "r.html"
    result = CliRunner().invoke(
        main,
        ["report", str(tmp_path), "--html", str(out), "--events", "300", "--no-mutations", "--no-derived"],
    )
    assert result.exit_code == 2, result.output
    assert "broken.toml" in result.output
    assert len(_parse(out.read_text(encoding="utf-8")).rows) == 2
