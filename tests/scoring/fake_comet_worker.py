"""A stand-in for eax_data/scoring/comet_worker.py: same protocol and arguments, no comet (stdlib only).

Score: F1 of the character multisets of ``mt`` and ``ref`` (``mt`` and ``src`` when reference-free),
so tests can predict every number. ``FAKE_COMET_MODE`` (comma-separated) simulates failures:

* ``handshake_fail`` / ``import_fail`` - answer ``{"ready": false}`` and exit 2;
* ``slow_start`` - never answer the handshake (sleeps, then exits);
* ``error:N`` - error reply to request N;  ``die:N`` - exit 3 on reading request N;
* ``wrong_length:N`` - one score too few;  ``wrong_id:N`` - reply with another id;
* ``hang:N`` - no reply to request N;  ``noise:N`` - a non-JSON line on stdout instead of a reply.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import time


def overlap_f1(hyp: str, ref: str) -> float:
    """F1 of the character multisets (1.0 for identical strings, 0.0 when nothing is shared)."""
    h, r = collections.Counter(hyp), collections.Counter(ref)
    common = sum((h & r).values())
    if not common:
        return 0.0
    precision, recall = common / sum(h.values()), common / sum(r.values())
    return 2 * precision * recall / (precision + recall)


def modes() -> dict[str, int | None]:
    out = {}
    for item in filter(None, os.environ.get("FAKE_COMET_MODE", "").split(",")):
        name, _, arg = item.partition(":")
        out[name] = int(arg) if arg else None
    return out


def send(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--reference-free", action="store_true")
    args = parser.parse_args()
    mode = modes()
    print(f"fake comet worker: loading {args.model}", file=sys.stderr, flush=True)
    if "import_fail" in mode:
        send({"ready": False, "stage": "import", "error": "cannot import comet: ModuleNotFoundError: No module named 'comet'"})
        return 2
    if "handshake_fail" in mode:
        print("fake comet worker: checkpoint not found", file=sys.stderr, flush=True)
        send({"ready": False, "stage": "checkpoint", "error": f"COMET model {args.model!r} is not in the cache"})
        return 2
    if "slow_start" in mode:
        time.sleep(30)
        return 1
    send(
        {
            "ready": True,
            "model": args.model,
            "checkpoint": f"/fake/{args.model}/checkpoints/model.ckpt",
            "checkpoint_sha256": os.environ.get("FAKE_COMET_SHA", "fa4ec0de"),
            "comet_version": "fake-1.0",
            "model_class": "FakeMetric",
            "reference_free": args.reference_free,
            "uses_references": not args.reference_free,
            "device": args.device,
            "batch_size": args.batch_size,
            "pid": os.getpid(),
        }
    )
    for line in sys.stdin:
        request = json.loads(line)
        rid, src, mt, ref = request["id"], request["src"], request["mt"], request["ref"]
        print(f"fake comet worker: request {rid} with {len(mt)} rows", file=sys.stderr, flush=True)
        if mode.get("die", -1) == rid:
            print(f"fake comet worker: dying on request {rid}", file=sys.stderr, flush=True)
            return 3
        if mode.get("hang", -1) == rid:
            time.sleep(30)
            return 1
        if mode.get("noise", -1) == rid:
            print("Lightning banner printed to stdout", flush=True)
            continue
        if mode.get("error", -1) == rid:
            send({"id": rid, "error": "RuntimeError: simulated failure"})
            continue
        if (ref is None) != args.reference_free:
            send({"id": rid, "error": f"ValueError: ref is {'null' if ref is None else 'given'} but reference_free={args.reference_free}"})
            continue
        against = src if args.reference_free else ref
        scores = [overlap_f1(h, r) for h, r in zip(mt, against)]
        if mode.get("wrong_length", -1) == rid:
            scores = scores[:-1]
        send({"id": rid + 1 if mode.get("wrong_id", -1) == rid else rid, "scores": scores})
    return 0


if __name__ == "__main__":
    sys.exit(main())
