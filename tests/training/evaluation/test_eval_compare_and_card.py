"""Baseline deltas on two hand-written results files; model-index written into a model's README."""

from __future__ import annotations

import json

import pytest

from eax_data.training.evaluation import EvaluationError
from eax_data.training.evaluation.compare import compare, render, write_comparison
from eax_data.training.evaluation.report import load_results, render_markdown

SIG = {"bleu": {"13a": "nrefs:1|tok:13a"}, "chrf++": "nrefs:1|nw:2"}


def _results(name: str, scores: dict, signatures=SIG) -> dict:
    groups = {"de-fr": "x2x", "fr-de": "x2x", "en-de": "en2x", "de-en": "x2en", "fr-en": "x2en"}
    return {
        "model": {"name": name, "path": f"/models/{name}"},
        "testset": {"name": "flores200", "format": "flores", "split": "devtest", "languages": ["en", "de", "fr"]},
        "metrics": ["bleu", "chrf++"],
        "signatures": signatures,
        "directions": {d: {"src": d[:2], "trg": d[3:], "group": groups[d], "n": 3, "bleu_tokenizer": "13a",
                           "bleu": b, "chrf++": c} for d, (b, c) in scores.items()},
        "averages": {},
        "notes": [],
    }


SFT = _results("sft", {"de-fr": (20.0, 50.0), "fr-de": (18.0, 48.0), "en-de": (30.0, 60.0), "de-en": (35.0, 62.0), "fr-en": (33.0, 61.0)})
EAX = _results("eax", {"de-fr": (23.5, 52.0), "fr-de": (18.5, 47.0), "en-de": (31.0, 60.5), "de-en": (34.0, 62.0)})


def _write(tmp_path, name, data):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_deltas_per_direction_and_per_group_are_exact(tmp_path):
    cur, base = load_results(_write(tmp_path, "eax", EAX)), load_results(_write(tmp_path, "sft", SFT))
    result = compare(cur, base)
    assert result["metrics"] == ["bleu", "chrf++"]
    assert result["directions"]["de-fr"]["bleu"] == {"current": 23.5, "baseline": 20.0, "delta": 3.5}
    assert result["directions"]["fr-de"]["chrf++"]["delta"] == -1.0
    assert result["directions"]["de-en"]["bleu"]["delta"] == -1.0
    assert result["averages"]["x2x"]["directions"] == 2
    assert result["averages"]["x2x"]["bleu"] == {"current": 21.0, "baseline": 19.0, "delta": 2.0}
    assert result["averages"]["x2x"]["chrf++"]["delta"] == pytest.approx(0.5)
    assert result["averages"]["en2x"]["bleu"]["delta"] == 1.0 and result["averages"]["en2x"]["chrf++"]["delta"] == 0.5
    # fr-en exists only in the baseline: left out of every average, so x2en compares de-en alone
    assert result["averages"]["x2en"] == {"directions": 1, "bleu": {"current": 34.0, "baseline": 35.0, "delta": -1.0},
                                          "chrf++": {"current": 62.0, "baseline": 62.0, "delta": 0.0}}
    assert result["averages"]["all"]["bleu"]["delta"] == pytest.approx((3.5 + 0.5 + 1.0 - 1.0) / 4)
    assert result["only_baseline"] == ["fr-en"] and result["only_current"] == [] and result["warnings"] == []
    text = render(result)
    assert "| x2x | 2 | 19.00 | 21.00 | +2.00 | 49.00 | 49.50 | +0.50 |" in text
    assert "| de-fr | x2x | 20.00 | 23.50 | +3.50 | 50.00 | 52.00 | +2.00 |" in text
    assert "only in baseline (not compared): fr-en" in text
    assert write_comparison(str(tmp_path), result) == str(tmp_path / "compare.md")
    assert (tmp_path / "compare.md").read_text() == text


