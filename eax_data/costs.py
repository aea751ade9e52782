"""Dry-run cost estimates: what a recipe's build, or a preference-training run, would cost before it runs.

Build: the corpus is read through the build's own steps (reader, ``AnchorSentences``, ``ExpandToX2X`` /
``RewardTasks``) so task counts, drops and dedup are exactly the build's; nothing is generated. Token
counts come from the generator's tokenizer when it is on this machine, else from counted characters
divided by an assumed chars-per-token per script. Train: 6·N·T FLOPs for the policy, 2·N·T for DPO's
reference model, turned into hours through a throughput or GPU FLOP/s × MFU.

Every figure says where it came from: ``counted`` (read from the corpus or tokenizer), ``estimated``
(counted characters / assumed chars-per-token), ``given`` (an argument), ``assumed`` (a documented
default below), ``derived`` (arithmetic on the others) or ``example`` (a labelled example figure, not
a measurement of your hardware).
"""

from __future__ import annotations

import functools
import math
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

from eax_data import languages
from eax_data.recipe import Recipe

COUNTED, ESTIMATED, GIVEN, ASSUMED, DERIVED, EXAMPLE = "counted", "estimated", "given", "assumed", "derived", "example"

# Chars per token when no tokenizer is at hand: ballparks for a modern ~100k+-vocabulary multilingual
# tokenizer (Llama 3 / Qwen2.5 class); English apart because every anchor is English. An English-centric
# tokenizer is far worse off English: SmolLM2's measured on the demo corpus: en 4.6, de 2.6, fr 2.8,
# es 2.7, ru 1.3, zh 0.56 (!). Give --tokenizer to count instead.
# A prompt's tokens are summed from its separately tokenised parts (chat wrapper, template, source, anchor):
# on the demo recipe with SmolLM2's tokenizer that overcounts the exactly rendered prompts by 1.7%.
ENGLISH_CHARS_PER_TOKEN = 4.2
CHARS_PER_TOKEN = {"Latn": 3.5, "Cyrl": 2.8, "Hans": 1.3, "Jpan": 1.2, "Hang": 1.3, "Arab": 2.5, "Deva": 2.2}
# Tokens a chat template adds around one user message (SmolLM2's, with its default system prompt: 30).
HEURISTIC_CHAT_TOKENS = 30
# Output length relative to the English sentence (tokens of y / tokens of e), when the corpus cannot say.
DEFAULT_LENGTH_RATIO = {"Latn": 1.3, "Cyrl": 1.5, "Hans": 1.0, "Jpan": 1.2, "Hang": 1.3, "Arab": 1.4, "Deva": 1.6}
# Prefill (prompt) tokens per second = decode tokens per second x this, unless given (typically 10-50x).
DEFAULT_PREFILL_RATIO = 20.0


class CostError(ValueError):
    """An estimate that cannot be made from what was given; the message says what to pass."""


@dataclass(frozen=True)
class Figure:
    name: str
    value: Any
    unit: str = ""
    origin: str = DERIVED
    note: str = ""


@dataclass
class Estimate:
    """An ordered list of labelled figures plus an optional per-direction table."""

    kind: str
    figures: list[Figure] = field(default_factory=list)
    directions: list[dict] = field(default_factory=list)

    def add(self, name: str, value, unit: str = "", origin: str = DERIVED, note: str = ""):
        self.figures.append(Figure(name, value, unit, origin, note))
        return value

    def value(self, name: str):
        for figure in self.figures:
            if figure.name == name:
                return figure.value
        raise KeyError(name)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "figures": [asdict(f) for f in self.figures], "directions": self.directions}


@dataclass(frozen=True)
class Sourced:
    """A number and where it came from (an argument, a config file, a default)."""

    value: float
    origin: str
    note: str = ""


# -- tokens ---------------------------------------------------------------------------------------


def chars_per_token(lang: str) -> float:
    if lang == languages.ENGLISH:
        return ENGLISH_CHARS_PER_TOKEN
    return CHARS_PER_TOKEN.get(languages.get(lang).script, CHARS_PER_TOKEN["Latn"])


