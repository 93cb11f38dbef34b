"""Detection rules as data: load Elastic rules from TOML, Markdown reference pages or bare EQL,
and Sigma rules (``.yml``) converted to EQL by pySigma (:mod:`harness.sigma`).

Every bad input raises :class:`~harness.errors.RuleLoadError` naming the file and, where it
can be found, the line. Nothing here imports the EQL package: a rule loads, and its schedule
is checked, before its query is parsed.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.errors import RuleLoadError

__all__ = [
    "DEFAULT_FROM",
    "DEFAULT_INTERVAL",
    "DEFAULT_MAX_SIGNALS",
    "DEFAULT_MISSING_FIELDS_STRATEGY",
    "MISSING_FIELDS_STRATEGIES",
    "SUPPORTED_SUFFIXES",
    "AlertSuppression",
    "Conversion",
    "ConversionNote",
    "Rule",
    "Schedule",
    "Technique",
    "Threat",
    "check_alert_suppression",
    "check_max_signals",
    "check_query",
    "load_rule",
    "schedule_seconds",
]

SUPPORTED_SUFFIXES = (".toml", ".md", ".eql", ".yml", ".yaml")

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Longer than Kibana would ever be asked for, short enough that every window is a printable date.
_MAX_SCHEDULE_S = 36_500 * 86_400
# Kibana's rule schedule: "interval" is a plain duration, "from" is date math relative to now.
_SCHEDULE = {
    "interval": (re.compile(r"([1-9][0-9]*)([smhd])"), "a duration like '5m' (units s, m, h, d)"),
    "from": (re.compile(r"now-([1-9][0-9]*)([smhd])"), "date math like 'now-9m' (units s, m, h, d)"),
    # Alert suppression's duration: AlertSuppressionDuration in Kibana's common_attributes.gen.ts
    # (value an integer >= 1, unit 's' | 'm' | 'h'; no days).
    "duration": (re.compile(r"([1-9][0-9]*)([smh])"), "a duration like '1h' (value >= 1, units s, m, h)"),
}


@dataclass(frozen=True)
class Technique:
    """A MITRE ATT&CK technique, or a sub-technique of one."""

    id: str
    name: str
    reference: str
    subtechniques: tuple[Technique, ...] = ()


@dataclass(frozen=True)
class Threat:
    """One tactic of a threat framework, with the rule's techniques under it."""

    framework: str
    tactic_id: str
    tactic_name: str
    tactic_reference: str
    techniques: tuple[Technique, ...] = ()


# Kibana's defaults for what a rule leaves out of its schedule (the detection engine's rule
# schema, common_attributes.schema.yaml: RuleInterval "Defaults to 5m", RuleIntervalFrom
# "Defaults to now-6m", MaxSignals "Defaults to 100").
DEFAULT_INTERVAL = "5m"
DEFAULT_FROM = "now-6m"
DEFAULT_MAX_SIGNALS = 100


@dataclass(frozen=True)
class Schedule:
    """How Kibana runs a rule: its own settings, Kibana's defaults for the ones it leaves out."""

    interval: str
    from_: str
    max_signals: int
    defaulted: tuple[str, ...]  # which of interval, from, max_signals came from the defaults

    @property
    def interval_s(self) -> int:
        seconds = schedule_seconds("interval", self.interval, "")
        assert seconds is not None  # checked when the rule was built
        return seconds

    @property
    def lookback_s(self) -> int:
        seconds = schedule_seconds("from", self.from_, "")
        assert seconds is not None
        return seconds


# Kibana's alert suppression (common_attributes.gen.ts, AlertSuppressionMissingFieldsStrategy; the
# default is DEFAULT_SUPPRESSION_MISSING_FIELDS_STRATEGY in common/detection_engine/constants.ts).
MISSING_FIELDS_STRATEGIES = ("suppress", "doNotSuppress")
DEFAULT_MISSING_FIELDS_STRATEGY = "suppress"
_GROUP_BY_MAX = 3  # AlertSuppressionGroupBy: z.array(z.string()).min(1).max(3)


