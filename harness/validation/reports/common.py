"""Numbers as every report shows them."""

from __future__ import annotations

from harness.validation.runner import ValidationResult

__all__ = ["percent", "rate", "summary_rows"]


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def rate(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def summary_rows(result: ValidationResult) -> list[tuple[str, str]]:
    return [
        ("events", f"{result.events:,}"),
        ("alerts", f"{result.alerts:,}"),
        ("true positives", f"{result.true_positives:,}"),
        ("false negatives", f"{result.false_negatives:,}"),
        ("false positives", f"{result.false_positives:,}"),
        ("true negatives", f"{result.true_negatives:,}"),
        ("detection rate (in-scope malicious)", percent(result.detection_rate)),
        ("precision", percent(result.precision)),
        ("false positives per million benign", rate(result.false_positives_per_million)),
        ("alerts per host per day", rate(result.alerts_per_host_per_day, 3)),
        ("out-of-scope attacks alerted", f"{result.out_of_scope_alerts:,}"),
    ]
