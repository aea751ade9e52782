"""The card's plots: written from data/, small, and byte-identical for the same data."""

import os
import shutil

import matplotlib
from card_folders import make_folder, scored_rows

from eax_data.cards.plots import MARGIN_HIST, PLOT_FILES, SCORE_HIST, write_plots

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _bytes(folder):
    return {name: open(os.path.join(folder, name), "rb").read() for name in PLOT_FILES}


def test_write_plots_writes_two_small_pngs(demo_folder):
    assert write_plots(demo_folder) == [SCORE_HIST, MARGIN_HIST]
    for name, content in _bytes(demo_folder).items():
        assert content.startswith(PNG_MAGIC), name
        assert 5_000 < len(content) < 100_000, (name, len(content))
        assert b"Software" not in content and b"matplotlib" not in content.lower()


def test_same_data_gives_byte_identical_plots(demo_folder, tmp_path):
    write_plots(demo_folder)
    first = _bytes(demo_folder)
    write_plots(demo_folder)
    assert _bytes(demo_folder) == first
    copy = str(tmp_path / "copy")
    shutil.copytree(demo_folder, copy, ignore=shutil.ignore_patterns("assets"))
    with matplotlib.rc_context({"axes.facecolor": "yellow", "lines.linewidth": 7, "figure.dpi": 300}):
        write_plots(copy)  # a local matplotlibrc changes nothing
    assert _bytes(copy) == first


def test_other_data_gives_other_plots(demo_folder, tmp_path):
    write_plots(demo_folder)
    other = make_folder(tmp_path / "other", {"de-fr": scored_rows("de-fr", 3)})
    write_plots(other)
    assert _bytes(other)[SCORE_HIST] != _bytes(demo_folder)[SCORE_HIST]


def test_no_pairs_no_plots_and_stale_plots_are_removed(demo_folder, tmp_path):
    write_plots(demo_folder)
    shutil.rmtree(os.path.join(demo_folder, "data"))
    assert write_plots(demo_folder) == []
    assert not any(os.path.exists(os.path.join(demo_folder, name)) for name in PLOT_FILES)
    empty = make_folder(tmp_path / "empty", {"de-fr": []})
    assert write_plots(empty) == []
    assert not os.path.exists(os.path.join(empty, "assets"))
