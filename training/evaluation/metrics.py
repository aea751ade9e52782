"""Corpus-level metrics per direction: BLEU, chrF++, spBLEU and COMET-22, as the paper reports them.

* BLEU: sacreBLEU ``corpus_score`` with the tokenizer sacreBLEU itself picks from ``trg_lang`` (``zh``
  for Chinese, ``ja-mecab`` / ``ko-mecab`` for Japanese / Korean, ``13a`` otherwise); without the mecab
  extras Japanese / Korean fall back to ``char`` (``scoring.reference_metrics.tokenizer_for``).
* chrF++: ``CHRF(word_order=2)``, language-independent.
* spBLEU: ``tokenize="flores200"`` only when sacreBLEU's SentencePiece model file is already on disk
  and ``sentencepiece`` imports: sacreBLEU would otherwise download the model mid-evaluation.
* COMET-22 (``Unbabel/wmt22-comet-da``) through ``CometScorer``'s worker, with src = the source
  sentence; reported as the mean segment score x 100, as the paper's tables do.

Every metric's sacreBLEU signature is recorded so that two results files can be checked for
comparability.
"""

from __future__ import annotations

import importlib.util
import math
import os
from functools import lru_cache

from eax_data.training.evaluation import EvaluationError

METRICS = ("bleu", "chrf++", "spbleu", "comet")
LABELS = {"bleu": "BLEU", "chrf++": "chrF++", "spbleu": "spBLEU", "comet": "COMET-22"}
DEFAULT_COMET = "Unbabel/wmt22-comet-da"
SPM_KEY = "flores200"


def bleu_tokenizer(trg: str) -> str:
    """sacreBLEU's own choice for ``trg_lang`` when it can be built here, else ``char`` (ja/ko without mecab)."""
    from eax_data.scoring.reference_metrics import tokenizer_for

    return tokenizer_for(trg)


@lru_cache(maxsize=None)
def _bleu(tokenizer: str):
    from sacrebleu.metrics import BLEU

    return BLEU(tokenize=tokenizer)


@lru_cache(maxsize=None)
def _chrf_pp():
    from sacrebleu.metrics import CHRF

    return CHRF(word_order=2)


def spbleu_model_path() -> str:
    """Where sacreBLEU looks for (and would download) the flores200 SentencePiece model."""
    from sacrebleu.tokenizers import tokenizer_spm

    url = tokenizer_spm.SPM_MODELS[SPM_KEY]["url"]
    return os.path.join(tokenizer_spm.SACREBLEU_DIR, "models", os.path.basename(url))


def spbleu_status() -> tuple[bool, str | None]:
    """(available, note): spBLEU runs only with the model file present and sentencepiece installed."""
    path = spbleu_model_path()
    if not os.path.isfile(path):
        return False, (f"spBLEU skipped: no flores200 SentencePiece model at {path} (sacreBLEU would download it; "
                       "copy the file there, or set $SACREBLEU to a folder holding models/, to enable spBLEU)")
    if importlib.util.find_spec("sentencepiece") is None:
        return False, f"spBLEU skipped: {path} exists but the sentencepiece package is missing (pip install sentencepiece)"
    return True, None


def corpus_scores(hypotheses: list[str], references: list[str], trg: str, spbleu: bool = False) -> dict:
    """Corpus BLEU, chrF++ (and spBLEU) of one direction, 0-100, plus the BLEU tokenizer used."""
    if not hypotheses or len(hypotheses) != len(references):
        raise EvaluationError(f"{len(hypotheses)} hypotheses for {len(references)} references (target {trg})")
    tokenizer = bleu_tokenizer(trg)
    scores = {
        "bleu": float(_bleu(tokenizer).corpus_score(hypotheses, [references]).score),
        "chrf++": float(_chrf_pp().corpus_score(hypotheses, [references]).score),
    }
    if spbleu:
        scores["spbleu"] = float(_bleu(SPM_KEY).corpus_score(hypotheses, [references]).score)
    scores["bleu_tokenizer"] = tokenizer
    return scores


def signatures(targets, spbleu: bool = False) -> dict:
    """sacreBLEU signatures: BLEU per tokenizer in use (``tok -> signature``), chrF++ and spBLEU."""
    def signature(metric) -> str:
        metric.corpus_score(["a"], [["a"]])  # the signature knows #refs only after a call
        return metric.get_signature().format()

    tokenizers = sorted({bleu_tokenizer(t) for t in targets})
    result = {"bleu": {tok: signature(_bleu(tok)) for tok in tokenizers}, "chrf++": signature(_chrf_pp())}
    if spbleu:
        result["spbleu"] = signature(_bleu(SPM_KEY))
    return result


# -- COMET ----------------------------------------------------------------------------------------


def open_comet(model: str | None, python: str | None = None, worker: str | None = None, batch_size: int = 16):
    """(scorer or None, note). ``model`` "auto": COMET-22 if its environment and checkpoint load here,
    else skipped with a note; "none": skipped; any other name or .ckpt path: must load (else error)."""
    from eax_data.scoring.base import ScorerError
    from eax_data.scoring.comet import CometScorer

    if model in (None, "none", "off"):
        return None, "COMET skipped: disabled (--comet none)"
    required = model != "auto"
    name = DEFAULT_COMET if model == "auto" else model
    scorer = CometScorer(model=name, batch_size=batch_size, python=python, worker=worker)
    try:
        scorer.describe()  # starts the worker: environment and checkpoint are checked now, not after decoding
    except ScorerError as err:
        scorer.close()
        if required:
            raise
        reason = " ".join(line.strip() for line in str(err).splitlines() if line.strip())
        return None, f"COMET skipped: no usable COMET environment or checkpoint for {name}: {reason}"
    return scorer, None


def comet_scores(scorer, sources: list[str], hypotheses: list[str], references: list[str]) -> list[float]:
    """Segment COMET scores (src = source sentence, mt = hypothesis, ref = reference)."""
    return scorer.score(sources, hypotheses, references=references)


# -- averages -------------------------------------------------------------------------------------


def mean(values) -> float | None:
    values = [v for v in values if v is not None and math.isfinite(v)]
    return sum(values) / len(values) if values else None


def averages(directions: dict, metrics) -> dict:
    """Mean of each metric over the directions of x2x, en2x, x2en and all (only groups with directions)."""
    groups = {"x2x": [], "en2x": [], "x2en": [], "all": []}
    for entry in directions.values():
        groups[entry["group"]].append(entry)
        groups["all"].append(entry)
    result = {}
    for group, entries in groups.items():
        if not entries:
            continue
        result[group] = {"directions": len(entries)}
        for metric in metrics:
            result[group][metric] = mean(e.get(metric) for e in entries)
    return result
