"""COMET scoring worker, run by the python of a separate COMET environment (not by eax-data's).

unbabel-comet 2.2.7 pins transformers<5 and numpy<2, so it cannot share eax-data's environment;
``eax_data.scoring.comet.CometScorer`` starts this file as a child process instead. It therefore
imports only the standard library and what the COMET environment has (comet, torch), never eax_data.

Protocol: one JSON object per line (ASCII-escaped), stdin -> requests, stdout -> replies.

* handshake, once after loading: ``{"ready": true, "model", "checkpoint", "checkpoint_sha256" (first
  8 hex), "comet_version", "torch_version", "model_class", "reference_free", "device", ...}``, or
  ``{"ready": false, "stage": "import"|"checkpoint"|"load"|"config", "error"}`` and exit code 2;
* request ``{"id": N, "src": [...], "mt": [...], "ref": [...] | null}`` -> ``{"id": N, "scores": [...]}``
  or ``{"id": N, "error": "..."}``; a bad request is answered, it does not stop the worker;
* end of stdin -> exit 0.

Everything else (logs, warnings, Lightning's banners, tracebacks) goes to stderr: file descriptor 1
is pointed at stderr before comet is imported, so stray prints cannot corrupt the protocol.
"""

from __future__ import annotations

import os
import sys

# Run as a script, Python puts this folder first on sys.path, and it holds eax-data's comet.py:
# `import comet` would find that file instead of the library. Drop the folder before any import.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import traceback  # noqa: E402
from pathlib import Path  # noqa: E402

SHA_PREFIX = 8


class WorkerError(Exception):
    """A failure to report in the handshake; ``stage`` tells the scorer what went wrong."""

    def __init__(self, stage: str, message: str):
        super().__init__(message)
        self.stage = stage


def _protocol_stream():
    """A private copy of stdout for replies; fd 1 and sys.stdout then point at stderr."""
    fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return open(fd, "w", encoding="ascii", buffering=1)


def _send(stream, message: dict) -> None:
    stream.write(json.dumps(message, ensure_ascii=True, allow_nan=False) + "\n")
    stream.flush()


def _root_cause(err: BaseException) -> str:
    """The innermost exception's message: comet's download_model hides the Hub's reason in __context__."""
    seen = []
    while err is not None and err not in seen:
        seen.append(err)
        err = err.__cause__ or err.__context__
    parts = [seen[0]] if len(seen) == 1 else [seen[0], seen[-1]]
    return "; ".join(f"{type(e).__name__}: {e}" for e in parts)


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def _hub_cache() -> str:
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME", "~/.cache"), "huggingface")
    return os.path.expanduser(os.path.join(home, "hub"))


def resolve_checkpoint(model: str) -> Path:
    """A local .ckpt, a folder holding checkpoints/model.ckpt, or a Hub name (cache first, then download)."""
    path = Path(model).expanduser()
    if path.is_file():
        return path
    if path.is_dir():
        inner = path / "checkpoints" / "model.ckpt"
        if inner.is_file():
            return inner
        raise WorkerError("checkpoint", f"{path} is a folder without checkpoints/model.ckpt")
    if model.endswith(".ckpt") or model.startswith(("/", "./", "../", "~")):
        raise WorkerError("checkpoint", f"checkpoint file {path} does not exist")
    from comet import download_model

    try:
        return Path(download_model(model, local_files_only=True))
    except Exception as cached:  # noqa: BLE001 - comet raises KeyError/Exception for everything
        if _offline():
            raise WorkerError(
                "checkpoint",
                f"COMET model {model!r} is not in the Hugging Face cache ({_hub_cache()}) and HF_HUB_OFFLINE is set "
                f"({_root_cause(cached)}); download it on a connected machine or pass a local checkpoints/model.ckpt",
            ) from None
    try:
        return Path(download_model(model))
    except Exception as err:  # noqa: BLE001
        raise WorkerError(
            "checkpoint",
            f"COMET model {model!r} is not in the Hugging Face cache ({_hub_cache()}) and could not be downloaded "
            f"({_root_cause(err)}); gated models such as CometKiwi also need an accepted licence and HF_TOKEN",
        ) from None


def sha256_prefix(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:SHA_PREFIX]


def load_model(checkpoint: Path):
    """comet.load_from_checkpoint, encoder files from the cache first (no Hub round trip when cached)."""
    from comet import load_from_checkpoint

    try:
        return load_from_checkpoint(str(checkpoint), local_files_only=True)
    except Exception as cached:  # noqa: BLE001
        if _offline():
            raise WorkerError(
                "load",
                f"could not load {checkpoint} offline ({_root_cause(cached)}); the encoder named by "
                "'pretrained_model' in its hparams.yaml (tokenizer + config, e.g. xlm-roberta-large) must be in the "
                f"Hugging Face cache ({_hub_cache()}) or be a local folder",
            ) from None
    try:
        return load_from_checkpoint(str(checkpoint))
    except Exception as err:  # noqa: BLE001
        raise WorkerError("load", f"could not load {checkpoint}: {_root_cause(err)}") from None


