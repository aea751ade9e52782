"""The card's "Proxy validation" section: rendered from proxy_validation.json, absent without it."""

from __future__ import annotations

import json
import os
import shutil
from importlib import resources

import pytest
from card_folders import make_folder, pair_row

from eax_data.cards.facts import read_facts, read_proxy_validation
from eax_data.cards.render import render_card_for_folder
from eax_data.proxy_validation import VALIDATION_FILE, validate_proxy, wilson, write_validation

SECTION = "## Proxy validation"


def demo_corpus() -> list[dict]:
    text = resources.files("eax_data").joinpath("demo", "multiway.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def validated(tmp_path) -> str:
    """Default recipe (bundled demo corpus): per direction chosen = human y twice, rejected = human y once."""
    demo, rows = demo_corpus(), {"de-fr": [], "zh-es": []}
    for line in (1, 2, 3):
        for name in rows:
            src, trg = name.split("-")
            human, cut = demo[line - 1][trg], demo[line - 1][trg][:4]
            chosen, rejected = (human, cut) if line < 3 else (cut, human)
            row = pair_row(name, f"{name}-{line}", chosen, rejected)
            row.update(src_text=demo[line - 1][src], source_id=f"eax-demo:multiway.jsonl:{line}:{src}")
            rows[name].append(row)
    folder = make_folder(tmp_path / "build", rows)
    write_validation(folder, validate_proxy(folder))
    return folder


@pytest.fixture
def render(monkeypatch):
    """Render a folder's card, handing facts.proxy_validation to the template if render.py does not yet."""
    from huggingface_hub import DatasetCard

    original = DatasetCard.from_template

    def card_text(folder: str) -> str:
        view = read_facts(folder).proxy_validation
        monkeypatch.setattr(DatasetCard, "from_template", lambda *a, **k: original(*a, **{"proxy_validation": view, **k}))
        try:
            return render_card_for_folder(folder)
        finally:
            monkeypatch.setattr(DatasetCard, "from_template", original)

    return card_text


def _ci(k: int, n: int) -> str:
    lo, hi = wilson(k, n)
    return f"({lo:.2f}–{hi:.2f})"


def test_loader_gives_preformatted_rows(validated):
    view = read_facts(validated).proxy_validation
    assert view["metric"] == "chrf" and view["stale"] is None and view["skipped"] == 0
    assert view["rows"][0] == ["de-fr", "3", "2 / 0 / 1", f"0.67 {_ci(2, 3)}", "0", "–"]
    assert view["rows"][-1] == ["overall", "6", "4 / 0 / 2", f"0.67 {_ci(4, 6)}", "0", "–"]


def test_card_shows_the_section_when_the_json_exists(validated, render):
    card = render(validated)
    assert SECTION in card
    assert f"| **overall** | 6 | 4 / 0 / 2 | 0.67 {_ci(4, 6)} | 0 | – |" in card
    assert f"| zh-es | 3 | 2 / 0 / 1 | 0.67 {_ci(2, 3)} | 0 | – |" in card
    assert "Out of date" not in card


def test_no_section_without_the_json(demo_folder, render):
    assert read_facts(demo_folder).proxy_validation is None
    assert SECTION not in render(demo_folder)


def test_stale_validation_is_flagged(validated, render):
    shutil.rmtree(os.path.join(validated, "data", "zh-es"))  # pairs changed after the validation ran
    card = render(validated)
    assert SECTION in card and "**Out of date:** it judged 6 pairs, the data now has 3" in card


def test_broken_json_names_the_file(validated):
    path = os.path.join(validated, VALIDATION_FILE)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write('{"metrics": {}}')
    with pytest.raises(ValueError, match=f"{VALIDATION_FILE}: not a proxy validation result"):
        read_proxy_validation(validated)


def test_render_passes_the_section_without_help(validated):
    assert SECTION in render_card_for_folder(validated)
