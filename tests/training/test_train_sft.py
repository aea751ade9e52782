"""sft_examples / train_sft / `train sft`: the paper's first stage on a corpus, with its 20 diverse prompts."""

from __future__ import annotations

import argparse
import json
import re
from importlib import resources

import pytest

from eax_data import languages
from eax_data.prompts import DIVERSE_TEMPLATES, training_prompt
from eax_data.training import commands
from eax_data.training.errors import TrainingDataError
from eax_data.training.sft import load_sft_config, sft_examples, train_sft


def _demo_rows() -> list[dict]:
    path = resources.files("eax_data").joinpath("demo", "multiway.jsonl")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _template_of(prompt: str, src: str, trg: str) -> tuple[int, str]:
    """(index of the DIVERSE_TEMPLATES entry that renders ``prompt``, the source sentence in it)."""
    for index, template in enumerate(DIVERSE_TEMPLATES):
        pattern = re.escape(template.replace("{source}", "\0")).replace("\\\0", "\0").replace("\0", "(.+)")
        pattern = pattern.replace(re.escape("{src}"), re.escape(languages.name(src)))
        pattern = pattern.replace(re.escape("{trg}"), re.escape(languages.name(trg)))
        match = re.fullmatch(pattern, prompt, re.S)
        if match:
            return index, match.group(1)
    raise AssertionError(f"not one of the 20 diverse templates: {prompt!r}")


def test_demo_examples_use_the_diverse_templates_and_human_translations():
    data, provenance = sft_examples("demo")
    rows = _demo_rows()
    codes = [c for c in rows[0] if c not in ("id", "en")]
    assert len(data) == len(rows) * len(codes) * 2  # every anchored sentence gives en->x and x->en
    assert provenance["rows_per_direction"] == {d: len(rows) for c in codes for d in (f"en-{c}", f"{c}-en")}
    assert provenance["kind"] == "multiway" and provenance["content_hash"].startswith("sha256:")
    human = {(row["en"], c): row[c] for row in rows for c in codes}  # (source, non-English language) -> reference
    human |= {(row[c], c): row["en"] for row in rows for c in codes}
    used = set()
    for example in data:
        src, trg = example["src_lang"], example["trg_lang"]
        (prompt,), (completion,) = example["prompt"], example["completion"]
        assert (prompt["role"], completion["role"]) == ("user", "assistant")
        index, source = _template_of(prompt["content"], src, trg)
        used.add(index)
        x_lang = trg if src == "en" else src
        assert completion["content"] == human[(source, x_lang)]  # the human translation, never generated text
        assert prompt["content"] == training_prompt("diverse", src, trg, source, example["task_id"], 0)  # stable pick
    assert len(used) >= 15  # 480 examples spread over the 20 templates


def test_directions_limit_languages_and_refusals(tmp_path):
    data, provenance = sft_examples("demo", directions="en2x", limit=2, languages=["de", "fr"])
    assert sorted(data["src_lang"]) == ["en"] * 4 and sorted(data["trg_lang"]) == ["de", "de", "fr", "fr"]
    assert provenance["details"]["corpus rows"] == 2
    data, _ = sft_examples("demo", directions=["de-en"], limit=3)
    assert set(zip(data["src_lang"], data["trg_lang"])) == {("de", "en")} and len(data) == 3
    with pytest.raises(TrainingDataError, match="de-fr has no English side"):
        sft_examples("demo", directions=["de-fr"])
    with pytest.raises(TrainingDataError, match="neither both/en2x/x2en nor a SRC-TRG"):
        sft_examples("demo", directions="all")
    with pytest.raises(TrainingDataError, match="corpus not found"):
        sft_examples(str(tmp_path / "missing.jsonl"))
    with pytest.raises(TrainingDataError, match="no SFT examples"):
        sft_examples("demo", languages=["ja"])