@dataclass(frozen=True)
class AlertSuppression:
    """A rule's ``alert_suppression``: the fields alerts are grouped by, for how long, missing fields.

    ``duration`` keeps the rule's form (``"1h"``); None suppresses per rule execution only, as
    Kibana does when the rule gives no duration. Checked at construction, as Kibana's schema checks.
    """

    group_by: tuple[str, ...]
    duration: str | None = None
    missing_fields_strategy: str = DEFAULT_MISSING_FIELDS_STRATEGY

    def __post_init__(self) -> None:
        check_alert_suppression(self.group_by, self.duration, self.missing_fields_strategy, "")

    @property
    def duration_s(self) -> int | None:
        """The duration in seconds; None: per rule execution."""
        return schedule_seconds("duration", self.duration, "")

    @property
    def suppresses_missing(self) -> bool:
        """Whether events missing a group-by field are suppressed together (their value null)."""
        return self.missing_fields_strategy == "suppress"


def check_alert_suppression(
    fields: tuple[str, ...], duration: str | None, strategy: str, path: str, line: int | None = None
) -> None:
    """Kibana's schema for ``alert_suppression``: 1 to 3 distinct non-empty group-by fields, a
    duration of ``s``, ``m`` or ``h``, a known missing-fields strategy."""
    if not 1 <= len(fields) <= _GROUP_BY_MAX:
        raise RuleLoadError(
            path, f"alert_suppression.group_by has {len(fields)} fields; Kibana accepts 1 to 3", line=line
        )
    if any(not field.strip() for field in fields) or len(set(fields)) < len(fields):
        raise RuleLoadError(
            path, "alert_suppression.group_by must name distinct, non-empty fields", line=line
        )
    schedule_seconds("duration", duration, path, line)
    if strategy not in MISSING_FIELDS_STRATEGIES:
        raise RuleLoadError(
            path,
            f"alert_suppression.missing_fields_strategy is {strategy!r}; "
            "Kibana accepts 'suppress' (the default) or 'doNotSuppress'",
            line=line,
        )


@dataclass(frozen=True)
class ConversionNote:
    """Something a rule's conversion to EQL changed or relies on that a report must say."""

    severity: str  # "warning" (a result here differs from Elasticsearch's) or "info"
    code: str
    message: str

    def __str__(self) -> str:
        """As a finding prints: ``warning: [code] message``."""
        return f"{self.severity}: [{self.code}] {self.message}"


@dataclass(frozen=True)
class Conversion:
    """How a rule written in another language became the EQL the harness evaluates.

    ``converter`` names the tools and their versions, ``pipeline`` the field mapping applied;
    ``notes`` are what the conversion does that the rule's author may not expect, or what the
    harness models differently from Elasticsearch for this query (said, never approximated).
    """

    language: str  # the rule's own language, e.g. "sigma"
    converter: str
    pipeline: str
    authors: str | None = None
    licence: str | None = None
    status: str | None = None
    fields: tuple[tuple[str, str], ...] = ()  # each field as written, and as the pipeline renamed it
    notes: tuple[ConversionNote, ...] = ()