class TokenCounter:
    """Tokens of a text: the tokenizer's count when one is loaded, else ceil(chars / chars-per-token)."""

    def __init__(self, tokenizer=None, source: str = "chars/token heuristic"):
        self.tokenizer = tokenizer
        self.source = source
        self.origin = COUNTED if tokenizer is not None else ESTIMATED
        self.count = functools.lru_cache(maxsize=1 << 16)(self._count)  # anchors repeat once per target

    def _count(self, text: str, lang: str) -> int:
        if self.tokenizer is None:
            return math.ceil(len(text) / chars_per_token(lang))
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def chat_overhead(self) -> int:
        """Tokens the chat template wraps around one user message (0 when the tokenizer has none)."""
        if self.tokenizer is None:
            return HEURISTIC_CHAT_TOKENS
        if not getattr(self.tokenizer, "chat_template", None):
            return 0
        rendered = self.tokenizer.apply_chat_template([{"role": "user", "content": ""}], tokenize=False, add_generation_prompt=True)
        return self._count(rendered, languages.ENGLISH)


# -- workload: tasks and their token loads ---------------------------------------------------------


@dataclass
class DirectionLoad:
    """One direction's tasks: how many, their source tokens, and a histogram of reference tokens."""

    src: str
    trg: str
    ref_lang: str
    tasks: float = 0
    source_tokens: float = 0
    references: Counter = field(default_factory=Counter)  # reference (anchor) tokens -> tasks


@dataclass
class Workload:
    origin: str  # COUNTED / ESTIMATED (corpus read) or GIVEN (--rows)
    rows: Sourced
    directions: dict[str, DirectionLoad]
    pivots: dict[tuple[str, str], Counter]  # (anchor language, target) -> distinct anchors' tokens -> count
    side_tokens: dict[str, list]  # language -> [tokens of its sentences, tokens of their English sides]
    drops: dict[str, int] = field(default_factory=dict)


def is_remote(path: str, fmt: str = "auto") -> bool:
    return fmt == "hf" or path.startswith("hf:") or "://" in path


def scan_corpus(recipe: Recipe, counter: TokenCounter) -> Workload:
    """Run the build's tasks steps in-process (no executor, no leakage guard) and count their output."""
    from eax_data.builders.anchors import AnchorSentences
    from eax_data.builders.expand import ExpandToX2X
    from eax_data.builders.pivots import pivot_key
    from eax_data.builders.readers import make_reader
    from eax_data.builders.reward_tasks import RewardTasks
    from eax_data.pipelines.stages import corpus_id, needs_pivots
    from eax_data.schema import REF_LANG, REF_TEXT, SRC_LANG, TRG_LANG

    c = recipe.corpus
    if is_remote(c.path, c.format):
        raise CostError(f"corpus {c.path!r} is remote and is not read by an estimate: pass --rows N and --avg-source-tokens N")
    reader = make_reader(c.path, c.format, c.split, c.config, recipe.languages)
    anchors = AnchorSentences(c.kind, recipe.languages, corpus_id(recipe), limit=recipe.execution.limit)
    expand = RewardTasks(recipe.reward_data.directions) if recipe.mode == "reward_data" else ExpandToX2X(recipe.languages)
    use_pivots, seen = needs_pivots(recipe), set()
    directions: dict[str, DirectionLoad] = {}
    pivots: dict = defaultdict(Counter)
    sides: dict = defaultdict(lambda: [0, 0])
    for task in expand.run(anchors.run(reader.run(None, 0, 1))):
        meta = task.metadata
        src, trg, ref_lang, ref = meta[SRC_LANG], meta[TRG_LANG], meta[REF_LANG], meta[REF_TEXT]
        s_tok, r_tok = counter.count(task.text, src), counter.count(ref, ref_lang)
        load = directions.setdefault(f"{src}-{trg}", DirectionLoad(src, trg, ref_lang))
        load.tasks += 1
        load.source_tokens += s_tok
        load.references[r_tok] += 1
        if languages.ENGLISH in (src, ref_lang):  # (tokens of x, tokens of its English side) for the length ratios
            x_tok, e_tok, x_lang = (s_tok, r_tok, src) if ref_lang == languages.ENGLISH else (r_tok, s_tok, ref_lang)
            sides[x_lang][0] += x_tok
            sides[x_lang][1] += e_tok
        if use_pivots and (key := pivot_key(ref, trg)) not in seen:
            seen.add(key)
            pivots[(ref_lang, trg)][r_tok] += 1
    drops = {k: int(v.total) for step in (anchors, expand) for k, v in step.stats.stats.items() if k.startswith("dropped_")}
    if not directions:
        raise CostError(f"the corpus {c.path!r} gave no tasks for languages {list(recipe.languages)} (row drops: {drops or 'none'})")
    rows = anchors.stats.stats.get("rows")
    return Workload(counter.origin, Sourced(int(rows.total) if rows else 0, COUNTED), directions, dict(pivots), dict(sides), drops)


