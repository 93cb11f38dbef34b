"""The whole result as JSON, for machines."""

from __future__ import annotations

from typing import Any

import orjson

from harness.validation.exception_effect import exception_effect
from harness.validation.reports.derived import derived_dict
from harness.validation.runner import ValidationResult

__all__ = ["result_dict", "to_json"]


def result_dict(result: ValidationResult) -> dict[str, Any]:
    return {
        "rule": {"name": result.rule_name, "version": result.rule_version, "query": result.query},
        "corpus": result.corpus if result.corpus_run else None,
        "catalogue": result.scope.catalogue,
        "indices": list(result.scope.indices.expressions or []),
        "sources": [
            s.as_dict() for s in sorted(result.sources.values(), key=lambda s: (s.name, s.index or ""))
        ],
        "passed": result.passed,
        "statement": result.statement_kind,
        "metrics": {
            "events": result.events,
            "alerts": result.alerts,
            "true_positives": result.true_positives,
            "false_negatives": result.false_negatives,
            "false_positives": result.false_positives,
            "true_negatives": result.true_negatives,
            "detection_rate": result.detection_rate,
            "precision": result.precision,
            "false_positives_per_million": result.false_positives_per_million,
            "alerts_per_host_per_day": result.alerts_per_host_per_day,
            "out_of_scope_alerts": result.out_of_scope_alerts,
            "context_events": result.context_events,
            "context_alerts": result.context_alerts,
            "unlabelled_events": result.unlabelled_events,
            "unlabelled_alerts": result.unlabelled_alert_count,
            "other_technique_events": result.other_technique_events,
            "other_technique_alerts": result.other_technique_alerts,
            "unread_events": result.unread_events,
            "unindexed_events": result.unindexed_events,
        },
        # Real telemetry has no labels: its alerts are listed for a person to judge.
        "unlabelled_alert_examples": result.unlabelled_alert_rows(),
        "budgets": [
            {"name": c.name, "limit": c.limit, "actual": c.actual, "passed": c.passed, "skipped": c.skipped}
            for c in result.budget_checks
        ],
        "cells": [
            {
                "scenario": c.scenario,
                "source": c.source,
                "intent": c.intent,
                "events": c.events,
                "alerts": c.alerts,
                "removed_by_exceptions": c.removed,
                "expected": c.expectation.verdict,
                "status": c.expectation.status,
                "reason": c.expectation.reason,
                "decided_by": c.expectation.origin,
            }
            for c in sorted(result.cells.values(), key=lambda c: (c.scenario, c.source))
        ],
        "violations": [
            {
                "kind": v.kind,
                "scenario": v.scenario,
                "source": v.source,
                "expected": v.expected,
                "events": v.events,
                "wrong": v.wrong,
                "hidden_by_exceptions": v.hidden,
                "example": v.example,
            }
            for v in result.violations
        ],
        # The rule without and with its exceptions (null: it applied none).
        "exceptions": None if (effect := exception_effect(result)) is None else effect.as_dict(),
        # A sequence, sample or piped rule: what it found (null for an event query, judged per event).
        "sequences": None if result.sequences is None else result.sequences.as_dict(),
        # The scenarios derived from the query, judged apart from the corpus (null: left out).
        "derived": None if result.derived is None else derived_dict(result.derived),
    }


def to_json(result: ValidationResult) -> str:
    return orjson.dumps(result_dict(result), option=orjson.OPT_INDENT_2).decode()
