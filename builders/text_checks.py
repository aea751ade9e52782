"""Pure text measures behind the candidate filters (no datatrove, no models): tokens, scripts,
sentences, repetition, brackets and numbers. Kept apart from the filters so each measure can be
tested and calibrated on its own (the defaults were measured on ``eax_data/demo/multiway.jsonl``).
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
import zlib

_WHITESPACE = re.compile(r"\s+")

# -- character weights ---------------------------------------------------------------------------

# Latin-character equivalents of one character, by Unicode block. One Han character carries
# about a word (English averages ~4-5 letters plus a space; FLORES English sentences run ~3x
# the characters of their Chinese versions), a Hangul syllable or kana about half a word.
# Everything else (Latin, Cyrillic, Greek, Arabic, Devanagari, digits, punctuation) counts 1.
_SCRIPT_WEIGHTS: tuple[tuple[int, int, float], ...] = (
    (0x1100, 0x11FF, 2.5),  # Hangul Jamo
    (0x3040, 0x30FF, 2.5),  # Hiragana, Katakana
    (0x3130, 0x318F, 2.5),  # Hangul Compatibility Jamo
    (0x31F0, 0x31FF, 2.5),  # Katakana Phonetic Extensions
    (0x3400, 0x4DBF, 3.0),  # CJK Unified Ideographs Extension A
    (0x4E00, 0x9FFF, 3.0),  # CJK Unified Ideographs
    (0xAC00, 0xD7AF, 2.5),  # Hangul Syllables
    (0xF900, 0xFAFF, 3.0),  # CJK Compatibility Ideographs
    (0xFF66, 0xFF9F, 2.5),  # Halfwidth Katakana
    (0x20000, 0x3134F, 3.0),  # CJK Extensions B-H, Compatibility Supplement
)


def _character_class(weight: float) -> re.Pattern:
    ranges = "".join(f"{chr(low)}-{chr(high)}" for low, high, w in _SCRIPT_WEIGHTS if w == weight)
    return re.compile(f"[{ranges}]")


# One regex per weight: the C regex engine counts wide characters, no Python loop per character.
_WEIGHT_CLASSES = tuple((weight - 1.0, _character_class(weight)) for weight in sorted({w for _, _, w in _SCRIPT_WEIGHTS}))


def weighted_length(text: str) -> float:
    """Length in Latin-character equivalents: whitespace runs count once, CJK/Hangul per ``_SCRIPT_WEIGHTS``."""
    text = _WHITESPACE.sub(" ", text).strip()
    return len(text) + sum(extra * len(pattern.findall(text)) for extra, pattern in _WEIGHT_CLASSES)


# -- tokens --------------------------------------------------------------------------------------

# Han and kana are written without spaces: each character is a token. Everything else: runs of
# letters (with their combining marks: accents, Arabic harakat, Devanagari vowel signs), joined
# across apostrophes and hyphens ("l'eau", "пол-литра"), and runs of digits, split off letters and
# separators so "7:45" and "7h45" give the same tokens.
_NO_SPACE_SCRIPT = "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f"
_MARKS = "\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u0900-\u0903\u093a-\u094f\u0951-\u0957\u0962\u0963"
_LETTER = rf"(?:(?![{_NO_SPACE_SCRIPT}])[^\W\d_]|[{_MARKS}])"
_TOKEN = re.compile(rf"[{_NO_SPACE_SCRIPT}]|\d+|{_LETTER}+(?:['’\-]{_LETTER}+)*")
_NO_SPACE_CHAR = re.compile(f"[{_NO_SPACE_SCRIPT}]")


def tokens(text: str) -> list[str]:
    """Word tokens of NFKC ``text`` in their original case (one token per Han/kana character)."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text))


def is_name_or_number(token: str) -> bool:
    """Capitalised or numeric: what a human translation keeps from the anchor (names, figures)."""
    return token[0].isdigit() or token[0].isupper()


def is_no_space_char(token: str) -> bool:
    return bool(_NO_SPACE_CHAR.fullmatch(token))


# -- partial copies ------------------------------------------------------------------------------


