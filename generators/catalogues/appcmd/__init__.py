"""The AppCmd catalogue: dumping IIS application-pool and virtual-directory credentials.

Malicious scenarios dump (or enumerate to dump) the credentials with AppCmd; benign ones
are what IIS administrators and monitoring do every day; out-of-scope ones reach the
same secrets without AppCmd. They run on the IIS servers of the Windows fleet model.
"""

from __future__ import annotations

from generators.catalogues.appcmd.baselines import BASELINES
from generators.catalogues.appcmd.scenarios import SCENARIOS
from generators.scenarios import Catalogue

__all__ = ["CATALOGUE"]

CATALOGUE = Catalogue(
    name="appcmd",
    title="AppCmd scenario catalogue",
    description="IIS service-account credentials read with AppCmd, its look-alikes, and other ways to them",
    scenarios=SCENARIOS,
    techniques=("T1003", "T1552.001"),
    background="windows-iis-fleet",
    baselines=BASELINES,
)
