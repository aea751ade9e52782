"""Test-set loading (FLORES folders, multiway jsonl/parquet, `datasets`, demo split) and direction sets."""

from __future__ import annotations

import json

import pytest

from eax_data.training.evaluation import EvaluationError
from eax_data.training.evaluation.testsets import direction_group, directions, load_testset

SENTENCES = {
    "eng_Latn": ["One cat.", "Two dogs.", "Three birds."],
    "deu_Latn": ["Eine Katze.", "Zwei Hunde.", "Drei Vögel."],
    "fra_Latn": ["Un chat.", "Deux chiens.", "Trois oiseaux."],
    "zho_Hans": ["一只猫。", "两只狗。", "三只鸟。"],
}


def _flores(folder, nested: bool, split: str = "devtest"):
    base = folder / split if nested else folder
    base.mkdir(parents=True)
    for code, lines in SENTENCES.items():
        (base / f"{code}.{split}").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (base / f"xyz_Latn.{split}").write_text("a\nb\nc\n", encoding="utf-8")  # not in the registry: ignored
    return folder


@pytest.mark.parametrize("nested", [False, True])
def test_flores_folder_gives_three_languages_and_their_direction_sets(tmp_path, nested):
    ts = load_testset(str(_flores(tmp_path / "flores200", nested)))
    assert ts.format == "flores" and ts.split == "devtest" and ts.name == "flores200"
    assert ts.languages == ("en", "de", "fr", "zh")
    assert ts.rows[1] == {"en": "Two dogs.", "de": "Zwei Hunde.", "fr": "Deux chiens.", "zh": "两只狗。"}
    x2x, en2x, x2en = (directions(ts.languages, w) for w in ("x2x", "en2x", "x2en"))
    assert len(x2x) == 6 and len(en2x) == 3 and len(x2en) == 3
    assert set(x2x) == {("de", "fr"), ("de", "zh"), ("fr", "de"), ("fr", "zh"), ("zh", "de"), ("zh", "fr")}
    assert en2x == [("en", "de"), ("en", "fr"), ("en", "zh")] and x2en == [("de", "en"), ("fr", "en"), ("zh", "en")]
    assert directions(ts.languages, "all") == x2x + en2x + x2en
    assert {direction_group(*d) for d in x2x} == {"x2x"} and direction_group("en", "de") == "en2x" and direction_group("de", "en") == "x2en"


def test_flores_split_option_and_limit(tmp_path):
    ts = load_testset(str(_flores(tmp_path / "f", nested=True, split="dev")), split="dev", limit=2)
    assert ts.split == "dev" and len(ts.rows) == 2
    (tmp_path / "empty").mkdir()
    with pytest.raises(EvaluationError, match="empty: no .jsonl, .parquet or FLORES .devtest files"):
        load_testset(str(tmp_path / "empty"))


def test_multiway_jsonl_with_mixed_codes_ignores_id_and_other_columns(tmp_path):
    path = tmp_path / "wmt-multi.jsonl"
    rows = [{"id": i, "eng_Latn": SENTENCES["eng_Latn"][i], "de": SENTENCES["deu_Latn"][i], "fra_Latn": SENTENCES["fra_Latn"][i],
             "zh": SENTENCES["zho_Hans"][i], "domain": "animals"} for i in range(3)]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    ts = load_testset(str(path))
    assert ts.format == "jsonl" and ts.languages == ("en", "de", "fr", "zh") and len(ts.rows) == 3
    assert ts.rows[2]["fr"] == "Trois oiseaux." and "domain" not in ts.rows[2] and "id" not in ts.rows[2]
    assert ts.row_refs[0].endswith("wmt-multi.jsonl:1")
    assert len(directions(ts.languages, "x2x")) == 6
    # --langs keeps English (needed by en2x / x2en) and only the languages asked for
    sub = load_testset(str(path), langs=["deu_Latn", "zh"])
    assert sub.languages == ("en", "de", "zh") and directions(sub.languages, "x2x") == [("de", "zh"), ("zh", "de")]


def test_parquet_and_datasets_dataset_with_flores_style_columns(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({f"sentence_{code}": lines for code, lines in SENTENCES.items()} | {"URL": ["u"] * 3})
    pq.write_table(table, tmp_path / "set.parquet")
    ts = load_testset(str(tmp_path / "set.parquet"))
    assert ts.format == "parquet" and ts.languages == ("en", "de", "fr", "zh") and ts.rows[0]["zh"] == "一只猫。"
    folder = tmp_path / "hfset"
    folder.mkdir()
    pq.write_table(table, folder / "test.parquet")  # `datasets` names the split after the file
    hf = load_testset(f"hf:{folder}")
    assert hf.format == "hf" and hf.split == "test" and hf.rows == ts.rows


def test_demo_split_is_rows_41_to_48_of_the_bundled_corpus():
    from importlib import resources

    lines = resources.files("eax_data").joinpath("demo", "multiway.jsonl").read_text(encoding="utf-8").splitlines()
    ts = load_testset("demo")
    assert len(ts.rows) == 8 and ts.languages == ("en", "de", "fr", "es", "ru", "zh")
    assert ts.rows[0]["en"] == json.loads(lines[40])["en"] and ts.rows[-1]["ru"] == json.loads(lines[47])["ru"]
    assert ts.row_refs[0].endswith(":41") and ts.row_refs[-1].endswith(":48")
    assert len(load_testset("demo", limit=2).rows) == 2
    assert len(directions(ts.languages, "all")) == 30  # 5 non-English: 20 x2x + 5 + 5


def test_incomplete_rows_are_left_out_of_the_directions_they_lack(tmp_path):
    path = tmp_path / "gappy.jsonl"
    path.write_text(json.dumps({"en": "a", "de": "b", "fr": ""}) + "\n" + json.dumps({"en": "c", "de": "d", "fr": "e"}) + "\n")
    ts = load_testset(str(path))
    assert ts.pair("de", "fr") == ([1], ["d"], ["e"]) and ts.pair("en", "de")[0] == [0, 1]


def test_errors_name_the_option_and_the_file(tmp_path):
    with pytest.raises(EvaluationError, match=r"--langs: \['ko'\] not in test set demo"):
        load_testset("demo", langs=["de", "ko"])
    with pytest.raises(EvaluationError, match="does not exist"):
        load_testset(str(tmp_path / "missing.jsonl"))
    with pytest.raises(EvaluationError, match="x2x needs two non-English languages"):
        directions(["en", "de"], "x2x")
    with pytest.raises(EvaluationError, match="needs English"):
        directions(["de", "fr"], "en2x")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"en": "a", "eng_Latn": "b"}) + "\n")
    with pytest.raises(EvaluationError, match=r"bad.jsonl:1: two columns are language 'en'"):
        load_testset(str(bad))
    one = tmp_path / "one.jsonl"
    one.write_text(json.dumps({"id": 1, "en": "a", "text": "b"}) + "\n")
    with pytest.raises(EvaluationError, match="needs a column per language"):
        load_testset(str(one))
