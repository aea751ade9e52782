"""Fixtures of the card tests; the folder helpers are in card_folders.py."""

import pytest
from card_folders import make_folder, scored_rows


@pytest.fixture
def demo_folder(tmp_path) -> str:
    rows = {"de-fr": scored_rows("de-fr", 12), "de-zh": scored_rows("de-zh", 5), "zh-fr": scored_rows("zh-fr", 8)}
    return make_folder(tmp_path / "build", rows)