@dataclass(frozen=True)
class Rule:
    """An EQL detection rule: its query and the settings that decide where and when it runs.

    ``from_`` keeps Elastic's date-math form ("now-9m"); ``interval_seconds`` and
    ``lookback_seconds`` give the numbers. A bad schedule fails here, at construction.
    """

    name: str
    query: str
    language: str
    path: str
    rule_id: str | None = None
    version: int | None = None
    description: str | None = None
    indices: tuple[str, ...] = ()
    interval: str | None = None
    from_: str | None = None
    max_signals: int | None = None
    risk_score: int | None = None
    severity: str | None = None
    tags: tuple[str, ...] = ()
    timestamp_override: str | None = None
    building_block: bool = False
    threat: tuple[Threat, ...] = ()
    references: tuple[str, ...] = ()
    alert_suppression: AlertSuppression | None = None
    conversion: Conversion | None = None  # None: written in EQL

    def __post_init__(self) -> None:
        schedule_seconds("interval", self.interval, self.path)
        schedule_seconds("from", self.from_, self.path)
        check_max_signals(self.max_signals, self.path)

    @property
    def schedule(self) -> Schedule:
        """The schedule Kibana runs: the rule's settings, with its defaults where the rule says nothing."""
        defaulted = tuple(
            name
            for name, value in (
                ("interval", self.interval),
                ("from", self.from_),
                ("max_signals", self.max_signals),
            )
            if value is None
        )
        return Schedule(
            self.interval or DEFAULT_INTERVAL,
            self.from_ or DEFAULT_FROM,
            DEFAULT_MAX_SIGNALS if self.max_signals is None else self.max_signals,
            defaulted,
        )

    @property
    def interval_seconds(self) -> int | None:
        """How often the rule runs, in seconds ("5m" -> 300); None when unset."""
        return schedule_seconds("interval", self.interval, self.path)

    @property
    def lookback_seconds(self) -> int | None:
        """How far back each run searches, in seconds ("now-9m" -> 540); None when unset.

        The whole window, not Kibana's "additional look-back time" (the window minus the interval).
        """
        return schedule_seconds("from", self.from_, self.path)


def load_rule(path: str | os.PathLike[str], *, version_lock: str | os.PathLike[str] | None = None) -> Rule:
    """Load one rule, choosing the format by suffix: ``.toml``, ``.md``, ``.eql`` or Sigma's ``.yml``.

    A rule without a ``version`` takes the one its ``version.lock.json`` holds (``version_lock``,
    else the nearest lock beside or above the rule), as Elastic's own rules do.
    """
    where = os.fspath(path)
    suffix = Path(where).suffix.lower()
    loader = _LOADERS.get(suffix)
    if loader is None:
        shown = f"suffix {suffix!r}" if suffix else "no suffix"
        supported = ", ".join(SUPPORTED_SUFFIXES)
        raise RuleLoadError(where, f"cannot load a rule from a file with {shown}; supported: {supported}")
    from harness.version_lock import with_locked_version

    return with_locked_version(loader(where, _read(where)), version_lock)


def schedule_seconds(key: str, value: str | None, path: str, line: int | None = None) -> int | None:
    if value is None:
        return None
    pattern, form = _SCHEDULE[key]
    match = pattern.fullmatch(value.strip())
    if match is None:
        raise RuleLoadError(path, f"{key} {value!r} is not {form}", line=line)
    seconds = int(match[1]) * _UNIT_SECONDS[match[2]]
    if seconds > _MAX_SCHEDULE_S:
        raise RuleLoadError(path, f"{key} {value!r} is longer than 36500d (100 years): shorten it", line=line)
    return seconds


def check_max_signals(value: int | None, path: str, line: int | None = None) -> None:
    if value is not None and value < 1:
        raise RuleLoadError(
            path, f"max_signals is {value}; it must be at least 1, as Kibana requires", line=line
        )


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        raise RuleLoadError(path, "no such rule file") from None
    except UnicodeDecodeError as e:
        raise RuleLoadError(path, f"not UTF-8 text: {e.reason} at byte {e.start}") from e
    except OSError as e:
        raise RuleLoadError(path, f"cannot read the rule file: {e.strerror or e}") from e


def check_query(query: str, path: str, line: int | None) -> None:
    if not query.strip():
        raise RuleLoadError(path, "the rule query is empty", line=line)


def _load_eql(path: str, text: str) -> Rule:
    # EQL has its own // and /* */ comments, so the whole file is the query; the lexer skips them.
    check_query(text, path, 1)
    return Rule(name=Path(path).stem, query=text, language="eql", path=path)


# -- .toml: the elastic/detection-rules format --------------------------------------------

_TOML_POSITION = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")


