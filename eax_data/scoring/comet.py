"""COMET EAxE scorers (``comet``: reference-based, ``comet_qe``: reference-free) via a worker process.

unbabel-comet 2.2.7 pins transformers<5, huggingface-hub<1 and numpy<2, so it cannot be imported
next to datatrove/transformers 5. It lives in its own virtual environment, and ``CometScorer`` runs
``comet_worker.py`` with that environment's python, talking JSON lines over stdin/stdout (see the
worker's docstring and docs/comet.md).

EAxE inputs: ``src`` is the English anchor (``anchors``), ``mt`` the candidate; reference-based
COMET also reads ``ref`` (``references``: a pivot or human translation into the target language).

The worker starts on first use, and so does ``id``: the id carries the comet version and the
checkpoint hash that only the loaded worker knows. A worker that dies, hangs, or breaks the
protocol is never restarted behind the caller's back: that call and every later one raise
``ScorerError`` (with the worker's last stderr lines) until ``close()``.
"""

from __future__ import annotations

import collections
import json
import math
import os
import queue
import shutil
import subprocess
import threading
import weakref
from pathlib import Path

from loguru import logger

from eax_data.scoring.base import Scorer, ScorerError

COMET_VERSION = "2.2.7"
TORCH_VERSION = "2.13.0"
DEFAULT_ENV = "~/.cache/eax-data/comet-env"
DEFAULT_MODELS = {False: "Unbabel/wmt22-comet-da", True: "Unbabel/wmt22-cometkiwi-da"}
WORKER = str(Path(__file__).with_name("comet_worker.py"))
_STDERR_TAIL = 40


def setup_command(env: str = DEFAULT_ENV) -> str:
    """The one shell command that creates a COMET environment (setuptools<81: torchmetrics 0.10 needs pkg_resources)."""
    return (
        f'python3 -m venv {env} && {env}/bin/pip install torch=={TORCH_VERSION} "setuptools<81" '
        f"unbabel-comet=={COMET_VERSION}"
    )


def _label(model: str) -> str:
    """Model name for the id: a Hub name as is, a local checkpoint by its model folder's name."""
    path = Path(model).expanduser()
    if not (path.exists() or model.endswith(".ckpt") or model.startswith(("/", "./", "../", "~"))):
        return model
    folder = path.parents[1] if path.suffix == ".ckpt" and len(path.parents) > 1 else path
    return f"local:{folder.name or path.name}"


def _stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """End a worker: EOF on stdin (it exits after the current request), then terminate, then kill."""
    if proc.poll() is None:
        try:
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        try:
            stream.close()
        except (OSError, ValueError):
            pass


def _pump_replies(stream, replies: queue.Queue) -> None:
    for line in stream:
        replies.put(line)
    replies.put(None)  # end of output: the worker exited or closed stdout


def _pump_stderr(stream, tail: collections.deque, pid: int) -> None:
    for line in stream:
        line = line.rstrip("\n")
        tail.append(line)
        logger.debug("comet worker {}: {}", pid, line)


class _Worker:
    """One running worker process: reply queue fed by a stdout thread, stderr forwarded to loguru.

    The threads hold the pipes, not this object, so dropping the scorer collects it and the
    finalizer stops the process (it also runs at interpreter exit).
    """

    def __init__(self, cmd: list[str]):
        env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8")
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8", bufsize=1, env=env
        )
        self.pid = os.getpid()  # the process that owns the pipes (a fork must not share them)
        self.replies: queue.Queue = queue.Queue()
        self.tail: collections.deque[str] = collections.deque(maxlen=_STDERR_TAIL)
        pid = self.proc.pid
        self.threads = [
            threading.Thread(target=_pump_replies, args=(self.proc.stdout, self.replies), name=f"comet-{pid}-out", daemon=True),
            threading.Thread(target=_pump_stderr, args=(self.proc.stderr, self.tail, pid), name=f"comet-{pid}-err", daemon=True),
        ]
        for thread in self.threads:
            thread.start()
        self.finalizer = weakref.finalize(self, _stop, self.proc)

    def stderr_tail(self, wait: float = 0.0) -> str:
        if wait:
            self.threads[1].join(wait)
        lines = [line for line in self.tail if line.strip()]
        return "\n  ".join(["", "worker stderr (last lines):", *lines[-15:]]) if lines else ""

    def stop(self) -> None:
        self.finalizer()
        for thread in self.threads:
            thread.join(2)


