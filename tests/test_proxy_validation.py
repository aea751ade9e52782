"""Proxy validation on hand-made build folders: exact win/tie/loss and agreement counts per direction."""

from __future__ import annotations

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from eax_data.proxy_validation import (
    ProxyValidationError,
    format_table,
    human_translations,
    task_bootstrap,
    validate_proxy,
    wilson,
    write_validation,
)
from eax_data.recipe import recipe_from_dict
from eax_data.schema import CANDIDATE_SCHEMA, PAIR_SCHEMA
from eax_data.scoring.base import Scorer

CORPUS = [
    {"id": "r1", "en": "The cat sleeps on the warm windowsill.", "de": "Die Katze schläft auf der warmen Fensterbank.",
     "fr": "Le chat dort sur le rebord chaud de la fenêtre."},
    {"id": "r2", "en": "We will meet at the station at noon.", "de": "Wir treffen uns mittags am Bahnhof.",
     "fr": "Nous nous retrouverons à la gare à midi."},
    {"id": "r3", "en": "The museum is closed on Mondays.", "de": "Das Museum ist montags geschlossen.",
     "fr": "Le musée est fermé le lundi."},
]


def sid(line: int, lang: str) -> str:
    """The source_id the build writes: <corpus id>:<file>:<line>:<x language>."""
    return f"toy:toy.jsonl:{line}:{lang}"


def slight(text: str) -> str:
    return text.rsplit(" ", 1)[0]


def heavy(text: str) -> str:
    return text.split(" ", 1)[0]


def write_recipe(folder, corpus_path, kind="multiway", **execution) -> None:
    data = {"languages": ["de", "fr"], "corpus": {"kind": kind, "path": str(corpus_path), "id": "toy"}}
    if execution:
        data["execution"] = execution
    with open(os.path.join(folder, "recipe.yaml"), "w", encoding="utf-8") as handle:
        handle.write(recipe_from_dict(data).to_yaml())


def pair(line: int, src: str, trg: str, chosen: str, rejected: str, src_text: str | None = None, source_id: str | None = None) -> dict:
    row = CORPUS[line - 1] if line <= len(CORPUS) else CORPUS[0]
    return {
        "prompt": [{"role": "user", "content": "translate"}],
        "chosen": [{"role": "assistant", "content": chosen}],
        "rejected": [{"role": "assistant", "content": rejected}],
        "src_lang": src, "trg_lang": trg, "ref_lang": "en",
        "src_text": src_text or row[src], "ref_text": row["en"],
        "chosen_score": 0.9, "rejected_score": 0.1, "margin": 0.8,
        "task_id": f"{src}-{trg}-{line}", "source_id": source_id or sid(line, src),
        "generator": "gen", "scorer": "embedding:usem3@test",
    }


def candidates(line: int, src: str, trg: str, texts_and_scores, source_id: str | None = None) -> list[dict]:
    row = CORPUS[line - 1] if line <= len(CORPUS) else CORPUS[0]
    return [
        {"id": f"{src}-{trg}-{line}/{k}", "task_id": f"{src}-{trg}-{line}", "candidate_index": k, "text": text,
         "src_lang": src, "trg_lang": trg, "ref_lang": "en", "src_text": row[src], "ref_text": row["en"],
         "source_id": source_id or sid(line, src), "score": score, "scorer": "embedding:usem3@test"}
        for k, (text, score) in enumerate(texts_and_scores)
    ]


def make_build(tmp_path, pairs: list[dict], cands: list[dict], kind="multiway", **execution) -> str:
    corpus = tmp_path / "toy.jsonl"
    corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in CORPUS), encoding="utf-8")
    folder = tmp_path / "build"
    folder.mkdir()
    write_recipe(folder, corpus, kind, **execution)
    by_direction: dict[str, list[dict]] = {}
    for row in pairs:
        by_direction.setdefault(f"{row['src_lang']}-{row['trg_lang']}", []).append(row)
    for name, rows in by_direction.items():
        (folder / "data" / name).mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=PAIR_SCHEMA), folder / "data" / name / "train-0.parquet")
    (folder / "candidates").mkdir()
    pq.write_table(pa.Table.from_pylist(cands, schema=CANDIDATE_SCHEMA), folder / "candidates" / "0.parquet")
    return str(folder)


