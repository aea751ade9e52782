"""Reward-model scorer with a real tiny one-label Llama (CPU): trl-identical inputs, batching, OOM, ids."""

from __future__ import annotations

import itertools
import pickle
import shutil
from pathlib import Path

import pytest

from eax_data.recipe import ScorerConfig
from eax_data.scoring import reward_model
from eax_data.scoring.base import ScorerError
from eax_data.scoring.factory import make_scorer
from eax_data.scoring.reward_model import RewardModelScorer, conversation

ANCHORS = [
    "The weather is very nice today, so we are going for a walk in the park.",
    "Thanks!",
    "The government announced new measures to reduce air pollution in large cities across the whole country.",
    "My brother plays the guitar.",
]
# (anchor index, target language, candidate); lengths vary so that sorting by length reorders them.
ROWS = [
    (0, "de", "Das Wetter ist heute sehr schön, deshalb gehen wir im Park spazieren."),
    (1, "fr", "Merci !"),
    (2, "zh", "政府宣布了减少全国大城市空气污染的新措施。"),
    (0, "fr", "Il fait très beau aujourd'hui, alors nous allons nous promener dans le parc."),
    (3, "ru", "Мой брат играет на гитаре."),
    (2, "de", "Die Regierung kündigte neue Maßnahmen an."),
    (1, "de", "Danke!"),
    (0, "de", "Das Wetter ist heute sehr schön, deshalb gehen wir im Park spazieren."),  # duplicate of row 0
    (3, "zh", "我哥哥弹吉他。"),
    (2, "fr", "Le gouvernement a annoncé de nouvelles mesures pour réduire la pollution de l'air dans les grandes villes."),
]


def _inputs(rows=ROWS) -> dict:
    return {
        "anchors": [ANCHORS[a] for a, _, _ in rows],
        "candidates": [c for _, _, c in rows],
        "anchor_langs": ["en"] * len(rows),
        "target_langs": [t for _, t, _ in rows],
    }


def _score(scorer, rows=ROWS) -> list[float]:
    args = _inputs(rows)
    return scorer.score(args.pop("anchors"), args.pop("candidates"), **args)


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    """Every test loads its own model, so one test's state (a swapped forward, a closed model) cannot leak."""
    reward_model._LOADED.clear()
    yield
    reward_model._LOADED.clear()


def test_deterministic_and_identical_after_a_reload(tiny_reward_model_dir):
    scorer = RewardModelScorer(tiny_reward_model_dir, batch_size=4, device="cpu")
    first = _score(scorer)
    assert _score(scorer) == first
    scorer.close()  # drops the cached model: the next call loads the weights again
    assert not reward_model._LOADED
    assert _score(scorer) == first
    assert first[0] == first[7]  # identical pair, identical score
    assert all(isinstance(v, float) for v in first)


def test_order_stable_across_batch_sizes_and_permutations(tiny_reward_model_dir):
    by_size = {size: _score(RewardModelScorer(tiny_reward_model_dir, batch_size=size, device="cpu")) for size in (1, 3, 64)}
    for size in (3, 64):
        assert by_size[size] == pytest.approx(by_size[1], abs=1e-5), size
    distinct = sorted(set(round(v, 7) for v in by_size[1]))
    assert len(distinct) == len(ROWS) - 1  # only the duplicated pair repeats ...
    assert min(b - a for a, b in itertools.pairwise(distinct)) > 1e-5  # ... so a mix-up could not hide
    permutation = [9, 3, 0, 6, 1, 8, 2, 5, 4, 7]
    shuffled = _score(RewardModelScorer(tiny_reward_model_dir, batch_size=3, device="cpu"), [ROWS[i] for i in permutation])
    assert shuffled == pytest.approx([by_size[1][i] for i in permutation], abs=1e-5)


def test_inputs_equal_trl_reward_trainer_processing(tiny_reward_model_dir, tmp_path):
    """Token ids equal trl's own dataset processing, and our score equals the reward trl's model computes."""
    import torch
    from datasets import Dataset
    from trl import RewardConfig, RewardTrainer

    scorer = RewardModelScorer(tiny_reward_model_dir, batch_size=8, device="cpu")
    (a, lang, chosen), (_, _, rejected) = ROWS[2], ROWS[5]
    prompt, chosen_msgs = conversation(ANCHORS[a], chosen, "en", lang)
    _, rejected_msgs = conversation(ANCHORS[a], rejected, "en", lang)
    dataset = Dataset.from_list([{"prompt": prompt, "chosen": chosen_msgs, "rejected": rejected_msgs}])
    args = RewardConfig(output_dir=str(tmp_path), report_to="none", bf16=False, use_cpu=True, dataset_num_proc=None)
    trainer = RewardTrainer(model=tiny_reward_model_dir, args=args, train_dataset=dataset)
    processed = trainer.train_dataset[0]

    ours = scorer.tokenize([ANCHORS[a]] * 2, [chosen, rejected], ["en", "en"], [lang, lang])
    assert ours == [processed["chosen_ids"], processed["rejected_ids"]]
    assert "Translate the following text from English into Chinese:" in scorer.loaded()[1].decode(ours[0])

    batch = trainer.data_collator([processed])  # right-padded chosen + rejected, as in training
    trainer.model.eval()
    with torch.no_grad():
        rewards = trainer.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, 0]
    scores = scorer.score([ANCHORS[a]] * 2, [chosen, rejected], anchor_langs=["en"] * 2, target_langs=[lang] * 2)
    assert scores == pytest.approx(rewards.tolist(), abs=1e-5)