class CometScorer(Scorer):
    """COMET score of each candidate; ``src`` = English anchor, ``ref`` = reference (not with QE)."""

    kind = "comet"

    def __init__(
        self,
        model: str | None = None,
        reference_free: bool = False,
        batch_size: int = 16,
        device: str = "auto",
        python: str | None = None,
        *,
        request_size: int | None = None,
        start_timeout: float = 900.0,
        request_timeout: float | None = None,
        worker: str | None = None,
    ):
        """``model``: Hub name or local .ckpt (default COMET-22 DA, or CometKiwi-22 when ``reference_free``).

        ``python``: the COMET environment's interpreter, else $EAX_COMET_PYTHON, else the default env.
        ``request_size`` rows go to the worker per request (default 16 batches), each answered within
        ``request_timeout`` s (default 300 s + 2 s per row; it only catches hangs, a dead worker is
        seen at once); ``worker`` swaps the worker script (tests use a fake one with the same protocol).
        """
        if batch_size < 1:
            raise ValueError("comet scorer: batch_size must be >= 1")
        if request_size is not None and request_size < 1:
            raise ValueError("comet scorer: request_size must be >= 1")
        self.model = model or DEFAULT_MODELS[bool(reference_free)]
        self.reference_free = bool(reference_free)
        self.kind = "comet_qe" if self.reference_free else "comet"
        self.needs = frozenset() if self.reference_free else frozenset({"references"})
        self.batch_size = batch_size
        self.device = device or "auto"
        self.python = python
        self.request_size = request_size or 16 * batch_size
        self.start_timeout = start_timeout
        self.request_timeout = request_timeout
        self.worker = worker or WORKER
        self._info: dict | None = None  # the handshake; survives pickling and close()
        self._runtime()

    def _runtime(self) -> None:
        self._lock = threading.RLock()
        self._proc: _Worker | None = None
        self._failed: str | None = None
        self._next_id = 0

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        for name in ("_lock", "_proc", "_failed", "_next_id"):
            state.pop(name)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._runtime()

    # -- worker lifecycle -------------------------------------------------------------------------

    def _where(self) -> str:
        return f"comet scorer ({self.model}, python {self.python or os.environ.get('EAX_COMET_PYTHON') or DEFAULT_ENV + '/bin/python'})"

    def resolve_python(self) -> str:
        """The COMET interpreter; ScorerError with the setup command when it is missing."""
        if self.python:
            given, source = self.python, "scorer.python"
        elif os.environ.get("EAX_COMET_PYTHON"):
            given, source = os.environ["EAX_COMET_PYTHON"], "$EAX_COMET_PYTHON"
        else:
            given, source = f"{DEFAULT_ENV}/bin/python", "the default COMET environment"
        path = Path(given).expanduser()
        found = str(path) if path.is_file() and os.access(path, os.X_OK) else None
        if found is None and os.sep not in given:
            found = shutil.which(given)
        if found is None:
            raise ScorerError(
                f"comet scorer: no COMET python at {path} ({source}). unbabel-comet {COMET_VERSION} pins "
                "transformers<5 and numpy<2, so it runs in its own environment; create it with:\n"
                f"  {setup_command()}\n"
                "and leave scorer.python unset (that is the default path) or point scorer.python / $EAX_COMET_PYTHON "
                "at another environment's bin/python"
            )
        return found

    def _command(self, python: str) -> list[str]:
        cmd = [python, "-u", self.worker, "--model", self.model, "--batch-size", str(self.batch_size), "--device", self.device]
        return cmd + (["--reference-free"] if self.reference_free else [])

    def _ensure_started(self) -> _Worker:
        if self._proc is not None and self._proc.pid != os.getpid():
            self._proc.finalizer.detach()  # inherited through fork: the parent owns that worker and its pipes
            self._proc = None
        if self._failed:
            raise ScorerError(f"{self._where()}: the worker failed earlier ({self._failed}); call close() before scoring again")
        if self._proc is not None:
            return self._proc
        python = self.resolve_python()
        try:
            proc = _Worker(self._command(python))
        except OSError as err:
            raise ScorerError(f"{self._where()}: cannot start {python}: {err}") from None
        self._proc = proc
        hello = self._receive(self.start_timeout, "the handshake (loading the model)")
        if hello.get("ready") is not True:
            self._proc = None
            proc.stop()  # it exits by itself after a failed handshake; stop() waits, then kills
            hint = f"\n  create the environment with: {setup_command()}" if hello.get("stage") == "import" else ""
            raise ScorerError(f"{self._where()}: the worker could not start: {hello.get('error', hello)}{hint}{proc.stderr_tail(2)}")
        missing = [k for k in ("comet_version", "checkpoint_sha256", "reference_free") if k not in hello]
        if missing or hello["reference_free"] != self.reference_free:
            self._fail(f"bad handshake {hello!r} (missing {missing}, reference_free must be {self.reference_free})")
        info = {k: v for k, v in hello.items() if k not in ("ready", "pid")}
        if self._info is not None and _identity(self.model, self._info) != _identity(self.model, info):
            self._fail(f"the model changed since this scorer was first used: {_identity(self.model, self._info)} -> {_identity(self.model, info)}")
        self._info = info
        logger.info("comet worker {} ready: {} on {} ({} {})", proc.proc.pid, self.id, info.get("device"), info.get("model_class"), python)
        return proc

    def _receive(self, timeout: float, what: str) -> dict:
        proc = self._proc
        try:
            line = proc.replies.get(timeout=timeout)
        except queue.Empty:
            self._fail(f"no answer to {what} within {timeout:g} s")
        if line is None:
            try:
                code = proc.proc.wait(10)
            except subprocess.TimeoutExpired:
                code = "still running"
            self._fail(f"the worker closed its output and exited (exit code {code}) while waiting for {what}")
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            self._fail(f"the worker wrote a line that is not protocol JSON: {line.strip()[:200]!r}")
        if not isinstance(message, dict):
            self._fail(f"the worker wrote {line.strip()[:200]!r}, expected a JSON object")
        return message

    def _fail(self, reason: str):
        """Stop the worker for good (until close()) and raise with its last stderr lines."""
        proc, self._proc = self._proc, None
        self._failed = reason
        tail = ""
        if proc is not None:
            if proc.proc.poll() is None:
                proc.proc.kill()
            proc.stop()
            tail = proc.stderr_tail(2)
        raise ScorerError(f"{self._where()}: {reason}{tail}")

    def close(self) -> None:
        """Stop the worker (it finishes its current request first); a later score() starts a new one."""
        with self._lock:
            proc, self._proc = self._proc, None
            self._failed = None
            if proc is not None and proc.pid == os.getpid():
                proc.stop()

    # -- scoring ----------------------------------------------------------------------------------

    def _request(self, src: list[str], mt: list[str], ref: list[str] | None) -> list[float]:
        proc = self._ensure_started()
        request_id = self._next_id
        self._next_id += 1
        line = json.dumps({"id": request_id, "src": src, "mt": mt, "ref": ref}, ensure_ascii=True) + "\n"
        try:
            proc.proc.stdin.write(line)
            proc.proc.stdin.flush()
        except (OSError, ValueError) as err:
            self._fail(f"cannot send request {request_id} to the worker ({type(err).__name__}: {err})")
        timeout = self.request_timeout or 300.0 + 2.0 * len(mt)
        reply = self._receive(timeout, f"request {request_id} ({len(mt)} rows)")
        if reply.get("id") != request_id:
            self._fail(f"reply for request {reply.get('id')!r} while waiting for {request_id}")
        if "error" in reply:  # the worker stays usable: the request, not the worker, was bad
            raise ScorerError(f"{self._where()}: request {request_id} ({len(mt)} rows) failed in the worker: {reply['error']}{proc.stderr_tail(0.2)}")
        scores = reply.get("scores")
        if not isinstance(scores, list) or len(scores) != len(mt):
            got = len(scores) if isinstance(scores, list) else type(scores).__name__
            self._fail(f"request {request_id}: {got} scores for {len(mt)} rows")
        if not all(isinstance(s, (int, float)) and not isinstance(s, bool) and math.isfinite(s) for s in scores):
            self._fail(f"request {request_id}: non-numeric or non-finite scores {scores[:5]!r}")
        return [float(s) for s in scores]

    def score(self, anchors, candidates, *, references=None, **optional) -> list[float]:
        """Scorer.score, with the input checks made first: base's messages read ``id``, which starts the worker."""
        n = len(candidates)
        for name, values in (("anchors", anchors), ("references", references), *optional.items()):
            if values is not None and len(values) != n:
                raise ValueError(f"{self!r}: {name} has {len(values)} items but candidates has {n}")
        if references is None and "references" in self.needs:
            raise ValueError(f"{self!r}: needs references for every candidate")
        return super().score(anchors, candidates, references=references, **optional)

    def _score(self, anchors, candidates, *, references=None, **_):
        refs = None if self.reference_free else references
        # Sampled candidates repeat: score each distinct (src, mt, ref) once; COMET is deterministic per row.
        rows = list(zip(anchors, candidates, refs or [None] * len(candidates)))
        unique = list(dict.fromkeys(rows))
        scored: list[float] = []
        with self._lock:
            for start in range(0, len(unique), self.request_size):
                chunk = unique[start : start + self.request_size]
                src, mt, ref = (list(column) for column in zip(*chunk))
                scored.extend(self._request(src, mt, None if self.reference_free else ref))
        by_row = dict(zip(unique, scored))
        return [by_row[row] for row in rows]

    # -- identity ---------------------------------------------------------------------------------

    def _handshake(self) -> dict:
        with self._lock:
            if self._info is None:
                self._ensure_started()
            return self._info

    @property
    def id(self) -> str:
        """``comet:<model>@<comet version>+<checkpoint sha256 prefix>``; starts the worker on first use."""
        return _identity(self.model, self._handshake())

    def describe(self) -> dict:
        info = self._handshake()
        inputs = "src = English anchor, mt = candidate" + ("" if self.reference_free else ", ref = target-language reference")
        return {
            "id": self.id,
            "kind": self.kind,
            "model": self.model,
            "model_class": info.get("model_class"),
            "package": "unbabel-comet",
            "version": info["comet_version"],
            "checkpoint_sha256_prefix": info["checkpoint_sha256"],
            "reference_free": self.reference_free,
            "inputs": inputs,
            "score": (
                "COMET segment score of the candidate "
                + ("as a translation of the English anchor, without a reference (quality estimation)" if self.reference_free else "given the English anchor as source and the reference")
                + " (EAxE: the anchor replaces the source sentence x)"
            ),
            "range": "about [0, 1] for the WMT22 models; not a hard bound",
            "higher_is_better": True,
        }

    def __repr__(self) -> str:  # no worker start just to print the scorer
        return f"CometScorer(model={self.model!r}, reference_free={self.reference_free}, started={self._proc is not None})"


def _identity(model: str, info: dict) -> str:
    return f"comet:{_label(model)}@{info['comet_version']}+{info['checkpoint_sha256']}"
