"""An in-memory stand-in for the Hub's HTTP API, served through an httpx2 MockTransport.

It answers the calls huggingface_hub 2.4 makes for create_repo, create_commit (validate-yaml, preupload,
NDJSON commit with inline base64 files), create_tag, list_repo_refs, list_repo_tree, repo_info and
file downloads (HEAD + GET /resolve), and records every request for the tests to inspect.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

import httpx2

ENDPOINT = "https://huggingface.co"


@dataclass
class Call:
    method: str
    path: str  # unquoted URL path
    params: dict
    headers: dict
    body: bytes

    @property
    def route(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Repo:
    commits: dict = field(default_factory=dict)  # oid -> {"tree": {path: bytes}, "parent": oid|None, "summary": str}
    branches: dict = field(default_factory=dict)
    tags: dict = field(default_factory=dict)
    private: bool = False


def blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class FakeHub:
    def __init__(self):
        self.repos: dict[str, Repo] = {}
        self.calls: list[Call] = []  # every request, in order

    def client(self) -> httpx2.Client:
        """A factory for ``huggingface_hub.set_client_factory``."""
        return httpx2.Client(transport=httpx2.MockTransport(self.handle), follow_redirects=True)

    # -- bookkeeping -------------------------------------------------------------------------
    def _commit(self, repo: Repo, tree: dict, parent, summary: str) -> str:
        oid = hashlib.sha1(json.dumps([parent, summary, sorted((p, blob_oid(b)) for p, b in tree.items())]).encode()
                           + str(len(repo.commits)).encode()).hexdigest()
        repo.commits[oid] = {"tree": dict(tree), "parent": parent, "summary": summary}
        repo.branches["main"] = oid
        return oid

    def _resolve(self, repo: Repo, rev: str):
        rev = unquote(rev)
        return repo.branches.get(rev) or repo.tags.get(rev) or (rev if rev in repo.commits else None)

    def api_calls(self) -> list[Call]:
        """The calls the release made (without huggingface_hub's own user-agent registry fetch)."""
        return [c for c in self.calls if c.path != "/api/agent-harnesses"]

    def tree(self, repo_id: str, rev: str) -> dict:
        repo = self.repos[repo_id]
        return repo.commits[self._resolve(repo, rev)]["tree"]

    # -- HTTP ------------------------------------------------------------------------------------
    def handle(self, request: httpx2.Request) -> httpx2.Response:
        body = request.read()
        path = unquote(request.url.path)
        call = Call(request.method, path, dict(request.url.params), dict(request.headers), body)
        self.calls.append(call)
        for method, pattern, handler in self.ROUTES:
            match = re.fullmatch(pattern, path)
            if match and method == request.method:
                return handler(self, call, *match.groups())
        return self._error(404, "EntryNotFound", f"no route {call.route}")

    @staticmethod
    def _json(data, status: int = 200, headers=None) -> httpx2.Response:
        return httpx2.Response(status, json=data, headers=headers or {})

    def _error(self, status: int, code: str, message: str) -> httpx2.Response:
        return httpx2.Response(status, json={"error": message}, headers={"X-Error-Code": code, "X-Error-Message": message})

    def _repo(self, org, name):
        return self.repos.get(f"{org}/{name}")

    def create_repo(self, call, *_):
        payload = json.loads(call.body)
        repo_id = f"{payload['organization']}/{payload['name']}"
        assert payload["type"] == "dataset"
        url = f"{ENDPOINT}/datasets/{repo_id}"
        if repo_id in self.repos:  # the Hub's 409 carries the url too (create_repo(exist_ok=True) reads it)
            message = "You already created this dataset repo"
            return httpx2.Response(409, json={"error": message, "url": url}, headers={"X-Error-Message": message})
        repo = self.repos[repo_id] = Repo(private=payload.get("visibility") == "private")
        self._commit(repo, {".gitattributes": b"*.parquet filter=lfs diff=lfs merge=lfs -text\n"}, None, "initial commit")
        return self._json({"url": url, "name": repo_id})

    def refs(self, call, org, name):
        repo = self._repo(org, name)
        if repo is None:
            return self._error(404, "RepoNotFound", "Repository not found")
        ref = lambda kind, n, oid: {"name": n, "ref": f"refs/{kind}/{n}", "targetCommit": oid}  # noqa: E731
        return self._json({"branches": [ref("heads", n, o) for n, o in repo.branches.items()], "converts": [],
                           "tags": [ref("tags", n, o) for n, o in repo.tags.items()]})

    def agent_harnesses(self, call):
        # huggingface_hub's user-agent code fetches this registry once (unauthenticated); nothing to detect
        return self._json({"standardEnvVars": [], "harnesses": {}})

    def validate_yaml(self, call):
        return self._json({"errors": [], "warnings": []})

    def preupload(self, call, org, name, rev):
        files = json.loads(call.body)["files"]
        # every file is a regular git blob: it travels inline (base64) in the commit's NDJSON
        return self._json({"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]})

    def commit(self, call, org, name, rev):
        repo = self._repo(org, name)
        lines = [json.loads(line) for line in call.body.decode().splitlines() if line]
        header = lines[0]["value"]
        head = self._resolve(repo, rev)
        if header.get("parentCommit") and header["parentCommit"] != head:
            return self._error(412, "ParentMismatch", "parent commit is not the head of the branch")
        tree = dict(repo.commits[head]["tree"])
        for item in lines[1:]:
            if item["key"] == "file":
                tree[item["value"]["path"]] = base64.b64decode(item["value"]["content"])
            elif item["key"] == "deletedFile":
                del tree[item["value"]["path"]]
            else:
                raise AssertionError(f"unexpected commit line {item['key']}")
        oid = self._commit(repo, tree, head, header["summary"])
        return self._json({"commitUrl": f"{ENDPOINT}/datasets/{org}/{name}/commit/{oid}", "commitOid": oid,
                           "success": True})

    def tag(self, call, org, name, rev):
        repo = self._repo(org, name)
        tag = json.loads(call.body)["tag"]
        if tag in repo.tags:
            return self._error(409, "TagExists", "tag already exists")
        target = self._resolve(repo, rev)
        if target is None:
            return self._error(404, "RevisionNotFound", "no such revision")
        repo.tags[tag] = target
        return self._json({})

    def revision(self, call, org, name, rev):
        repo = self._repo(org, name)
        oid = self._resolve(repo, rev) if repo else None
        if oid is None:
            return self._error(404, "RevisionNotFound", "no such revision")
        siblings = [{"rfilename": p} for p in sorted(repo.commits[oid]["tree"])]
        return self._json({"id": f"{org}/{name}", "sha": oid, "siblings": siblings, "private": repo.private})

    def list_tree(self, call, org, name, rev):
        repo = self._repo(org, name)
        oid = self._resolve(repo, rev) if repo else None
        if oid is None:
            return self._error(404, "RevisionNotFound", "no such revision")
        entries, folders = [], set()
        for path, data in sorted(repo.commits[oid]["tree"].items()):
            parts = path.split("/")
            folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
            entries.append({"type": "file", "path": path, "size": len(data), "oid": blob_oid(data)})
        entries += [{"type": "directory", "path": f, "size": 0, "oid": "0" * 40} for f in sorted(folders)]
        return self._json(entries)

    def resolve(self, call, org, name, rev, path):
        repo = self._repo(org, name)
        oid = self._resolve(repo, rev) if repo else None
        if oid is None or path not in repo.commits[oid]["tree"]:
            return self._error(404, "EntryNotFound", "no such file")
        data = repo.commits[oid]["tree"][path]
        headers = {"X-Repo-Commit": oid, "ETag": f'"{blob_oid(data)}"', "Content-Length": str(len(data))}
        return httpx2.Response(200, headers=headers, content=b"" if call.method == "HEAD" else data)

    _ID = r"([^/]+)/([^/]+)"
    ROUTES = [
        ("POST", r"/api/repos/create", create_repo),
        ("POST", r"/api/validate-yaml", validate_yaml),
        ("GET", r"/api/agent-harnesses", agent_harnesses),
        ("GET", rf"/api/datasets/{_ID}/refs", refs),
        ("POST", rf"/api/datasets/{_ID}/preupload/([^/]+)", preupload),
        ("POST", rf"/api/datasets/{_ID}/commit/([^/]+)", commit),
        ("POST", rf"/api/datasets/{_ID}/tag/([^/]+)", tag),
        ("GET", rf"/api/datasets/{_ID}/revision/([^/]+)", revision),
        ("GET", rf"/api/datasets/{_ID}/tree/([^/]+)", list_tree),
        ("HEAD", rf"/datasets/{_ID}/resolve/([^/]+)/(.+)", resolve),
        ("GET", rf"/datasets/{_ID}/resolve/([^/]+)/(.+)", resolve),
    ]
