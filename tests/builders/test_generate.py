import json
import os

import httpx
import pytest
from datatrove.data import Document

from eax_data.builders.generate import CheckpointMismatchError, GenerateCandidates
from eax_data.generation.base import GenerationError, make_backend, task_seed
from eax_data.generation.endpoint import EndpointBackend
from eax_data.recipe import GeneratorConfig, PromptConfig, SamplingConfig
from eax_data.schema import CANDIDATE_INDEX, FINISH_REASON, GENERATOR, SRC_TEXT, TASK_ID

SAMPLING = SamplingConfig(n=3, temperature=1.0, top_p=1.0, max_new_tokens=6, seed=7)


def _tasks(count=5):
    return [
        Document(
            text=f"Das ist Satz Nummer {i}.",
            id=f"de-fr-{i:04d}",
            metadata={"src_lang": "de", "trg_lang": "fr", "ref_lang": "en", "ref_text": f"This is sentence number {i}.", "source_id": f"t:{i}"},
        )
        for i in range(count)
    ]


def _step(model_dir, checkpoints, fingerprint="fp-1", chunk_size=2, sampling=SAMPLING):
    config = GeneratorConfig(backend="transformers", model=model_dir, batch_size=3)
    return GenerateCandidates(
        backend_factory=lambda: make_backend(config),
        sampling=sampling,
        prompt_template=PromptConfig().generation,
        checkpoint_dir=str(checkpoints),
        fingerprint=fingerprint,
        chunk_size=chunk_size,
    )


def _rows(docs):
    return [(d.id, d.text, d.metadata[FINISH_REASON]) for d in docs]


def test_n_candidates_per_task_with_fields(tiny_model_dir, tmp_path):
    docs = list(_step(tiny_model_dir, tmp_path / "ck").run(_tasks(3)))
    assert len(docs) == 9
    assert [d.metadata[CANDIDATE_INDEX] for d in docs[:3]] == [0, 1, 2]
    first = docs[0].metadata
    assert first[TASK_ID] == "de-fr-0000" and first[SRC_TEXT] == "Das ist Satz Nummer 0."
    assert first[FINISH_REASON] in ("stop", "length")
    assert first[GENERATOR].startswith(tiny_model_dir) and "@folder:" in first[GENERATOR]
    assert all("\n" not in d.text for d in docs)


def test_same_seed_same_candidates_and_other_seed_differs(tiny_model_dir, tmp_path):
    a = _rows(_step(tiny_model_dir, tmp_path / "a").run(_tasks()))
    b = _rows(_step(tiny_model_dir, tmp_path / "b").run(_tasks()))
    assert a == b
    other = SamplingConfig(n=3, temperature=1.0, top_p=1.0, max_new_tokens=6, seed=8)
    c = _rows(_step(tiny_model_dir, tmp_path / "c", sampling=other).run(_tasks()))
    assert c != a


def test_resume_after_interruption_gives_the_same_rows(tiny_model_dir, tmp_path):
    reference = _rows(_step(tiny_model_dir, tmp_path / "full").run(_tasks()))

    interrupted = _step(tiny_model_dir, tmp_path / "resumed").run(_tasks())
    for _ in range(6):  # the first chunk (2 tasks x 3 samples) is complete and checkpointed
        next(interrupted)
    interrupted.close()  # the build is killed here
    assert sorted(os.listdir(tmp_path / "resumed" / "00000")) == ["FINGERPRINT", "chunk-000000.jsonl"]

    step = _step(tiny_model_dir, tmp_path / "resumed")
    resumed = _rows(step.run(_tasks()))
    assert resumed == reference
    assert step.stats["resumed_tasks"].total == 2
    assert step.stats["generated_tasks"].total == 3


