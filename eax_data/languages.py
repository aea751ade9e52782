"""One language registry: ISO 639-1 code <-> English name <-> FLORES-200 code <-> script.

Prompts use the English name, multiway readers map FLORES file names back to codes, and the
script feeds filters that check what a candidate is written in. Add a language with one line.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str  # ISO 639-1, the code used everywhere in eax-data (records, configs, recipes)
    name: str  # English name, as the paper's prompts spell it
    flores: str  # FLORES-200 code, e.g. "deu_Latn"
    script: str  # ISO 15924 script of the usual orthography


_LANGUAGES = [
    Language("en", "English", "eng_Latn", "Latn"),
    Language("de", "German", "deu_Latn", "Latn"),
    Language("fr", "French", "fra_Latn", "Latn"),
    Language("nl", "Dutch", "nld_Latn", "Latn"),
    Language("it", "Italian", "ita_Latn", "Latn"),
    Language("es", "Spanish", "spa_Latn", "Latn"),
    Language("pt", "Portuguese", "por_Latn", "Latn"),
    Language("ko", "Korean", "kor_Hang", "Hang"),
    Language("ru", "Russian", "rus_Cyrl", "Cyrl"),
    Language("zh", "Chinese", "zho_Hans", "Hans"),
    Language("ja", "Japanese", "jpn_Jpan", "Jpan"),
    Language("pl", "Polish", "pol_Latn", "Latn"),
    Language("cs", "Czech", "ces_Latn", "Latn"),
    Language("uk", "Ukrainian", "ukr_Cyrl", "Cyrl"),
    Language("sv", "Swedish", "swe_Latn", "Latn"),
    Language("tr", "Turkish", "tur_Latn", "Latn"),
    Language("ar", "Arabic", "arb_Arab", "Arab"),
    Language("hi", "Hindi", "hin_Deva", "Deva"),
    Language("vi", "Vietnamese", "vie_Latn", "Latn"),
    Language("id", "Indonesian", "ind_Latn", "Latn"),
]

BY_CODE: dict[str, Language] = {lang.code: lang for lang in _LANGUAGES}
BY_FLORES: dict[str, Language] = {lang.flores: lang for lang in _LANGUAGES}
# FLORES ships Chinese as zho_Hans; older releases and TowerBlocks use these aliases.
_ALIASES = {"zho_Hant": "zh", "cmn_Hans": "zh", "zh-cn": "zh", "zh_cn": "zh", "eng": "en"}

ENGLISH = "en"
PAPER_LANGUAGES = ("en", "de", "fr", "nl", "it", "es", "pt", "ko", "ru", "zh")


class UnknownLanguageError(ValueError):
    pass


def get(code: str) -> Language:
    """Look a language up by ISO code, FLORES code or a known alias; raise with the known codes."""
    key = code.strip()
    if key in BY_CODE:
        return BY_CODE[key]
    if key in BY_FLORES:
        return BY_FLORES[key]
    alias = _ALIASES.get(key) or _ALIASES.get(key.lower())
    if alias:
        return BY_CODE[alias]
    if key.lower() in BY_CODE:
        return BY_CODE[key.lower()]
    raise UnknownLanguageError(f"unknown language code {code!r}; known: {', '.join(sorted(BY_CODE))}")


def normalize(code: str) -> str:
    """The registry's ISO code for any accepted spelling of a language."""
    return get(code).code


def name(code: str) -> str:
    return get(code).name


def x2x_directions(languages: list[str]) -> list[tuple[str, str]]:
    """All ordered pairs of distinct non-English languages: n languages give n(n-1) directions."""
    non_en = [code for code in languages if code != ENGLISH]
    return [(src, trg) for src in non_en for trg in non_en if src != trg]
