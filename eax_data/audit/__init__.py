"""Audit of the English-anchored proxy's blind spots: does the build's filter chain + scorer prefer a
human translation to degraded versions of it (omissions, English left in, wrong language, loops,
changed numbers, truncation, unrelated sentences)?

``degrade`` synthesises the variants, ``run`` sends them through the recipe's own filters and
scorer and judges each (good, degraded) pair as the pair rule would, ``report`` aggregates and
prints, ``commands`` is ``python -m eax_data audit``. Heavy libraries load only when an audit runs.
"""

from eax_data.audit.degrade import CATEGORIES, Context, Variant, degrade

__all__ = ["CATEGORIES", "Context", "Variant", "degrade"]
