"""Degraded variants of a human translation: the failures an English-anchored proxy may reward.

EAxE scores a candidate against the English anchor e, never against the source x or a human y, so a
candidate that keeps English words, is written in the wrong language or drops half the sentence can
look as close to e as a correct translation. Each function below turns the human translation y of
one x->y task into one such failure, the way a sampled small model produces it:

* ``omission``          - a clause dropped, else a contiguous 30-50% of the words (characters for
  scripts written without spaces);
* ``untranslated_span`` - 40-60% of the sentence (its head or its tail) replaced by the same share
  of the English anchor's words;
* ``wrong_language``    - the row's translation in a third language (neither x nor y);
* ``source_copy``       - the source sentence x itself (no translation at all). A scorer that sees
  only (anchor, candidate) compares cos(e, x) with cos(e, y), and x->y and y->x swap the two: pooled
  over a direction set closed under reversal its win rate is 50% by construction, so read it per
  direction (as the old ``benchmarks/scorer_separation.py`` warned for its wrong-language cycle);
* ``english_copy``      - the English anchor e itself (translated into the pivot language);
* ``repetition``        - a 1-3 word (2-4 character) phrase looped 4-6 times, like a degenerate sampler;
* ``number_change``     - one digit of one number changed (rows with digits only);
* ``truncation``        - cut after 40-70% of the sentence, ``finish_reason`` "length" as a
  generator that hit ``max_new_tokens`` reports it;
* ``early_stop``        - the same kind of cut with ``finish_reason`` "stop" (the model emitted
  EOS mid-sentence): only the text can tell, not the generator's metadata;
* ``unrelated``         - another row's y: fluent, right language, wrong meaning.

Every variant is a pure function of (seed, row id, direction, category): same inputs, same text.
A variant that cannot apply (no number, no third language, a too short sentence) or that would equal
y after the filters' normalisation is skipped, never faked.
"""

from __future__ import annotations

import hashlib
import random
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from eax_data import languages

CATEGORIES = (
    "omission",
    "untranslated_span",
    "wrong_language",
    "source_copy",
    "english_copy",
    "repetition",
    "number_change",
    "truncation",
    "early_stop",
    "unrelated",
)

# Scripts written without spaces between words: a character is the unit to drop, loop or cut.
NO_SPACE_SCRIPTS = frozenset({"Hans", "Hant", "Jpan", "Thai"})
# A clause ends at one of these, unless a digit follows ("7:45", "1,5" are numbers, not clauses).
_CLAUSE_END = re.compile(r"[,;:，；：、](?!\d)\s*")
_TRAILING_PUNCT = " \t,;:，；：、-–—"
_FINAL_PUNCT = ".!?。！？…"


@dataclass(frozen=True)
class Context:
    """One x->y task of a multiway row, with everything a degradation may draw on."""

    row_id: str
    src_lang: str
    trg_lang: str
    good: str  # the human translation y: the GOOD candidate
    source: str  # x
    anchor: str  # the English anchor e
    others: dict[str, str] = field(default_factory=dict)  # the row's texts in languages other than en and y
    pool: tuple[str, ...] = ()  # y texts of the corpus' rows (texts equal to ``good`` are never drawn)


@dataclass(frozen=True)
class Variant:
    category: str
    text: str
    finish_reason: str = "stop"
    detail: str = ""  # what was done, for the report's examples


