"""CometScorer against a fake worker (this interpreter, character-overlap scores) and the real one.

The real tests need a COMET environment ($EAX_COMET_PYTHON or ~/.cache/eax-data/comet-env) and
build tiny random COMET checkpoints offline; $EAX_COMET_MODEL adds a real trained model.
"""

from __future__ import annotations

import gc
import hashlib
import importlib.util
import json
import math
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import pytest
from loguru import logger

from eax_data.recipe import ScorerConfig
from eax_data.scoring import comet
from eax_data.scoring.base import ScorerError
from eax_data.scoring.comet import CometScorer, setup_command
from eax_data.scoring.factory import make_scorer

FAKE = str(Path(__file__).with_name("fake_comet_worker.py"))
_spec = importlib.util.spec_from_file_location("fake_comet_worker", FAKE)
_fake_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fake_module)
overlap_f1 = _fake_module.overlap_f1

ANCHORS = ["The cat sleeps.", "It rains today.", "We eat bread.", "The sun is hot.", "Books are old."]
CANDIDATES = ["Die Katze schläft.", "Es regnet heute.", "Wir essen Brot.", "Die Sonne ist heiß.", "Bücher sind alt."]
REFERENCES = ["Die Katze schläft.", "Heute regnet es.", "Wir essen Brot", "Die Sonne brennt.", "Die Bücher sind alt."]


@pytest.fixture
def worker_log():
    """Lines the scorer forwarded from the worker's stderr (via loguru)."""
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(m.record["message"]), level="DEBUG", format="{message}")
    yield lines
    logger.remove(sink)


def fake(monkeypatch, mode: str = "", **kwargs) -> CometScorer:
    monkeypatch.setenv("FAKE_COMET_MODE", mode)
    options = {"python": sys.executable, "worker": FAKE, "start_timeout": 30, "request_timeout": 30, **kwargs}
    return CometScorer(**options)


