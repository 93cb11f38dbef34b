"""``python -m harness`` runs the ``harness`` command."""

from harness.cli import main

main()
