"""A Sigma rule file as a :class:`~harness.rules.Rule`: pySigma's EQL, and what it is run with.

The conversion is pySigma's own, untouched: the YAML read by ``SigmaCollection``, the
Elasticsearch backend's ``EqlBackend`` (its ``default`` output: the query alone) with the
``ecs_windows`` pipeline. ``ecs_windows`` is the pipeline of Winlogbeat's ECS field names,
which Elastic's Windows and System integrations and Elastic Defend share for process
events (``process.command_line``, ``process.pe.original_file_name``); it is the one
pySigma's Elasticsearch documentation pairs with Windows rules, and ``ecs_windows_old`` is
for Winlogbeat 6 and earlier.

What the converted rule runs on and how often is what the backend's own Kibana rule output
(``siem_rule``) gives it: the backend's index patterns, its schedule (every 5 minutes over
the last 5) and the severity and risk score of the rule's ``level``. That output is not
called: it also reads MITRE ATT&CK data from the network.

``convert`` changes the rule it converts (the pipeline renames its fields), so the file is
read twice: once to convert, once to keep the fields as written, for the notes and errors
that name them.
"""

from __future__ import annotations

import importlib.metadata
from typing import Any

from harness.errors import RuleLoadError
from harness.rules import Conversion, Rule
from harness.sigma.notes import conversion_notes, field_names, refused, unknown_fields
from harness.sigma.source import line_of, loaded_rule

__all__ = ["PIPELINE", "load_sigma"]

PIPELINE = "ecs_windows"
_DISTRIBUTIONS = ("pysigma", "pysigma-backend-elasticsearch")


def load_sigma(path: str, text: str) -> Rule:
    """The Sigma rule in ``text`` (read from ``path``) converted to EQL, with its conversion's notes.

    Raises :class:`RuleLoadError` naming the file, and the line of the detection item where
    pySigma or the EQL grammar says which: bad YAML, an unknown modifier or condition, a field
    the pipeline has no name for, or EQL that Elasticsearch's grammar refuses.
    """
    backend_type, pipeline = _backend(path)
    written = loaded_rule(path, text)
    rule = loaded_rule(path, text)
    backend = backend_type(pipeline)
    try:
        queries = backend.convert_rule(rule)
    except Exception as e:  # pySigma's SigmaError, and the ValueError it subclasses
        raise RuleLoadError(path, f"pySigma cannot convert this rule: {e}", line=line_of(text, str(e))) from e
    if len(queries) != 1:
        raise RuleLoadError(path, f"pySigma converted this rule into {len(queries)} queries; expected one")
    query = str(queries[0])
    unknown_fields(path, text, written, rule)
    refused(path, text, written, query)
    level = rule.level.name if rule.level is not None else None
    interval = f"{backend.schedule_interval}{backend.schedule_interval_unit}"
    return Rule(
        name=rule.title,
        query=query,
        language="eql",
        path=path,
        rule_id=str(rule.id) if rule.id is not None else None,
        description=rule.description.strip() if rule.description else None,
        indices=tuple(backend.index_names),
        interval=interval,
        from_=f"now-{interval}",
        risk_score=backend.severity_risk_mapping.get(level, 21) if level else 21,
        severity=level.lower() if level else "low",
        tags=tuple(str(tag) for tag in rule.tags),
        references=tuple(rule.references),
        conversion=Conversion(
            language="sigma",
            converter=", ".join(f"{name} {importlib.metadata.version(name)}" for name in _DISTRIBUTIONS)
            + " (EqlBackend, default output)",
            pipeline=f"{PIPELINE}: {pipeline.name}",
            authors=rule.author,
            licence=rule.license,  # SigmaHQ states its licence (DRL 1.1) for the repository, not per rule
            status=rule.status.name.lower() if rule.status is not None else None,
            fields=field_names(written, rule),
            notes=conversion_notes(written, rule, query),
        ),
    )


def _backend(path: str) -> tuple[Any, Any]:
    """pySigma's EQL backend class and the pipeline, or an error saying how to install them."""
    try:
        from sigma.backends.elasticsearch.elasticsearch_eql import EqlBackend
        from sigma.pipelines.elasticsearch.windows import ecs_windows
    except ImportError as e:
        raise RuleLoadError(
            path,
            f"a Sigma rule needs pySigma, which is not installed ({e.name}): "
            "pip install 'detection-harness[sigma]' (or '.[sigma]' in a checkout)",
        ) from None
    return EqlBackend, ecs_windows()
