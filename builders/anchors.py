"""Row documents -> *anchored sentences*: one non-English sentence x with its English anchor e.

Every bad row becomes a counted drop (``dropped_<reason>`` in the stats) and a log line naming
``file:row`` and the field; nothing is lost silently, nothing crashes mid-way.
"""

from __future__ import annotations

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from loguru import logger

from eax_data.builders.readers import ROW, ROW_REF
from eax_data import languages
from eax_data.schema import REF_LANG, REF_TEXT, SOURCE_ID, SRC_LANG

ENGLISH_CENTRIC_FIELDS = ("src_lang", "trg_lang", "src_text", "trg_text")
_MAX_LOGGED_PER_REASON = 5


def language_columns(row: dict) -> dict[str, tuple[str, object]]:
    """A multiway row's language columns: ISO code -> (column name, value), ISO or FLORES names.

    ``id`` is the usual row-id column, never Indonesian (name that column ``ind_Latn``); other
    columns that are no language code (metadata) are skipped.
    """
    columns = {}
    for key, value in row.items():
        if key == "id":
            continue
        try:
            columns[languages.normalize(str(key))] = (key, value)
        except languages.UnknownLanguageError:
            continue
    return columns


class AnchorSentences(PipelineStep):
    """Validate corpus rows and emit one anchored sentence per selected non-English side.

    ``kind="english_centric"``: TowerBlocks-MT rows (src_lang, trg_lang, src_text, trg_text) with
    English on one side. ``kind="multiway"``: one row per English sentence with a column per
    language, named by ISO or FLORES code (``en``/``eng_Latn``, ``de``/``deu_Latn``...).
    """

    name = "⚓ Anchor sentences"
    type = "🔢 - PROCESS"
    reads = ()
    writes = (SRC_LANG, REF_LANG, REF_TEXT, SOURCE_ID)

    def __init__(self, kind: str, languages_selected: tuple[str, ...], corpus_id: str, limit: int | None = None):
        super().__init__()
        if kind not in ("english_centric", "multiway"):
            raise ValueError(f"unknown corpus kind {kind!r}")
        self.kind = kind
        self.selected = frozenset(code for code in languages_selected if code != languages.ENGLISH)
        self.corpus_id = corpus_id
        self.limit = limit
        self._logged: dict[str, int] = {}

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        convert = self._english_centric if self.kind == "english_centric" else self._multiway
        for rows_read, document in enumerate(data):
            if self.limit is not None and rows_read >= self.limit:
                break
            self.stat_update("rows")
            yield from convert(document.metadata[ROW], document.metadata[ROW_REF])

    # -- row kinds ------------------------------------------------------------------------------

    def _english_centric(self, row: dict, ref: str):
        missing = [f for f in ENGLISH_CENTRIC_FIELDS if f not in row]
        if missing:
            return self._drop("missing_field", ref, f"missing field(s) {missing}; English-centric rows need {list(ENGLISH_CENTRIC_FIELDS)}")
        codes = []
        for field in ("src_lang", "trg_lang"):
            try:
                codes.append(languages.normalize(str(row[field])))
            except languages.UnknownLanguageError:
                return self._drop("unknown_language", ref, f"{field}={row[field]!r} is not a known language code")
        src, trg = codes
        if languages.ENGLISH not in (src, trg) or src == trg:
            return self._drop("no_english_side", ref, f"{src}->{trg} has no English side")
        x_lang, x_field, e_field = (trg, "trg_text", "src_text") if src == languages.ENGLISH else (src, "src_text", "trg_text")
        if x_lang not in self.selected:
            self.stat_update("skipped_language_not_selected")
            return ()
        return self._anchor(x_lang, row[x_field], row[e_field], ref, x_field, e_field)

    def _multiway(self, row: dict, ref: str):
        columns = language_columns(row)
        if languages.ENGLISH not in columns:
            return self._drop("no_english_side", ref, "no English column (en / eng_Latn)")
        e_field, e_text = columns[languages.ENGLISH]
        out = []
        for code in sorted(self.selected & columns.keys()):
            x_field, x_text = columns[code]
            out.extend(self._anchor(code, x_text, e_text, ref, x_field, e_field))
        return out

    def _anchor(self, x_lang: str, x_text, e_text, ref: str, x_field: str, e_field: str):
        for field, value in ((x_field, x_text), (e_field, e_text)):
            if not isinstance(value, str) or not value.strip():
                return self._drop("empty_text", ref, f"field {field!r} is empty or not text")
        self.stat_update("anchored_sentences")
        source_id = f"{self.corpus_id}:{ref.rsplit('/', 1)[-1]}"
        if self.kind == "multiway":
            source_id += f":{x_lang}"
        metadata = {SRC_LANG: x_lang, REF_LANG: languages.ENGLISH, REF_TEXT: e_text.strip(), SOURCE_ID: source_id}
        return [Document(text=x_text.strip(), id=source_id, metadata=metadata)]

    def _drop(self, reason: str, ref: str, message: str):
        self.stat_update(f"dropped_{reason}")
        seen = self._logged.get(reason, 0)
        if seen < _MAX_LOGGED_PER_REASON:
            logger.warning(f"{ref}: {message} - row dropped" + (" (further drops of this kind are only counted)" if seen == _MAX_LOGGED_PER_REASON - 1 else ""))
        self._logged[reason] = seen + 1
        return ()
