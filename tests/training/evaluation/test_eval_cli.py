"""`eval` end to end: the tiny random model on the demo test split, through argparse as eax_data/cli.py wires it.

The model's translations are garbage, but decoding, scoring and every output file are real: the
scores are recomputed here from hypotheses.jsonl with sacreBLEU itself.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import struct
import sys
from pathlib import Path

import pytest
import sacrebleu

from eax_data.training.evaluation import commands

FAKE_COMET = Path(__file__).parents[2] / "scoring" / "fake_comet_worker.py"


def _run(argv) -> int:
    parser = argparse.ArgumentParser(prog="eax_data")
    commands.register(parser.add_subparsers(dest="command", required=True))
    return commands.run(parser.parse_args(argv))


@pytest.fixture(scope="module")
def first_run(tiny_model_dir, tmp_path_factory):
    """One CLI run over all 30 demo directions (2 rows each), with no spBLEU model and no COMET env."""
    from sacrebleu.tokenizers import tokenizer_spm

    out = tmp_path_factory.mktemp("eval") / "run1"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tokenizer_spm, "SACREBLEU_DIR", str(out.parent / "no-sacrebleu"))
        mp.setenv("EAX_COMET_PYTHON", str(out.parent / "no-comet-env" / "python"))
        code = _run(["eval", "--model", tiny_model_dir, "--testset", "demo", "--limit", "2", "--output", str(out),
                     "--max-new-tokens", "8", "--batch-size", "32", "--backend", "transformers"])
    assert code == 0
    return out


def _hypotheses(folder: Path) -> dict[str, list[dict]]:
    by_direction: dict[str, list[dict]] = {}
    for line in (folder / "hypotheses.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        by_direction.setdefault(record["direction"], []).append(record)
    return by_direction


def test_end_to_end_writes_results_with_sacrebleus_numbers(first_run):
    results = json.loads((first_run / "results.json").read_text())
    assert results["metrics"] == ["bleu", "chrf++"]
    assert len(results["directions"]) == 30 and results["testset"]["rows"] == 2
    assert {k: v["directions"] for k, v in results["averages"].items()} == {"x2x": 20, "en2x": 5, "x2en": 5, "all": 30}
    hyps = _hypotheses(first_run)
    assert set(hyps) == set(results["directions"]) and all(len(rows) == 2 for rows in hyps.values())
    assert hyps["de-fr"][0]["row"].endswith("multiway.jsonl:41") and hyps["de-fr"][0]["reference"].startswith("À quelle heure")
    for name, entry in results["directions"].items():
        h, r = [x["hypothesis"] for x in hyps[name]], [x["reference"] for x in hyps[name]]
        tok = "zh" if entry["trg"] == "zh" else "13a"
        assert entry["bleu_tokenizer"] == tok and entry["n"] == 2
        assert entry["bleu"] == pytest.approx(sacrebleu.corpus_bleu(h, [r], tokenize=tok).score, abs=1e-9)
        assert entry["chrf++"] == pytest.approx(sacrebleu.corpus_chrf(h, [r], word_order=2).score, abs=1e-9)
    chrf = [e["chrf++"] for e in results["directions"].values()]
    assert any(v > 0 for v in chrf)  # garbage, but not all-zero: the numbers are real
    assert results["averages"]["all"]["chrf++"] == pytest.approx(sum(chrf) / 30)
    x2x = [e["bleu"] for e in results["directions"].values() if e["group"] == "x2x"]
    assert results["averages"]["x2x"]["bleu"] == pytest.approx(sum(x2x) / 20)
    assert set(results["signatures"]["bleu"]) == {"13a", "zh"} and "nw:2" in results["signatures"]["chrf++"]
    notes = " ".join(results["notes"])
    assert "spBLEU skipped: no flores200 SentencePiece model" in notes and "COMET skipped" in notes
    assert results["decoding"]["greedy"] and results["decoding"]["max_new_tokens"] == 8
    assert results["model"]["id"].startswith(results["model"]["path"] + "@folder:")


def test_end_to_end_markdown_and_heatmap(first_run):
    results = json.loads((first_run / "results.json").read_text())
    md = (first_run / "results.md").read_text()
    avg = results["averages"]["x2x"]
    assert f"| x2x | 20 | {avg['bleu']:.2f} | {avg['chrf++']:.2f} |" in md
    de_zh = results["directions"]["de-zh"]
    assert f"| de-zh | x2x | 2 | {de_zh['bleu']:.2f} | {de_zh['chrf++']:.2f} | zh |" in md
    png = (first_run / "heatmap.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width > 500 and height > 250  # two panels (chrF++, BLEU) of a 6x6 matrix


def test_rerun_reuses_hypotheses_scores_comet_compares_and_writes_the_card(first_run, tiny_model_dir, tmp_path, monkeypatch):
    from eax_data.training.evaluation import decode
    from eax_data.training.evaluation.evaluate import evaluate

    spec = importlib.util.spec_from_file_location("fake_comet_worker", FAKE_COMET)
    fake = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fake)
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    out = tmp_path / "run2"
    out.mkdir()
    shutil.copy(first_run / "hypotheses.jsonl", out / "hypotheses.jsonl")
    baseline = tmp_path / "baseline.json"
    shutil.copy(first_run / "results.json", baseline)

    def no_decoding(*args, **kwargs):
        raise AssertionError("every hypothesis should come from hypotheses.jsonl")

    monkeypatch.setattr(decode, "translate", no_decoding)  # same model copy, same settings: same fingerprint
    outcome = evaluate(str(model), "demo", output=str(out), langs=["de", "zh"], limit=2, max_new_tokens=8, backend="transformers",
                       comet="fake-comet", comet_python=sys.executable, comet_worker=str(FAKE_COMET),
                       baseline=str(baseline), model_card=True)
    results = outcome.results
    assert results["metrics"] == ["bleu", "chrf++", "comet"] and len(results["directions"]) == 6
    hyps = _hypotheses(out)
    for name, entry in results["directions"].items():
        expected = 100 * sum(fake.overlap_f1(x["hypothesis"], x["reference"]) for x in hyps[name]) / len(hyps[name])
        assert entry["comet"] == pytest.approx(expected, abs=1e-9)
    assert results["signatures"]["comet"].startswith("comet:fake-comet@")
    comparison = outcome.comparison
    assert comparison["metrics"] == ["bleu", "chrf++"] and len(comparison["directions"]) == 6
    assert all(row[m]["delta"] == 0.0 for row in comparison["directions"].values() for m in ("bleu", "chrf++"))
    assert "| de-zh | x2x |" in (out / "compare.md").read_text()
    card = (model / "README.md").read_text()
    assert card.startswith("---\nmodel-index:") and "config: de-zh" in card and "name: COMET-22" in card


def test_cli_errors_are_one_line_and_exit_2(tiny_model_dir, tmp_path, capsys):
    base = ["eval", "--model", tiny_model_dir, "--output", str(tmp_path / "o")]
    assert _run([*base, "--langs", "de", "ko"]) == 2
    assert "--langs: ['ko'] not in test set demo" in capsys.readouterr().err
    assert _run([*base, "--baseline", str(tmp_path / "missing.json")]) == 2
    assert "missing.json: results file not found" in capsys.readouterr().err
    assert _run([*base, "--comet", "Unbabel/wmt22-comet-da", "--comet-python", str(tmp_path / "nope" / "python")]) == 2
    assert "no COMET python" in capsys.readouterr().err
    assert _run(["eval", "--model", str(tmp_path / "no-model"), "--model-card"]) == 2
    assert "not a local model folder" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # every check ran before any output or model load


def test_registering_the_command_imports_nothing_heavy():
    import subprocess

    code = ("import sys, argparse; from eax_data.training.evaluation import commands; "
            "p = argparse.ArgumentParser(); commands.register(p.add_subparsers()); "
            "print(sorted(m for m in ('torch', 'sacrebleu', 'transformers', 'datatrove', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