@pytest.mark.parametrize("error", ["cuda", "runtime"])
def test_out_of_memory_halves_the_batch_and_retries(tiny_reward_model_dir, monkeypatch, error):
    import torch

    expected = _score(RewardModelScorer(tiny_reward_model_dir, batch_size=1, device="cpu"))
    real_forward = RewardModelScorer._forward
    sizes = []

    def forward(net, batch, pad_id, device):
        sizes.append(len(batch))
        if len(batch) > 2:
            if error == "cuda":
                raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (fake)")
            raise RuntimeError("CUDA error: out of memory (fake)")
        return real_forward(net, batch, pad_id, device)

    monkeypatch.setattr(RewardModelScorer, "_forward", staticmethod(forward))
    scores = _score(RewardModelScorer(tiny_reward_model_dir, batch_size=8, device="cpu"))
    assert scores == pytest.approx(expected, abs=1e-5)
    # 9 distinct pairs: 8 fails, 4 fails, then batches of 2 until the end (2+2+2+2+1)
    assert sizes == [8, 4, 2, 2, 2, 2, 1]


def test_out_of_memory_at_batch_size_one_raises_scorer_error(tiny_reward_model_dir, monkeypatch):
    import torch

    sizes = []

    def forward(net, batch, pad_id, device):
        sizes.append(len(batch))
        raise torch.cuda.OutOfMemoryError("CUDA out of memory (fake)")

    monkeypatch.setattr(RewardModelScorer, "_forward", staticmethod(forward))
    with pytest.raises(ScorerError, match=r"out of memory even at batch size 1") as info:
        _score(RewardModelScorer(tiny_reward_model_dir, batch_size=4, device="cpu"))
    assert tiny_reward_model_dir in str(info.value)
    assert sizes == [4, 2, 1]


def test_other_runtime_errors_are_not_retried(tiny_reward_model_dir, monkeypatch):
    sizes = []

    def forward(net, batch, pad_id, device):
        sizes.append(len(batch))
        raise RuntimeError("shape mismatch")

    monkeypatch.setattr(RewardModelScorer, "_forward", staticmethod(forward))
    with pytest.raises(RuntimeError, match="shape mismatch"):
        _score(RewardModelScorer(tiny_reward_model_dir, batch_size=4, device="cpu"))
    assert sizes == [4]


def test_pickling_does_not_carry_the_model(tiny_reward_model_dir):
    scorer = RewardModelScorer(tiny_reward_model_dir, batch_size=4, device="cpu")
    before = _score(scorer)  # model now loaded and cached
    data = pickle.dumps(scorer)
    assert len(data) < 1000 and b"torch" not in data
    clone = pickle.loads(data)
    assert clone.loaded()[0] is scorer.loaded()[0]  # the process-wide cache, not a copy
    assert _score(clone) == before


def _copy_model(src: str, dest: Path, scale: float | None = None) -> str:
    shutil.copytree(src, dest)
    if scale is not None:
        from safetensors.torch import load_file, save_file

        weights = dest / "model.safetensors"
        tensors = load_file(weights)
        tensors["score.weight"] = tensors["score.weight"] * scale
        save_file(tensors, weights, metadata={"format": "pt"})
    return str(dest)


