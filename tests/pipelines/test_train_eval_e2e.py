"""The user's loop on CPU with a tiny model: build -> publish -> train dpo on the pulled release -> eval."""

import json
import os

import sacrebleu

from eax_data.pipelines.build import build
from eax_data.release import publish
from tests.pipelines.test_build_e2e import _recipe


def test_build_publish_train_dpo_and_evaluate(tiny_model_dir, tmp_path):
    from eax_data.training.dpo import load_dpo_config, train_dpo
    from eax_data.training.evaluation.evaluate import evaluate

    out = str(tmp_path / "build")
    assert build(_recipe(tiny_model_dir, **{"execution.limit": 2}), out).total_pairs > 0
    store = str(tmp_path / "store")
    release = publish(out, "acme/eax-tiny", "1.0.0", store=store)

    config = load_dpo_config(max_steps=2, per_device_train_batch_size=2, logging_steps=1, gradient_checkpointing=False)
    model_dir = train_dpo("acme/eax-tiny@v1.0.0", tiny_model_dir, str(tmp_path / "dpo"), config=config, store=store)
    card = open(os.path.join(model_dir, "README.md"), encoding="utf-8").read()
    assert "acme/eax-tiny" in card and "v1.0.0" in card and release.commit in card  # the dataset is pinned

    outcome = evaluate(model_dir, "demo", output=str(tmp_path / "eval"), langs=["de", "fr"], limit=2,
                       max_new_tokens=8, backend="transformers", comet="none", device="cpu")
    for name in ("results.json", "results.md", "heatmap.png"):
        assert os.path.getsize(os.path.join(outcome.folder, name)) > 0
    results = json.load(open(os.path.join(outcome.folder, "results.json"), encoding="utf-8"))
    hypotheses = [json.loads(line) for line in open(os.path.join(outcome.folder, "hypotheses.jsonl"), encoding="utf-8")]
    assert {"de-fr", "fr-de", "en-de", "de-en"} <= set(results["directions"])
    # the scores are real: recompute one direction's BLEU with sacrebleu itself
    rows = [h for h in hypotheses if (h["src_lang"], h["trg_lang"]) == ("de", "fr")]
    expected = sacrebleu.corpus_bleu([h["hypothesis"] for h in rows], [[h["reference"] for h in rows]])
    assert abs(results["directions"]["de-fr"]["bleu"] - expected.score) < 1e-9
