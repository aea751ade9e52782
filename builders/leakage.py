"""Test-set leakage guard: anchored sentences whose source x or English anchor e is a test sentence.

Placed right after ``AnchorSentences`` so a leaking sentence never becomes x->y tasks. ``warn``
keeps and counts, ``drop`` removes (``dropped_test_overlap_exact|near``, summarised with every other
drop), ``fail`` counts the whole corpus, then stops the build with the counts and examples.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from loguru import logger

from eax_data.leakage import ACTIONS, FIELDS, KINDS, Leak, LeakageError, Match, TestSetIndex, leakage_report
from eax_data.recipe import LeakageConfig
from eax_data.schema import REF_TEXT, SOURCE_ID

_MAX_LOGGED = 5


class TestSetLeakageGuard(PipelineStep):
    """Match every anchored sentence (x and e) against the test sets; warn, drop or fail.

    Stats (per anchored sentence): ``leak_checked``, ``leak_documents`` (x or e overlaps),
    ``leak_<exact|near>_<source|anchor>``, and with ``drop`` ``dropped_test_overlap_<kind>``
    (exact wins when both fields leak). The index is built in ``run`` (cheap to pickle); with
    ``report_path`` the step writes ``leakage_report`` JSON there when it finishes.
    """

    __test__ = False  # not a pytest class
    name = "🧪 Test-set leakage guard"
    type = "🦠 - DECONT"
    reads = (REF_TEXT, SOURCE_ID)
    writes = ()

    def __init__(
        self,
        testsets: tuple[str, ...],
        action: str = "warn",
        ngram: int = 8,
        min_overlap: float = 0.5,
        languages_selected: tuple[str, ...] | None = None,
        report_path: str | None = None,
        max_examples: int = 20,
    ):
        super().__init__()
        if action not in ACTIONS:
            raise ValueError(f"leakage action must be one of {ACTIONS}, got {action!r}")
        if not testsets:
            raise ValueError("TestSetLeakageGuard needs at least one test set (leakage.testsets)")
        TestSetIndex(ngram, min_overlap)  # validates both before any work starts
        for path in testsets:  # fail at composition time, not after reading the corpus
            if not os.path.exists(path):
                raise LeakageError(f"{path}: test set not found (leakage.testsets)")
        self.testsets = tuple(testsets)
        self.action, self.ngram, self.min_overlap = action, ngram, min_overlap
        self.languages_selected = tuple(languages_selected) if languages_selected else None
        self.report_path, self.max_examples = report_path, max_examples
        self._index: TestSetIndex | None = None
        self.counts: Counter = Counter()
        self.examples: list[Leak] = []
        self._logged = 0

    @classmethod
    def from_config(cls, config: LeakageConfig, languages_selected=None, report_path: str | None = None) -> "TestSetLeakageGuard":
        """From a recipe's ``LeakageConfig``."""
        return cls(config.testsets, config.action, config.ngram, config.min_overlap, languages_selected, report_path)

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_index"] = None  # rebuilt by each worker; never shipped
        return state

    @property
    def index(self) -> TestSetIndex:
        if self._index is None:
            started = time.perf_counter()
            self._index = TestSetIndex.from_testsets(self.testsets, self.ngram, self.min_overlap, self.languages_selected)
            stats = self._index.stats()
            logger.info(
                f"leakage index: {stats['sentences']} test sentences, {stats['ngrams']} n-grams, "
                f"{(stats['hash_bytes'] + stats['text_bytes']) / 2**20:.1f} MiB, built in {time.perf_counter() - started:.1f}s"
            )
        return self._index

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        index = self.index
        last_anchor: tuple[str | None, Match | None] = (None, None)
        for doc in data:
            with self.track_time():
                anchor_text = doc.metadata.get(REF_TEXT) or ""
                if anchor_text != last_anchor[0]:  # multiway rows: one anchor, several sources in a row
                    last_anchor = (anchor_text, index.match(anchor_text))
                matches = {"source": index.match(doc.text), "anchor": last_anchor[1]}
            self._count("leak_checked")
            leaks = {field: m for field, m in matches.items() if m.kind is not None}
            if not leaks:
                yield doc
                continue
            self._count("leak_documents")
            for field, match in leaks.items():
                self._count(f"leak_{match.kind}_{field}")
                self._record(doc, field, match)
            if self.action == "drop":
                kind = "exact" if any(m.kind == "exact" for m in leaks.values()) else "near"
                self._count(f"dropped_test_overlap_{kind}")
                continue
            yield doc
        self._finish(rank, world_size)

    def report(self) -> dict:
        """This step's ``leakage_report`` (counts, examples, index size)."""
        index = self._index.stats() if self._index is not None else None
        return leakage_report(self.counts, self.examples, action=self.action, testsets=self.testsets, index=index)

    # -- helpers --------------------------------------------------------------------------------

    def _count(self, key: str) -> None:
        self.stat_update(key)
        self.counts[key] += 1

    def _record(self, doc, field: str, match: Match) -> None:
        text = doc.text if field == "source" else doc.metadata.get(REF_TEXT, "")
        if any(e.field == field and e.text == text for e in self.examples):
            return  # a multiway anchor repeats for every language: one example, one log line
        leak = Leak(
            source_id=str(doc.metadata.get(SOURCE_ID, doc.id)),
            field=field,
            kind=match.kind,
            overlap=round(match.overlap, 3),
            text=text,
            test_ref=match.example.ref,
            test_text=match.example.text,
        )
        if len(self.examples) < self.max_examples:
            self.examples.append(leak)
        if self._logged < _MAX_LOGGED:
            self._logged += 1
            logger.warning(
                f"{leak.source_id}: {leak.field} is a {leak.kind} test-set match (overlap {leak.overlap:.2f}) "
                f"with {leak.test_ref}: {leak.test_text!r}"
                + (" (further matches are only counted)" if self._logged == _MAX_LOGGED else "")
            )

    def _summary(self) -> str:
        by = ", ".join(f"{kind} {field} {self.counts[f'leak_{kind}_{field}']}" for kind in KINDS for field in FIELDS)
        return f"{self.counts['leak_documents']} of {self.counts['leak_checked']} anchored sentences overlap the test sets ({by})"

    def _finish(self, rank: int, world_size: int) -> None:
        if self.report_path:
            path = self.report_path
            if world_size > 1:
                stem, suffix = os.path.splitext(path)
                path = f"{stem}.{rank:05d}{suffix}"
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(self.report(), handle, ensure_ascii=False, indent=2)
        if not self.counts["leak_documents"]:
            return
        logger.warning(f"test-set leakage: {self._summary()}; action {self.action!r}")
        if self.action == "fail":
            examples = "\n".join(
                f"  {e.source_id} {e.field} ({e.kind}, {e.overlap:.2f}): {e.text!r} ~ {e.test_ref}: {e.test_text!r}"
                for e in self.examples[:_MAX_LOGGED]
            )
            raise LeakageError(
                f"test-set leakage with leakage.action 'fail': {self._summary()}. Examples:\n{examples}\n"
                "Set leakage.action to 'drop' to remove them, or 'warn' to keep them."
            )
