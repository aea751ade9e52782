"""The changelog between two releases: rows by task_id per direction, and recipe parameter changes."""

from card_folders import make_folder, pair_row

from eax_data.cards.changelog import changelog, changelog_markdown, flatten


def _releases(tmp_path):
    previous = make_folder(
        tmp_path / "v1.0.0",
        {
            "de-fr": [pair_row("de-fr", "t1"), pair_row("de-fr", "t2"), pair_row("de-fr", "t3")],
            "fr-de": [pair_row("fr-de", "t4")],
        },
        **{"pairs.min_margin": 0.05},
    )
    current = make_folder(
        tmp_path / "v1.1.0",
        {
            "de-fr": [pair_row("de-fr", "t1"), pair_row("de-fr", "t2", chosen="better"), pair_row("de-fr", "t5")],
            "de-es": [pair_row("de-es", "t6"), pair_row("de-es", "t7")],
        },
        **{"pairs.min_margin": 0.1},
    )
    return previous, current


def test_rows_added_removed_changed_per_direction(tmp_path):
    log = changelog(*_releases(tmp_path))
    assert log["directions"] == {
        "de-es": {"previous": 0, "current": 2, "added": 2, "removed": 0, "changed": 0, "unchanged": 0},
        "de-fr": {"previous": 3, "current": 3, "added": 1, "removed": 1, "changed": 1, "unchanged": 1},
        "fr-de": {"previous": 1, "current": 0, "added": 0, "removed": 1, "changed": 0, "unchanged": 0},
    }
    assert log["total"] == {"previous": 4, "current": 5, "added": 3, "removed": 2, "changed": 1, "unchanged": 1}
    assert log["parameters"] == [{"key": "pairs.min_margin", "old": 0.05, "new": 0.1}]


def test_a_changed_rejected_message_counts_as_changed(tmp_path):
    previous = make_folder(tmp_path / "a", {"de-fr": [pair_row("de-fr", "t1")]})
    current = make_folder(tmp_path / "b", {"de-fr": [pair_row("de-fr", "t1", rejected="worse")]})
    assert changelog(previous, current)["directions"]["de-fr"]["changed"] == 1
    assert changelog(previous, previous)["directions"]["de-fr"] == {
        "previous": 1, "current": 1, "added": 0, "removed": 0, "changed": 0, "unchanged": 1,
    }
    assert changelog(previous, previous)["parameters"] == []


def test_markdown_lists_directions_and_parameter_changes(tmp_path):
    markdown = changelog_markdown(changelog(*_releases(tmp_path)), "v1.0.0", "v1.1.0")
    assert "| direction | previous | current | added | removed | changed | unchanged |" in markdown
    assert "| de-fr | 3 | 3 | +1 | -1 | 1 | 1 |" in markdown
    assert "| fr-de | 1 | 0 | 0 | -1 | 0 | 0 |" in markdown
    assert "| de-es | 0 | 2 | +2 | 0 | 0 | 0 |" in markdown
    assert "| **total** | 4 | 5 | +3 | -2 | 1 | 1 |" in markdown
    assert "- `pairs.min_margin`: `0.05` → `0.1`" in markdown
    assert "v1.0.0 → v1.1.0" in markdown


def test_a_key_on_one_side_only_is_shown_as_absent(tmp_path):
    previous, current = _releases(tmp_path)
    with open(f"{previous}/recipe.yaml", "a", encoding="utf-8") as handle:
        handle.write("retired_option: 3\n")
    log = changelog(previous, current)
    assert {"key": "retired_option", "old": 3} in log["parameters"]
    assert "- `retired_option`: `3` → (absent)" in changelog_markdown(log)


def test_flatten():
    assert flatten({"a": {"b": 1, "c": {"d": [1, 2]}}, "e": None}) == {"a.b": 1, "a.c.d": [1, 2], "e": None}
