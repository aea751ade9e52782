"""Evaluation of translation models as in the EAX paper (FLORES-200 devtest, x2x / en->x / x->en).

``python -m eax_data eval``: greedy decoding with the paper's direct prompt, then per-direction
corpus BLEU (target-appropriate tokenisation), chrF++, spBLEU (when the flores200 SentencePiece
model is already on disk) and COMET-22 (when a COMET environment exists); group averages,
results.json / results.md / heatmap.png, a baseline comparison and an optional model-index.

Modules: ``testsets`` (what to translate), ``decode`` (greedy translations), ``metrics`` (scores),
``report`` / ``plots`` / ``model_index`` (outputs), ``compare`` (deltas), ``evaluate`` (the run),
``commands`` (the CLI). Heavy libraries are imported inside functions.
"""


class EvaluationError(ValueError):
    """An evaluation that cannot run; the message names the file, option or field at fault."""