def workload_from_figures(recipe: Recipe, rows: int, avg_source: float, avg_anchor: float) -> Workload:
    """Tasks from a row count, assuming every row yields every selected language and no duplicates."""
    from eax_data.pipelines.stages import needs_pivots

    en = languages.ENGLISH
    limit = recipe.execution.limit
    used = min(rows, limit) if limit else rows
    targets = [code for code in recipe.languages if code != en]
    # a multiway row holds every language; an English-centric row one, spread evenly over the languages
    per_language = used if recipe.corpus.kind == "multiway" else used / len(targets)
    directions: dict[str, DirectionLoad] = {}

    def add(src, trg, ref_lang, source_tokens, reference_tokens):
        directions[f"{src}-{trg}"] = DirectionLoad(src, trg, ref_lang, per_language, per_language * source_tokens, Counter({reference_tokens: per_language}))

    for x in targets:
        if recipe.mode == "reward_data":
            if recipe.reward_data.directions in ("both", "en2x"):
                add(en, x, x, avg_anchor, avg_source)
            if recipe.reward_data.directions in ("both", "x2en"):
                add(x, en, en, avg_source, avg_anchor)
        else:
            for y in targets:
                if y != x:
                    add(x, y, en, avg_source, avg_anchor)
    pivots: dict = defaultdict(Counter)
    if needs_pivots(recipe):
        for load in directions.values():  # x2x multiway: the sources of one row share their anchor
            shared = recipe.mode == "x2x" and recipe.corpus.kind == "multiway"
            pivots[(load.ref_lang, load.trg)] = Counter({avg_anchor: used}) if shared else pivots[(load.ref_lang, load.trg)] + load.references
    note = f"execution.limit {limit} applied" if limit and rows > limit else ""
    return Workload(GIVEN, Sourced(used, GIVEN, note), directions, dict(pivots), {})


def length_ratios(recipe: Recipe, workload: Workload, given: Optional[dict[str, float]] = None) -> dict[str, Sourced]:
    """Tokens of a sentence in each language per token of its English version: given, counted, or assumed."""
    given = given or {}
    ratios = {}
    for lang in dict.fromkeys((languages.ENGLISH, *recipe.languages)):
        tokens = workload.side_tokens.get(lang)
        if lang in given:
            ratios[lang] = Sourced(given[lang], GIVEN)
        elif lang == languages.ENGLISH:
            ratios[lang] = Sourced(1.0, DERIVED, "by definition")
        elif tokens and tokens[1]:
            ratios[lang] = Sourced(tokens[0] / tokens[1], workload.origin, "tokens of x / tokens of its English anchor in the corpus")
        else:
            ratios[lang] = Sourced(DEFAULT_LENGTH_RATIO.get(languages.get(lang).script, 1.3), ASSUMED, "per-script default")
    return ratios


# -- build estimate -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Throughput:
    """Generation speed of one setup: decode and prefill tokens per second."""

    label: str
    decode: float
    prefill: float
    origin: str
    note: str = ""
    prefill_origin: str = ""  # when it differs from ``origin`` (e.g. derived from a ratio)


