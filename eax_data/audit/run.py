"""The audit chain: human translations and their degraded variants through the build's own filters
and scorer, judged as the pair rule would judge them.

Every (good, degraded) pair is its own two-candidate task (good = index 0), so the stateful filters
(duplicates, copy) see exactly what they see in a build and one variant never shadows another. The
candidates carry the build's metadata (task fields, ``src_text``, ``candidate_index``,
``finish_reason``), run through ``build_candidate_filters(recipe.filters)`` - whatever filters that
builds today - and the kept ones through ``ScoreCandidates`` with ``scorer_slots(recipe.scorer)``
and the recipe's score cache. Ensemble members are combined per direction with ``EnsembleCombiner``
over the direction's distinct kept candidates, as the pairs stage combines them.

Verdict per pair: WIN when the degraded candidate is filtered and the good one kept, or both are
kept and the good one scores higher; TIE on equal scores (the pair rule makes no pair); LOSS
otherwise - a degraded candidate that outscores the good one, or a good one the filters dropped.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from eax_data import languages
from eax_data.audit.degrade import Context, Variant, check_categories, degrade

WIN, TIE, LOSS = "win", "tie", "loss"
PIVOT_SOURCES = ("human", "generate")
HUMAN_PIVOT_NOTE = (
    "pivot = the human translation, which is also the good candidate: reference-based scores are an "
    "UPPER BOUND on what a generated pivot gives"
)


class AuditError(ValueError):
    """An audit that cannot run as asked; the message says what to change."""


@dataclass(frozen=True)
class CorpusRow:
    id: str
    ref: str  # file:line, for source_id
    texts: dict[str, str]  # language code -> text, English included


@dataclass
class AuditPair:
    """One (good, degraded) task and, once run, what the filters and the scorer made of it."""

    direction: str
    row_id: str
    variant: Variant
    good: object  # datatrove Document, candidate_index 0
    degraded: object  # candidate_index 1
    good_filtered: str | None = None  # filter reason, None = kept
    degraded_filtered: str | None = None
    good_score: float | None = None
    degraded_score: float | None = None

    @property
    def category(self) -> str:
        return self.variant.category

    @property
    def verdict(self) -> str:
        return verdict(self.good_filtered, self.degraded_filtered, self.good_score, self.degraded_score)

    @property
    def margin(self) -> float | None:
        """score(good) - score(degraded) when both were kept and scored."""
        if self.good_score is None or self.degraded_score is None:
            return None
        return self.good_score - self.degraded_score


def verdict(good_filtered: str | None, degraded_filtered: str | None, good_score: float | None, degraded_score: float | None) -> str:
    """WIN / TIE / LOSS of the good candidate over the degraded one (see the module docstring)."""
    if good_filtered is not None:
        return LOSS  # a false positive: the build would lose the good translation
    if degraded_filtered is not None:
        return WIN
    if good_score is None or degraded_score is None:
        raise ValueError("both candidates were kept, so both need a score")
    if good_score > degraded_score:
        return WIN
    return TIE if good_score == degraded_score else LOSS


# -- corpus -----------------------------------------------------------------------------------


def read_rows(recipe, limit: int | None = None) -> list[CorpusRow]:
    """The multiway rows of ``recipe.corpus``, read by the build's own reader (at most ``limit``)."""
    from eax_data.builders.anchors import language_columns
    from eax_data.builders.readers import ROW, ROW_REF, make_reader

    corpus = recipe.corpus
    if corpus.kind != "multiway":
        raise AuditError(f"corpus.kind is {corpus.kind!r}: the audit needs a multiway corpus (human x->y translations)")
    reader = make_reader(corpus.path, corpus.format, corpus.split, corpus.config, recipe.languages)
    rows = []
    for document in reader.run():
        if limit is not None and len(rows) >= limit:
            break
        columns = language_columns(document.metadata[ROW])
        texts = {code: value.strip() for code, (_, value) in columns.items() if isinstance(value, str) and value.strip()}
        ref = document.metadata[ROW_REF]
        rows.append(CorpusRow(str(document.metadata[ROW].get("id") or ref), ref, texts))
    if not rows:
        raise AuditError(f"{corpus.path}: no rows read")
    return rows


