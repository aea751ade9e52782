"""Reference-based sentence metrics (chrF, BLEU) from sacrebleu, 0-100, higher = closer to the reference.

These metrics compare the candidate with a *target-language* reference: in x2x builds that is the
pivot (the generator's greedy en->y translation of the English anchor), in ``reward_data`` builds the
corpus' human translation. The English anchor itself is ignored: chrF and BLEU count surface n-gram
overlap, so comparing a German candidate with an English sentence would measure nothing useful.

Scores equal sacrebleu's own ``sentence_chrf`` / ``sentence_bleu`` (tests check it). BLEU picks its
tokenizer from the target language, as the sacrebleu / WMT conventions do: ``zh`` for Chinese,
``ja-mecab`` / ``ko-mecab`` for Japanese / Korean when their extras (``sacrebleu[ja]``, ``sacrebleu[ko]``)
are installed, else ``char`` (also for Thai, which has no sacrebleu tokenizer), and ``13a``
otherwise. The SentencePiece tokenizers (``flores101``, ``flores200``, ``spBLEU-1K``) download a model at
first use, so they are never chosen. chrF is character-based and needs no tokenizer.
"""

from __future__ import annotations

import threading
from functools import lru_cache

from eax_data import languages
from eax_data.scoring.base import Scorer

METRICS = ("chrf", "bleu")
DEFAULT_TOKENIZER = "13a"
# target language -> preferred sacrebleu tokenizer (None: "char" is the only fit)
_PREFERRED = {"zh": "zh", "ja": "ja-mecab", "ko": "ko-mecab", "th": None}

_DESCRIPTIONS = {
    "chrf": "chrF2 (sacrebleu CHRF defaults: char order 6, word order 0, beta 2)",
    "bleu": "sentence BLEU (sacrebleu sentence_bleu defaults: exp smoothing, effective order)",
}

_LOCK = threading.Lock()
_METRICS: dict[tuple[str, str | None], object] = {}  # (metric, tokenizer) -> sacrebleu metric; one per process


def _build(metric: str, tokenizer: str | None):
    """A sacrebleu metric object, evaluated once so that its signature is complete (#refs known)."""
    from sacrebleu.metrics import BLEU, CHRF

    # BLEU(effective_order=True) with defaults = sacrebleu.sentence_bleu; CHRF() = sentence_chrf (chrF2, n=6).
    obj = CHRF() if metric == "chrf" else BLEU(tokenize=tokenizer, effective_order=True)
    obj.sentence_score("a", ["a"])
    return obj


def _metric(metric: str, tokenizer: str | None = None):
    """The process-wide metric object: tokenizers (mecab, regexes) are costly to rebuild per call."""
    key = (metric, tokenizer)
    with _LOCK:
        if key not in _METRICS:
            _METRICS[key] = _build(metric, tokenizer)
        return _METRICS[key]


@lru_cache(maxsize=None)
def _tokenizer_available(name: str) -> bool:
    """True when sacrebleu can build ``name`` here (mecab tokenizers need their extras)."""
    from sacrebleu.metrics import BLEU

    try:
        BLEU(tokenize=name)
    except (ImportError, RuntimeError, OSError):
        return False
    return True


def _lang_key(code: str) -> str:
    try:
        return languages.normalize(code)
    except ValueError:  # not in the registry: still pick a tokenizer from its primary subtag
        return code.strip().lower().replace("_", "-").split("-")[0]


@lru_cache(maxsize=None)
def tokenizer_for(lang: str) -> str:
    """The sacrebleu BLEU tokenizer used for candidates in ``lang`` (an ISO code)."""
    key = _lang_key(lang)
    if key not in _PREFERRED:
        return DEFAULT_TOKENIZER
    preferred = _PREFERRED[key]
    return preferred if preferred and _tokenizer_available(preferred) else "char"


def _short_signature(metric: str, tokenizer: str | None = None) -> dict[str, str]:
    """sacrebleu's short signature as ordered key -> value, without the version (the id carries it)."""
    text = _metric(metric, tokenizer).get_signature().format(short=True)
    items = dict(part.split(":", 1) for part in text.split("|"))
    items.pop("v", None)
    return items