@pytest.fixture
def planted(tmp_path) -> str:
    fr = [r["fr"] for r in CORPUS]
    de = [r["de"] for r in CORPUS]
    pairs = [
        pair(1, "de", "fr", chosen=fr[0], rejected=heavy(fr[0])),  # win
        pair(2, "de", "fr", chosen=heavy(fr[1]), rejected=fr[1]),  # loss
        pair(3, "de", "fr", chosen=fr[2], rejected=fr[2]),  # tie
        pair(1, "fr", "de", chosen=de[0], rejected=slight(de[0])),  # win
        pair(2, "fr", "de", chosen=slight(de[1]), rejected=heavy(de[1])),  # win
        pair(3, "fr", "de", chosen=de[2], rejected="x", source_id=sid(99, "fr")),  # not in the corpus
        pair(3, "fr", "de", chosen=de[2], rejected="x", src_text="Un autre texte."),  # corpus changed
    ]
    cands = [
        *candidates(1, "de", "fr", [(fr[0], 0.9), (slight(fr[0]), 0.5), (heavy(fr[0]), 0.1)]),  # 3 agree
        *candidates(2, "de", "fr", [(fr[1], 0.1), (slight(fr[1]), 0.5), (heavy(fr[1]), 0.9)]),  # 3 disagree
        *candidates(3, "de", "fr", [(fr[2], 0.7), (fr[2], 0.6), (heavy(fr[2]), 0.6)]),  # 1 tie, 1 agree, 1 equal proxy
        *candidates(1, "fr", "de", [(de[0], 0.8), (heavy(de[0]), 0.2)]),  # 1 agree
        *candidates(2, "fr", "de", [(de[1], 0.8), (heavy(de[1]), 0.2)], source_id=sid(99, "fr")),  # skipped: 2 rows
    ]
    return make_build(tmp_path, pairs, cands)


def test_pairs_count_win_tie_loss_per_direction(planted):
    result = validate_proxy(planted)
    pairs = result["metrics"]["chrf"]["pairs"]
    de_fr, fr_de, overall = pairs["directions"]["de-fr"], pairs["directions"]["fr-de"], pairs["overall"]
    assert (de_fr["n"], de_fr["wins"], de_fr["ties"], de_fr["losses"]) == (3, 1, 1, 1)
    assert de_fr["accuracy"] == 0.5 and de_fr["tie_rate"] == pytest.approx(1 / 3)
    assert (fr_de["n"], fr_de["wins"], fr_de["ties"], fr_de["losses"]) == (2, 2, 0, 0)
    assert fr_de["accuracy"] == 1.0
    assert (overall["n"], overall["wins"], overall["ties"], overall["losses"]) == (5, 3, 1, 1)
    assert overall["accuracy"] == 0.75 and overall["ci95"] == pytest.approx(wilson(3, 4))
    assert result["published_pairs"] == 7
    coverage = result["coverage"]["pairs"]
    assert coverage["skipped"] == {"missing_source_id": 1, "source_mismatch": 1}
    assert coverage["skipped_by_direction"] == {"fr-de": {"missing_source_id": 1, "source_mismatch": 1}}


def test_candidate_agreement_counts_pairs_with_different_proxy_scores(planted):
    cands = validate_proxy(planted)["metrics"]["chrf"]["candidates"]
    de_fr, fr_de, overall = cands["directions"]["de-fr"], cands["directions"]["fr-de"], cands["overall"]
    assert (de_fr["tasks"], de_fr["agree"], de_fr["disagree"], de_fr["ties"]) == (3, 4, 3, 1)
    assert de_fr["accuracy"] == pytest.approx(4 / 7)
    assert (fr_de["tasks"], fr_de["agree"], fr_de["disagree"], fr_de["ties"]) == (1, 1, 0, 0)
    assert fr_de["ci95"] is None  # one task: no bootstrap
    assert (overall["agree"], overall["disagree"], overall["ties"], overall["pairs"]) == (5, 3, 1, 9)
    lo, hi = overall["ci95"]
    assert 0.0 <= lo <= 5 / 8 <= hi <= 1.0
    result = validate_proxy(planted)
    assert result["coverage"]["candidates"]["skipped"] == {"missing_source_id": 2}


class ExactMatch(Scorer):
    """A reference-based scorer: 1 when the candidate is the reference (records what it was given)."""

    needs = frozenset({"references"})
    seen: list[tuple] = []

    @property
    def id(self) -> str:
        return "exact-match@test"

    def describe(self) -> dict:
        return {"kind": "exact"}

    def _score(self, anchors, candidates, *, anchor_langs, target_langs, references, sources):
        ExactMatch.seen = list(zip(candidates, references, target_langs, anchors))
        return [1.0 if c == r else 0.0 for c, r in zip(candidates, references)]