def variant_seed(seed: int, *parts: str) -> int:
    """A seed from the audit seed and the variant's identity (not from Python's salted ``hash``)."""
    digest = hashlib.blake2b("\x1f".join([str(seed), *parts]).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def units(text: str, lang: str) -> tuple[list[str], str]:
    """(units, joiner): characters for scripts without spaces, else whitespace-separated words."""
    try:
        script = languages.get(lang).script
    except languages.UnknownLanguageError:
        script = ""
    if script in NO_SPACE_SCRIPTS:
        return list(text.strip()), ""
    return text.split(), " "


def _is_digit_or_punct(char: str) -> bool:
    return char.isdigit() or unicodedata.category(char).startswith("P")


def _final_punctuation(text: str) -> str:
    stripped = text.rstrip()
    return stripped[-1] if stripped and stripped[-1] in _FINAL_PUNCT else ""


# -- the degradations -------------------------------------------------------------------------


def omission(ctx: Context, rng: random.Random) -> Variant | None:
    """Drop one clause holding 25-60% of the sentence; else a contiguous 30-50% of its units."""
    text = ctx.good.strip()
    bounds = [0] + [m.end() for m in _CLAUSE_END.finditer(text) if m.end() < len(text)] + [len(text)]
    spans = list(zip(bounds, bounds[1:]))
    options = [i for i in range(1, len(spans)) if 0.25 <= (spans[i][1] - spans[i][0]) / len(text) <= 0.6]
    if options:
        i = rng.choice(options)
        start, end = spans[i]
        if i == len(spans) - 1:  # the last clause: end the sentence where the one before ends
            result = text[:start].rstrip(_TRAILING_PUNCT) + _final_punctuation(text)
        else:
            result = text[:start] + text[end:]
        return Variant("omission", result, detail=f"dropped clause {text[start:end].strip()!r}")
    parts, joiner = units(text, ctx.trg_lang)
    n = len(parts)
    if n < 4:
        return None
    k = min(n - 2, max(1, round(n * rng.uniform(0.3, 0.5))))
    start = rng.randint(1, n - k - 1)  # keep the first unit and the last (its final punctuation)
    dropped = joiner.join(parts[start : start + k])
    return Variant("omission", joiner.join(parts[:start] + parts[start + k :]), detail=f"dropped {dropped!r}")


def untranslated_span(ctx: Context, rng: random.Random) -> Variant | None:
    """The head or tail of y replaced by the proportional share of the anchor's English words."""
    parts, joiner = units(ctx.good, ctx.trg_lang)
    english = ctx.anchor.split()
    if len(parts) < 2 or len(english) < 2:
        return None
    share = rng.uniform(0.4, 0.6)
    ky = min(len(parts) - 1, max(1, round(len(parts) * share)))
    ke = min(len(english) - 1, max(1, round(len(english) * share)))
    if rng.random() < 0.5:  # y's head, English tail
        kept, span = joiner.join(parts[:ky]).rstrip(_TRAILING_PUNCT), " ".join(english[ke:])
        return Variant("untranslated_span", f"{kept} {span}", detail=f"English tail {span!r}")
    span, kept = " ".join(english[:ke]), joiner.join(parts[ky:]).lstrip(_TRAILING_PUNCT)
    return Variant("untranslated_span", f"{span} {kept}", detail=f"English head {span!r}")


def wrong_language(ctx: Context, rng: random.Random) -> Variant | None:
    """The same sentence in a third language of the row (neither the source's nor the target's)."""
    third = sorted(code for code, text in ctx.others.items() if code not in (ctx.src_lang, ctx.trg_lang) and text.strip())
    if not third:
        return None
    code = rng.choice(third)
    return Variant("wrong_language", ctx.others[code].strip(), detail=f"the row's {code} translation")


def source_copy(ctx: Context, rng: random.Random) -> Variant | None:
    """The source x returned unchanged."""
    return Variant("source_copy", ctx.source.strip(), detail=f"the {ctx.src_lang} source")


def english_copy(ctx: Context, rng: random.Random) -> Variant | None:
    """The English anchor e returned as the 'translation'."""
    return Variant("english_copy", ctx.anchor.strip(), detail="the English anchor")


def repetition(ctx: Context, rng: random.Random) -> Variant | None:
    """A short phrase looped: it occurs 4-6 times in a row."""
    parts, joiner = units(ctx.good, ctx.trg_lang)
    n = len(parts)
    low, high = (2, 4) if joiner == "" else (1, 3)
    if n - 1 < low:
        return None
    length = rng.randint(low, min(high, n - 1))
    # the phrase parts[end-length:end], never the final unit; a character phrase holds no digit or
    # punctuation, so the loop never splits a number ("59" -> "59欧9欧9欧") into a second error
    ends = [e for e in range(length, n) if joiner or not any(_is_digit_or_punct(c) for c in parts[e - length : e])]
    if not ends:
        return None
    end = rng.choice(ends)
    phrase = parts[end - length : end]
    extra = rng.randint(3, 5)
    result = joiner.join(parts[:end] + phrase * extra + parts[end:])
    return Variant("repetition", result, detail=f"{joiner.join(phrase)!r} x{extra + 1}")


def number_change(ctx: Context, rng: random.Random) -> Variant | None:
    """One digit of one digit sequence replaced (no new leading zero); None without digits."""
    matches = [m for m in re.finditer(r"\d+", ctx.good)]
    if not matches:
        return None
    match = rng.choice(matches)
    digits = match.group()
    pos = rng.randrange(len(digits))
    choices = [d for d in "0123456789" if d != digits[pos] and not (pos == 0 and d == "0" and len(digits) > 1)]
    new = digits[:pos] + rng.choice(choices) + digits[pos + 1 :]
    result = ctx.good[: match.start()] + new + ctx.good[match.end() :]
    return Variant("number_change", result.strip(), detail=f"{digits} -> {new}")


def truncation(ctx: Context, rng: random.Random) -> Variant | None:
    """Cut after 40-70% of the units, mid-sentence; the generator would report finish_reason 'length'."""
    parts, joiner = units(ctx.good, ctx.trg_lang)
    n = len(parts)
    if n < 3:
        return None
    k = min(n - 1, max(1, round(n * rng.uniform(0.4, 0.7))))
    result = joiner.join(parts[:k]).rstrip(_TRAILING_PUNCT + _FINAL_PUNCT)  # "a.m." cut -> "a.m": no false ending
    return Variant("truncation", result, finish_reason="length", detail=f"first {k} of {n} {'characters' if joiner == '' else 'words'}")


def early_stop(ctx: Context, rng: random.Random) -> Variant | None:
    """A truncation the generator reports as a normal stop: no metadata gives it away."""
    cut = truncation(ctx, rng)
    return None if cut is None else Variant("early_stop", cut.text, finish_reason="stop", detail=cut.detail)


def unrelated(ctx: Context, rng: random.Random) -> Variant | None:
    """Another row's translation into the same language."""
    good = ctx.good.strip()
    pool = [text.strip() for text in ctx.pool if text.strip() and text.strip() != good]
    if not pool:
        return None
    return Variant("unrelated", rng.choice(pool), detail="another row's translation")


DEGRADATIONS: dict[str, Callable[[Context, random.Random], Variant | None]] = {
    "omission": omission,
    "untranslated_span": untranslated_span,
    "wrong_language": wrong_language,
    "source_copy": source_copy,
    "english_copy": english_copy,
    "repetition": repetition,
    "number_change": number_change,
    "truncation": truncation,
    "early_stop": early_stop,
    "unrelated": unrelated,
}
assert tuple(DEGRADATIONS) == CATEGORIES


def check_categories(categories: Iterable[str] | None) -> tuple[str, ...]:
    """The categories asked for, in canonical order; unknown names raise with the known ones."""
    if categories is None:
        return CATEGORIES
    wanted = set(categories)
    unknown = sorted(wanted - set(CATEGORIES))
    if unknown:
        raise ValueError(f"unknown degradation categories {unknown}; known: {', '.join(CATEGORIES)}")
    if not wanted:
        raise ValueError("no degradation category selected")
    return tuple(c for c in CATEGORIES if c in wanted)


def degrade(ctx: Context, seed: int = 0, categories: Iterable[str] | None = None) -> dict[str, Variant | None]:
    """Category -> variant of ``ctx.good`` (None where it does not apply or would equal y).

    "Equal" is judged as the duplicate filter judges it (``normalize_for_comparison``), so a variant
    is never dropped as a duplicate of the good candidate instead of being judged on its merits.
    """
    from eax_data.builders.filters import normalize_for_comparison

    good = normalize_for_comparison(ctx.good)
    out: dict[str, Variant | None] = {}
    for category in check_categories(categories):
        rng = random.Random(variant_seed(seed, ctx.row_id, ctx.src_lang, ctx.trg_lang, category))
        variant = DEGRADATIONS[category](ctx, rng)
        if variant is not None and (not variant.text.strip() or normalize_for_comparison(variant.text) == good):
            variant = None
        out[category] = variant
    return out
