"""Field contracts: a step reading a field no earlier step writes fails at composition time."""

import pytest

from eax_data.builders.anchors import AnchorSentences
from eax_data.builders.contracts import PipelineContractError, check_fields
from eax_data.builders.expand import ExpandToX2X
from eax_data.builders.pairs import DIRECTION, BuildPairs
from eax_data.pairs import PairRule
from eax_data.pipelines import stages
from eax_data.recipe import load_recipe
from eax_data.schema import CANDIDATE_SCHEMA, SCORE, SHARD, SOURCE_ID, TASK_FIELDS, TRG_LANG


class Reader:
    """A step without contracts (like datatrove's readers and writers): passes through unchecked."""


class Step:
    def __init__(self, name, reads=(), writes=()):
        self.name, self.reads, self.writes = name, reads, writes


def test_missing_field_names_the_step_and_the_field():
    steps = [Reader(), Step("writer of a", writes=("a",)), Step("needs a and b", reads=("a", "b"))]
    with pytest.raises(PipelineContractError) as info:
        check_fields(steps)
    message = str(info.value)
    assert message.startswith("needs a and b reads ['b'], which no earlier step writes")
    assert "available: ['a']" in message


def test_fields_must_be_written_by_an_earlier_step():
    with pytest.raises(PipelineContractError, match="^early reads \\['x'\\]"):
        check_fields([Step("early", reads=("x",)), Step("late", writes=("x",))])


def test_provided_fields_count_and_the_final_fields_are_returned():
    fields = check_fields([Step("s", reads=("a",), writes=("b",)), Reader()], provided=["a"])
    assert fields == {"a", "b"}
    assert check_fields([]) == set()


def test_a_step_without_a_name_is_named_by_its_class():
    class NamelessStep:
        reads = ("zz",)

    with pytest.raises(PipelineContractError, match="^NamelessStep reads \\['zz'\\]"):
        check_fields([NamelessStep()])


def test_real_steps_in_a_wrong_order_fail():
    expand = ExpandToX2X(("de", "fr"))
    with pytest.raises(PipelineContractError, match="Expand to x2x reads .*'src_lang'"):
        check_fields([Reader(), expand])
    with pytest.raises(PipelineContractError, match="Build pairs reads .*'task_id'"):
        check_fields([Reader(), BuildPairs(PairRule())], provided=TASK_FIELDS)
    fields = check_fields([Reader(), AnchorSentences("multiway", ("de", "fr"), "c"), expand])
    assert {SOURCE_ID, TRG_LANG, SHARD} <= fields


@pytest.fixture(scope="module")
def recipe():
    return load_recipe(None)


def test_tasks_pipeline_passes_its_contract(recipe, tmp_path):
    steps = stages.tasks_pipeline(recipe, str(tmp_path))
    assert [type(s) for s in steps[1:3]] == [AnchorSentences, ExpandToX2X]
    assert set(TASK_FIELDS) <= check_fields(steps)


def test_candidates_pipeline_passes_its_contract(recipe, tmp_path):
    steps = stages.candidates_pipeline(recipe, str(tmp_path))
    fields = check_fields(steps, provided=TASK_FIELDS)
    assert "finish_reason" in fields and SCORE not in fields  # scoring is its own stage
    with pytest.raises(PipelineContractError):
        check_fields(steps)  # the task fields really are needed


def test_scores_pipeline_passes_its_contract(recipe, tmp_path):
    steps = stages.scores_pipeline(recipe, str(tmp_path))
    assert {SCORE, "scores"} <= check_fields(steps, provided=CANDIDATE_SCHEMA.names)
    assert not stages.needs_pivots(recipe)


def test_a_pivot_referenced_scorer_gets_the_pivot_step(recipe, tmp_path):
    chrf = recipe.replace(scorer={"kind": "chrf"})
    assert chrf.scorer.reference == "pivot" and stages.needs_pivots(chrf)
    steps = stages.scores_pipeline(chrf, str(tmp_path))
    assert "pivot_text" in steps[2].reads  # the scorer reads what AttachPivots (steps[1]) writes
    check_fields(steps, provided=[n for n in CANDIDATE_SCHEMA.names if n != "pivot_text"])
    with pytest.raises(PipelineContractError, match="pivot_text"):
        check_fields([steps[0], *steps[2:]], provided=[n for n in CANDIDATE_SCHEMA.names if n != "pivot_text"])
    pivots = stages.pivots_pipeline(chrf, str(tmp_path))
    assert check_fields(pivots, provided=TASK_FIELDS)


def test_pairs_pipeline_passes_its_contract(recipe, tmp_path):
    steps = stages.pairs_pipeline(recipe, str(tmp_path))
    assert DIRECTION in check_fields(steps, provided=[*TASK_FIELDS, *CANDIDATE_SCHEMA.names])
    (build_pairs,) = [s for s in steps if isinstance(s, BuildPairs)]
    assert build_pairs.rule == PairRule(min_margin=recipe.pairs.min_margin)
    assert build_pairs.prompt_style == "direct"
