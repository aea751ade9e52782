"""Publish to / pull from the Hub through huggingface_hub, answered by an in-memory fake over httpx2.

Checks the exact HTTP calls (repo creation, ONE commit with every file, the tag at that commit's oid),
byte-identical pulls, and that the token travels only in the Authorization header.
"""

from __future__ import annotations

import json
import logging
import shutil

import pytest
from fake_hub import ENDPOINT, FakeHub
from release_folders import files, write_direction

from eax_data.release import ReleaseError, load, publish, pull

TOKEN = "hf_testsecret0123456789abcdefXYZ"
REPO = "acme/eax-test"


@pytest.fixture
def hub(monkeypatch, tmp_path):
    import huggingface_hub
    from huggingface_hub import constants
    from huggingface_hub.utils import _http

    fake = FakeHub()
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", ENDPOINT)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-hub-cache"))
    monkeypatch.setattr(constants, "AGENT_HARNESSES_PATH", str(tmp_path / "hf-home" / ".agent_harnesses.json"))
    previous = _http._GLOBAL_CLIENT_FACTORY

    def factory():  # like huggingface_hub's default client (its request hook included), over the fake
        client = fake.client()
        client.event_hooks["request"] = [_http.hf_request_event_hook]
        return client

    huggingface_hub.set_client_factory(factory)
    yield fake
    huggingface_hub.set_client_factory(previous)


@pytest.fixture
def logs(caplog):
    """Everything logged through loguru and `logging` (DEBUG and up) while the test runs."""
    from loguru import logger

    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="huggingface_hub")
    caplog.set_level(logging.WARNING, logger="matplotlib")
    lines: list[str] = []
    sink = logger.add(lambda message: lines.append(str(message)), level="DEBUG")
    yield lambda: lines + [r.getMessage() for r in caplog.records] + [caplog.text]
    logger.remove(sink)


def routes(calls) -> list[str]:
    return [c.route for c in calls]


def commit_lines(call) -> list[dict]:
    return [json.loads(line) for line in call.body.decode().splitlines()]