def _ngrams(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


class SpanIndex:
    """The k-grams (and 2k-grams for spans of Han/kana characters) of a reference text, casefolded."""

    def __init__(self, text: str, k: int):
        if k < 2:
            raise ValueError(f"copy spans need k >= 2 tokens, got {k}")
        self.k = k
        words = [t.casefold() for t in tokens(text)]
        self.short = _ngrams(words, k)
        self.long = _ngrams(words, 2 * k)


def copied_share(candidate: str, index: SpanIndex) -> float:
    """Share of ``candidate`` (in weighted characters) inside spans it shares with the indexed text.

    A span counts when it is ``k`` tokens long (``2k`` Han/kana characters: a character is about
    half a word) and holds at least two tokens that are neither capitalised nor numbers: "in New
    York" or "Munich ... 7:45" are what a human keeps, "leaves at 7:45" is an untranslated chunk.
    """
    original = tokens(candidate)
    if not original:
        return 0.0
    words = [t.casefold() for t in original]
    k = index.k
    common = [not is_name_or_number(t) for t in original]
    cjk = [is_no_space_char(t) for t in original]
    covered = [False] * len(words)
    for i in range(len(words) - k + 1):
        if all(cjk[i : i + k]):  # a run of Han/kana: compare 2k characters
            span = 2 * k
            if i + span > len(words) or tuple(words[i : i + span]) not in index.long:
                continue
        else:
            span = k
            if tuple(words[i : i + span]) not in index.short:
                continue
        if sum(common[i : i + span]) >= 2:
            covered[i : i + span] = [True] * span
    total = sum(weighted_length(t) for t in original)
    return sum(weighted_length(t) for t, c in zip(original, covered) if c) / total if total else 0.0


# -- scripts -------------------------------------------------------------------------------------

_SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = tuple(
    sorted(
        [
            (0x0041, 0x005A, "Latn"), (0x0061, 0x007A, "Latn"), (0x00AA, 0x00AA, "Latn"), (0x00BA, 0x00BA, "Latn"),
            (0x00C0, 0x02AF, "Latn"), (0x1D00, 0x1DBF, "Latn"), (0x1E00, 0x1EFF, "Latn"), (0x2C60, 0x2C7F, "Latn"),
            (0xA720, 0xA7FF, "Latn"), (0xAB30, 0xAB6F, "Latn"), (0xFF21, 0xFF3A, "Latn"), (0xFF41, 0xFF5A, "Latn"),
            (0x0370, 0x03FF, "Grek"), (0x1F00, 0x1FFF, "Grek"),
            (0x0400, 0x052F, "Cyrl"), (0x1C80, 0x1C8F, "Cyrl"), (0x2DE0, 0x2DFF, "Cyrl"), (0xA640, 0xA69F, "Cyrl"),
            (0x0530, 0x058F, "Armn"), (0x0590, 0x05FF, "Hebr"),
            (0x0600, 0x06FF, "Arab"), (0x0750, 0x077F, "Arab"), (0x08A0, 0x08FF, "Arab"), (0xFB50, 0xFDFF, "Arab"),
            (0xFE70, 0xFEFF, "Arab"),
            (0x0900, 0x097F, "Deva"), (0xA8E0, 0xA8FF, "Deva"),
            (0x0E00, 0x0E7F, "Thai"), (0x10A0, 0x10FF, "Geor"),
            (0x1100, 0x11FF, "Hang"), (0x3130, 0x318F, "Hang"), (0xA960, 0xA97F, "Hang"), (0xAC00, 0xD7FF, "Hang"),
            (0x3040, 0x309F, "Hira"), (0x30A0, 0x30FF, "Kana"), (0x31F0, 0x31FF, "Kana"), (0xFF66, 0xFF9F, "Kana"),
            (0x2E80, 0x2FDF, "Hani"), (0x3005, 0x3007, "Hani"), (0x3021, 0x3029, "Hani"), (0x3400, 0x4DBF, "Hani"),
            (0x4E00, 0x9FFF, "Hani"), (0xF900, 0xFAFF, "Hani"), (0x20000, 0x3134F, "Hani"),
        ]
    )
)
_RANGE_STARTS = [low for low, _, _ in _SCRIPT_RANGES]

# ISO 15924 code of a language's usual orthography (``eax_data.languages``) -> the scripts its
# letters may come from.
SCRIPT_FAMILIES: dict[str, frozenset[str]] = {
    "Hans": frozenset({"Hani"}),
    "Hant": frozenset({"Hani"}),
    "Hani": frozenset({"Hani"}),
    "Jpan": frozenset({"Hani", "Hira", "Kana"}),
    "Hang": frozenset({"Hang", "Hani"}),
    "Kore": frozenset({"Hang", "Hani"}),
}


def char_script(char: str) -> str | None:
    """ISO 15924 script of a letter from the tables above, ``None`` for anything else."""
    code = ord(char)
    i = bisect.bisect_right(_RANGE_STARTS, code) - 1
    if i >= 0 and _SCRIPT_RANGES[i][0] <= code <= _SCRIPT_RANGES[i][1]:
        return _SCRIPT_RANGES[i][2]
    return None


def script_share(text: str, scripts: frozenset[str]) -> float | None:
    """Share of the letters of ``text`` (weighted like ``weighted_length``) written in ``scripts``.

    Digits, punctuation and symbols do not count; ``None`` when the text has no letters.
    """
    inside = total = 0.0
    for char in unicodedata.normalize("NFKC", text):
        script, weight = _letter_script_weight(char)
        if weight:
            total += weight
            if script in scripts:
                inside += weight
    return inside / total if total else None


@functools.lru_cache(maxsize=8192)
def _letter_script_weight(char: str) -> tuple[str | None, float]:
    """(script, weighted length) of a letter; weight 0 for anything that is not a letter."""
    if not unicodedata.category(char).startswith("L"):
        return None, 0.0
    return char_script(char), weighted_length(char)


# -- sentences -----------------------------------------------------------------------------------

_CLOSERS = "\"'”’»」』）)]】›"
_OPENERS = "\"'“‘„«「『（([【‹¿¡"
# Terminators written without a following space (Chinese, Japanese) and the Devanagari danda end
# a sentence on their own; Latin-style .!?… (and Arabic ؟) need a space and a next word that does
# not start in lower case, or a Han/kana character right after them (an English sentence inside
# Chinese text).
_CJK_END = re.compile(rf"[。！？｡।॥]+[{re.escape(_CLOSERS)}]*")
_LATIN_END = re.compile(rf"([.!?…؟]+)[{re.escape(_CLOSERS)}]*(?=\s+(\S)|([{_NO_SPACE_SCRIPT}]))")
# Words that end with a period without ending a sentence (lowercase, without the period);
# tokens with an inner period ("p.m", "z.b", "u.s") and single letters (initials) count too.
ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st jr sr vs etc approx no nos nr fig vol ca bzw usw ggf evtl inkl hr frl "
    "mme mlle mm cie env sra srta sres dña ud uds av avda pág núm sig tel "
    "ул им др проф стр см напр тыс млн млрд руб гг".split()
)
# Languages that write ordinals with a period ("am 9. November"): a number before a period does
# not end the sentence there.
ORDINAL_PERIOD_LANGUAGES = frozenset("de pl cs sk sl hr sr tr da no nb fi hu et lv is".split())


