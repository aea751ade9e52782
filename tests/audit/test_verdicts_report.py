"""Verdict logic on hand-built outcomes, the aggregation, the gate and the JSON shape."""

from __future__ import annotations

import json

import pytest
from datatrove.data import Document

from eax_data.audit.degrade import Variant
from eax_data.audit.report import format_comparison, format_table, gate, summarise, write_json
from eax_data.audit.run import LOSS, TIE, WIN, AuditPair, verdict


@pytest.mark.parametrize(
    "good_filtered, degraded_filtered, good_score, degraded_score, expected",
    [
        (None, "wrong_language", None, None, WIN),  # the filters caught it
        (None, None, 0.9, 0.5, WIN),
        (None, None, 0.5, 0.5, TIE),  # the pair rule makes no pair
        (None, None, 0.5, 0.9, LOSS),  # the blind spot
        ("length_ratio", None, None, 0.9, LOSS),  # a false positive on the good one
        ("length_ratio", "copy_of_source", None, None, LOSS),  # both gone: the good one is lost too
    ],
)
def test_verdict(good_filtered, degraded_filtered, good_score, degraded_score, expected):
    assert verdict(good_filtered, degraded_filtered, good_score, degraded_score) == expected


def test_both_kept_without_scores_is_an_error_not_a_verdict():
    with pytest.raises(ValueError, match="need a score"):
        verdict(None, None, 0.5, None)


def _pair(category, direction, good_filtered=None, degraded_filtered=None, good=None, bad=None, n=[0]):
    n[0] += 1
    meta = {"ref_text": "anchor"}
    return AuditPair(
        direction, f"row{n[0]}", Variant(category, f"bad {n[0]}", detail="d"),
        Document(text="good", id=f"t{n[0]}/0", metadata=meta), Document(text=f"bad {n[0]}", id=f"t{n[0]}/1", metadata=meta),
        good_filtered, degraded_filtered, good, bad,
    )


PAIRS = [
    _pair("omission", "de-fr", good=0.9, bad=0.5),
    _pair("omission", "de-fr", good=0.9, bad=0.7),
    _pair("omission", "fr-de", None, "length_ratio"),
    _pair("omission", "fr-de", good=0.4, bad=0.6),
    _pair("english_copy", "de-fr", None, "copy_of_reference"),
    _pair("english_copy", "fr-de", "low_language_score", "copy_of_reference"),
    _pair("repetition", "fr-de", good=0.8, bad=0.8),
]
HEADER = {"recipe": {"name": "r", "fingerprint": "f"}, "corpus": "demo", "rows": 4, "directions": ["de-fr", "fr-de"],
          "view": "filters+scorer", "filters": ["Copy"], "scorer": {"kind": "embedding", "keys": ["e"], "ids": ["e@1"], "combine": None},
          "pivot": None, "skipped": {"number_change": 3}}


def test_summary_counts_per_category_direction_and_reason():
    report = summarise(PAIRS, HEADER, min_win_rate=0.7, categories=("omission", "english_copy", "repetition", "number_change"))
    om = report["categories"]["omission"]
    assert (om["n"], om["wins"], om["ties"], om["losses"], om["win_rate"]) == (4, 3, 0, 1, 0.75)
    assert om["filtered_degraded"] == {"length_ratio": 1} and om["filtered_good"] == {}
    assert om["mean_margin"] == pytest.approx((0.4 + 0.2 - 0.2) / 3)
    ec = report["categories"]["english_copy"]
    assert (ec["wins"], ec["losses"], ec["filtered_good"], ec["filtered_degraded"]) == (1, 1, {"low_language_score": 1}, {"copy_of_reference": 2})
    assert report["categories"]["repetition"]["ties"] == 1
    empty = report["categories"]["number_change"]
    assert (empty["n"], empty["win_rate"], empty["mean_margin"]) == (0, None, None)
    assert report["by_direction"]["omission"]["de-fr"]["win_rate"] == 1.0
    assert report["by_direction"]["omission"]["fr-de"]["win_rate"] == 0.5
    assert report["overall"]["n"] == len(PAIRS) and report["overall"]["wins"] == 4
    assert [e["degraded"] for e in report["examples"]["omission"]] == [PAIRS[3].degraded.text]
    # gate: 0.75 >= 0.7 passes, english_copy 0.5 and repetition 0.0 fail, an empty category is not judged
    assert report["gate"] == {"min_win_rate": 0.7, "passed": False, "failing": ["english_copy", "repetition"]}


def test_gate_threshold_is_inclusive():
    stats = {"a": {"n": 4, "win_rate": 0.75}, "b": {"n": 0, "win_rate": None}}
    assert gate(stats, 0.75)["passed"] and not gate(stats, 0.76)["passed"]


def test_json_shape_and_tables(tmp_path):
    report = summarise(PAIRS, HEADER, min_win_rate=0.95, seconds={"total": 1.234})
    path = write_json(report, str(tmp_path / "sub" / "audit.json"))
    loaded = json.loads(open(path, encoding="utf-8").read())
    assert {"report_version", "recipe", "view", "filters", "scorer", "pivot", "overall", "categories", "by_direction",
            "gate", "examples", "skipped", "seconds", "pairs", "directions"} <= set(loaded)
    for stats in [loaded["overall"], *loaded["categories"].values(), *(s for per in loaded["by_direction"].values() for s in per.values())]:
        assert {"n", "wins", "ties", "losses", "win_rate", "mean_margin", "filtered_degraded", "filtered_good"} == set(stats)
    assert loaded["seconds"] == {"total": 1.23}
    table = format_table(loaded)
    assert "omission" in table and "english_copy" in table and "FAIL (omission, english_copy, repetition)" in table
    assert "length_ratio 1" in table and "number_change 3" in table
    comparison = format_comparison({"usem3": loaded, "usem3 filtered": loaded})
    assert comparison.splitlines()[0] == "| category | usem3 | usem3 filtered |"
    assert "| omission | 75.0 (1L 0T) | 75.0 (1L 0T) |" in comparison