def uses_references(model) -> bool:
    """Whether the model reads ``ref`` (COMET-22, XCOMET) or not (CometKiwi, referenceless QE)."""
    if model.requires_references():
        return True
    segments = getattr(model.hparams, "input_segments", None)
    return segments is not None and "ref" in segments


def resolve_device(device: str) -> tuple[int, list[int] | None, str]:
    """(gpus, devices, name) for model.predict; one GPU at most (more would start DDP processes)."""
    if device == "cpu":
        return 0, None, "cpu"
    import torch

    if device == "auto":
        return (1, None, "cuda") if torch.cuda.is_available() else (0, None, "cpu")
    if device == "cuda" or device.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise WorkerError("config", f"device {device!r}: torch {torch.__version__} in this environment sees no CUDA GPU")
        index = device.partition(":")[2]
        return 1, ([int(index)] if index else None), device
    raise WorkerError("config", f"device {device!r}: expected 'auto', 'cpu', 'cuda' or 'cuda:N'")


def check_request(request, reference_free: bool) -> tuple[object, list[dict]]:
    """(id, COMET samples) of one request; ValueError names what is wrong."""
    if not isinstance(request, dict) or "id" not in request:
        raise ValueError("a request is an object with 'id', 'src', 'mt' and 'ref'")
    src, mt, ref = request.get("src"), request.get("mt"), request.get("ref")
    columns = {"src": src, "mt": mt} if reference_free else {"src": src, "mt": mt, "ref": ref}
    if reference_free and ref is not None:
        raise ValueError("this worker scores reference-free (QE): send 'ref': null")
    for name, values in columns.items():
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ValueError(f"'{name}' must be a list of strings")
        if len(values) != len(mt):
            raise ValueError(f"'{name}' has {len(values)} items but 'mt' has {len(mt)}")
    return request["id"], [dict(zip(columns, row)) for row in zip(*columns.values())]


def serve(model, stream, *, batch_size: int, gpus: int, devices, reference_free: bool) -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        request_id = None
        try:
            request = json.loads(line)
            request_id = request.get("id") if isinstance(request, dict) else None
            request_id, samples = check_request(request, reference_free)
            scores = []
            if samples:
                output = model.predict(samples, batch_size=batch_size, gpus=gpus, devices=devices, progress_bar=False)
                scores = [float(s) for s in output.scores]
            bad = next((i for i, s in enumerate(scores) if not math.isfinite(s)), None)
            if bad is not None:
                raise ValueError(f"model returned a non-finite score ({scores[bad]}) for row {bad}")
            _send(stream, {"id": request_id, "scores": scores})
        except Exception as err:  # noqa: BLE001 - any failure is this request's answer
            traceback.print_exc(file=sys.stderr)
            _send(stream, {"id": request_id, "error": f"{type(err).__name__}: {err}"})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="Hub name (Unbabel/wmt22-comet-da) or local .ckpt / folder")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--reference-free", action="store_true", help="QE: requests carry src and mt only")
    args = parser.parse_args(argv)
    stream = _protocol_stream()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        try:
            import comet
        except Exception as err:  # noqa: BLE001
            raise WorkerError("import", f"cannot import comet with {sys.executable}: {type(err).__name__}: {err}") from None
        if args.batch_size < 1:
            raise WorkerError("config", "--batch-size must be >= 1")
        gpus, devices, device = resolve_device(args.device)
        checkpoint = resolve_checkpoint(args.model)
        digest = sha256_prefix(checkpoint)
        model = load_model(checkpoint)
        refs = uses_references(model)
        if args.reference_free and model.requires_references():
            raise WorkerError("config", f"{args.model} ({type(model).__name__}) needs references; use scorer kind 'comet'")
        if not args.reference_free and not refs:
            raise WorkerError("config", f"{args.model} ({type(model).__name__}) reads no reference; use scorer kind 'comet_qe'")
    except WorkerError as err:
        print(f"comet worker: {err}", file=sys.stderr)
        _send(stream, {"ready": False, "stage": err.stage, "error": str(err)})
        return 2
    except Exception as err:  # noqa: BLE001
        traceback.print_exc(file=sys.stderr)
        _send(stream, {"ready": False, "stage": "load", "error": f"{type(err).__name__}: {err}"})
        return 2
    import torch

    _send(
        stream,
        {
            "ready": True,
            "model": args.model,
            "checkpoint": str(checkpoint),
            "checkpoint_sha256": digest,
            "comet_version": getattr(comet, "__version__", "unknown"),
            "torch_version": torch.__version__,
            "model_class": type(model).__name__,
            "reference_free": args.reference_free,
            "uses_references": refs,
            "device": device,
            "batch_size": args.batch_size,
            "pid": os.getpid(),
        },
    )
    serve(model, stream, batch_size=args.batch_size, gpus=gpus, devices=devices, reference_free=args.reference_free)
    return 0


if __name__ == "__main__":
    sys.exit(main())