@lru_cache(maxsize=None)
def _scorer_id(metric: str) -> str:
    """``<metric>:sacrebleu@<version>+<short signature>``; cached, the pipeline asks once per batch."""
    import sacrebleu

    if metric == "chrf":
        signature = _short_signature("chrf")
    else:
        # The tok field names the tokenizer per language, with sacrebleu's own label for it
        # (e.g. "ja-mecab-1.0.8-IPA" once mecab is installed), so a tokenizer change changes the id.
        signature = _short_signature("bleu", DEFAULT_TOKENIZER)
        labels = {lang: _short_signature("bleu", tok)["tok"] for lang, tok in _tokenizer_table().items()}
        signature["tok"] = ",".join(f"{lang}={label}" for lang, label in labels.items())
    body = "|".join(f"{key}:{value}" for key, value in signature.items())
    return f"{metric}:sacrebleu@{sacrebleu.__version__}+{body}"


def _tokenizer_table() -> dict[str, str]:
    """Language -> BLEU tokenizer for the languages that deviate from 13a (``*`` = everything else)."""
    table = {lang: tokenizer_for(lang) for lang in sorted(_PREFERRED)}
    table["*"] = DEFAULT_TOKENIZER
    return table


class SacreBleuScorer(Scorer):
    """Sentence-level chrF or BLEU of the candidate against ``references[i]`` (0-100, higher = better)."""

    def __init__(self, metric: str = "chrf"):
        if metric not in METRICS:
            raise ValueError(f"sacrebleu scorer: unknown metric {metric!r}; choose one of {list(METRICS)}")
        self.metric = metric
        self.kind = metric
        # BLEU's tokenizer depends on the target language; chrF is language-independent.
        self.needs = frozenset({"references", "target_langs"} if metric == "bleu" else {"references"})

    @staticmethod
    def _version() -> str:
        import sacrebleu

        return sacrebleu.__version__

    def tokenizers(self) -> dict[str, str]:
        """Language -> BLEU tokenizer for the languages that deviate from 13a (``*`` = everything else)."""
        return _tokenizer_table()

    @property
    def id(self) -> str:
        return _scorer_id(self.metric)

    def describe(self) -> dict:
        info = {
            "id": self.id,
            "kind": self.kind,
            "model": _DESCRIPTIONS[self.metric],
            "package": "sacrebleu",
            "version": self._version(),
            "signature": self.id.split("+", 1)[1],
            "score": f"sentence-level {'chrF' if self.metric == 'chrf' else 'BLEU'} of the candidate against the "
            "target-language reference (pivot translation of the English anchor, or the human translation); "
            "the English anchor itself is not compared (surface overlap across languages is meaningless)",
            "range": [0.0, 100.0],
            "higher_is_better": True,
        }
        if self.metric == "bleu":
            table = self.tokenizers()
            info["tokenizers"] = table
            fallbacks = [lang for lang, tok in table.items() if tok == "char" and _PREFERRED.get(lang)]
            note = "tokenizer by target language; flores/spm tokenizers are never used (they download a model)"
            if fallbacks:
                note += f"; mecab unavailable, so {', '.join(fallbacks)} use char (install sacrebleu[ja] / sacrebleu[ko])"
            info["tokenizer_note"] = note
        return info

    def _score(self, anchors, candidates, *, target_langs, references, **_):
        # Candidates of one task share a reference: extract each reference's n-grams once. This uses
        # sacrebleu's per-segment internals (2x faster for BLEU than sentence_score); tests pin the
        # result to sentence_chrf / sentence_bleu, and sentence_score is used if they are absent.
        langs = target_langs if self.metric == "bleu" else [None] * len(candidates)
        ref_cache: dict[tuple[str | None, str], object] = {}
        done: dict[tuple[str | None, str, str], float] = {}
        scores = []
        for hyp, ref, lang in zip(candidates, references, langs):
            tok = tokenizer_for(lang) if lang is not None else None
            key = (tok, ref, hyp)
            if key not in done:
                done[key] = self._one(_metric(self.metric, tok), hyp, ref, ref_cache, tok)
            scores.append(done[key])
        return scores

    @staticmethod
    def _one(metric, hyp: str, ref: str, ref_cache: dict, tok: str | None) -> float:
        try:
            internals = metric._cache_references, metric._preprocess_segment
            internals += metric._compute_segment_statistics, metric._aggregate_and_compute
        except AttributeError:
            return float(metric.sentence_score(hyp, [ref]).score)
        cache_references, preprocess, segment_stats, aggregate = internals
        if (tok, ref) not in ref_cache:
            ref_cache[(tok, ref)] = cache_references([[ref]])[0]
        return float(aggregate([segment_stats(preprocess(hyp), ref_cache[(tok, ref)])]).score)