def test_publish_and_pull_through_the_hub(build, tmp_path, hub, logs, capsys):
    api = f"/api/datasets/{REPO}"
    first = publish(build, REPO, "1.0.0", hub=True, private=True)
    assert (first.target, first.tag, first.no_op) == ("hub", "v1.0.0", False)
    initial = hub.repos[REPO].commits[first.commit]["parent"]
    assert routes(hub.api_calls()) == [
        f"GET {api}/refs",  # no repo yet: 404 -> no releases
        "POST /api/repos/create",
        f"GET {api}/refs",  # head of main, the new commit's parent
        f"GET {api}/tree/{initial}",  # files of main, to delete what is gone
        "POST /api/validate-yaml",  # huggingface_hub checks README.md's metadata first
        f"POST {api}/preupload/main",
        f"POST {api}/commit/main",
        f"POST {api}/tag/{first.commit}",
    ]
    calls = hub.api_calls()
    create = json.loads(calls[1].body)
    assert create == {"name": "eax-test", "organization": "acme", "visibility": "private", "type": "dataset"}
    lines = commit_lines(calls[6])
    assert lines[0] == {"key": "header", "value": {"summary": f"Release {REPO} v1.0.0", "description": "",
                                                   "parentCommit": initial}}
    staged = hub.tree(REPO, "v1.0.0")
    assert sorted(line["value"]["path"] for line in lines[1:]) == sorted(p for p in staged if p != ".gitattributes")
    assert {line["key"] for line in lines[1:]} == {"file"}  # ONE commit carrying every file, inline
    assert json.loads(calls[7].body) == {"tag": "v1.0.0"}
    assert hub.repos[REPO].tags == {"v1.0.0": first.commit}
    v1_data = {k: v for k, v in files(build).items() if k.startswith(("data/", "candidates/", "excluded/"))}
    assert {k: v for k, v in staged.items() if k in v1_data} == v1_data
    assert not any(p.startswith(("tasks/", "logs/", "checkpoints/")) for p in staged)

    # v1.1.0: de-fr grows, fr-de disappears (a deletion), de-zh appears
    v1_build = shutil.copytree(build, tmp_path / "v1-build")
    write_direction(build, "de-fr", range(5))
    shutil.rmtree(build / "data" / "fr-de")
    write_direction(build, "de-zh", range(2))
    mark = len(hub.calls)
    second = publish(build, REPO, "1.1.0", hub=True)
    calls = hub.calls[mark:]
    commits = [c for c in calls if c.route.endswith("/commit/main")]
    assert len(commits) == 1 and routes(calls).count("POST /api/repos/create") == 1  # 409: exists, fine
    # the previous release is fetched for the card's changelog: only what the card reads
    downloads = [c.path.split("/resolve/")[1].split("/", 1)[1] for c in calls if c.method == "GET" and "/resolve/" in c.path]
    assert downloads and all(p.startswith("data/") or p in ("README.md", "recipe.yaml", "stats.json") for p in downloads)
    lines = commit_lines(commits[0])
    assert lines[0]["value"]["parentCommit"] == first.commit
    assert [l["value"]["path"] for l in lines if l["key"] == "deletedFile"] == ["data/fr-de/000_train-00000.parquet"]
    assert routes(calls)[-1] == f"POST {api}/tag/{second.commit}"
    assert hub.repos[REPO].tags == {"v1.0.0": first.commit, "v1.1.0": second.commit}

    # republishing v1.0.0 unchanged: a no-op (no commit, no tag); changed: refused; going back: refused
    mark = len(hub.calls)
    with pytest.raises(ReleaseError, match="already published .* different content"):
        publish(build, REPO, "1.0.0", hub=True)
    with pytest.raises(ReleaseError, match="not greater"):
        publish(build, REPO, "0.9.0", hub=True)
    same = publish(build, REPO, "1.1.0", hub=True)
    assert same.no_op and same.commit == second.commit
    old = publish(v1_build, REPO, "1.0.0", hub=True)
    assert old.no_op and old.commit == first.commit
    assert not [c for c in hub.calls[mark:] if c.method == "POST"]
    assert hub.repos[REPO].tags == {"v1.0.0": first.commit, "v1.1.0": second.commit}

    # pulls are byte-identical to the tagged trees
    out1 = pull(f"{REPO}@v1.0.0", tmp_path / "p1", hub=True)
    out2 = pull(REPO, tmp_path / "p2", hub=True)
    assert files(out1) == hub.tree(REPO, "v1.0.0") and files(out2) == hub.tree(REPO, "v1.1.0")
    import datasets

    assert datasets.load_dataset(out2, "de-fr")["train"].num_rows == 5
    assert load(f"{REPO}@v1.0.0", "fr-de", hub=True)["train"].num_rows == 2

    # the token: in the Authorization header of every request, nowhere else
    assert len(hub.api_calls()) > 40
    for call in hub.calls:
        if call.path == "/api/agent-harnesses":  # huggingface_hub's own registry fetch: sent without auth
            assert "authorization" not in call.headers
            continue
        assert call.headers.get("authorization") == f"Bearer {TOKEN}"
        others = {k: v for k, v in call.headers.items() if k != "authorization"}
        assert TOKEN not in json.dumps(others) and TOKEN.encode() not in call.body and TOKEN not in str(call.params)
    for blob in (b for c in hub.repos[REPO].commits.values() for b in c["tree"].values()):
        assert TOKEN.encode() not in blob  # nothing published (card included) carries it
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written and not [p for p in written if TOKEN.encode() in p.read_bytes()]
    captured = capsys.readouterr()
    assert TOKEN not in captured.out + captured.err
    assert logs() and not [line for line in logs() if TOKEN in line]