def test_english_centric_and_flores_corpora(tmp_path):
    rows = [{"src_lang": "de", "trg_lang": "en", "src_text": "Guten Morgen.", "trg_text": "Good morning."},
            {"src_lang": "en", "trg_lang": "fr", "src_text": "Thank you.", "trg_text": "Merci."},
            {"src_lang": "en", "trg_lang": "fr", "src_text": "Thank you.", "trg_text": "Merci."}]  # a duplicate
    corpus = tmp_path / "towerblocks.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    data, provenance = sft_examples(corpus)
    assert provenance["kind"] == "english_centric"
    assert provenance["details"]["duplicate (direction, source) examples dropped"] == 2
    pairs = {(e["src_lang"], e["trg_lang"], e["completion"][0]["content"]) for e in data}
    assert pairs == {("en", "de", "Guten Morgen."), ("de", "en", "Good morning."), ("en", "fr", "Merci."),
                     ("fr", "en", "Thank you.")}
    flores = tmp_path / "flores" / "dev"
    flores.mkdir(parents=True)
    (flores / "eng_Latn.dev").write_text("One.\nTwo.\n", encoding="utf-8")
    (flores / "deu_Latn.dev").write_text("Eins.\nZwei.\n", encoding="utf-8")
    data, provenance = sft_examples(tmp_path / "flores", directions="x2en")
    assert (provenance["kind"], provenance["format"], provenance["details"]["split"]) == ("multiway", "flores", "dev")
    assert [e["content"] for e in data["completion"][0]] == ["One."] and len(data) == 2


def test_two_steps_on_the_demo_corpus(tiny_model_dir, tmp_path, spy_train):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTTrainer

    seen = spy_train(SFTTrainer)  # keep the trainer to assert on its arguments and tokenized rows
    out = tmp_path / "sft"
    config = load_sft_config(None, max_steps=2, per_device_train_batch_size=2, gradient_checkpointing=False,
                             logging_steps=1)
    assert train_sft("demo", tiny_model_dir, out, config=config, limit=3, languages=["de", "zh"]) == str(out)

    (trainer,) = seen
    assert trainer.args.completion_only_loss is True and trainer.args.learning_rate == 7e-6
    tokenizer = AutoTokenizer.from_pretrained(out)
    expected, _ = sft_examples("demo", limit=3, languages=["de", "zh"])
    completions = {e[0]["content"] for e in expected["completion"]}
    assert len(trainer.train_dataset) == len(expected) == 12
    for example in trainer.train_dataset:  # the loss sees the human translation, and nothing of the prompt
        learned = tokenizer.decode([t for t in example["labels"] if t != -100])
        assert any(learned.startswith(c) and len(learned) - len(c) < 20 for c in completions), learned

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir).state_dict()
    trained = AutoModelForCausalLM.from_pretrained(out).state_dict()
    assert any(not torch.equal(base[k], trained[k]) for k in base)
    card = (out / "README.md").read_text()
    demo = resources.files("eax_data").joinpath("demo", "multiway.jsonl")
    assert f"Corpus: `{demo}` (multiway, jsonl; not an eax-data release)" in card
    assert f"`{sft_examples('demo', limit=1)[1]['content_hash']}`" in card
    assert "20 diverse templates" in card and "| prompt_style | diverse |" in card and "| loaded | 12 |" in card
    assert "Directions: de-en, en-de, en-zh, zh-en" in card
    assert re.search(r"Last logged training step \(2\):.*?\| loss \| [\d.]+ \|", card, re.S)


def test_cli(tiny_model_dir, tmp_path, monkeypatch, capsys):
    parser = argparse.ArgumentParser(prog="eax_data")
    commands.register(parser.add_subparsers(dest="command", required=True))
    config = tmp_path / "sft.yaml"
    config.write_text("per_device_train_batch_size: 2\ngradient_checkpointing: false\n")
    monkeypatch.chdir(tmp_path)
    base = ["train", "sft", "--dataset", "demo", "--model", tiny_model_dir, "--config", str(config)]
    args = parser.parse_args([*base, "--limit", "2", "--directions", "en2x", "--languages", "de", "fr",
                              "--max-steps", "1"])
    assert args.directions == ["en2x"] and not hasattr(args, "hub")
    assert commands.run(args) == 0
    assert "SFT model: sft-demo" in capsys.readouterr().out
    card = (tmp_path / "sft-demo" / "README.md").read_text()
    assert "Directions: en-de, en-fr" in card and "| loaded | 4 |" in card and "| max_steps | 1 |" in card
    assert commands.run(parser.parse_args([*base, "--directions", "de-fr", "-o", str(tmp_path / "o")])) == 2
    assert "de-fr has no English side" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "sft", "--help"])
    assert "--dataset CORPUS" in capsys.readouterr().out  # sft reads a corpus, not a preference build