def test_differing_signatures_are_reported(tmp_path):
    other = _results("eax", {"de-fr": (1.0, 2.0)}, signatures={"bleu": {"13a": "nrefs:1|tok:intl"}, "chrf++": SIG["chrf++"]})
    warnings = compare(other, SFT)["warnings"]
    assert len(warnings) == 1 and warnings[0].startswith("BLEU signatures differ")


def test_results_files_are_checked(tmp_path):
    with pytest.raises(EvaluationError, match="results file not found"):
        load_results(str(tmp_path / "nope.json"))
    with pytest.raises(EvaluationError, match="missing field 'directions'"):
        load_results(_write(tmp_path, "bad", {"metrics": []}))
    with pytest.raises(EvaluationError, match=r"directions\['de-fr'\] needs a 'group'"):
        load_results(_write(tmp_path, "bad2", {"metrics": [], "directions": {"de-fr": {"bleu": 1}}}))


def test_results_markdown_lists_averages_and_directions():
    from eax_data.training.evaluation.metrics import averages

    data = dict(EAX, averages=averages(EAX["directions"], EAX["metrics"]))
    text = render_markdown(data)
    assert "| x2x | 2 | 21.00 | 49.50 |" in text and "| de-fr | x2x | 3 | 23.50 | 52.00 | 13a |" in text


def test_model_index_is_merged_into_the_readme_front_matter(tmp_path):
    from huggingface_hub import metadata_load

    from eax_data.training.evaluation.metrics import averages
    from eax_data.training.evaluation.model_index import write_model_index

    model = tmp_path / "model"
    model.mkdir()
    (model / "README.md").write_text("---\nlibrary_name: transformers\ntags:\n- eax-data\n---\n\n# My model\n\nBody text.\n")
    data = dict(EAX, averages=averages(EAX["directions"], EAX["metrics"]))
    path = write_model_index(str(model), data)
    text = (model / "README.md").read_text()
    assert path == str(model / "README.md") and text.endswith("# My model\n\nBody text.\n")
    meta = metadata_load(path)
    assert meta["library_name"] == "transformers" and meta["tags"] == ["eax-data"]
    (index,) = meta["model-index"]
    assert index["name"] == "eax"
    by_config = {r["dataset"]["config"]: r for r in index["results"]}
    de_fr = by_config["deu_Latn-fra_Latn"]  # FLORES test sets use facebook/flores config names
    assert de_fr["task"]["type"] == "translation" and de_fr["dataset"]["type"] == "facebook/flores"
    assert de_fr["dataset"]["split"] == "devtest"
    assert {m["name"]: m["value"] for m in de_fr["metrics"]} == {"BLEU": 23.5, "chrF++": 52.0}
    assert de_fr["metrics"][0]["config"] == "nrefs:1|tok:13a"
    assert {m["name"]: m["value"] for m in by_config["average-x2x"]["metrics"]} == {"BLEU": 21.0, "chrF++": 49.5}
    assert len(index["results"]) == 4 + 4  # directions + (x2x, en2x, x2en, all)
    # a second evaluation replaces its own entries and keeps everybody else's
    meta["model-index"][0]["results"].append({"task": {"type": "translation"}, "dataset": {"type": "wmt23", "name": "WMT23"},
                                              "metrics": [{"type": "bleu", "value": 1.0}]})
    from huggingface_hub import metadata_save

    metadata_save(path, meta)
    better = json.loads(json.dumps(data))
    better["directions"]["de-fr"]["bleu"] = 25.0
    write_model_index(str(model), better)
    results = metadata_load(path)["model-index"][0]["results"]
    assert len(results) == 9 and any(r["dataset"]["type"] == "wmt23" for r in results)
    de_fr = [r for r in results if r["dataset"].get("config") == "deu_Latn-fra_Latn"]
    assert len(de_fr) == 1 and {m["name"]: m["value"] for m in de_fr[0]["metrics"]}["BLEU"] == 25.0


def test_model_index_needs_a_local_folder(tmp_path):
    from eax_data.training.evaluation.model_index import write_model_index

    with pytest.raises(EvaluationError, match="not a local model folder"):
        write_model_index(str(tmp_path / "org-model"), EAX)
