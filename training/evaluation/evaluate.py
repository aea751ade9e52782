"""One evaluation run: test set -> greedy translations -> metrics -> results files (+ comparison, card).

Cheap checks come first (test set, directions, baseline file, model folder for the card, COMET
environment when one is asked for), so a typo never costs a decoding run. Hypotheses are appended to
``hypotheses.jsonl`` chunk by chunk with a decoder fingerprint; running again into the same folder
reuses every hypothesis whose fingerprint (model, prompt, greedy, max tokens) still matches, so an
interrupted 90-direction run resumes where it stopped.
"""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass, field

from loguru import logger

from eax_data.training.evaluation import EvaluationError
from eax_data.training.evaluation import metrics as M
from eax_data.training.evaluation.testsets import direction_group, directions, load_testset

HYPOTHESES = "hypotheses.jsonl"


@dataclass
class EvalOutcome:
    results: dict
    folder: str
    files: list[str] = field(default_factory=list)
    comparison: dict | None = None


def default_output(model: str, testset: str) -> str:
    """``./eval-<model name>-<test set name>``."""
    name = os.path.basename(os.path.normpath(os.path.expanduser(model))) or "model"
    set_name = os.path.basename(os.path.normpath(testset.removeprefix("hf:"))) or "testset"
    return f"eval-{name}-{set_name}"


def _read_cache(path: str, fingerprint: str) -> dict[tuple[str, str, str], tuple[str, str | None]]:
    """(src, trg, source) -> (hypothesis, finish reason) of earlier runs with the same decoder."""
    cache = {}
    if not os.path.exists(path):
        return cache
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                key = (record["src_lang"], record["trg_lang"], record["source"])
                if record.get("decoder") == fingerprint:
                    cache[key] = (record["hypothesis"], record.get("finish_reason"))
            except (json.JSONDecodeError, KeyError, TypeError):
                logger.warning("{}:{}: unreadable hypothesis line ignored (will be decoded again)", path, number)
    return cache


def _versions(backend_name: str) -> dict:
    from importlib import metadata

    versions = {}
    for name in ("eax-data", "sacrebleu", "transformers", "torch", *(["vllm"] if backend_name == "vllm" else [])):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def evaluate(model: str, testset: str = "demo", *, output: str | None = None, langs=None, which: str = "all",
             split: str | None = None, config: str | None = None, limit: int | None = None, backend: str = "auto",
             batch_size: int = 16, max_new_tokens: int = 256, device: str = "auto", dtype: str = "auto",
             comet: str | None = "auto", comet_python: str | None = None, comet_worker: str | None = None,
             baseline: str | None = None, model_card: bool = False) -> EvalOutcome:
    """Evaluate ``model`` on ``testset``; see ``python -m eax_data eval --help`` for the options."""
    from eax_data.training.evaluation import decode
    from eax_data.training.evaluation.report import load_results

    ts = load_testset(testset, split=split, config=config, langs=langs, limit=limit)
    wanted = directions(ts.languages, which)
    baseline_results = load_results(baseline) if baseline else None
    if model_card and not os.path.isdir(os.path.expanduser(model)):
        raise EvaluationError(f"--model-card: {model} is not a local model folder (the card is edited in place)")
    if comet not in (None, "none", "off", "auto"):
        from eax_data.scoring.comet import CometScorer

        CometScorer(model=comet, python=comet_python, worker=comet_worker).resolve_python()  # fail before decoding
    folder = output or default_output(model, testset)
    os.makedirs(folder, exist_ok=True)

    jobs, notes = [], []
    for src, trg in wanted:
        rows, sources, refs = ts.pair(src, trg)
        if not rows:
            notes.append(f"{src}-{trg} skipped: no row has both sentences")
            continue
        jobs.append((src, trg, rows, sources, refs))
    if not jobs:
        raise EvaluationError(f"--testset {testset}: no direction has sentences to translate")
    n_prompts = sum(len(job[2]) for job in jobs)
    logger.info("evaluating {} directions ({} x {}), {} translations", len(jobs), which, ts.name, n_prompts)

    gen = decode.load_backend(model, backend=backend, batch_size=batch_size, device=device, dtype=dtype)
    backend_name = getattr(getattr(gen, "config", None), "backend", backend)
    hyp_path = os.path.join(folder, HYPOTHESES)
    try:
        fingerprint = decode.decoder_fingerprint(gen.id, max_new_tokens)
        cache = _read_cache(hyp_path, fingerprint)
        prompt_of = {(src, trg, s): decode.eval_prompt(src, trg, s) for src, trg, _, sources, _ in jobs for s in sources}
        pending = [p for key, p in prompt_of.items() if key not in cache]
        if len(pending) < len(prompt_of):
            logger.info("reusing {} hypotheses from {}", len(prompt_of) - len(pending), hyp_path)
        key_of = {}
        for key, prompt in prompt_of.items():
            key_of.setdefault(prompt, []).append(key)

        def save(chunk: dict) -> None:
            with open(hyp_path, "a", encoding="utf-8") as handle:
                for prompt, (text, reason) in chunk.items():
                    for src, trg, source in key_of[prompt]:
                        cache[(src, trg, source)] = (text, reason)
                        handle.write(json.dumps({"decoder": fingerprint, "src_lang": src, "trg_lang": trg, "source": source,
                                                 "hypothesis": text, "finish_reason": reason}, ensure_ascii=False) + "\n")

        if pending:
            decode.translate(gen, pending, max_new_tokens=max_new_tokens, on_chunk=save)
        model_id = gen.id
    finally:
        gen.close()
        _free_accelerator()

    spbleu, spbleu_note = M.spbleu_status()
    notes += [spbleu_note] if spbleu_note else []
    scored = {}
    for src, trg, rows, sources, refs in jobs:
        hyps = [cache[(src, trg, s)] for s in sources]
        entry = {"src": src, "trg": trg, "group": direction_group(src, trg), "n": len(rows)}
        entry.update(M.corpus_scores([h for h, _ in hyps], refs, trg, spbleu=spbleu))
        entry["truncated"] = sum(1 for _, reason in hyps if reason == "length")
        scored[f"{src}-{trg}"] = entry
    computed = ["bleu", "chrf++"] + (["spbleu"] if spbleu else [])
    comet_info = _score_comet(comet, comet_python, comet_worker, jobs, cache, scored, notes)
    if comet_info:
        computed.append("comet")

    results = {
        "schema": "eax-data/eval-results@1",
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "model": {"name": os.path.basename(os.path.normpath(model)), "path": model, "id": model_id},
        "testset": ts.describe() | {"directions": which},
        "decoding": {"backend": backend_name, "prompt": decode.DIRECT_TEMPLATE, "chat_template": True, "greedy": True,
                     "max_new_tokens": max_new_tokens, "stop": list(decode.STOP), "fingerprint": fingerprint},
        "metrics": computed,
        "notes": notes,
        "signatures": M.signatures({e["trg"] for e in scored.values()}, spbleu=spbleu) | ({"comet": comet_info} if comet_info else {}),
        "directions": scored,
        "averages": M.averages(scored, computed),
        "hypotheses": HYPOTHESES,
        "versions": _versions(backend_name),
    }
    return _write_outputs(folder, results, ts, jobs, cache, fingerprint, baseline_results, model if model_card else None)


