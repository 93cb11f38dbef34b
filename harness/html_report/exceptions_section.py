"""The page's exceptions section: each version with and without its exceptions, on both corpora.

The rows and findings are the text reports' own (:mod:`harness.validation.reports.exceptions`),
so the page says what ``harness validate`` says.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from harness.html_report.data import VersionReport
from harness.validation.exception_effect import ExceptionEffect, exception_effect
from harness.validation.reports.exceptions import effect_findings, effect_rows, item_rows

__all__ = ["has_exceptions", "render_exceptions"]


def has_exceptions(versions: Sequence[VersionReport]) -> bool:
    """Whether any version applies exceptions (the section is left out otherwise)."""
    return any(exception_effect(v.scenarios) is not None or v.fleet_exceptions is not None for v in versions)


def render_exceptions(versions: Sequence[VersionReport], detection: str, noise: str) -> str:
    parts = []
    for version in versions:
        label = version.label or version.rule.name
        scenarios, fleet = exception_effect(version.scenarios), version.fleet_exceptions
        if scenarios is None and fleet is None:
            parts.append(f"<p>{escape(label)}: no exceptions.</p>")
            continue
        for corpus, effect in ((detection, scenarios), (noise, fleet)):
            if effect is not None:
                parts.append(_effect(f"{label} on {corpus}", effect))
    return "".join(parts)


def _effect(title: str, effect: ExceptionEffect) -> str:
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>{escape(before)}</td><td>{escape(after)}</td></tr>"
        for name, before, after in effect_rows(effect)
    )
    items = "".join(
        f"<tr><td>{escape(name)}</td><td>{escape(fps)}</td><td>{escape(lost)}</td></tr>"
        for name, fps, lost in item_rows(effect)
    )
    findings = "".join(
        f'<li class="{"failed" if "HIDE" in line else "passed"}">{escape(line)}</li>'
        for line in effect_findings(effect)
    )
    state = "hides detections" if effect.hides_detections else "hides no detection"
    return (
        f"<h4>{escape(title)}: {state}</h4>"
        '<table class="metrics"><thead><tr><th></th><th>without exceptions</th>'
        f"<th>with exceptions</th></tr></thead><tbody>{rows}</tbody></table>"
        + (
            '<table class="metrics"><thead><tr><th>item</th><th>false positives removed</th>'
            f"<th>detections lost</th></tr></thead><tbody>{items}</tbody></table>"
            if items
            else ""
        )
        + (f"<ul>{findings}</ul>" if findings else "")
    )