def _ends_with_abbreviation(text: str, ordinal_period: bool) -> bool:
    words = text.split()
    word = words[-1].lstrip(_OPENERS).casefold() if words else ""
    if not word:
        return False
    if word.isdigit():
        return ordinal_period
    return word in ABBREVIATIONS or "." in word or len(word) == 1


def split_sentences(text: str, ordinal_period: bool = False) -> list[str]:
    """Sentences of ``text``: lines, then CJK 。！？ (and ।) anywhere, Latin .!?… before a space.

    A period after an abbreviation or an initial does not end a sentence, nor one after a number
    with ``ordinal_period`` (German "am 9. November"); in doubt the text is split less, so a
    sentence judged alone is rarely a fragment.
    """
    sentences: list[str] = []
    for line in text.splitlines():
        cuts = [m.end() for m in _CJK_END.finditer(line)]
        for m in _LATIN_END.finditer(line):
            if m.group(2) and m.group(2).islower():
                continue
            if m.group(1) == "." and _ends_with_abbreviation(line[: m.start()], ordinal_period):
                continue
            cuts.append(m.end())
        start = 0
        for cut in sorted(set(cuts)):
            if line[start:cut].strip():
                sentences.append(line[start:cut].strip())
            start = cut
        if line[start:].strip():
            sentences.append(line[start:].strip())
    return sentences


