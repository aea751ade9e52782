"""Each degradation does what its name says, on every demo row and direction, deterministically."""

from __future__ import annotations

import ast
import json
import re
from importlib import resources

import pytest

from eax_data.audit.degrade import CATEGORIES, Context, check_categories, degrade, units
from eax_data.builders.filters import normalize_for_comparison

LANGS = ("de", "fr", "es", "zh")
ROWS = [json.loads(line) for line in resources.files("eax_data").joinpath("demo", "multiway.jsonl").read_text("utf-8").splitlines()]


def _ctx(row: dict, src: str, trg: str, others=None) -> Context:
    return Context(
        row_id=row["id"], src_lang=src, trg_lang=trg, good=row[trg], source=row[src], anchor=row["en"],
        others={k: v for k, v in row.items() if k not in ("id", "en", trg)} if others is None else others,
        pool=tuple(r[trg] for r in ROWS if r is not row),
    )


def _all(category: str):
    """(ctx, variant) for every row and direction of the demo corpus."""
    for row in ROWS:
        for src in LANGS:
            for trg in LANGS:
                if src != trg:
                    ctx = _ctx(row, src, trg)
                    yield ctx, degrade(ctx, 0, [category])[category]


def _words(text: str) -> list[str]:
    return [w.strip(".,;:!?«»„“\"()") for w in text.split()]


def test_omission_drops_30_to_60_percent_and_keeps_the_sentence_start():
    for ctx, v in _all("omission"):
        assert v is not None, ctx
        good, parts = ctx.good, units(ctx.good, ctx.trg_lang)[0]
        assert 0.35 * len(good) <= len(v.text) <= 0.8 * len(good), (good, v.text)
        assert v.text.startswith(parts[0].rstrip(",，")), (good, v.text)
        if ctx.trg_lang != "zh":
            assert set(_words(v.text)) <= set(_words(good)), (good, v.text)  # only removed, nothing added


def test_untranslated_span_puts_the_anchors_english_words_into_the_translation():
    for ctx, v in _all("untranslated_span"):
        span = ast.literal_eval(v.detail.split(" ", 2)[2])  # "English head|tail '<span>'"
        assert len(span.split()) >= 2 and span in ctx.anchor and span in v.text, (ctx.anchor, v.text)
        rest = v.text.replace(span, "").strip()
        assert rest and rest in ctx.good, (ctx.good, v.text)  # the other part is still the translation


def test_wrong_language_is_a_third_languages_translation_and_needs_one():
    for ctx, v in _all("wrong_language"):
        code = v.detail.split()[2]
        assert code not in (ctx.src_lang, ctx.trg_lang, "en") and v.text == ROWS[int(ctx.row_id[-4:]) - 1][code]
    row = ROWS[0]
    only_source = _ctx(row, "de", "fr", others={"de": row["de"]})
    assert degrade(only_source, 0, ["wrong_language"])["wrong_language"] is None


def test_copies_are_the_source_and_the_anchor():
    row = ROWS[3]
    out = degrade(_ctx(row, "es", "zh"), 0, ["source_copy", "english_copy"])
    assert out["source_copy"].text == row["es"] and out["english_copy"].text == row["en"]


def test_repetition_loops_a_phrase_at_least_four_times_without_touching_numbers():
    loop = re.compile(r"(\S.*?)(?:\s?\1){3,}")
    for ctx, v in _all("repetition"):
        assert len(v.text) > len(ctx.good) and loop.search(v.text) and not loop.search(ctx.good), v.text
        assert sorted(set(re.findall(r"\d+", v.text))) == sorted(set(re.findall(r"\d+", ctx.good))), v.text


def test_number_change_changes_exactly_one_number_and_only_where_there_is_one():
    changed = 0
    for ctx, v in _all("number_change"):
        before, after = re.findall(r"\d+", ctx.good), None if v is None else re.findall(r"\d+", v.text)
        if not before:
            assert v is None
            continue
        changed += 1
        assert len(after) == len(before) and sum(a != b for a, b in zip(before, after)) == 1, (ctx.good, v.text)
        assert re.sub(r"\d", "#", v.text) == re.sub(r"\d", "#", ctx.good)  # nothing else moved
    assert changed >= 11 * 12  # 11 demo rows carry digits in every language


@pytest.mark.parametrize("category, finish_reason", [("truncation", "length"), ("early_stop", "stop")])
def test_truncation_is_a_shorter_prefix_cut_mid_sentence(category, finish_reason):
    for ctx, v in _all(category):
        assert v.finish_reason == finish_reason
        assert ctx.good.startswith(v.text) and 0.3 * len(ctx.good) <= len(v.text) < 0.8 * len(ctx.good), (ctx.good, v.text)
        assert v.text[-1] not in ".!?。！？,，"


def test_unrelated_is_another_rows_translation():
    for ctx, v in _all("unrelated"):
        assert v.text in ctx.pool and v.text != ctx.good


def test_no_variant_equals_the_good_translation_for_the_duplicate_filter():
    for row in ROWS[:12]:
        ctx = _ctx(row, "fr", "de")
        for category, v in degrade(ctx).items():
            assert v is None or normalize_for_comparison(v.text) != normalize_for_comparison(ctx.good), category


def test_same_seed_same_variants_other_seed_or_direction_others():
    ctx = _ctx(ROWS[5], "de", "fr")
    assert degrade(ctx, 0) == degrade(ctx, 0)
    assert degrade(ctx, 0) != degrade(ctx, 1)
    from_es = _ctx(ROWS[5], "es", "fr")
    texts = [(degrade(_ctx(r, "de", "fr"))["omission"].text, degrade(_ctx(r, "es", "fr"))["omission"].text) for r in ROWS]
    assert any(a != b for a, b in texts)  # each direction gets its own draw
    assert degrade(from_es)["english_copy"] == degrade(ctx)["english_copy"]


def test_categories_are_checked():
    assert check_categories(None) == CATEGORIES
    assert check_categories(["truncation", "omission"]) == ("omission", "truncation")
    with pytest.raises(ValueError, match="unknown degradation categories"):
        check_categories(["omision"])
    assert len(CATEGORIES) >= 7
