"""One self-contained HTML page comparing rule versions: detection, noise, schedule and mutations.

``build_report`` runs the rules over the corpora; ``render_html`` turns the result into a page with
inline CSS and SVG only, and the same data always gives the same bytes.
"""

from harness.html_report.data import Noise, ReportData, VersionInput, VersionReport, build_report
from harness.html_report.page import render_html

__all__ = ["Noise", "ReportData", "VersionInput", "VersionReport", "build_report", "render_html"]
