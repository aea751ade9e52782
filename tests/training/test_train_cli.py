"""`train reward-model` through argparse, as eax_data/cli.py wires it (register + run)."""

from __future__ import annotations

import argparse

import pytest

from eax_data.training import commands


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eax_data")
    commands.register(parser.add_subparsers(dest="command", required=True))
    return parser


def _run(argv) -> int:
    args = _parser().parse_args(argv)
    assert args.command == "train"
    return commands.run(args)


def test_cli_trains_a_reward_model(pair_folder, tiny_model_dir, tmp_path, monkeypatch, capsys):
    config = tmp_path / "rm.yaml"
    config.write_text("per_device_train_batch_size: 2\ngradient_checkpointing: false\nlogging_steps: 1\n")
    monkeypatch.chdir(tmp_path)
    code = _run(["train", "reward-model", "--dataset", str(pair_folder), "--model", tiny_model_dir,
                 "--config", str(config), "--directions", "en-fr", "--max-steps", "1"])
    assert code == 0
    out = tmp_path / "reward-model-rm-data"  # default output: ./reward-model-<dataset name>
    assert "Reward model: reward-model-rm-data" in capsys.readouterr().out
    card = (out / "README.md").read_text()
    assert "Directions: en-fr" in card and "| loaded | 4 |" in card
    assert "| per_device_train_batch_size | 2 |" in card and "| max_steps | 1 |" in card
    assert (out / "model.safetensors").is_file()


def test_cli_errors_are_one_line_and_exit_2(pair_folder, tiny_model_dir, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("batch_size: 4\n")
    base = ["train", "reward-model", "--model", tiny_model_dir, "--output", str(tmp_path / "o")]
    assert _run([*base, "--dataset", str(pair_folder), "--config", str(bad)]) == 2
    assert "bad.yaml: unknown key 'batch_size'" in capsys.readouterr().err
    (tmp_path / "nodata").mkdir()
    assert _run([*base, "--dataset", str(tmp_path / "nodata")]) == 2
    assert "no training data" in capsys.readouterr().err
    assert _run([*base, "--dataset", "acme/missing", "--store", str(tmp_path / "store")]) == 2
    assert "no release in the local store" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_cli_requires_a_trainer_and_the_data_and_model(capsys):
    with pytest.raises(SystemExit):
        _parser().parse_args(["train"])
    with pytest.raises(SystemExit):
        _parser().parse_args(["train", "reward-model", "--model", "m"])
    assert "--dataset" in capsys.readouterr().err
    args = _parser().parse_args(["train", "reward-model", "--dataset", "acme/x@v1.0.0", "--model", "m", "--hub"])
    assert args.hub and args.train_handler is commands.TRAINERS["reward-model"][1]
    assert commands._default_output(args, "reward-model") == "reward-model-x-v1.0.0"