EXAMPLE_THROUGHPUTS = (
    Throughput("SmolLM2-135M, 2 CPU cores", 125.0, 125.0 * DEFAULT_PREFILL_RATIO, EXAMPLE,
               "decode measured in-process (shared/NOTES.md); prefill = 20x decode, assumed", ASSUMED),
    Throughput("7B model, 1 H100, vLLM", 2500.0, 30000.0, EXAMPLE,
               "ballpark for batched bf16 sampling, not measured here; measure your own"),
)


def estimate_build(recipe: Recipe, workload: Workload, counter: TokenCounter, throughputs=EXAMPLE_THROUGHPUTS,
                   price: Optional[float] = None, ratios: Optional[dict[str, float]] = None) -> Estimate:
    """Tasks, candidates, prompt/decode tokens (generation and pivots), scorer passes, hours and cost."""
    from eax_data.pipelines.stages import needs_pivots, pivot_sampling
    from eax_data.prompts import DIRECT_TEMPLATE, generation_prompt, generation_template

    est, s, w = Estimate("build"), recipe.sampling, workload
    tok = DERIVED if w.origin == GIVEN else counter.origin  # token figures: counted, estimated, or from --avg-*
    r = length_ratios(recipe, w, ratios)
    chat = counter.chat_overhead() if recipe.prompt.chat_template else 0
    template = generation_template(recipe)
    with_reference = "{reference}" in template

    def overhead(tmpl, src, trg, ref_lang) -> int:
        return counter.count(generation_prompt(tmpl, src, trg, ref_lang, "", ""), languages.ENGLISH)

    def decoded(references: Counter, factor: float, cap: int) -> float:
        return sum(count * min(cap, tokens * factor) for tokens, count in references.items())

    est.add("corpus rows", w.rows.value, "rows", w.rows.origin, w.rows.note)
    for reason, count in sorted(w.drops.items()):
        est.add(f"  {reason}", count, "rows/sentences", COUNTED)
    est.add("tokens counted with", "tokenizer" if counter.tokenizer is not None else "heuristic", "", counter.origin, counter.source)
    for lang, ratio in r.items():
        est.add(f"output length ratio {lang}", round(ratio.value, 3), "tokens per English token", ratio.origin, ratio.note)
    chat_origin = GIVEN if not recipe.prompt.chat_template else COUNTED if counter.tokenizer is not None else ASSUMED
    est.add("chat template", chat, "tokens per prompt", chat_origin, "" if recipe.prompt.chat_template else "prompt.chat_template: false")
    totals = Counter()
    for name, d in sorted(w.directions.items()):
        refs = sum(k * c for k, c in d.references.items())
        prompt = d.tasks * (chat + overhead(template, d.src, d.trg, d.ref_lang)) + d.source_tokens + (refs if with_reference else 0)
        expected = s.n * decoded(d.references, r[d.trg].value / r[d.ref_lang].value, s.max_new_tokens)
        training_prompt = d.tasks * overhead(DIRECT_TEMPLATE, d.src, d.trg, d.ref_lang) + d.source_tokens
        totals.update(tasks=d.tasks, prompt=prompt, decode=expected, decode_max=s.n * d.tasks * s.max_new_tokens, training_prompt=training_prompt)
        est.directions.append({"direction": name, "tasks": d.tasks, "prompt_tokens": prompt, "decode_tokens": expected,
                               "avg_output_tokens": expected / (s.n * d.tasks)})
    prefill_factor = s.n if recipe.generator.backend == "endpoint" else 1
    notes = ["assumes every row has every language, no duplicates"] if w.origin == GIVEN else []
    notes += ["before the leakage guard (it can only remove tasks)"] if recipe.leakage.testsets else []
    tasks = est.add("tasks", totals["tasks"], "tasks", DERIVED if w.origin == GIVEN else COUNTED, "; ".join(notes))
    candidates = est.add("candidates", tasks * s.n, "samples", DERIVED, f"tasks x sampling.n {s.n}")
    est.add("generation prompt tokens", totals["prompt"], "tokens", tok, "EAxT prompt incl. anchor" if with_reference else "direct prompt")
    prefill = est.add("generation prefill tokens", totals["prompt"] * prefill_factor, "tokens", DERIVED,
                      f"{recipe.generator.backend}: " + ("one request per sample" if prefill_factor > 1 else "each prompt prefilled once for its N samples"))
    decode = est.add("generation decode tokens (expected)", totals["decode"], "tokens", DERIVED,
                     f"n x min(max_new_tokens {s.max_new_tokens}, reference tokens x ratio(target) / ratio(reference language))")
    decode_max = est.add("generation decode tokens (upper bound)", totals["decode_max"], "tokens", DERIVED, "every sample runs to max_new_tokens")
    if needs_pivots(recipe):
        cap = pivot_sampling(recipe).max_new_tokens
        count = sum(sum(c.values()) for c in w.pivots.values())
        p_prompt = sum(sum(c.values()) * (chat + overhead(DIRECT_TEMPLATE, a, t, a)) + sum(k * v for k, v in c.items()) for (a, t), c in w.pivots.items())
        p_decode = sum(decoded(c, r[t].value / r[a].value, cap) for (a, t), c in w.pivots.items())
        est.add("pivots", count, "greedy translations", COUNTED if w.origin != GIVEN else DERIVED,
                "one per distinct (anchor, target) per worker: execution.tasks > 1 can repeat some")
        est.add("pivot prompt tokens", p_prompt, "tokens", tok)
        est.add("pivot decode tokens (expected)", p_decode, "tokens", DERIVED, f"capped at {cap}")
        prefill, decode, decode_max = prefill + p_prompt, decode + p_decode, decode_max + count * cap
        est.add("total prefill tokens", prefill, "tokens", DERIVED, "generation + pivots")
        est.add("total decode tokens (expected)", decode, "tokens", DERIVED, "generation + pivots")
    for leaf in recipe.scorer.leaves():
        ref = f", reference: {leaf.reference}" if leaf.reference else ""
        est.add(f"scorer {leaf.key}: evaluations", candidates, "candidates", DERIVED,
                f"{leaf.kind}{ref}; at most: filtered candidates are not scored, cache hits are free")
    est.add("pairs (upper bound)", tasks, "pairs", DERIVED, "one pair per task, before filters and the pair rule")
    per_pair = 2 * totals["training_prompt"] / tasks + 2 * totals["decode"] / (tasks * s.n)
    est.add("tokens per training pair", per_pair, "tokens", DERIVED,
            "2 x direct prompt + chosen + rejected (expected), before the trained model's chat template; for `estimate train`")
    for t in throughputs:
        p_hours, d_hours = prefill / t.prefill / 3600, decode / t.decode / 3600
        label = f"[{t.origin}: {t.label}]"
        est.add(f"decode throughput {label}", t.decode, "tokens/s", t.origin, t.note)
        est.add(f"prefill throughput {label}", t.prefill, "tokens/s", t.prefill_origin or t.origin)
        est.add(f"hours {label}", p_hours + d_hours, "h", DERIVED, f"prefill {p_hours:.3g} h + decode {d_hours:.3g} h; scorers not included")
        est.add(f"hours, upper bound {label}", p_hours + decode_max / t.decode / 3600, "h", DERIVED, "every sample at max_new_tokens")
        if price is not None:
            est.add(f"cost {label}", (p_hours + d_hours) * price, "USD", DERIVED, f"hours x {price:g} USD/h (given)")
    if price is None:
        est.add("cost", None, "USD", "-", "give --gpu-hour-price USD for a cost")
    return est