# -- repetition ----------------------------------------------------------------------------------


def longest_repeat_run(words: list[str], max_n: int = 8, cap: int | None = None) -> tuple[int, int]:
    """``(times, n)``: the most times one n-gram (n <= ``max_n``) repeats back to back ("déjà déjà déjà" = (3, 1)).

    With ``cap``, returns as soon as a run reaches it: a long loop is then found in linear time.
    """
    best = (1, 1)
    for n in range(1, max_n + 1):
        start = 0
        while start <= len(words) - 2 * n:
            times = 1
            while words[start + times * n : start + (times + 1) * n] == words[start : start + n]:
                times += 1
                if cap is not None and times >= cap:
                    return times, n
            if times > best[0]:
                best = (times, n)
            start += (times - 1) * n + 1 if times > 1 else 1  # inside a run, every later start repeats less
    return best


def duplicate_ngram_fraction(words: list[str], n: int) -> float:
    """Gopher's duplicate n-gram character fraction: characters in repeated n-grams (non-overlapping)."""
    if len(words) < n:
        return 0.0
    seen: set[tuple[str, ...]] = set()
    repeated, i = 0, 0
    while i <= len(words) - n:
        gram = tuple(words[i : i + n])
        if gram in seen:
            repeated += sum(len(w) for w in gram)
            i += n
        else:
            seen.add(gram)
            i += 1
    total = sum(len(w) for w in words)
    return repeated / total if total else 0.0


def compression_ratio(text: str) -> float:
    """zlib-compressed bytes / UTF-8 bytes: loops compress far better than prose."""
    data = text.encode("utf-8")
    return len(zlib.compress(data, 9)) / len(data) if data else 1.0


# -- brackets and quotes -------------------------------------------------------------------------

_PAIRS = {")": "(", "]": "[", "}": "{", "）": "（", "】": "【", "」": "「", "』": "『", "》": "《", "〉": "〈"}
_OPENING = set(_PAIRS.values())
# Quote conventions differ by language („…“ de, «…» fr/ru, “…” en/zh, »…« de/da), and “ opens in
# English but closes in German: quotes are checked by count, not by nesting.
_DOUBLE_QUOTES = "\"„“”＂"
_GUILLEMETS = ("«", "»")


def is_balanced(text: str) -> bool:
    """Brackets nest and close; double quotes come in even numbers; « and » as often as each other."""
    stack: list[str] = []
    for char in text:
        if char in _OPENING:
            stack.append(char)
        elif char in _PAIRS:
            if not stack or stack.pop() != _PAIRS[char]:
                return False
    if stack:
        return False
    if sum(text.count(q) for q in _DOUBLE_QUOTES) % 2:
        return False
    return text.count(_GUILLEMETS[0]) == text.count(_GUILLEMETS[1])


_SENTENCE_END = set(".!?…。！？｡؟।॥‼⁇⁈⁉")


def ends_like_a_sentence(text: str) -> bool:
    """Ends with sentence-final punctuation (optionally followed by closing quotes/brackets)."""
    stripped = text.rstrip().rstrip(_CLOSERS + "*" + " ")
    return bool(stripped) and stripped[-1] in _SENTENCE_END


# -- numbers -------------------------------------------------------------------------------------