class _Toml:
    """Typed access to a parsed rule table; errors point at the line of the key (best effort)."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.rule_line = self._find(r"\[rule\]", 0)

    def _find(self, pattern: str, start: int) -> int | None:
        regex = re.compile(rf"\s*{pattern}\s*(#.*)?")
        return next((n for n, s in enumerate(self.lines[start:], start + 1) if regex.fullmatch(s)), None)

    def line(self, key: str | None) -> int | None:
        """The first ``key = ...`` line from ``[rule]`` on, else the ``[rule]`` line."""
        found = self._find(rf"{re.escape(key)}\s*=.*", (self.rule_line or 1) - 1) if key else None
        return found or self.rule_line

    def error(self, message: str, key: str | None = None) -> RuleLoadError:
        return RuleLoadError(self.path, message, line=self.line(key))

    def text(self, table: Mapping[str, object], key: str, where: str = "rule") -> str | None:
        value = table.get(key)
        if value is None or isinstance(value, str):
            return value
        raise self.error(f"{where}.{key} must be a string, not {type(value).__name__}", key)

    def required(self, table: Mapping[str, object], key: str, where: str = "rule") -> str:
        value = self.text(table, key, where)
        if value is None:
            raise self.error(f"{where} has no {key}")
        return value

    def integer(self, table: Mapping[str, object], key: str) -> int | None:
        value = table.get(key)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise self.error(f"rule.{key} must be an integer, not {type(value).__name__}", key)

    def texts(self, table: Mapping[str, object], key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return tuple(value)
        raise self.error(f"rule.{key} must be a list of strings", key)

    def tables(self, table: Mapping[str, object], key: str, where: str) -> list[Mapping[str, object]]:
        value = table.get(key, [])
        if isinstance(value, list) and all(isinstance(item, dict) for item in value):
            return value
        raise self.error(f"{where}.{key} must be an array of tables ([[{where}.{key}]])", key)


def _load_toml(path: str, text: str) -> Rule:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        # tomllib (3.11) gives the position only in its message: "... (at line 3, column 7)".
        found = _TOML_POSITION.search(str(e))
        message = str(e)[: found.start()] if found else str(e)
        line = int(found[1]) if found and found[1] else len(text.splitlines()) or 1  # else: end of document
        column = int(found[2]) if found and found[2] else None
        raise RuleLoadError(path, f"invalid TOML: {message}", line=line, column=column) from e
    rule = data.get("rule")
    if not isinstance(rule, dict):
        raise RuleLoadError(path, "no [rule] table: not an Elastic detection rule")
    toml = _Toml(path, text)
    name = toml.required(rule, "name")
    query = toml.text(rule, "query")
    if query is None:
        raise toml.error("[rule] has no query")
    check_query(query, path, toml.line("query"))
    language = toml.text(rule, "language")
    if language != "eql":
        raise toml.error(f"language is {language!r}; only 'eql' rules are supported", "language")
    interval, from_ = toml.text(rule, "interval"), toml.text(rule, "from")
    schedule_seconds("interval", interval, path, toml.line("interval"))
    schedule_seconds("from", from_, path, toml.line("from"))
    check_max_signals(toml.integer(rule, "max_signals"), path, toml.line("max_signals"))
    return Rule(
        name=name,
        query=query,
        language=language,
        path=path,
        rule_id=toml.text(rule, "rule_id"),
        version=toml.integer(rule, "version"),
        description=None if (d := toml.text(rule, "description")) is None else d.strip(),
        indices=toml.texts(rule, "index"),
        interval=interval,
        from_=from_,
        max_signals=toml.integer(rule, "max_signals"),
        risk_score=toml.integer(rule, "risk_score"),
        severity=toml.text(rule, "severity"),
        tags=toml.texts(rule, "tags"),
        timestamp_override=toml.text(rule, "timestamp_override"),
        building_block=toml.text(rule, "building_block_type") is not None,
        threat=tuple(_toml_threat(toml, item) for item in toml.tables(rule, "threat", "rule")),
        references=toml.texts(rule, "references"),
        alert_suppression=_toml_suppression(toml, rule.get("alert_suppression")),
    )


def _toml_suppression(toml: _Toml, table: object) -> AlertSuppression | None:
    """``[rule.alert_suppression]``: group_by, ``duration = {value, unit}``, missing_fields_strategy."""
    if table is None:
        return None
    line = toml._find(r"\[rule\.alert_suppression\]", 0) or toml.rule_line
    where = "[rule.alert_suppression]"

    def fail(message: str) -> RuleLoadError:
        return RuleLoadError(toml.path, f"{where}: {message}", line=line)

    if not isinstance(table, dict):
        raise fail("alert_suppression must be a table")
    unknown = sorted(set(table) - {"group_by", "duration", "missing_fields_strategy"})
    if unknown:
        raise fail(f"unknown key {unknown[0]!r}; Kibana takes group_by, duration, missing_fields_strategy")
    group_by = table.get("group_by")
    if not isinstance(group_by, list) or not all(isinstance(field, str) for field in group_by):
        raise fail("group_by must be a list of 1 to 3 field names, as Kibana accepts")
    duration = table.get("duration")
    text = None
    if duration is not None:
        value = duration.get("value") if isinstance(duration, dict) else None
        unit = duration.get("unit") if isinstance(duration, dict) else None
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise fail(
                f"duration.value is {value!r}; Kibana accepts an integer >= 1 "
                '(duration = {value = 1, unit = "h"})'
            )
        if unit not in ("s", "m", "h"):
            raise fail(f"duration.unit is {unit!r}; Kibana accepts 's', 'm' or 'h'")
        text = f"{value}{unit}"
    strategy = table.get("missing_fields_strategy", DEFAULT_MISSING_FIELDS_STRATEGY)
    if not isinstance(strategy, str):
        raise fail("missing_fields_strategy must be 'suppress' or 'doNotSuppress'")
    # Checked here first, so that the error names the file and line, not only the value.
    check_alert_suppression(tuple(group_by), text, strategy, toml.path, line)
    return AlertSuppression(tuple(group_by), text, strategy)


def _toml_threat(toml: _Toml, item: Mapping[str, object]) -> Threat:
    tactic = item.get("tactic")
    if not isinstance(tactic, dict):
        raise toml.error("a [[rule.threat]] has no [rule.threat.tactic] table", "framework")
    where = "rule.threat.tactic"
    return Threat(
        framework=toml.required(item, "framework", "rule.threat"),
        tactic_id=toml.required(tactic, "id", where),
        tactic_name=toml.required(tactic, "name", where),
        tactic_reference=toml.required(tactic, "reference", where),
        techniques=tuple(
            _toml_technique(toml, t, "rule.threat.technique")
            for t in toml.tables(item, "technique", "rule.threat")
        ),
    )


def _toml_technique(toml: _Toml, item: Mapping[str, object], where: str) -> Technique:
    subs = toml.tables(item, "subtechnique", where)
    return Technique(
        id=toml.required(item, "id", where),
        name=toml.required(item, "name", where),
        reference=toml.required(item, "reference", where),
        subtechniques=tuple(_toml_technique(toml, s, f"{where}.subtechnique") for s in subs),
    )


# -- .md: the reference page Elastic publishes for each prebuilt rule ---------------------


def _load_markdown(path: str, text: str) -> Rule:
    # The page reader lives in its own module; it builds on this one's Rule.
    from harness.rule_pages import load_markdown

    return load_markdown(path, text)


# -- .yml: Sigma, converted by pySigma (the [sigma] extra) --------------------------------


def _load_sigma(path: str, text: str) -> Rule:
    # The converter imports pySigma, which only the [sigma] extra installs.
    from harness.sigma import load_sigma

    return load_sigma(path, text)


_LOADERS: dict[str, Callable[[str, str], Rule]] = {
    ".toml": _load_toml,
    ".md": _load_markdown,
    ".eql": _load_eql,
    ".yml": _load_sigma,
    ".yaml": _load_sigma,
}