# -- training estimate ----------------------------------------------------------------------------

# trainer -> (sequences per pair, needs a reference model forward pass)
TRAINERS = {"dpo": (2, True), "cpo": (2, False), "reward-model": (2, False), "sft": (1, False)}
EXAMPLE_GPU_FLOPS = Sourced(989e12, EXAMPLE, "H100 SXM dense bf16 peak (spec sheet)")
DEFAULT_MFU = Sourced(0.4, ASSUMED, "typical 30-50% model FLOP utilisation for 1-8 GPU fine-tuning")


def estimate_train(pairs: int, params: Sourced, epochs: Sourced, tokens_per_pair: Sourced, trainer: str = "dpo",
                   gpus: int = 1, gpu_flops: Sourced = EXAMPLE_GPU_FLOPS, mfu: Sourced = DEFAULT_MFU,
                   tokens_per_second: Optional[float] = None, batch: Optional[Sourced] = None, max_steps: int = 0,
                   price: Optional[float] = None) -> Estimate:
    """Tokens, FLOPs (6NT policy + 2NT reference for DPO), optimizer steps and hours, each labelled."""
    if trainer not in TRAINERS:
        raise CostError(f"trainer {trainer!r} is not one of {', '.join(TRAINERS)}")
    for name, value in (("pairs", pairs), ("model params", params.value), ("epochs", epochs.value),
                        ("tokens per pair", tokens_per_pair.value), ("gpus", gpus), ("GPU FLOP/s", gpu_flops.value)):
        if not value or value <= 0:
            raise CostError(f"{name} must be > 0, got {value}")
    if not 0 < mfu.value <= 1:
        raise CostError(f"MFU must be in (0, 1], got {mfu.value}")
    _, reference = TRAINERS[trainer]
    est = Estimate("train")
    est.add("trainer", trainer, "", GIVEN)
    est.add("pairs", pairs, "pairs", GIVEN)
    est.add("model parameters", params.value, "params", params.origin, params.note)
    est.add("tokens per pair", tokens_per_pair.value, "tokens", tokens_per_pair.origin, tokens_per_pair.note)
    passes = epochs.value
    if batch is not None:
        per_step = batch.value * gpus
        est.add("pairs per optimizer step", per_step, "pairs", batch.origin, batch.note + f" x {gpus} GPU(s)")
        steps = math.ceil(pairs / per_step) * epochs.value
        if max_steps > 0:
            steps, passes = max_steps, max_steps * per_step / pairs
            est.add("optimizer steps", steps, "steps", GIVEN, "max_steps overrides epochs")
        else:
            est.add("epochs", epochs.value, "", epochs.origin, epochs.note)
            est.add("optimizer steps", steps, "steps", DERIVED, "ceil(pairs / pairs per step) x epochs")
    else:
        est.add("epochs", epochs.value, "", epochs.origin, epochs.note)
    tokens = est.add("training tokens", pairs * tokens_per_pair.value * passes, "tokens", DERIVED, "pairs x tokens per pair x epochs; padding not included")
    policy = est.add("policy FLOPs (6 N T)", 6 * params.value * tokens, "FLOP", DERIVED, "forward 2NT + backward 4NT")
    ref = est.add("reference FLOPs (2 N T)", 2 * params.value * tokens if reference else 0, "FLOP", DERIVED,
                  "DPO: frozen reference model, forward only" if reference else f"{trainer}: no reference model")
    total = est.add("total FLOPs", policy + ref, "FLOP", DERIVED)
    est.add("GPU FLOP/s", gpu_flops.value, "FLOP/s", gpu_flops.origin, gpu_flops.note)
    est.add("MFU", mfu.value, "", mfu.origin, mfu.note)
    hours = est.add("hours [from FLOPs]", total / (gpu_flops.value * mfu.value * gpus) / 3600, "h", DERIVED,
                    f"total FLOPs / (GPU FLOP/s x MFU x {gpus} GPU(s))")
    gpu_hours = {"from FLOPs": hours * gpus}
    if tokens_per_second:
        factor = 4 / 3 if reference else 1.0
        t_hours = est.add("hours [from throughput]", tokens * factor / tokens_per_second / 3600, "h", DERIVED,
                          f"tokens x {factor:.3g} / {tokens_per_second:g} training tokens/s (given, all GPUs)"
                          + ("; x4/3: policy fwd+bwd ~3 forwards + reference 1 forward" if reference else ""))
        gpu_hours["from throughput"] = t_hours * gpus
    for label, value in gpu_hours.items():
        est.add(f"GPU-hours [{label}]", value, "GPU-h", DERIVED)
        if price is not None:
            est.add(f"cost [{label}]", value * price, "USD", DERIVED, f"GPU-hours x {price:g} USD/h (given)")
    if price is None:
        est.add("cost", None, "USD", "-", "give --gpu-hour-price USD for a cost")
    return est