def make_pairs(recipe, rows: list[CorpusRow], seed: int = 0, categories: Iterable[str] | None = None) -> tuple[list[AuditPair], Counter]:
    """Every applicable (good, degraded) pair of every direction and row; and skips per category."""
    from datatrove.data import Document

    from eax_data.builders.expand import task_id
    from eax_data.pipelines.stages import corpus_id
    from eax_data.schema import (
        CANDIDATE_INDEX, FINISH_REASON, GENERATOR, REF_LANG, REF_TEXT, SHARD, SOURCE_ID, SRC_LANG, SRC_TEXT, TASK_ID, TRG_LANG,
    )

    categories = check_categories(categories)
    en = languages.ENGLISH
    directions = languages.x2x_directions(list(recipe.languages))
    missing = sorted({lang for lang in recipe.languages if lang != en and not any(lang in r.texts for r in rows)})
    if missing:
        raise AuditError(f"languages {missing} have no text in the corpus {recipe.corpus.path!r}")
    name = corpus_id(recipe)
    pools = {trg: tuple(r.texts[trg] for r in rows if r.texts.get(trg)) for trg in recipe.languages}
    pairs, skipped = [], Counter()
    for src, trg in directions:
        for row in rows:
            texts = row.texts
            if not all(texts.get(code) for code in (en, src, trg)):
                continue
            ctx = Context(
                row_id=row.id, src_lang=src, trg_lang=trg, good=texts[trg], source=texts[src], anchor=texts[en],
                others={code: text for code, text in texts.items() if code not in (en, trg)},
                pool=pools[trg],  # the row's own text is excluded by `unrelated`
            )
            task = {
                SRC_LANG: src, TRG_LANG: trg, REF_LANG: en, REF_TEXT: ctx.anchor, SRC_TEXT: ctx.source,
                SOURCE_ID: f"{name}:{row.ref.rsplit('/', 1)[-1]}:{src}", SHARD: "00000",
            }
            base = task_id(src, trg, ctx.source)
            for category, variant in degrade(ctx, seed, categories).items():
                if variant is None:
                    skipped[category] += 1
                    continue
                tid = f"{base}:audit-{category}"
                good = Document(text=ctx.good, id=f"{tid}/0", metadata={
                    **task, TASK_ID: tid, CANDIDATE_INDEX: 0, FINISH_REASON: "stop", GENERATOR: "audit:human"})
                bad = Document(text=variant.text, id=f"{tid}/1", metadata={
                    **task, TASK_ID: tid, CANDIDATE_INDEX: 1, FINISH_REASON: variant.finish_reason, GENERATOR: f"audit:{category}"})
                pairs.append(AuditPair(f"{src}-{trg}", row.id, variant, good, bad))
    return pairs, skipped


# -- filters ----------------------------------------------------------------------------------


class _CaptureExclusions:
    """Stands in for a filter's exclusion writer: records the dropped candidate's reason by id."""

    def __init__(self, group: str, sink: dict[str, str]):
        self.group, self.sink = group, sink

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def write(self, document, rank: int = 0) -> None:
        from eax_data.schema import FILTER_REASON

        self.sink[document.id] = document.metadata.get(FILTER_REASON) or self.group


def apply_filters(documents: list, filters_config) -> tuple[dict[str, str], list[str]]:
    """(id -> drop reason for every dropped candidate, names of the filters run), in build order."""
    from eax_data.builders import filters as candidate_filters

    reasons: dict[str, str] = {}
    chain = candidate_filters.build_candidate_filters(
        dataclasses.replace(filters_config, keep_excluded=True), lambda group: _CaptureExclusions(group, reasons)
    )
    stream = iter(documents)
    for step in chain:
        stream = step.run(stream)
    kept = {doc.id for doc in stream}
    dropped = {doc.id: reasons.get(doc.id, "filtered") for doc in documents if doc.id not in kept}
    return dropped, [getattr(step, "name", type(step).__name__) for step in chain]


# -- pivots and scores ------------------------------------------------------------------------


def needs_pivots(recipe) -> bool:
    return any(leaf.reference == "pivot" for leaf in recipe.scorer.leaves())


