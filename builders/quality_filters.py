"""Content filters: drop candidates that are not a real, complete translation.

The scorer compares each candidate with the English anchor, so a candidate that leaves part of the
text in English, copies part of the source, loops, stops mid-sentence or changes a number can look
*better* than a faithful one. These filters catch what whole-candidate checks (exact copy, length,
language ID) cannot. Each is a datatrove ``BaseFilter`` returning ``True`` or ``(False, reason)``;
the measures live in ``text_checks`` and every default was measured on the demo corpus (see the
recipe's ``FiltersConfig``).
"""

from __future__ import annotations

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter
from datatrove.pipeline.writers.disk_base import DiskWriter

from eax_data import languages
from eax_data.schema import FINISH_REASON, REF_LANG, REF_TEXT, SRC_TEXT, TRG_LANG

from . import text_checks as tc
from .language_id import LanguageIdentifier, label_to_code


class TruncationFilter(BaseFilter):
    """Drops candidates that stopped before the end: at the token limit, or inside brackets/quotes.

    Reasons: "truncated_at_token_limit" (``finish_reason == "length"``), "unbalanced_brackets" (a
    bracket or quote left open or closed twice while the anchor's are balanced) and, with
    ``final_punctuation``, "truncated_sentence" (no sentence-final punctuation where the anchor has one).
    """

    name = "Truncation"
    reads = (FINISH_REASON, REF_TEXT)
    writes = ()

    def __init__(
        self,
        finish_reason: bool = True,
        brackets: bool = True,
        final_punctuation: bool = False,
        exclusion_writer: DiskWriter | None = None,
    ):
        super().__init__(exclusion_writer)
        if not (finish_reason or brackets or final_punctuation):
            raise ValueError("TruncationFilter with every check off drops nothing; leave it out of the chain")
        self.finish_reason = finish_reason
        self.brackets = brackets
        self.final_punctuation = final_punctuation
        self._anchor: tuple[str | None, bool, bool] = (None, False, False)  # (anchor, balanced, ends like a sentence)

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        if self.finish_reason and doc.metadata.get(FINISH_REASON) == "length":
            return False, "truncated_at_token_limit"
        anchor = doc.metadata[REF_TEXT] or ""
        if self._anchor[0] != anchor:  # the N candidates of a task share one anchor
            self._anchor = (anchor, tc.is_balanced(anchor), tc.ends_like_a_sentence(anchor))
        if self.brackets and self._anchor[1] and not tc.is_balanced(doc.text):
            return False, "unbalanced_brackets"
        if self.final_punctuation and self._anchor[2] and not tc.ends_like_a_sentence(doc.text):
            return False, "truncated_sentence"
        return True


class NumberConsistencyFilter(BaseFilter):
    """Drops candidates that lose or change a number the anchor and the source agree on.

    Numbers are compared as values, so formats may differ (7:45 = 7 h 45 = 7点45分, 1,200 = 1 200,
    2.5 = 2,5, "10 p.m." = 22 Uhr, 十二 = 12). Only numbers found in both the anchor and the source
    are required (a corpus whose two sides disagree is not the candidate's fault); without a source,
    all of the anchor's. With ``added``, a number in neither also drops the candidate.
    """

    name = "Number consistency"
    reads = (REF_TEXT, SRC_TEXT)
    writes = ()

    def __init__(
        self, cjk_numerals: bool = True, roman_numerals: bool = True, added: bool = False, exclusion_writer: DiskWriter | None = None
    ):
        super().__init__(exclusion_writer)
        self.cjk_numerals = cjk_numerals
        self.roman_numerals = roman_numerals
        self.added = added
        self._task: tuple = (None, None, [], set())  # (anchor, source, required numbers, every known value)

    def _numbers(self, text: str, roman: bool = False) -> list[frozenset[int]]:
        return tc.numbers(text, cjk_numerals=self.cjk_numerals, roman=roman)

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        anchor, source = doc.metadata[REF_TEXT] or "", doc.metadata[SRC_TEXT]
        if self._task[:2] != (anchor, source):
            in_anchor = self._numbers(anchor)
            in_source = self._numbers(source, roman=self.roman_numerals) if source else None
            required = in_anchor if in_source is None else [a for a in in_anchor if any(a & s for s in in_source)]
            known = set().union(*in_anchor, *(in_source or []))
            self._task = (anchor, source, required, known)
        required, known = self._task[2], self._task[3]
        found = self._numbers(doc.text, roman=self.roman_numerals)
        values = set().union(*found)
        if any(not (number & values) for number in required):
            return False, "number_mismatch"
        if self.added and any(not (number & known) for number in found):
            return False, "number_mismatch"
        return True


