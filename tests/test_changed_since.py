"""``harness diff --changed-since REF``: git changes since REF, each rule judged as alone."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.app import diff_changed_since
from harness.cli import main
from harness.errors import UsageError

RULES = Path(__file__).resolve().parents[1] / "rules"
ELASTIC = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "rules" / "elastic"
IIS = "rules/windows/credential_access_iis_apppoolsa_pwd_appcmd.toml"
_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.org",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.org",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, env={**os.environ, **_ENV}
    )


def commit(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def query_of(path: Path) -> str:
    found = re.search(r"query = '''.*?'''", path.read_text(), re.S)
    assert found is not None
    return found.group(0)


def with_query(path: Path, query: str) -> None:
    path.write_text(re.sub(r"query = '''.*?'''", lambda _: query, path.read_text(), count=1, flags=re.S))


def run(root: Path, *args: str) -> tuple[int, str]:
    cwd = Path.cwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(main, ["diff", *args])
    finally:
        os.chdir(cwd)
    return result.exit_code, result.output


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "rules").mkdir(parents=True)
    for name in ("iis_appcmd_password_dumped_v220.toml", "iis_appcmd_password_dumped_v220.expect.toml"):
        shutil.copy(RULES / name, root / "rules" / name)
    shutil.copy(RULES / "iis_webshell_appcmd_sequence.toml", root / "rules" / "sequence.toml")
    git(root, "init", "-q")
    commit(root, "base")
    return root


@pytest.mark.skipif(not ELASTIC.is_dir(), reason="needs ../shared/data/rules/elastic")
def test_elastic_repository_reports_the_iis_rule_v220_to_v214(tmp_path: Path) -> None:
    root = tmp_path / "elastic"
    shutil.copytree(ELASTIC, root / "rules")
    git(root, "init", "-q")
    commit(root, "base")
    with_query(root / IIS, query_of(RULES / "iis_appcmd_password_dumped_v214.toml"))
    commit(root, "v214")
    code, output = run(root, "--changed-since", "HEAD~1", "rules/", "--format", "json")
    report = json.loads(output[output.index("{") :])
    assert [rule["path"] for rule in report["changed"]] == [IIS]
    assert report["added"] == [] and report["removed"] == []
    derived = report["changed"][0]["derived"]
    assert derived is not None
    whys = {(c["direction"], c["why"]) for c in derived["changes"]}
    # v214 drops v220's /config and connectionStrings branches and takes "/text*" for "/text:*"
    assert ("lost", 'of the changed predicates, only old\'s `process.args : "/config"` holds') in whys
    assert any(d == "gained" and '"/text*"' in why for d, why in whys)
    assert derived["lost_not_accepted"] > 0
    assert code == (0 if report["changed"][0]["status"] == "passed" else 1) == 1


def test_changed_rule_is_diffed_against_its_text_at_ref(repo: Path) -> None:
    with_query(
        repo / "rules" / "iis_appcmd_password_dumped_v220.toml",
        query_of(RULES / "iis_appcmd_password_dumped_v214.toml"),
    )
    result = diff_changed_since("HEAD", (str(repo),))  # uncommitted: the work tree counts
    assert [(r.change.kind, r.change.path) for r in result.changed] == [
        ("changed", "rules/iis_appcmd_password_dumped_v220.toml")
    ]
    diff = result.changed[0].diff
    assert diff is not None and "/config" in diff.old.rule.query and "/config" not in diff.new.rule.query


def test_added_untracked_removed_and_renamed(repo: Path) -> None:
    shutil.copy(RULES / "iis_appcmd_password_dumped_v214.toml", repo / "rules" / "new.toml")  # untracked
    (repo / "rules" / "sequence.toml").unlink()
    git(repo, "mv", "rules/iis_appcmd_password_dumped_v220.toml", "rules/moved.toml")
    result = diff_changed_since("HEAD", (str(repo),))
    assert [r.change.path for r in result.changed] == ["rules/moved.toml"]
    assert result.changed[0].change.old_path == "rules/iis_appcmd_password_dumped_v220.toml"
    assert result.added is not None and [r.path for r in result.added.runs] == [
        str(repo / "rules" / "new.toml")
    ]
    assert [c.path for c in result.removed] == ["rules/sequence.toml"]


def test_expectations_only_change_reruns_the_rule_and_lock_only_is_no_change(repo: Path) -> None:
    expect = repo / "rules" / "iis_appcmd_password_dumped_v220.expect.toml"
    expect.write_text(expect.read_text() + "\n# reviewed\n")
    (repo / "version.lock.json").write_text("{}")
    git(repo, "add", "-A")
    result = diff_changed_since("HEAD", (str(repo),))
    assert [r.change.path for r in result.changed] == ["rules/iis_appcmd_password_dumped_v220.toml"]
    assert result.added is None and not result.removed


def test_nothing_changed_exits_0_and_path_limits(repo: Path) -> None:
    shutil.copy(RULES / "iis_appcmd_password_dumped_v214.toml", repo / "new.toml")
    code, output = run(repo, "--changed-since", "HEAD", "rules", "--format", "json")
    assert code == 0, output
    assert json.loads(output) == {
        "ref": "HEAD",
        "commit": json.loads(output)["commit"],
        "changed": [],
        "added": [],
        "removed": [],
    }


def test_bad_ref_and_not_a_checkout_are_usage_errors(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown git revision 'nope'"):
        diff_changed_since("nope", (str(repo),))
    outside = tmp_path / "plain"
    outside.mkdir()
    with pytest.raises(UsageError, match="not in a git checkout"):
        diff_changed_since("HEAD", (str(outside),))
    code, output = run(repo, "--changed-since", "nope")
    assert code == 2 and "nope" in output


def test_mixing_old_new_needs_two_paths_and_junit_written_atomically(repo: Path) -> None:
    code, output = run(repo, "rules/sequence.toml")
    assert code == 2 and "--changed-since" in output
    (repo / "rules" / "sequence.toml").unlink()
    code, _ = run(repo, "--changed-since", "HEAD", "--format", "junit", "-o", "out.xml")
    assert code == 0
    assert (
        '<testcase classname="removed" name="rules/sequence.toml"><skipped/>'
        in (repo / "out.xml").read_text()
    )


def test_old_version_comes_from_the_lock_at_ref(repo: Path) -> None:
    rule = repo / "rules" / "iis_appcmd_password_dumped_v220.toml"
    text = rule.read_text()
    rule_id = re.search(r'rule_id = "([^"]+)"', text)
    assert rule_id is not None
    rule.write_text(re.sub(r"(?m)^version = \d+\n", "", text))
    lock = repo / "version.lock.json"
    lock.write_text(json.dumps({rule_id.group(1): {"version": 7}}))
    commit(repo, "versions in the lock")
    lock.write_text(json.dumps({rule_id.group(1): {"version": 8}}))
    with_query(rule, query_of(RULES / "iis_appcmd_password_dumped_v214.toml"))
    result = diff_changed_since("HEAD", (str(repo),))
    diff = result.changed[0].diff
    assert diff is not None and (diff.old.rule.version, diff.new.rule.version) == (7, 8)