def generated_pivots(recipe, documents: list) -> dict[str, str]:
    """pivot key -> the recipe generator's greedy en->y translation, made as the pivots stage makes it."""
    import functools
    import tempfile

    from datatrove.data import Document

    from eax_data.builders.generate import GenerateCandidates
    from eax_data.builders.pivots import PIVOT_TEMPLATE, PivotRequests
    from eax_data.generation.base import make_backend
    from eax_data.pipelines.stages import pivot_fingerprint, pivot_sampling
    from eax_data.schema import TASK_ID

    tasks = (Document(text=d.metadata["src_text"], id=d.metadata[TASK_ID], metadata=dict(d.metadata)) for d in documents)
    with tempfile.TemporaryDirectory(prefix="eax-audit-pivots-") as scratch:
        step = GenerateCandidates(
            backend_factory=functools.partial(make_backend, recipe.generator, recipe.prompt.chat_template),
            sampling=pivot_sampling(recipe),
            prompt_template=PIVOT_TEMPLATE,
            checkpoint_dir=scratch,
            fingerprint=pivot_fingerprint(recipe),
            chunk_size=recipe.execution.chunk_size,
            label="pivots",
        )
        return {doc.metadata[TASK_ID]: doc.text for doc in step.run(PivotRequests().run(tasks))}


def attach_pivots(recipe, pairs: list[AuditPair], pivot: str | None) -> None:
    """Set ``pivot_text`` on every candidate, or refuse when a scorer needs one and none was chosen."""
    from eax_data.builders.pivots import pivot_key
    from eax_data.schema import PIVOT_TEXT, REF_TEXT, TRG_LANG

    if not needs_pivots(recipe):
        return
    if pivot not in PIVOT_SOURCES:
        keys = [leaf.key for leaf in recipe.scorer.leaves() if leaf.reference == "pivot"]
        raise AuditError(
            f"scorer {', '.join(keys)} compares candidates with a pivot translation: pass --pivot human (the human "
            "translation as pivot: an upper bound, the good candidate is its own reference) or --pivot generate "
            "(greedy en->y with the recipe's generator, as a build does; slow on CPU)"
        )
    if pivot == "human":
        table = None
    else:
        table = generated_pivots(recipe, [p.good for p in pairs])
    for pair in pairs:
        meta = pair.good.metadata
        text = pair.good.text if table is None else table[pivot_key(meta[REF_TEXT], meta[TRG_LANG])]
        pair.good.metadata[PIVOT_TEXT] = pair.degraded.metadata[PIVOT_TEXT] = text


def score_documents(recipe, documents: list, cache_path: str | None) -> tuple[dict[str, float], dict[str, str]]:
    """(id -> final score, scorer key -> scorer id): the raw score, or the ensemble's per-direction combination."""
    from eax_data.builders.score import ScoreCandidates, anchor_fields, scorer_slots
    from eax_data.schema import SCORE, SCORES, SOURCE_ID, SRC_LANG, TRG_LANG, direction

    slots = scorer_slots(recipe.scorer)
    ids = {slot.key: slot.scorer.id for slot in slots}
    anchor_field, anchor_lang_field = anchor_fields(recipe.mode)
    step = ScoreCandidates(
        slots, batch_size=recipe.scorer.batch_size, anchor_field=anchor_field, anchor_lang_field=anchor_lang_field, cache_path=cache_path
    )
    scored = list(step.run(iter(documents))) if documents else []
    if recipe.scorer.kind != "ensemble":
        return {doc.id: doc.metadata[SCORE] for doc in scored}, ids
    from eax_data.scoring.combine import EnsembleCombiner, collect_scores

    leaves = recipe.scorer.leaves()
    distinct = {}  # the good candidate is in every category's task: count each text once per row
    for doc in scored:
        name = direction(doc.metadata[SRC_LANG], doc.metadata[TRG_LANG])
        distinct.setdefault((name, doc.metadata[SOURCE_ID], doc.text), (name, doc.metadata[SCORES]))
    combiner = EnsembleCombiner(
        tuple((leaf.key, leaf.weight) for leaf in leaves), recipe.scorer.combine,
        collect_scores(distinct.values(), [leaf.key for leaf in leaves]),
    )
    return {doc.id: combiner(direction(doc.metadata[SRC_LANG], doc.metadata[TRG_LANG]), doc.metadata[SCORES]) for doc in scored}, ids