def target_scripts(code: str) -> frozenset[str]:
    """Scripts the letters of a text in language ``code`` may come from (Japanese: Han and kana)."""
    script = languages.get(code).script
    return tc.SCRIPT_FAMILIES.get(script, frozenset({script}))


class ScriptFilter(BaseFilter):
    """Drops candidates whose letters are mostly not in the target language's script.

    Catches answers in the wrong script (English or a Chinese source left in a Russian candidate,
    romanised output) that language ID on the whole text may still call the target language.
    Letters are weighted like ``weighted_length`` (a Han character = 3); digits and punctuation
    are ignored, so names in Latin letters inside Chinese or Russian text pass up to ``1 - min_share``.
    """

    name = "Script consistency"
    reads = (TRG_LANG,)
    writes = ()

    def __init__(self, min_share: float = 0.65, exclusion_writer: DiskWriter | None = None):
        super().__init__(exclusion_writer)
        if not 0.0 < min_share <= 1.0:
            raise ValueError(f"min_share is a share of letters in (0, 1], got {min_share}")
        self.min_share = min_share

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        share = tc.script_share(doc.text, target_scripts(doc.metadata[TRG_LANG]))
        return True if share is None or share >= self.min_share else (False, "wrong_script")


class RepetitionFilter(BaseFilter):
    """Drops degenerate candidates: loops ("déjà déjà déjà"), repeated passages, long repetitive output.

    Three measures over word tokens (Han/kana: characters), any one drops with "repetition":
    one n-gram (n <= 8) repeated ``max_repeats`` times back to back; Gopher's duplicate
    ``ngram``-gram character fraction above ``max_duplicate_fraction`` (5-grams do not repeat by
    chance in a sentence); zlib compression ratio below ``min_compression_ratio`` for texts of at
    least ``compression_min_bytes`` (short texts do not compress, whatever they hold).
    """

    name = "Repetition"
    reads = ()
    writes = ()

    def __init__(
        self,
        max_repeats: int | None = 3,
        ngram: int = 5,
        max_duplicate_fraction: float | None = 0.2,
        min_compression_ratio: float | None = 0.3,
        compression_min_bytes: int = 200,
        exclusion_writer: DiskWriter | None = None,
    ):
        super().__init__(exclusion_writer)
        if max_repeats is not None and max_repeats < 2:
            raise ValueError(f"max_repeats must be >= 2 (or None), got {max_repeats}")
        if ngram < 1:
            raise ValueError(f"ngram must be >= 1, got {ngram}")
        if max_duplicate_fraction is not None and not 0.0 < max_duplicate_fraction <= 1.0:
            raise ValueError(f"max_duplicate_fraction must be in (0, 1], got {max_duplicate_fraction}")
        if min_compression_ratio is not None and not 0.0 < min_compression_ratio <= 1.0:
            raise ValueError(f"min_compression_ratio must be in (0, 1], got {min_compression_ratio}")
        if max_repeats is None and max_duplicate_fraction is None and min_compression_ratio is None:
            raise ValueError("RepetitionFilter with every measure off drops nothing; leave it out of the chain")
        self.max_repeats = max_repeats
        self.ngram = ngram
        self.max_duplicate_fraction = max_duplicate_fraction
        self.min_compression_ratio = min_compression_ratio
        self.compression_min_bytes = compression_min_bytes

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        words = [t.casefold() for t in tc.tokens(doc.text)]
        if self.max_repeats is not None and tc.longest_repeat_run(words, cap=self.max_repeats)[0] >= self.max_repeats:
            return False, "repetition"
        if self.max_duplicate_fraction is not None and tc.duplicate_ngram_fraction(words, self.ngram) > self.max_duplicate_fraction:
            return False, "repetition"
        if (
            self.min_compression_ratio is not None
            and len(doc.text.encode("utf-8")) >= self.compression_min_bytes
            and tc.compression_ratio(doc.text) < self.min_compression_ratio
        ):
            return False, "repetition"
        return True


