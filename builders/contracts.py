"""Field contracts: each step says which metadata fields it reads and writes, so a pipeline can be
checked before it runs (a missing field fails at composition time, not an hour into generation).

A step declares plain class attributes ``reads`` and ``writes`` (tuples of ``eax_data.schema``
names). Steps without them (datatrove's own readers and writers) pass through unchecked.
"""

from __future__ import annotations

from collections.abc import Iterable


class PipelineContractError(ValueError):
    pass


def check_fields(steps: Iterable, provided: Iterable[str] = ()) -> set[str]:
    """Raise if a step reads a field no earlier step (or ``provided``) writes; return the final fields."""
    available = set(provided)
    for step in steps:
        missing = [f for f in getattr(step, "reads", ()) if f not in available]
        if missing:
            raise PipelineContractError(
                f"{getattr(step, 'name', type(step).__name__)} reads {missing}, which no earlier step writes "
                f"(available: {sorted(available)})"
            )
        available.update(getattr(step, "writes", ()))
    return available
