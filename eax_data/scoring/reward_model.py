"""Reward-model EAxE scorer: the paper's EAxE reward model, a one-label sequence-classification model.

The model reads a chat: the user turn is the *direct* en->y prompt of the English anchor
(``training_prompt("direct", anchor_lang, target_lang, anchor)``), the assistant turn is the
candidate. Its logit rates how good the candidate is as a translation of the anchor.

The input must be tokenised exactly as the reward model was trained, or the scores drift silently.
We mirror trl 1.16's ``RewardTrainer`` on conversational preference data: ``prompt + chosen``
messages through the tokenizer's chat template (``apply_chat_template(tokenize=True, tools=None)``),
no EOS appended (trl adds one only to plain-text data), no truncation (trl drops over-long examples
instead), the tokenizer's pad token (else its EOS) copied into the model config, right padding.
A test checks the token ids against trl's own dataset processing.
"""

from __future__ import annotations

import hashlib
import os
import threading
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from eax_data import languages
from eax_data.prompts import training_prompt
from eax_data.scoring.base import Scorer, ScorerError

# Files fetched for a Hub model: config, tokenizer, weights (not ONNX/Flax/GGUF exports or optimizer state).
_HUB_PATTERNS = ["*.json", "*.safetensors", "*.bin", "*.model", "*.txt", "*.jinja", "*.tiktoken"]
_NOT_WEIGHTS = {"training_args.bin", "optimizer.bin", "scheduler.bin"}

_LOCK = threading.Lock()
_LOADED: dict[tuple, tuple] = {}  # (folder, fingerprint, device, dtype) -> (model, tokenizer); one per process


def conversation(anchor: str, candidate: str, anchor_lang: str, target_lang: str) -> tuple[list[dict], list[dict]]:
    """(prompt, completion) messages of one pair, in trl's conversational preference format."""
    prompt = training_prompt("direct", anchor_lang, target_lang, anchor, task_id="")
    return [{"role": "user", "content": prompt}], [{"role": "assistant", "content": candidate}]


def tokenize_conversations(tokenizer, conversations: list[list[dict]]) -> list[list[int]]:
    """Token ids of full chats (prompt + completion), as trl 1.16 ``RewardTrainer`` tokenises them."""
    if not getattr(tokenizer, "chat_template", None):
        raise ScorerError(f"reward model tokenizer {getattr(tokenizer, 'name_or_path', '?')!r} has no chat template")
    result = tokenizer.apply_chat_template(conversations, tokenize=True, return_dict=True, tools=None)
    return [list(ids) for ids in result["input_ids"]]


def _weight_files(folder: Path) -> list[Path]:
    files = sorted(folder.glob("*.safetensors"))  # transformers prefers safetensors when both exist
    return files or sorted(p for p in folder.glob("*.bin") if p.name not in _NOT_WEIGHTS)


@lru_cache(maxsize=None)
def _hash_files(stats: tuple[tuple[str, int, int], ...]) -> str:
    """sha256 over (name, content) of the weight files; keyed on (path, size, mtime) so edits rehash."""
    digest = hashlib.sha256()
    for path, _, _ in stats:
        digest.update(Path(path).name.encode() + b"\0")
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:12]


@lru_cache(maxsize=None)
def _hub_snapshot(model: str) -> str:
    """The snapshot folder of a Hub model (downloaded if needed); its name is the commit sha."""
    try:
        from huggingface_hub import snapshot_download

        return snapshot_download(model, allow_patterns=_HUB_PATTERNS, ignore_patterns=[f"*{n}" for n in _NOT_WEIGHTS])
    except Exception as err:  # offline without a cached copy, unknown repo, gated repo ...
        raise ScorerError(
            f"reward model {model!r}: not a local folder and not fetchable from the Hub ({type(err).__name__}: {err})"
        ) from err