def _score_comet(comet, python, worker, jobs, cache, scored, notes) -> str | None:
    """Segment COMET for all directions in one worker session; adds ``comet`` (mean x 100) to ``scored``."""
    scorer, note = M.open_comet(comet, python=python, worker=worker)
    if scorer is None:
        notes.append(note)
        return None
    try:
        src, mt, ref, spans = [], [], [], []
        for s, t, _, sources, refs in jobs:
            start = len(mt)
            src += sources
            mt += [cache[(s, t, x)][0] for x in sources]
            ref += refs
            spans.append((f"{s}-{t}", start, len(mt)))
        logger.info("COMET: scoring {} segments with {}", len(mt), scorer.model)
        segment = M.comet_scores(scorer, src, mt, ref)
        for name, start, end in spans:
            scored[name]["comet"] = 100.0 * M.mean(segment[start:end])
        return scorer.id
    finally:
        scorer.close()


def _free_accelerator() -> None:
    """Give the GPU back before COMET starts (vLLM reserves most of it)."""
    import gc

    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:
        pass


def _write_outputs(folder, results, ts, jobs, cache, fingerprint, baseline_results, card_dir) -> EvalOutcome:
    from eax_data.training.evaluation.plots import write_heatmap
    from eax_data.training.evaluation.report import write_markdown, write_results

    hyp_path = os.path.join(folder, HYPOTHESES)
    with open(hyp_path, "w", encoding="utf-8") as handle:  # final form: test-set order, with references
        for src, trg, rows, sources, refs in jobs:
            for row, source, ref in zip(rows, sources, refs):
                text, reason = cache[(src, trg, source)]
                handle.write(json.dumps({"direction": f"{src}-{trg}", "src_lang": src, "trg_lang": trg, "row": ts.row_refs[row],
                                         "source": source, "reference": ref, "hypothesis": text, "finish_reason": reason,
                                         "decoder": fingerprint}, ensure_ascii=False) + "\n")
    files = [write_results(folder, results), write_markdown(folder, results), hyp_path]
    heatmap = write_heatmap(folder, results)
    files += [heatmap] if heatmap else []
    outcome = EvalOutcome(results, folder, files)
    if baseline_results is not None:
        from eax_data.training.evaluation.compare import compare, write_comparison

        outcome.comparison = compare(results, baseline_results)
        files.append(write_comparison(folder, outcome.comparison))
    if card_dir:
        from eax_data.training.evaluation.model_index import write_model_index

        files.append(write_model_index(os.path.expanduser(card_dir), results))
    for group, entry in results["averages"].items():
        logger.info("{} ({} directions): {}", group, entry["directions"],
                    ", ".join(f"{M.LABELS[m]} {entry[m]:.2f}" for m in results["metrics"] if entry.get(m) is not None))
    return outcome
