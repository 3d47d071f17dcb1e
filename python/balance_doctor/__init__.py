"""balance-doctor from Python: explains why a Plaid Item's balance is out of date.

>>> import balance_doctor
>>> rules = balance_doctor.RuleSet()          # the embedded default pack
>>> diagnosis = rules.evaluate({"documents": {...}}, as_of="2026-11-20T12:00:00Z")

Diagnoses are plain dicts in the shape of ``schemas/diagnosis.schema.json`` (plus
``as_of_from``), the same as ``balance-doctor diagnose --format json`` prints.
"""

from ._native import (
    DEFAULT_RULES,
    DEFAULT_RULES_NAME,
    DIAGNOSIS_VERSION,
    BundleError,
    Diagnoses,
    RuleError,
    RuleSet,
)

__all__ = [
    "DEFAULT_RULES",
    "DEFAULT_RULES_NAME",
    "DIAGNOSIS_VERSION",
    "BundleError",
    "Diagnoses",
    "RuleError",
    "RuleSet",
]