def test_extra_scorer_gets_the_human_translation_as_reference(planted):
    result = validate_proxy(planted, metrics=(), scorers={"exact": ExactMatch()})
    assert result["primary_metric"] == "exact" and result["metrics"]["exact"]["signature"] == "exact-match@test"
    overall = result["metrics"]["exact"]["pairs"]["overall"]
    # exact match only sees human vs not-human: win, loss, tie (both human), win, tie (neither human)
    assert (overall["wins"], overall["ties"], overall["losses"]) == (2, 2, 1)
    humans = {r["fr"] for r in CORPUS} | {r["de"] for r in CORPUS}
    assert ExactMatch.seen and all(ref in humans for _, ref, _, _ in ExactMatch.seen)
    assert all(anchor in {r["en"] for r in CORPUS} for *_, anchor in ExactMatch.seen)


def test_several_metrics_and_written_file_and_table(planted):
    result = validate_proxy(planted, metrics=("chrf", "chrf++", "bleu"))
    assert list(result["metrics"]) == ["chrf", "chrf++", "bleu"]
    assert result["metrics"]["bleu"]["pairs"]["directions"]["de-fr"]["wins"] == 1
    path = write_validation(planted, result)
    assert path == os.path.join(planted, "proxy_validation.json")
    with open(path, encoding="utf-8") as handle:
        assert json.load(handle) == json.loads(json.dumps(result))
    table = format_table(result)
    assert "de-fr" in table and "overall" in table and "missing_source_id 1" in table
    assert "0.750" in table  # chrF overall pair accuracy


def test_english_centric_recipe_is_refused(tmp_path):
    folder = make_build(tmp_path, [pair(1, "de", "fr", "a", "b")], [], kind="english_centric")
    with pytest.raises(ProxyValidationError, match="corpus.kind is 'english_centric'.*no human x->y translation"):
        validate_proxy(folder)


def test_unknown_metric_and_empty_folder_are_refused(planted, tmp_path):
    with pytest.raises(ProxyValidationError, match="metric 'meteor'"):
        validate_proxy(planted, metrics=("meteor",))
    with pytest.raises(ProxyValidationError, match="no recipe.yaml"):
        validate_proxy(tmp_path / "nowhere")


def test_limit_and_numbering_follow_the_build(tmp_path):
    """Same rows as the build's tasks pipeline: limit 2 leaves row 3 out; ids match the build's tasks."""
    from eax_data.pipelines.stages import tasks_pipeline

    from eax_data.recipe import load_recipe

    folder = make_build(tmp_path, [pair(3, "de", "fr", "a", "b")], [], limit=2)
    recipe = load_recipe(os.path.join(folder, "recipe.yaml"))
    data = None
    for step in tasks_pipeline(recipe, str(tmp_path / "unused"))[:-1]:  # all but the writer
        data = step.run(data)
    built_ids = {task.metadata["source_id"] for task in data}
    found = human_translations(recipe)
    assert set(found) == built_ids == {sid(1, "de"), sid(1, "fr"), sid(2, "de"), sid(2, "fr")}
    assert found[sid(2, "de")] == (CORPUS[1]["de"], {"de": CORPUS[1]["de"], "fr": CORPUS[1]["fr"]})
    assert validate_proxy(folder)["coverage"]["pairs"]["skipped"] == {"missing_source_id": 1}


def test_intervals():
    assert wilson(8, 10) == pytest.approx([0.4902, 0.9433], abs=1e-4)  # textbook Wilson 95%
    assert wilson(0, 0) is None
    assert task_bootstrap([3, 0], [0, 3]) is not None and task_bootstrap([1], [0]) is None
    lo, hi = task_bootstrap([1] * 50 + [0] * 50, [0] * 50 + [1] * 50)
    assert lo < 0.5 < hi and hi - lo < 0.3


def test_build_hook_writes_replaces_or_removes_the_file(planted, tmp_path):
    from loguru import logger

    from eax_data.proxy_validation import refresh_validation

    path = os.path.join(planted, "proxy_validation.json")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("{}")  # a stale file from an earlier run
    result = refresh_validation(planted)
    with open(path, encoding="utf-8") as handle:
        assert json.load(handle)["metrics"]["chrf"]["pairs"]["overall"]["wins"] == result["metrics"]["chrf"]["pairs"]["overall"]["wins"] == 3

    os.remove(tmp_path / "toy.jsonl")  # the corpus is gone: warn, leave no file, do not raise
    messages: list[str] = []
    sink = logger.add(messages.append, level="WARNING")
    try:
        assert refresh_validation(planted) is None
    finally:
        logger.remove(sink)
    assert not os.path.exists(path) and any("validate-proxy" in m and "corpus not found" in m for m in messages)

    write_recipe(planted, tmp_path / "toy.jsonl", kind="english_centric")
    write_validation(planted, result)
    assert refresh_validation(planted) is None and not os.path.exists(path)