# A digit run with inner separators ("1,200", "7:45", "1 200", "9.11.1989"). Thousands groups
# (1-3 digits, then groups of exactly 3 after one repeated separator) join into one number;
# anything else splits at each separator, so 7:45 = 7.45 = "7 h 45" = 7点45分 = {7, 45} and a
# decimal "2.5" = "2,5" = {2, 5}.
_NUMBER = re.compile(r"\d+(?:[.,:'’\u00a0\u202f\u2009 ]\d+)*")
_THOUSANDS_SEPARATORS = {",", ".", "'", "’", "\u00a0", "\u202f", "\u2009", " "}
_SEPARATOR = re.compile(r"[.,:'’\u00a0\u202f\u2009 ]")
_PM = re.compile(r"\s*(?:p\.\s?m\.?|pm\b)", re.IGNORECASE)
_CJK_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CJK_UNITS = {"十": 10, "百": 100, "千": 1000}
_CJK_BIG = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}
_CJK_NUMERAL = re.compile("[" + "".join([*_CJK_DIGITS, *_CJK_UNITS, *_CJK_BIG]) + "]+")
_DIGITS_TIMES_BIG = re.compile(r"(\d+)\s*([万萬亿億])")
_ROMAN = re.compile(r"\b[IVXLCDM]{2,}\b")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def _split_number(match: str) -> list[int]:
    parts = _SEPARATOR.split(match)
    separators = _SEPARATOR.findall(match)
    if (
        len(parts) > 1
        and len(set(separators)) == 1
        and separators[0] in _THOUSANDS_SEPARATORS
        and 1 <= len(parts[0]) <= 3
        and all(len(p) == 3 for p in parts[1:])
    ):
        return [int("".join(parts))]
    return [int(p) for p in parts]


def cjk_numeral_value(numeral: str) -> int | None:
    """七=7, 四十五=45, 十二=12, 一千二百=1200, 三万=30000, 一九八九=1989; ``None`` if malformed."""
    if all(c in _CJK_DIGITS for c in numeral):  # digit by digit, as in years
        return int("".join(str(_CJK_DIGITS[c]) for c in numeral))
    total = section = digit = 0
    for char in numeral:
        if char in _CJK_DIGITS:
            digit = _CJK_DIGITS[char]
        elif char in _CJK_UNITS:
            section += (digit or 1) * _CJK_UNITS[char]
            digit = 0
        elif char in _CJK_BIG:
            total += (section + digit or 1) * _CJK_BIG[char]
            section = digit = 0
        else:
            return None
    return total + section + digit


def _roman_value(numeral: str) -> int | None:
    values = [_ROMAN_VALUES[c] for c in numeral]
    total = sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))
    return total if total > 0 else None


def numbers(text: str, cjk_numerals: bool = True, roman: bool = False) -> list[frozenset[int]]:
    """The numbers of ``text``, each as the set of values a translation may write it as.

    Digits after NFKC (full-width digits too); "10 p.m." also accepts 22; with ``cjk_numerals``,
    Chinese/Japanese numerals (七点四十五分) and digit + 万/亿 ("3万" = 30000) count as well; with
    ``roman``, upper-case Roman numerals of two letters or more ("siglo XXI").
    """
    text = unicodedata.normalize("NFKC", text)
    found: list[frozenset[int]] = []
    for match in _NUMBER.finditer(text):
        after_pm = _PM.match(text, match.end()) is not None
        for i, value in enumerate(_split_number(match.group())):
            # "10 p.m." / "7:45 p.m." -> 22 Uhr / 19:45: the hour may move to the 24-hour clock
            found.append(frozenset({value, value + 12} if after_pm and i == 0 and value <= 12 else {value}))
    if cjk_numerals:
        for match in _DIGITS_TIMES_BIG.finditer(text):
            found.append(frozenset({int(match.group(1)) * _CJK_BIG[match.group(2)]}))
        for match in _CJK_NUMERAL.finditer(text):
            if all(c in _CJK_BIG for c in match.group()):
                continue  # a lone 万 is a word ("万一"), not a number
            value = cjk_numeral_value(match.group())
            if value is not None:
                found.append(frozenset({value}))
    if roman:
        for match in _ROMAN.finditer(text):
            value = _roman_value(match.group())
            if value is not None:
                found.append(frozenset({value}))
    return found