def test_id_names_the_weights(tiny_reward_model_dir, tmp_path):
    scorer = RewardModelScorer(tiny_reward_model_dir)
    assert scorer.id.startswith(f"reward_model:{tiny_reward_model_dir}@")
    same = _copy_model(tiny_reward_model_dir, tmp_path / "same")
    other = _copy_model(tiny_reward_model_dir, tmp_path / "other", scale=2.0)
    fingerprint = scorer.id.rsplit("@", 1)[1]
    assert len(fingerprint) == 12
    assert RewardModelScorer(same).id.rsplit("@", 1)[1] == fingerprint  # content, not path
    assert RewardModelScorer(other).id.rsplit("@", 1)[1] != fingerprint
    # Rewriting weights in place changes the id, and scoring uses the new weights (not a stale cache).
    edited = RewardModelScorer(same, device="cpu")
    old = _score(edited, ROWS[:2])
    shutil.copy(Path(other) / "model.safetensors", Path(same) / "model.safetensors")
    assert edited.id.rsplit("@", 1)[1] == RewardModelScorer(other).id.rsplit("@", 1)[1]
    assert _score(edited, ROWS[:2]) == pytest.approx([2 * v for v in old], rel=1e-4)


def test_config_without_pad_token_id_still_batches(tiny_reward_model_dir, tmp_path):
    """transformers refuses batches > 1 without config.pad_token_id; the scorer sets it from the tokenizer, as trl."""
    import json

    folder = Path(_copy_model(tiny_reward_model_dir, tmp_path / "nopad"))
    config = json.loads((folder / "config.json").read_text())
    config.pop("pad_token_id", None)
    (folder / "config.json").write_text(json.dumps(config))
    expected = _score(RewardModelScorer(tiny_reward_model_dir, batch_size=1, device="cpu"))
    scorer = RewardModelScorer(str(folder), batch_size=4, device="cpu")
    assert _score(scorer) == pytest.approx(expected, abs=1e-5)
    net, tokenizer, _ = scorer.loaded()
    assert net.config.pad_token_id == tokenizer.pad_token_id is not None


def test_hub_id_uses_the_cached_revision(tiny_reward_model_dir, tmp_path, monkeypatch):
    import huggingface_hub.constants as hub

    sha = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "models--org--tiny-rm"
    shutil.copytree(tiny_reward_model_dir, repo / "snapshots" / sha)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(sha)
    monkeypatch.setattr(hub, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", True)
    reward_model._hub_snapshot.cache_clear()
    scorer = RewardModelScorer("org/tiny-rm", device="cpu")
    assert scorer.id == f"reward_model:org/tiny-rm@{sha}"
    local = RewardModelScorer(tiny_reward_model_dir, device="cpu")
    assert _score(scorer, ROWS[:3]) == pytest.approx(_score(local, ROWS[:3]), abs=1e-6)
    with pytest.raises(ScorerError, match="'org/missing': not a local folder and not fetchable"):
        RewardModelScorer("org/missing").id
    reward_model._hub_snapshot.cache_clear()


def test_clear_errors(tiny_reward_model_dir, tiny_model_dir, tmp_path):
    with pytest.raises(ScorerError, match="'/no/such/reward-model': not a model folder"):
        RewardModelScorer("/no/such/reward-model").id
    (tmp_path / "empty").mkdir()
    with pytest.raises(ScorerError, match="no \\*.safetensors or \\*.bin weight files"):
        RewardModelScorer(str(tmp_path / "empty")).id
    with pytest.raises(ScorerError, match="lacks score.weight"):  # a causal LM is not a reward model
        _score(RewardModelScorer(tiny_model_dir, device="cpu"), ROWS[:1])
    scorer = RewardModelScorer(tiny_reward_model_dir, device="cpu")
    with pytest.raises(ValueError, match="needs anchor_langs, target_langs"):
        scorer.score(["Hi."], ["Hallo."])
    with pytest.raises(ScorerError, match="unknown language code 'xx'"):
        scorer.score(["Hi."], ["Hallo."], anchor_langs=["en"], target_langs=["xx"])
    with pytest.raises(ValueError, match="must name a local folder or a Hub id"):
        RewardModelScorer(None)
    with pytest.raises(ScorerError, match="bad device 'tpu9'"):
        RewardModelScorer(tiny_reward_model_dir, device="tpu9").loaded()


def test_factory_describe_and_auto_device(tiny_reward_model_dir):
    import torch

    config = ScorerConfig(kind="reward_model", model=tiny_reward_model_dir, batch_size=5, device="auto")
    scorer = make_scorer(config)
    assert isinstance(scorer, RewardModelScorer) and scorer.batch_size == 5
    assert scorer.needs == {"anchor_langs", "target_langs"}
    info = scorer.describe()
    assert info["id"] == scorer.id and info["kind"] == "reward_model"
    assert info["device"] == ("cuda" if torch.cuda.is_available() else "cpu")
    assert info["dtype"] == ("bfloat16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "float32")
    assert "unbounded" in info["score"] and "higher = better" in info["score"]
    net, tokenizer, _ = scorer.loaded()
    assert net.config.pad_token_id == tokenizer.pad_token_id is not None
    assert net.dtype == torch.float32 or torch.cuda.is_available()
