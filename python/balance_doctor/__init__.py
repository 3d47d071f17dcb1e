"""balance-doctor from Python: explains why a Plaid Item's balance is out of date.

``RuleSet()`` compiles the embedded default pack (``RuleSet.from_files`` and
``RuleSet.from_text`` compile your own rules); ``evaluate`` and ``evaluate_many`` return
diagnoses as plain dicts in the shape of ``schemas/diagnosis.schema.json`` (plus
``as_of_from``), the same as ``balance-doctor diagnose --format json`` prints. See the
repository's README, section "From Python".
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