def test_checkpoint_chunks_are_complete_jsonl(tiny_model_dir, tmp_path):
    list(_step(tiny_model_dir, tmp_path).run(_tasks(3)))
    chunks = sorted(p for p in os.listdir(tmp_path / "00000") if p.startswith("chunk-"))
    assert chunks == ["chunk-000000.jsonl", "chunk-000001.jsonl"]
    with open(tmp_path / "00000" / chunks[1]) as handle:
        rows = [json.loads(line) for line in handle]
    assert len(rows) == 3 and rows[0]["metadata"][TASK_ID] == "de-fr-0002"


def test_checkpoints_of_another_setup_are_refused(tiny_model_dir, tmp_path):
    list(_step(tiny_model_dir, tmp_path, fingerprint="fp-1").run(_tasks(1)))
    with pytest.raises(CheckpointMismatchError, match="different generator"):
        list(_step(tiny_model_dir, tmp_path, fingerprint="fp-2").run(_tasks(1)))


def test_unreadable_model_path_names_the_path(tmp_path):
    missing = str(tmp_path / "no-such-model")
    with pytest.raises(GenerationError, match="no-such-model"):
        make_backend(GeneratorConfig(model=missing))


def test_task_seed_is_stable_and_task_specific():
    assert task_seed(0, "de-fr-1") == task_seed(0, "de-fr-1")
    assert task_seed(0, "de-fr-1") != task_seed(0, "de-fr-2")
    assert task_seed(0, "de-fr-1") != task_seed(1, "de-fr-1")


def test_endpoint_sends_one_seeded_request_per_sample_with_the_key_from_env(monkeypatch):
    seen = []

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append((request.url.path, request.headers.get("authorization"), body))
        text = f"réponse {body['seed']}\nligne deux"
        return httpx.Response(200, json={"choices": [{"message": {"content": text}, "finish_reason": "stop"}]})

    monkeypatch.setenv("EAX_TEST_KEY", "sk-secret")
    config = GeneratorConfig(backend="endpoint", model="served-model", endpoint_url="http://127.0.0.1:9/", api_key_env="EAX_TEST_KEY", batch_size=2)
    backend = EndpointBackend(config, transport=httpx.MockTransport(answer))
    out = backend.generate(["traduire ceci", "et cela"], SamplingConfig(n=2, max_new_tokens=5), seeds=[10, 20])
    assert [[c.text for c in samples] for samples in out] == [["réponse 10\nligne deux", "réponse 11\nligne deux"], ["réponse 20\nligne deux", "réponse 21\nligne deux"]]
    assert len(seen) == 4
    assert {path for path, _, _ in seen} == {"/v1/chat/completions"}
    assert {auth for _, auth, _ in seen} == {"Bearer sk-secret"}
    assert all(body["max_tokens"] == 5 and body["messages"][0]["role"] == "user" for _, _, body in seen)
    assert "sk-secret" not in backend.id


def test_endpoint_missing_key_env_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("EAX_MISSING_KEY", raising=False)
    config = GeneratorConfig(backend="endpoint", endpoint_url="http://127.0.0.1:9", api_key_env="EAX_MISSING_KEY")
    with pytest.raises(GenerationError, match="EAX_MISSING_KEY"):
        EndpointBackend(config)


def test_each_prompt_is_prefilled_once_and_its_cache_shared_by_the_n_samples(tiny_model_dir):
    backend = make_backend(GeneratorConfig(backend="transformers", model=tiny_model_dir, batch_size=4))
    seen = []
    forward = backend.model.forward

    def recording_forward(*args, **kwargs):
        seen.append(tuple(kwargs["input_ids"].shape))
        return forward(*args, **kwargs)

    backend.model.forward = recording_forward
    prompts = ["Translate: eins", "Translate: zwei zwei"]
    out = backend.generate(prompts, SamplingConfig(n=3, max_new_tokens=4), seeds=[1, 2])
    assert [len(samples) for samples in out] == [3, 3]
    prefill, first_step = seen[0], seen[1]
    assert prefill[0] == 2 and prefill[1] > 4  # two prompts, prefilled once each (not 2 x 3 copies)
    assert first_step == (6, 1)  # generation starts from the cached prompt: one new token per sample
