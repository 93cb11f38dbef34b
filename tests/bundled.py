"""The bundled scenario catalogue, loaded once for the tests that generate corpora from it."""

from generators.catalogues import get_catalogue

APPCMD = get_catalogue("appcmd")
SCENARIOS = APPCMD.scenarios
