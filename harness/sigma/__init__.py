"""Sigma rules, converted to EQL by pySigma and judged as any EQL rule is.

:func:`load_sigma` is the rule loader's ``.yml`` format (:func:`harness.rules.load_rule`):
the YAML read by pySigma, converted by its Elasticsearch backend's EQL output with the
``ecs_windows`` pipeline (:mod:`harness.sigma.convert`), and what the conversion does that
the rule's author may not expect said in the rule's conversion notes
(:mod:`harness.sigma.notes`). pySigma is the ``[sigma]`` extra: without it, loading a Sigma
rule is a clear error, and nothing else needs it.
"""

from harness.sigma.convert import PIPELINE, load_sigma

__all__ = ["PIPELINE", "load_sigma"]
