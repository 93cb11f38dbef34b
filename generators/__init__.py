"""Synthetic, labelled Windows process telemetry for validating detection rules."""

__all__: list[str] = []
