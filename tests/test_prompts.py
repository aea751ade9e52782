"""EAX prompts: the paper's EAxT generation prompt, direct and diverse training prompts, output cleaning."""

from eax_data import prompts
from eax_data.recipe import PromptConfig

SOURCE = "Der Zug fährt um 7:45 Uhr ab."
REFERENCE = "The train leaves at 7:45."


def test_eaxt_prompt_is_the_papers_template_for_de_to_zh():
    text = prompts.generation_prompt(PromptConfig().generation, "de", "zh", "en", SOURCE, REFERENCE)
    assert text == (
        "Given a German text and its English version as a reference, translate the source text into Chinese.\n"
        "German Source: Der Zug fährt um 7:45 Uhr ab.\n"
        "English Reference: The train leaves at 7:45.\n"
        "Chinese Translation:"
    )


def test_generation_prompt_accepts_flores_codes_and_custom_templates():
    text = prompts.generation_prompt("{src}|{trg}|{ref}|{source}|{reference}", "deu_Latn", "zho_Hans", "eng_Latn", "x", "e")
    assert text == "German|Chinese|English|x|e"


def test_direct_prompt_exact_text():
    text = prompts.training_prompt("direct", "de", "zh", SOURCE, "de-zh-0123", seed=0)
    assert text == "Translate the following text from German into Chinese:\nGerman: Der Zug fährt um 7:45 Uhr ab.\nChinese:"
    # direct ignores the task id and seed, and never contains the English reference
    assert prompts.training_prompt("direct", "de", "zh", SOURCE, "other", seed=9) == text
    assert "English" not in text


def test_there_are_twenty_distinct_diverse_templates():
    assert len(prompts.DIVERSE_TEMPLATES) == 20
    assert len(set(prompts.DIVERSE_TEMPLATES)) == 20
    for template in prompts.DIVERSE_TEMPLATES:
        assert "{source}" in template
        filled = template.format(src="German", trg="Chinese", source=SOURCE)
        assert SOURCE in filled


def _diverse(task_id, seed=0):
    return prompts.training_prompt("diverse", "de", "zh", SOURCE, task_id, seed=seed)


def test_diverse_choice_is_stable_for_the_same_task_and_seed():
    expected = {prompt for prompt in (_diverse("de-zh-abc", 3) for _ in range(5))}
    assert len(expected) == 1
    filled = {t.format(src="German", trg="Chinese", source=SOURCE) for t in prompts.DIVERSE_TEMPLATES}
    assert expected <= filled


def test_diverse_choice_varies_across_task_ids_and_seeds():
    by_id = {_diverse(f"de-zh-{i:04d}") for i in range(200)}
    assert len(by_id) >= 15  # 200 ids spread over most of the 20 templates
    by_seed = {_diverse("de-zh-fixed", seed) for seed in range(200)}
    assert len(by_seed) >= 15


def test_clean_output_cuts_at_the_stop_string():
    assert prompts.clean_output("Hallo Welt</s>garbage after") == "Hallo Welt"
    assert prompts.clean_output("  Hallo  </s> more </s>") == "Hallo"
    assert prompts.clean_output("A<|end|>B</s>C", stop=("<|end|>", "</s>")) == "A"
    assert prompts.clean_output("keep </s> all", stop=()) == "keep </s> all"
    assert prompts.clean_output("ignored empty marker", stop=("",)) == "ignored empty marker"


def test_clean_output_strips_and_joins_lines():
    assert prompts.clean_output("\n  Hallo Welt \n") == "Hallo Welt"
    assert prompts.clean_output("erste Zeile\n\n  zweite Zeile  \ndritte</s>\nvierte") == "erste Zeile; zweite Zeile; dritte"
    assert prompts.clean_output("") == ""