# -- the audit --------------------------------------------------------------------------------


def prepare_recipe(recipe, corpus: str | None = None, languages_wanted: Iterable[str] | None = None):
    """The recipe with the audit's overrides: another corpus, other languages."""
    from eax_data.recipe import RecipeError

    if recipe.mode != "x2x":
        raise AuditError(f"recipe mode is {recipe.mode!r}: the audit checks x2x builds (English-anchored scoring)")
    changes = {}
    if corpus is not None and corpus != recipe.corpus.path:
        changes.update({"corpus.path": corpus, "corpus.format": "auto", "corpus.id": None, "corpus.kind": "multiway"})
    if languages_wanted is not None:
        changes["languages"] = list(languages_wanted)
    try:
        return recipe.replace(**changes) if changes else recipe
    except RecipeError as err:
        raise AuditError(str(err).removeprefix("<overrides>: ")) from None


def run_audit(
    recipe,
    *,
    limit: int | None = None,
    scorer_only: bool = False,
    pivot: str | None = None,
    seed: int = 0,
    categories: Iterable[str] | None = None,
    min_win_rate: float = 0.95,
    max_examples: int = 3,
) -> dict:
    """Run the audit for ``recipe`` (already prepared) and return the report (see ``report.summarise``)."""
    from eax_data.audit.report import summarise
    from eax_data.scoring.cache import resolve_cache_path

    if not 0.0 <= min_win_rate <= 1.0:
        raise AuditError(f"--min-win-rate must be in [0, 1], got {min_win_rate}")
    if limit is not None and limit < 1:
        raise AuditError(f"--limit must be >= 1, got {limit}")
    started = time.monotonic()
    rows = read_rows(recipe, limit)
    pairs, skipped = make_pairs(recipe, rows, seed, categories)
    if not pairs:
        raise AuditError("no (good, degraded) pair could be made from these rows and languages")
    attach_pivots(recipe, pairs, pivot)
    timings = {"prepare": time.monotonic() - started}

    filter_names: list[str] = []
    if not scorer_only:
        t = time.monotonic()
        dropped, filter_names = apply_filters([doc for p in pairs for doc in (p.good, p.degraded)], recipe.filters)
        for pair in pairs:
            pair.good_filtered, pair.degraded_filtered = dropped.get(pair.good.id), dropped.get(pair.degraded.id)
        timings["filters"] = time.monotonic() - t

    t = time.monotonic()
    kept = [doc for p in pairs for doc, gone in ((p.good, p.good_filtered), (p.degraded, p.degraded_filtered)) if gone is None]
    scores, scorer_ids = score_documents(recipe, kept, resolve_cache_path(recipe.execution.score_cache))
    for pair in pairs:
        pair.good_score, pair.degraded_score = scores.get(pair.good.id), scores.get(pair.degraded.id)
    timings["scoring"] = time.monotonic() - t

    header = {
        "recipe": {"name": recipe.name, "fingerprint": recipe.fingerprint()},
        "corpus": recipe.corpus.path,
        "rows": len(rows),
        "seed": seed,
        "languages": list(recipe.languages),
        "directions": sorted({p.direction for p in pairs}, key=lambda d: [list(recipe.languages).index(c) for c in d.split("-")]),
        "view": "scorer-only" if scorer_only else "filters+scorer",
        "filters": filter_names,
        "scorer": {
            "kind": recipe.scorer.kind,
            "keys": list(scorer_ids),
            "ids": list(scorer_ids.values()),
            "combine": recipe.scorer.combine if recipe.scorer.kind == "ensemble" else None,
        },
        "pivot": None if not needs_pivots(recipe) else {"source": pivot, "note": HUMAN_PIVOT_NOTE if pivot == "human" else "greedy en->y pivots from the recipe's generator"},
        "skipped": {c: skipped.get(c, 0) for c in check_categories(categories)},
    }
    timings["total"] = time.monotonic() - started
    return summarise(pairs, header, min_win_rate=min_win_rate, max_examples=max_examples, categories=check_categories(categories), seconds=timings)