def wait_for(predicate, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def requests_seen(lines: list[str]) -> list[str]:
    return [line.split(": ", 1)[1] for line in lines if "fake comet worker: request" in line]


# -- protocol against the fake worker ---------------------------------------------------------------


def test_reference_based_scores_in_order_across_requests(monkeypatch, worker_log):
    scorer = fake(monkeypatch, request_size=2, batch_size=4, device="cpu")
    try:
        assert scorer.needs == frozenset({"references"}) and scorer.kind == "comet"
        scores = scorer.score(ANCHORS, CANDIDATES, references=REFERENCES)
        assert scores == pytest.approx([overlap_f1(c, r) for c, r in zip(CANDIDATES, REFERENCES)])
        assert scores[0] == 1.0 and len(set(scores)) == 5
        assert wait_for(lambda: len(requests_seen(worker_log)) == 3)
        assert requests_seen(worker_log) == [
            "fake comet worker: request 0 with 2 rows",
            "fake comet worker: request 1 with 2 rows",
            "fake comet worker: request 2 with 1 rows",
        ]
        # the worker got the scorer's settings
        assert scorer.describe()["model"] == "Unbabel/wmt22-comet-da"
        assert scorer._info["batch_size"] == 4 and scorer._info["device"] == "cpu"
    finally:
        scorer.close()


def test_qe_scores_candidate_against_anchor_and_sends_no_reference(monkeypatch):
    scorer = fake(monkeypatch, reference_free=True)
    try:
        assert scorer.needs == frozenset() and scorer.kind == "comet_qe"
        assert scorer.model == "Unbabel/wmt22-cometkiwi-da"
        # references are not sent: the fake worker answers an error to a QE request carrying them
        scores = scorer.score(ANCHORS, CANDIDATES, references=REFERENCES)
        assert scores == pytest.approx([overlap_f1(c, a) for c, a in zip(CANDIDATES, ANCHORS)])
        assert scorer.score(ANCHORS[:2], CANDIDATES[:2]) == scores[:2]
    finally:
        scorer.close()


def test_reference_based_scorer_refuses_rows_without_references(monkeypatch):
    scorer = fake(monkeypatch)
    with pytest.raises(ValueError, match="needs references"):
        scorer.score(ANCHORS, CANDIDATES)
    assert scorer._proc is None and scorer.score([], [], references=[]) == []


def test_repeated_rows_are_scored_once(monkeypatch, worker_log):
    scorer = fake(monkeypatch, request_size=100)
    try:
        anchors = [ANCHORS[0]] * 4 + [ANCHORS[1]] * 2
        candidates = [CANDIDATES[0], CANDIDATES[1], CANDIDATES[0], CANDIDATES[0], CANDIDATES[1], CANDIDATES[1]]
        refs = [REFERENCES[0]] * 4 + [REFERENCES[1]] * 2
        scores = scorer.score(anchors, candidates, references=refs)
        assert scores == pytest.approx([overlap_f1(c, r) for c, r in zip(candidates, refs)])
        assert wait_for(lambda: requests_seen(worker_log))
        assert requests_seen(worker_log) == ["fake comet worker: request 0 with 3 rows"]
    finally:
        scorer.close()


def test_id_starts_the_worker_and_names_model_version_and_hash(monkeypatch, worker_log):
    scorer = fake(monkeypatch)
    try:
        assert scorer._proc is None and "started=False" in repr(scorer)
        assert scorer.id == "comet:Unbabel/wmt22-comet-da@fake-1.0+fa4ec0de"
        assert scorer._proc is not None
        card = scorer.describe()
        assert card["version"] == "fake-1.0" and card["checkpoint_sha256_prefix"] == "fa4ec0de"
        assert card["reference_free"] is False and "ref = target-language reference" in card["inputs"]
        # stderr is forwarded by a reader thread: wait for the line instead of racing it
        assert wait_for(lambda: any("fake comet worker: loading Unbabel/wmt22-comet-da" in line for line in worker_log))
    finally:
        scorer.close()
    local = CometScorer(model="/models/my-comet/checkpoints/model.ckpt")
    local._info = {"comet_version": "2.2.7", "checkpoint_sha256": "0123abcd"}
    assert local.id == "comet:local:my-comet@2.2.7+0123abcd"


def test_factory_builds_comet_and_comet_qe_without_starting():
    ref = make_scorer(ScorerConfig(kind="comet", python="/env/bin/python", batch_size=8, device="cpu"))
    qe = make_scorer(ScorerConfig(kind="comet_qe", model="Unbabel/wmt23-cometkiwi-da-xl"))
    assert isinstance(ref, CometScorer) and isinstance(qe, CometScorer)
    assert (ref.reference_free, ref.python, ref.batch_size, ref.device, ref.model) == (False, "/env/bin/python", 8, "cpu", "Unbabel/wmt22-comet-da")
    assert (qe.reference_free, qe.model, qe.kind) == (True, "Unbabel/wmt23-cometkiwi-da-xl", "comet_qe")
    assert ref._proc is None and qe._proc is None


def test_close_ends_the_worker_and_a_later_call_starts_a_new_one(monkeypatch):
    scorer = fake(monkeypatch)
    scorer.score(ANCHORS[:1], CANDIDATES[:1], references=REFERENCES[:1])
    first = scorer._proc.proc
    scorer.close()
    assert first.returncode == 0  # it saw EOF on stdin and exited by itself
    assert scorer._proc is None
    scorer.close()  # idempotent
    assert scorer.score(ANCHORS[:1], CANDIDATES[:1], references=REFERENCES[:1]) == [1.0]
    second = scorer._proc.proc
    assert second.pid != first.pid
    del scorer  # dropping the scorer without close() stops its worker too
    gc.collect()
    assert wait_for(lambda: second.poll() is not None)


def test_pickle_drops_the_process_and_keeps_the_identity(monkeypatch):
    scorer = fake(monkeypatch)
    fresh = pickle.loads(pickle.dumps(scorer))
    assert fresh._proc is None and fresh._info is None
    try:
        scorer_id = scorer.id
        copy = pickle.loads(pickle.dumps(scorer))
        assert copy._proc is None and copy.id == scorer_id and copy._proc is None  # known without a worker
        assert copy.score(ANCHORS[:2], CANDIDATES[:2], references=REFERENCES[:2]) == scorer.score(
            ANCHORS[:2], CANDIDATES[:2], references=REFERENCES[:2]
        )
        assert copy._proc.proc.pid != scorer._proc.proc.pid
        copy.close()
        # a copy whose worker loads other weights must not score under the old id
        monkeypatch.setenv("FAKE_COMET_SHA", "0badbeef")
        other = pickle.loads(pickle.dumps(scorer))
        with pytest.raises(ScorerError, match=r"model changed.*fa4ec0de -> .*0badbeef"):
            other.score(ANCHORS[:1], CANDIDATES[:1], references=REFERENCES[:1])
        other.close()
    finally:
        scorer.close()


# -- failures ------------------------------------------------------------------------------------


def test_missing_python_prints_the_setup_command(monkeypatch, tmp_path):
    with pytest.raises(ScorerError) as err:
        CometScorer(python=str(tmp_path / "nowhere/bin/python")).score(["a"], ["b"], references=["c"])
    assert setup_command() in str(err.value) and "scorer.python" in str(err.value)
    monkeypatch.setenv("EAX_COMET_PYTHON", str(tmp_path / "env/bin/python"))
    with pytest.raises(ScorerError, match=r"\$EAX_COMET_PYTHON"):
        CometScorer().id
    monkeypatch.delenv("EAX_COMET_PYTHON")
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(ScorerError) as err:
        CometScorer(reference_free=True).id
    assert str(tmp_path / ".cache/eax-data/comet-env/bin/python") in str(err.value)
    assert "python3 -m venv ~/.cache/eax-data/comet-env && ~/.cache/eax-data/comet-env/bin/pip install torch==" in str(err.value)


@pytest.mark.parametrize(
    "mode, expected",
    [("handshake_fail", ["is not in the cache", "fake comet worker: checkpoint not found"]), ("import_fail", ["No module named 'comet'", setup_command()])],
)
def test_handshake_failure_reports_error_and_stderr(monkeypatch, mode, expected):
    scorer = fake(monkeypatch, mode)
    with pytest.raises(ScorerError, match="the worker could not start") as err:
        scorer.id
    assert all(text in str(err.value) for text in [sys.executable, *expected]), str(err.value)
    assert scorer._proc is None


def test_error_reply_raises_and_the_worker_stays_usable(monkeypatch):
    scorer = fake(monkeypatch, "error:0")
    try:
        with pytest.raises(ScorerError, match=r"request 0 \(2 rows\) failed in the worker: RuntimeError: simulated failure"):
            scorer.score(ANCHORS[:2], CANDIDATES[:2], references=REFERENCES[:2])
        pid = scorer._proc.proc.pid
        assert scorer.score(ANCHORS[:2], CANDIDATES[:2], references=REFERENCES[:2])[0] == 1.0
        assert scorer._proc.proc.pid == pid
    finally:
        scorer.close()


def test_worker_dying_mid_request_raises_with_its_stderr_and_is_not_restarted(monkeypatch):
    scorer = fake(monkeypatch, "die:1", request_size=2)
    with pytest.raises(ScorerError) as err:
        scorer.score(ANCHORS, CANDIDATES, references=REFERENCES)
    message = str(err.value)
    assert "exit code 3" in message and "request 1 (2 rows)" in message
    assert "fake comet worker: dying on request 1" in message
    with pytest.raises(ScorerError, match="failed earlier .*call close"):
        scorer.score(ANCHORS[:1], CANDIDATES[:1], references=REFERENCES[:1])
    scorer.close()
    monkeypatch.setenv("FAKE_COMET_MODE", "")
    assert scorer.score(ANCHORS[:1], CANDIDATES[:1], references=REFERENCES[:1]) == [1.0]
    scorer.close()


@pytest.mark.parametrize(
    "mode, message",
    [
        ("wrong_length:0", r"request 0: 1 scores for 2 rows"),
        ("wrong_id:0", r"reply for request 1 while waiting for 0"),
        ("noise:0", r"not protocol JSON: 'Lightning banner printed to stdout'"),
    ],
)
def test_protocol_violations_stop_the_worker(monkeypatch, mode, message):
    scorer = fake(monkeypatch, mode)
    scorer.id
    proc = scorer._proc.proc
    with pytest.raises(ScorerError, match=message):
        scorer.score(ANCHORS[:2], CANDIDATES[:2], references=REFERENCES[:2])
    assert proc.poll() is not None and scorer._proc is None


def test_hanging_worker_times_out_and_is_killed(monkeypatch):
    scorer = fake(monkeypatch, "hang:0", request_timeout=1.0)
    scorer.id
    proc = scorer._proc.proc
    started = time.monotonic()
    with pytest.raises(ScorerError, match=r"no answer to request 0 \(1 rows\) within 1 s"):
        scorer.score(ANCHORS[:1], CANDIDATES[:1], references=REFERENCES[:1])
    assert time.monotonic() - started < 10 and proc.poll() is not None


def test_silent_start_times_out(monkeypatch):
    scorer = fake(monkeypatch, "slow_start", start_timeout=1.0)
    with pytest.raises(ScorerError, match=r"no answer to the handshake .* within 1 s"):
        scorer.id
    scorer.close()


# -- the real worker in a COMET environment (skipped without one) ----------------------------------


def comet_python() -> str:
    python = os.environ.get("EAX_COMET_PYTHON") or os.path.expanduser(f"{comet.DEFAULT_ENV}/bin/python")
    if not os.access(python, os.X_OK):
        pytest.skip(f"no COMET environment ({python}); set EAX_COMET_PYTHON or create it with: {setup_command()}")
    return python


TINY_CHECKPOINT = r'''
"""Build tiny random COMET checkpoints offline (2-layer XLM-R, a tokenizer trained here) and score with comet itself."""
import json
import sys
from pathlib import Path

import pytorch_lightning as pl
import torch
import yaml
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import XLMRobertaConfig, XLMRobertaTokenizerFast

from comet import load_from_checkpoint
from comet.models import RegressionMetric, UnifiedMetric

root = Path(sys.argv[1])
rows = json.loads(sys.argv[2])
encoder = root / "encoder"
corpus = ["The cat sleeps.", "It rains today.", "Die Katze schläft.", "Es regnet heute.", "Wir essen Brot."]
tok = Tokenizer(models.Unigram())
tok.pre_tokenizer, tok.decoder = pre_tokenizers.Metaspace(), decoders.Metaspace()
specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
tok.train_from_iterator(corpus * 20, trainers.UnigramTrainer(vocab_size=100, special_tokens=specials, unk_token="<unk>"))
tok.post_processor = processors.RobertaProcessing(("</s>", tok.token_to_id("</s>")), ("<s>", tok.token_to_id("<s>")))
tokenizer = XLMRobertaTokenizerFast(tokenizer_object=tok)
tokenizer.save_pretrained(encoder)
XLMRobertaConfig(
    vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
    max_position_embeddings=130, pad_token_id=1, bos_token_id=0, eos_token_id=2,
).save_pretrained(encoder)
common = dict(pretrained_model=str(encoder), load_pretrained_weights=False, local_files_only=True, hidden_sizes=[16], nr_frozen_epochs=0.0)
expected = {}
for kind in ("regression", "unified"):
    torch.manual_seed(0)
    if kind == "regression":
        model = RegressionMetric(**common)
    else:  # CometKiwi's layout: a unified metric reading mt and src only
        model = UnifiedMetric(input_segments=["mt", "src"], **common)
    hparams = dict(model.hparams)
    (root / kind / "checkpoints").mkdir(parents=True)
    checkpoint = root / kind / "checkpoints" / "model.ckpt"
    torch.save({"state_dict": model.state_dict(), "hyper_parameters": hparams, "pytorch-lightning_version": pl.__version__}, checkpoint)
    (root / kind / "hparams.yaml").write_text(yaml.safe_dump(hparams))
    samples = [{"src": a, "mt": c, "ref": r} if kind == "regression" else {"src": a, "mt": c} for a, c, r in rows]
    loaded = load_from_checkpoint(str(checkpoint), local_files_only=True)
    expected[kind] = loaded.predict(samples, batch_size=2, gpus=0, progress_bar=False).scores
(root / "expected.json").write_text(json.dumps(expected))
'''


@pytest.fixture(scope="module")
def tiny_checkpoints(tmp_path_factory) -> dict:
    """Checkpoint paths of a reference-based and a QE tiny model, and comet's own scores of the test rows."""
    python = comet_python()
    root = tmp_path_factory.mktemp("tiny-comet")
    script = root / "build.py"
    script.write_text(TINY_CHECKPOINT)
    rows = json.dumps(list(zip(ANCHORS, CANDIDATES, REFERENCES)))
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    done = subprocess.run([python, str(script), str(root), rows], capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    paths = {kind: str(root / kind / "checkpoints" / "model.ckpt") for kind in ("regression", "unified")}
    return {**paths, "expected": json.loads((root / "expected.json").read_text())}


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def real(**kwargs) -> CometScorer:
    return CometScorer(python=comet_python(), device="cpu", batch_size=2, start_timeout=300, request_timeout=300, **kwargs)


def test_real_worker_reports_a_checkpoint_missing_offline(offline):
    scorer = real(model="Unbabel/eax-data-no-such-model")
    with pytest.raises(ScorerError, match=r"not in the Hugging Face cache .* HF_HUB_OFFLINE is set"):
        scorer.id


def test_real_reference_based_scores(tiny_checkpoints, offline):
    path = tiny_checkpoints["regression"]
    scorer = real(model=path, request_size=3)
    try:
        sha = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:8]
        assert scorer.id == f"comet:local:regression@2.2.7+{sha}"
        assert scorer.describe()["model_class"] == "RegressionMetric"
        scores = scorer.score(ANCHORS, CANDIDATES, references=REFERENCES)
        # comet's own model.predict on the same rows: src = anchor, mt = candidate, ref = reference
        assert scores == pytest.approx(tiny_checkpoints["expected"]["regression"], abs=1e-5)
        assert all(math.isfinite(s) for s in scores) and len(set(scores)) == 5
        order = [3, 0, 4, 1, 2]  # other batches, other request splits: same score per row
        shuffled = scorer.score([ANCHORS[i] for i in order], [CANDIDATES[i] for i in order], references=[REFERENCES[i] for i in order])
        assert shuffled == pytest.approx([scores[i] for i in order], abs=1e-5)
        other_ref = scorer.score(ANCHORS[:1], CANDIDATES[:1], references=["Wir essen Brot."])
        assert other_ref[0] != pytest.approx(scores[0], abs=1e-6)
    finally:
        scorer.close()


def test_real_reference_free_scores(tiny_checkpoints, offline):
    scorer = real(model=tiny_checkpoints["unified"], reference_free=True)
    try:
        assert scorer.describe()["model_class"] == "UnifiedMetric"
        scores = scorer.score(ANCHORS, CANDIDATES)
        assert scores == pytest.approx(tiny_checkpoints["expected"]["unified"], abs=1e-5)
        assert scorer.score(ANCHORS, CANDIDATES, references=REFERENCES) == scores  # QE: references unused
        assert len(set(scores)) == 5
    finally:
        scorer.close()


def test_real_worker_refuses_a_model_that_does_not_match_the_kind(tiny_checkpoints, offline):
    with pytest.raises(ScorerError, match="needs references; use scorer kind 'comet'"):
        real(model=tiny_checkpoints["regression"], reference_free=True).id
    with pytest.raises(ScorerError, match="reads no reference; use scorer kind 'comet_qe'"):
        real(model=tiny_checkpoints["unified"]).id


def test_real_model_prefers_the_right_translation():
    model = os.environ.get("EAX_COMET_MODEL")
    if not model:
        pytest.skip("EAX_COMET_MODEL not set (a cached Hub name such as Unbabel/wmt22-comet-da, or a .ckpt path)")
    scorer = real(model=model, reference_free="kiwi" in model.lower())
    try:
        anchors = ["The weather is very nice today, so we are going for a walk in the park."] * 2
        candidates = ["Das Wetter ist heute sehr schön, deshalb gehen wir im Park spazieren.", "Ich habe gestern ein Auto gekauft."]
        refs = ["Heute ist das Wetter sehr schön, also gehen wir im Park spazieren."] * 2
        good, bad = scorer.score(anchors, candidates, references=refs)
        assert good > bad
    finally:
        scorer.close()
