"""Shared fixtures and paths for the test suite."""

from __future__ import annotations

import sys
from pathlib import Path

# tests/ holds helper modules (strategies.py) that the property tests import by name.
sys.path.insert(0, str(Path(__file__).parent))