class PartialCopyFilter(BaseFilter):
    """Drops candidates that leave part of the text untranslated: long spans shared with the anchor or the source.

    The exact-copy filter misses "Der Zug von Munich to Vienna leaves at 7:45 und braucht vier
    Stunden.", and an English-referenced scorer rewards it. ``copied_share`` is the share of the
    candidate inside shared spans of ``ngram`` tokens (``2 * ngram`` Han/kana characters) holding
    at least two tokens that are neither capitalised nor numbers, so kept names and figures
    ("München", "New York", "7:45") do not count. Reasons "partial_copy_of_reference" and
    "partial_copy_of_source"; a reference in the target language (reward_data) is not checked.
    """

    name = "Partial copy"
    reads = (SRC_TEXT, REF_TEXT, REF_LANG, TRG_LANG)
    writes = ()

    def __init__(
        self,
        ngram: int = 4,
        max_share: float = 0.2,
        reference: bool = True,
        source: bool = True,
        exclusion_writer: DiskWriter | None = None,
    ):
        super().__init__(exclusion_writer)
        if ngram < 2:
            raise ValueError(f"ngram must be >= 2 tokens (single shared words are vocabulary, not copies), got {ngram}")
        if not 0.0 < max_share <= 1.0:
            raise ValueError(f"max_share must be in (0, 1], got {max_share}")
        if not (reference or source):
            raise ValueError("PartialCopyFilter checking neither reference nor source drops nothing; leave it out of the chain")
        self.ngram = ngram
        self.max_share = max_share
        self.reference = reference
        self.source = source
        self._task: tuple = (None, None, None, None)  # (source, anchor, source index, anchor index)

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        source, anchor = doc.metadata[SRC_TEXT] or "", doc.metadata[REF_TEXT] or ""
        if self._task[:2] != (source, anchor):  # the N candidates of a task share both
            self._task = (source, anchor, tc.SpanIndex(source, self.ngram), tc.SpanIndex(anchor, self.ngram))
        if (
            self.reference
            and doc.metadata.get(REF_LANG) != doc.metadata.get(TRG_LANG)
            and tc.copied_share(doc.text, self._task[3]) > self.max_share
        ):
            return False, "partial_copy_of_reference"
        if self.source and tc.copied_share(doc.text, self._task[2]) > self.max_share:
            return False, "partial_copy_of_source"
        return True


class SentenceLanguageIdFilter(BaseFilter):
    """Drops multi-sentence candidates with a sentence in another language ("mixed_language_sentence").

    Whole-candidate language ID calls a text German when two of its three sentences are German;
    here every sentence of at least ``min_chars`` (``weighted_length``) is identified on its own.
    A sentence counts as foreign only when a registry language other than the target is predicted
    with probability >= ``min_score``, and not when the sentence is written in the target's script
    while the predicted language uses another one (a short Chinese sentence read as Japanese).
    """

    name = "Sentence language ID"
    reads = (TRG_LANG,)
    writes = ()

    def __init__(
        self,
        identifier: LanguageIdentifier,
        min_chars: int = 20,
        min_score: float = 0.6,
        exclusion_writer: DiskWriter | None = None,
        batch_size: int = 256,
    ):
        super().__init__(exclusion_writer, batch_size=batch_size)
        if min_chars < 1:
            raise ValueError(f"min_chars must be >= 1, got {min_chars}")
        if not 0.0 <= min_score <= 1.0:
            raise ValueError(f"min_score is a probability in [0, 1], got {min_score}")
        self.identifier = identifier
        self.min_chars = min_chars
        self.min_score = min_score

    def sentences(self, doc: Document) -> list[str]:
        """The sentences of a candidate judged on their own (none for a one-sentence candidate)."""
        target = label_to_code(doc.metadata[TRG_LANG])
        sentences = tc.split_sentences(doc.text, ordinal_period=target in tc.ORDINAL_PERIOD_LANGUAGES)
        if len(sentences) < 2:
            return []
        return [s for s in sentences if tc.weighted_length(s) >= self.min_chars]

    def _foreign(self, sentence: str, target: str, code: str, score: float) -> bool:
        if code == target or score < self.min_score or code not in languages.BY_CODE:
            return False
        if languages.BY_CODE[code].script != languages.BY_CODE[target].script:
            return (tc.script_share(sentence, target_scripts(target)) or 0.0) < 0.5
        return True

    def filter_batch(self, batch: list[Document]) -> list[bool | tuple[bool, str]]:
        per_doc = [self.sentences(doc) for doc in batch]
        predictions = iter(self.identifier.predict([s for sentences in per_doc for s in sentences]))
        results: list[bool | tuple[bool, str]] = []
        for doc, sentences in zip(batch, per_doc):
            target = label_to_code(doc.metadata[TRG_LANG])
            judged = [self._foreign(s, target, *next(predictions)) for s in sentences]  # consume all
            results.append((False, "mixed_language_sentence") if any(judged) else True)
        return results

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        return self.filter_batch([doc])[0]