def resolve(model: str) -> tuple[str, str]:
    """(folder to load, fingerprint): weight-file sha256 prefix for a folder, revision sha for a Hub id."""
    path = Path(os.path.expanduser(model))
    if path.is_dir():
        files = _weight_files(path)
        if not files:
            raise ScorerError(f"reward model {model!r}: no *.safetensors or *.bin weight files in {path}")
        stats = tuple((str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns) for f in files)
        return str(path), _hash_files(stats)
    if path.exists() or model.startswith((".", "/", "~")) or model.count("/") > 1:
        raise ScorerError(f"reward model {model!r}: not a model folder")
    snapshot = _hub_snapshot(model)
    return snapshot, Path(snapshot).name


def _device_dtype(device: str):
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError) as err:
        raise ScorerError(f"reward model: bad device {device!r}: {err}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ScorerError(f"reward model: device {device!r} asked for but CUDA is not available here")
    bf16 = dev.type == "cuda" and torch.cuda.is_bf16_supported()
    return dev, torch.bfloat16 if bf16 else torch.float32


def _load(model: str, folder: str, fingerprint: str, device, dtype):
    """The process-wide (model, tokenizer); weights are never part of a pickled scorer."""
    key = (folder, fingerprint, str(device), str(dtype))
    with _LOCK:
        if key in _LOADED:
            return _LOADED[key]
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(folder)
            net, info = AutoModelForSequenceClassification.from_pretrained(folder, dtype=dtype, output_loading_info=True)
        except (OSError, ValueError, KeyError, ImportError) as err:
            raise ScorerError(f"reward model {model!r}: cannot load from {folder}: {type(err).__name__}: {err}") from err
        if info.get("missing_keys"):
            missing = ", ".join(sorted(info["missing_keys"]))
            raise ScorerError(f"reward model {model!r}: checkpoint lacks {missing} (a causal LM, not a trained reward model?)")
        if net.config.num_labels != 1:
            raise ScorerError(f"reward model {model!r}: has {net.config.num_labels} labels; a reward model has one")
        if not getattr(tokenizer, "chat_template", None):
            raise ScorerError(f"reward model {model!r}: tokenizer has no chat template (trl's conversational format needs one)")
        # As trl's RewardTrainer: pad = pad token, else EOS; the head finds the last non-pad token by it.
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        if tokenizer.pad_token_id is None:
            raise ScorerError(f"reward model {model!r}: tokenizer has neither a pad nor an EOS token")
        net.config.get_text_config().pad_token_id = tokenizer.pad_token_id
        net.to(device).eval()
        for stale in [k for k in _LOADED if k[0] == folder and k[1] != fingerprint]:  # weights rewritten in place
            del _LOADED[stale]
        _LOADED[key] = (net, tokenizer)
        return net, tokenizer


def _is_oom(err: BaseException) -> bool:
    import torch

    return isinstance(err, torch.cuda.OutOfMemoryError) or (isinstance(err, RuntimeError) and "out of memory" in str(err).lower())


class RewardModelScorer(Scorer):
    """Reward-model logit of (direct en->y prompt of the anchor, candidate); unbounded, higher = better."""

    kind = "reward_model"
    needs = frozenset({"anchor_langs", "target_langs"})

    def __init__(self, model: str | None, batch_size: int = 64, device: str = "auto"):
        if not model:
            raise ValueError("reward_model scorer: scorer.model must name a local folder or a Hub id")
        if batch_size < 1:
            raise ValueError("reward_model scorer: batch_size must be >= 1")
        self.model = str(model)
        self.batch_size = batch_size
        self.device = device

    @property
    def id(self) -> str:
        return f"reward_model:{self.model}@{resolve(self.model)[1]}"

    def describe(self) -> dict:
        try:
            trl_version = metadata.version("trl")
        except metadata.PackageNotFoundError:
            trl_version = "1.16"
        _, fingerprint = resolve(self.model)
        device, dtype = _device_dtype(self.device)
        return {
            "id": self.id,
            "kind": self.kind,
            "model": self.model,
            "weights": fingerprint,
            "device": str(device),
            "dtype": str(dtype).replace("torch.", ""),
            "input": "chat: user = direct en->y prompt of the English anchor, assistant = candidate; "
            f"tokenised as trl {trl_version} RewardTrainer (chat template, no extra EOS, no truncation)",
            "score": "logit of a one-label sequence-classification head (Bradley-Terry reward): unbounded, "
            "higher = better translation of the anchor; comparable only between rows of the same id",
            "range": [None, None],
            "higher_is_better": True,
        }

    def loaded(self):
        """(model, tokenizer, device) for this scorer, loading them once per process."""
        folder, fingerprint = resolve(self.model)
        device, dtype = _device_dtype(self.device)
        net, tokenizer = _load(self.model, folder, fingerprint, device, dtype)
        return net, tokenizer, device

    def tokenize(self, anchors, candidates, anchor_langs, target_langs) -> list[list[int]]:
        """Token ids of each pair's chat, exactly as the reward model saw its training data."""
        _, tokenizer, _ = self.loaded()
        chats = []
        for anchor, candidate, src, trg in zip(anchors, candidates, anchor_langs, target_langs):
            try:
                prompt, completion = conversation(anchor, candidate, src, trg)
            except languages.UnknownLanguageError as err:
                raise ScorerError(f"{self.id}: {err}") from None
            chats.append(prompt + completion)
        return tokenize_conversations(tokenizer, chats)

    def _score(self, anchors, candidates, *, anchor_langs, target_langs, **_):
        # Sampled candidates repeat (identical outputs of one task): score each distinct pair once.
        keys = list(zip(anchor_langs, target_langs, anchors, candidates))
        unique = list(dict.fromkeys(keys))
        src, trg, anc, cand = (list(column) for column in zip(*unique))
        net, tokenizer, device = self.loaded()
        values = self._run(net, self.tokenize(anc, cand, src, trg), tokenizer.pad_token_id, device)
        found = dict(zip(unique, values, strict=True))
        return [found[key] for key in keys]

    def _run(self, net, sequences: list[list[int]], pad_id: int, device) -> list[float]:
        """Longest first (least padding), results back in input order; halve the batch on OOM."""
        order = sorted(range(len(sequences)), key=lambda i: -len(sequences[i]))
        out = [0.0] * len(sequences)
        size, pos = self.batch_size, 0
        while pos < len(order):
            chunk = order[pos : pos + size]
            oom = None
            try:
                values = self._forward(net, [sequences[i] for i in chunk], pad_id, device)
            except RuntimeError as err:
                if not _is_oom(err):
                    raise
                oom = f"{type(err).__name__}: {err}"
            if oom is not None:  # outside the except block, so the failed batch's tensors can be freed
                if size == 1:
                    raise ScorerError(f"{self.id}: out of memory even at batch size 1 ({len(sequences[chunk[0]])} tokens; {oom})")
                size //= 2
                _free_cuda_cache()
                continue
            for i, value in zip(chunk, values):
                out[i] = value
            pos += len(chunk)
        return out

    @staticmethod
    def _forward(net, batch: list[list[int]], pad_id: int, device) -> list[float]:
        """One padded forward pass; right padding as trl's collator (the head picks the last non-pad)."""
        import torch

        ids = torch.full((len(batch), max(map(len, batch))), pad_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for row, seq in enumerate(batch):
            ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
            mask[row, : len(seq)] = 1
        with torch.inference_mode():
            logits = net(input_ids=ids.to(device), attention_mask=mask.to(device), use_cache=False).logits
        return logits[:, 0].float().cpu().tolist()

    def close(self) -> None:
        """Drop this scorer's model from the process cache (frees GPU memory at the end of a step)."""
        try:
            folder = resolve(self.model)[0]
        except ScorerError:
            return
        with _LOCK:
            for key in [k for k in _LOADED if k[0] == folder]:
                del _LOADED[key]


def _free_cuda_cache() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
