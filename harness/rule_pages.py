"""Elastic's published rule reference pages (Markdown) read as a :class:`~harness.rules.Rule`.

A page gives the rule's fields as ``**Label**: value`` lines and bullets, its query in a
fenced block under ``## Rule query`` and its ATT&CK mapping under **Framework**; every
mistake names the page and the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from harness.errors import RuleLoadError
from harness.rules import Rule, Technique, Threat, check_max_signals, check_query, schedule_seconds

__all__ = ["load_markdown"]


_TITLE = re.compile(r"#\s+(.+?)(?:\s+\[[^\]]*\])?\s*")  # "# Name [anchor]"
_FIELD = re.compile(r"\*\*([^*]+)\*\*:\s*(.*)")  # "**Label**: value"
_BULLET = re.compile(r"(\s*)[*-]\s+(.*)")
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"\s*(```+|~~~+)\s*[\w+-]*\s*")
_BBR_TAG = "Rule Type: BBR"


@dataclass(frozen=True)
class _Field:
    line: int
    value: str
    bullets: tuple[tuple[int, str], ...]  # (indent, text)


def load_markdown(path: str, text: str) -> Rule:
    lines = text.splitlines()
    start = _after_front_matter(lines)
    title_at = next((i for i in range(start, len(lines)) if _TITLE.fullmatch(lines[i])), None)
    if title_at is None:
        raise RuleLoadError(path, "no '# Title' heading: not an Elastic rule reference page")
    title = _TITLE.fullmatch(lines[title_at])
    assert title is not None
    fields, frameworks = _md_fields(lines, title_at + 1)
    query = _md_query(path, lines)

    def value(label: str) -> str | None:
        return fields[label].value or None if label in fields else None

    def number(label: str) -> int | None:
        raw = value(label)
        if raw is not None and not raw.isdigit():
            raise RuleLoadError(path, f"**{label}** is not a whole number: {raw!r}", line=fields[label].line)
        return None if raw is None else int(raw)

    def bullets(label: str) -> tuple[str, ...]:
        return tuple(_unlink(item) for _, item in fields[label].bullets) if label in fields else ()

    rule_type = value("Rule type")
    if rule_type != "eql":
        line = fields["Rule type"].line if "Rule type" in fields else title_at + 1
        raise RuleLoadError(path, f"rule type is {rule_type!r}; only 'eql' rules are supported", line=line)
    interval = value("Runs every")
    # "now-9m ({{ref}}/common-options.html#date-math[Date Math format], see also ...)"
    from_ = (value("Searches indices from") or "").split("(", 1)[0].strip() or None
    schedule_seconds("interval", interval, path, fields["Runs every"].line if interval else None)
    schedule_seconds("from", from_, path, fields["Searches indices from"].line if from_ else None)
    cap = "Maximum alerts per execution"
    check_max_signals(number(cap), path, fields[cap].line if cap in fields else None)
    tags = bullets("Tags")
    return Rule(
        name=title[1],
        query=query,
        language="eql",
        path=path,
        rule_id=value("Rule ID"),
        version=number("Version"),
        description=_md_description(lines, title_at + 1),
        indices=bullets("Rule indices"),
        interval=interval,
        from_=from_,
        max_signals=number("Maximum alerts per execution"),
        risk_score=number("Risk score"),
        severity=value("Severity"),
        tags=tags,
        timestamp_override=value("Timestamp override"),
        building_block=_BBR_TAG in tags,
        threat=tuple(threat for found in frameworks for threat in _md_threats(path, found)),
        references=bullets("References"),
    )


def _after_front_matter(lines: list[str]) -> int:
    if lines and lines[0].strip() == "---":
        return next((i + 1 for i in range(1, len(lines)) if lines[i].strip() == "---"), 0)
    return 0


def _md_fields(lines: list[str], start: int) -> tuple[dict[str, _Field], list[_Field]]:
    """The ``**Label**: value`` fields with the bullets under them; Framework blocks can repeat."""
    fields: dict[str, _Field] = {}
    frameworks: list[_Field] = []
    i = start
    while i < len(lines):
        match = _FIELD.fullmatch(lines[i])
        i += 1
        if match is None:
            continue
        line, bullets = i, []
        while i < len(lines) and (not lines[i].strip() or _BULLET.fullmatch(lines[i])):
            if bullet := _BULLET.fullmatch(lines[i]):
                bullets.append((len(bullet[1].expandtabs(4)), bullet[2].strip()))
            i += 1
        label, found = match[1].strip(), _Field(line, match[2].strip(), tuple(bullets))
        if label == "Framework":
            frameworks.append(found)
        else:
            fields.setdefault(label, found)
    return fields, frameworks


def _md_description(lines: list[str], start: int) -> str | None:
    end = next(
        (i for i in range(start, len(lines)) if _FIELD.fullmatch(lines[i]) or lines[i].startswith("#")), None
    )
    return "\n".join(lines[start:end]).strip() or None


def _md_query(path: str, lines: list[str]) -> str:
    heading = next((i for i, text in enumerate(lines) if re.match(r"##\s+Rule query\b", text)), None)
    if heading is None:
        raise RuleLoadError(path, "no '## Rule query' section: the page has no query to load")
    for i in range(heading + 1, len(lines)):
        if lines[i].startswith("#"):
            break
        if (fence := _FENCE.fullmatch(lines[i])) is None:
            continue
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip().startswith(fence[1])), None)
        if end is None:
            raise RuleLoadError(path, "the query's fenced block is never closed", line=i + 1)
        query = "\n".join(lines[i + 1 : end])
        check_query(query, path, i + 2)
        return query
    raise RuleLoadError(path, "the '## Rule query' section has no fenced ``` block", line=heading + 1)


def _md_threats(path: str, framework: _Field) -> list[Threat]:
    """``* Tactic:`` / ``* Technique:`` / ``* Sub-technique:`` bullets, each with Name, ID, Reference URL."""
    name = re.sub(r"(TM|™)$", "", framework.value).strip()  # the page renders ATT&CK^TM^ as "ATT&CKTM"
    groups: list[tuple[str, dict[str, str]]] = []
    for indent, text in framework.bullets:
        if indent == 0 or not groups:
            groups.append((text.rstrip(":").strip().lower(), {}))
        elif ":" in text:
            key, _, item = text.partition(":")
            groups[-1][1][key.strip().lower()] = _unlink(item)

    def fail(message: str) -> RuleLoadError:
        return RuleLoadError(path, f"under **Framework**: {message}", line=framework.line)

    threats: list[Threat] = []
    for kind, entry in groups:
        missing = [key for key in ("name", "id", "reference url") if key not in entry]
        if kind not in ("tactic", "technique", "sub-technique"):
            raise fail(f"unexpected {kind!r}; expected Tactic, Technique or Sub-technique")
        if missing:
            raise fail(f"a {kind} has no {', '.join(missing)}")
        if (kind != "tactic" and not threats) or (kind == "sub-technique" and not threats[-1].techniques):
            raise fail(f"a {kind} comes before the entry it belongs to")
        if kind == "tactic":
            threats.append(Threat(name, entry["id"], entry["name"], entry["reference url"]))
            continue
        technique = Technique(entry["id"], entry["name"], entry["reference url"])
        techniques = threats[-1].techniques
        if kind == "sub-technique":
            parent, techniques = techniques[-1], techniques[:-1]
            technique = replace(parent, subtechniques=(*parent.subtechniques, technique))
        threats[-1] = replace(threats[-1], techniques=(*techniques, technique))
    return threats


def _unlink(text: str) -> str:
    """A Markdown link ``[text](url)`` becomes its URL; other text is kept, stripped."""
    match = _LINK.fullmatch(text.strip())
    return match[1] if match else text.strip()
