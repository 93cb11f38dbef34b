"""Mutation testing of a rule's expectations: would the suite notice a small change to the query?"""

from harness.mutation.killing import CellChange, MutantResult, MutationReport, mutation_test
from harness.mutation.operators import OPERATORS, Mutant, MutantSet, generate_mutants, mutants
from harness.mutation.report import print_mutation_report

__all__ = [
    "OPERATORS",
    "CellChange",
    "Mutant",
    "MutantResult",
    "MutantSet",
    "MutationReport",
    "generate_mutants",
    "mutants",
    "mutation_test",
    "print_mutation_report",
]
