"""Throughput and memory of the CPU stages of a build: read -> expand -> filter -> pair -> write.

A synthetic English-centric corpus (TowerBlocks-MT schema: src_lang, trg_lang, src_text,
trg_text; English on one side, half en->x and half x->en, over the 9 non-English paper
languages) goes through the real build stages, as datatrove pipelines on a
``LocalPipelineExecutor`` (1 task, 1 worker, in-process):

* ``tasks``       the product's ``tasks_pipeline``: reader -> AnchorSentences -> ExpandToX2X -> JsonlWriter
* ``candidates``  JsonlReader(tasks) -> generation -> the recipe's filters (fasttext LID included,
                  exclusion writers on) -> ScoreCandidates -> ParquetWriter(candidates)
* ``pairs``       the product's ``pairs_pipeline``: ParquetReader -> BuildPairs -> ParquetWriter(data/)

Only the model calls are stubbed. Generation is the real ``GenerateCandidates`` (prompts, seeds,
chunk checkpoints, output cleaning) around a stub backend (``--generator backend``, default), or a
stub step that emits the same candidate documents without prompts and checkpoints
(``--generator step``). The stub writes ``--candidates`` (default 4) candidates per task, derived
deterministically from the task: target-language text, some exact duplicates, copies of the
source, empty or truncated outputs and text in the wrong language, so every filter has work.
Scoring is the real ``ScoreCandidates`` step around a ``Scorer`` that hashes the candidate.

Each stage of each scale runs in a fresh process, so its peak RSS is its own. Figures: wall
seconds per stage and in total, corpus rows/s, tasks/s and candidates/s, peak RSS, and the
10x/1x ratios (time ratio ~10 and RSS ratio ~1 mean linear time and bounded memory).

    python benchmarks/cpu_stages.py                       # 150,000 rows at 1x and 10x
    python benchmarks/cpu_stages.py --rows 5000 --scale 1 # smoke run
    python benchmarks/cpu_stages.py --scale 10 --candidates 2 --json cpu.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

RESULT_PREFIX = "@@cpu_stages "
STAGES = ("tasks", "candidates", "pairs")
NON_ENGLISH = ("de", "fr", "nl", "it", "es", "pt", "ko", "ru", "zh")
LANGUAGES = ("en", *NON_ENGLISH)

# -- synthetic text ---------------------------------------------------------------------------
# Common words per language, so that fasttext's lid.176 recognises the word salad (zh is written
# without spaces).
WORDS = {
    "en": "the of and to in is that for it with as was on be at by this have from or an they which you were her "
    "all she there would their we him been has when who will more if out so said what about into than them can only "
    "other new some could time these two may then first any such like our over even most made after also did many "
    "before must through back years where much your way well down should because each just those people how little "
    "state good very make world still own see men work long here between both life being under never day same",
    "de": "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es an werden aus er hat "
    "dass sie nach wird bei einer um am sind noch wie einem über einen so zum war haben nur oder aber vor zur bis mehr "
    "durch man sein wurde Jahr Zeit Menschen heute Regierung Stadt Welt gegen immer zwischen wieder Entwicklung "
    "Unternehmen sehr schon können müssen Kinder Schule Arbeit Geschichte Frage Leben",
    "fr": "le la les de des et un une en du est que qui dans pour pas sur au avec il elle ne se par plus sont ont ce mais "
    "comme aux nous leur tout été fait aussi entre après sans encore gouvernement pays monde temps années ville "
    "aujourd'hui toujours très peut doit être avoir dont où cette ces même depuis développement entreprise nouvelle "
    "enfants école travail histoire question vie",
    "nl": "de het een en van in is dat op te zijn met voor niet aan er om ook als bij door maar uit naar worden wordt nog "
    "dan heeft hebben werd over deze kan moet tot zich wel geen meer jaar tussen altijd regering stad wereld mensen "
    "vandaag ontwikkeling bedrijf onderzoek nieuwe omdat waar veel zeer tijdens zonder alleen misschien gemeente onze "
    "jullie zij wij kinderen school werk geschiedenis vraag leven",
    "it": "il la di che un una in per non sono del della con si da le al gli dei nel è anche come più ma questo questa ha "
    "hanno essere stato tutti dopo ancora molto governo paese mondo tempo anni città oggi sempre può deve fare loro "
    "quando dove perché nuovo sviluppo azienda ricerca persone tra senza fino ogni quella nella degli bambini scuola "
    "lavoro storia domanda vita",
    "es": "el la de que y en un una los las del se por con no para es al lo como más pero sus le ya fue este ha porque "
    "esta entre cuando muy sin sobre también hasta hay donde quien desde todo nos durante todos gobierno país mundo "
    "tiempo años ciudad hoy siempre puede debe hacer ellos nuevo desarrollo empresa investigación personas niños "
    "escuela trabajo historia pregunta vida",
    "pt": "o a de que e do da em um uma para com não os as no na por mais dos das se mas foi ao ele ela seu sua ou quando "
    "muito já também só pelo pela até isso entre depois sem mesmo aos ter seus governo país mundo tempo anos cidade "
    "hoje sempre pode deve fazer eles novo desenvolvimento empresa pesquisa pessoas então você ainda crianças escola "
    "trabalho história pergunta vida",
    "ru": "и в не на что с он как это по но они к из у за от так было все она мы для бы уже только его когда очень может "
    "время человек год жизнь день работа город страна правительство новый большой сказал сегодня вопрос дело сейчас "
    "также после который можно будет более других между всех их где нужно люди школа система развитие решение дети "
    "история",
    "ko": "그리고 하지만 우리는 사람들이 오늘 내일 학교에서 정부는 새로운 경제 문제를 있습니다 했습니다 것이다 대한 위해 그는 그녀는 "
    "많은 시간이 나라의 회사는 이번 지난 때문에 하는 있는 같은 대통령은 서울에서 연구 결과 발표했다 지역 사회 국민 생각 세계 "
    "기술 개발 시장 가격 사용 이용 정보 관계 다른 모든 가장 함께 다시 아직 매우 정말 가족 친구 도시 문화 역사 교육 아이들",
    "zh": "我们 他们 中国 政府 经济 发展 社会 问题 今天 明天 学校 学生 老师 城市 国家 世界 时间 工作 生活 历史 文化 研究 "
    "结果 公司 市场 价格 技术 人民 重要 已经 因为 所以 但是 可以 没有 这个 那个 一个 非常 需要 进行 表示 认为 发现 开始 "
    "成为 通过 目前 记者 报道 北京 上海 孩子 家庭 朋友 解决 提高 增加 的 了 在 是 和 也 就 都 很 说 要 会 对 把 被 从 "
    "我 你 他 她 这 那 有 不 人 年 中 大 新 多 还 上 下 地方 环境 教育 医院 银行 企业 政策 合作 国际 重要的 情况 方面",
}
NO_SPACE = {"zh"}
# Latin-character equivalents per raw character (see builders.filters.weighted_length): keeps the
# synthetic zh/ko texts as long as their English anchors in the length-ratio filter's eyes.
CHAR_WEIGHT = {"zh": 3.0, "ko": 2.0}
MIN_CHARS, MAX_CHARS = 60, 150  # weighted length of a corpus sentence
HALVES = 4096  # pre-built half sentences per language for the stub generator


def _vocab(lang: str) -> list[str]:
    return WORDS[lang].split()


def sentence(rng, lang: str, weighted_length: float, prefix: list[str] = ()) -> str:
    """Word salad in ``lang`` of about ``weighted_length`` Latin-character equivalents."""
    vocab, sep = _vocab(lang), ("" if lang in NO_SPACE else " ")
    target = weighted_length / CHAR_WEIGHT.get(lang, 1.0)
    words, size = list(prefix), sum(len(w) + len(sep) for w in prefix)
    while size < target:
        word = rng.choice(vocab)
        words.append(word)
        size += len(word) + len(sep)
    text = sep.join(words)
    return text[0].upper() + text[1:] + ("。" if lang == "zh" else ".")


def unique_prefix(index: int, lang: str) -> list[str]:
    """``index`` written in base len(vocab) as 4 words: every row's text is distinct."""
    vocab = _vocab(lang)
    digits = []
    for _ in range(4):
        index, digit = divmod(index, len(vocab))
        digits.append(vocab[digit])
    return digits


def write_corpus(path: str, rows: int, seed: int = 0) -> dict:
    """``rows`` English-centric pairs as one parquet file; half en->x, half x->en."""
    import random

    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(seed)
    schema = pa.schema([(name, pa.string()) for name in ("src_lang", "trg_lang", "src_text", "trg_text")])
    chars = 0
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, rows, 100_000):
            columns = {name: [] for name in schema.names}
            for index in range(start, min(rows, start + 100_000)):
                x_lang = NON_ENGLISH[rng.randrange(len(NON_ENGLISH))]
                x_text = sentence(rng, x_lang, rng.uniform(MIN_CHARS, MAX_CHARS), unique_prefix(index, x_lang))
                e_text = sentence(rng, "en", rng.uniform(MIN_CHARS, MAX_CHARS), unique_prefix(index, "en"))
                pair = ((x_lang, x_text), ("en", e_text)) if index % 2 else (("en", e_text), (x_lang, x_text))
                (src_lang, src_text), (trg_lang, trg_text) = pair
                for name, value in zip(schema.names, (src_lang, trg_lang, src_text, trg_text)):
                    columns[name].append(value)
                chars += len(x_text) + len(e_text)
            writer.write_table(pa.table(columns, schema=schema))
    return {"rows": rows, "mean_chars_per_text": round(chars / (2 * rows), 1), "bytes": os.path.getsize(path)}


# -- stub generator ---------------------------------------------------------------------------


def _mix(value: int) -> int:
    """A cheap 32-bit integer hash (murmur3 finaliser)."""
    value &= 0xFFFFFFFF
    value ^= value >> 16
    value = (value * 0x85EBCA6B) & 0xFFFFFFFF
    value ^= value >> 13
    value = (value * 0xC2B2AE35) & 0xFFFFFFFF
    return value ^ (value >> 16)


class StubCandidates:
    """N deterministic "translations" of a task, from its seed (which derives from the task id).

    Candidate 0 is always target-language text; each later one is, by the hash: an exact
    duplicate of candidate 0 (8%), a copy of the source (4%), empty (3%), two words only (3%, length
    ratio), text in the source language (4%, language ID), else new target-language text. A tenth
    of the outputs carry a ``</s>`` tail for ``clean_output`` to cut; 2% finish by "length".
    """

    def __init__(self, seed: int = 0):
        import random

        rng = random.Random(seed)
        self.halves = {}
        for lang in LANGUAGES:
            self.halves[lang] = [sentence(rng, lang, rng.uniform(MIN_CHARS, MAX_CHARS) / 2)[:-1] for _ in range(HALVES)]
        self.sep = {lang: "" if lang in NO_SPACE else " " for lang in LANGUAGES}

    def _text(self, lang: str, h: int) -> str:
        halves = self.halves[lang]
        return halves[h % HALVES] + self.sep[lang] + halves[(h >> 12) % HALVES].lower() + "."

    def completions(self, src_lang: str, trg_lang: str, source: str, seed: int, n: int) -> list[tuple[str, str]]:
        out = []
        for k in range(n):
            h = _mix(seed * 31 + k)
            roll = (h >> 24) % 100
            if k == 0 or roll >= 22:
                text = self._text(trg_lang, h)
            elif roll < 8:
                text = out[0][0]
            elif roll < 12:
                text = source
            elif roll < 15:
                text = ""
            elif roll < 18:
                text = self._text(trg_lang, h).split(self.sep[trg_lang] or "，")[0][:6]
            else:
                text = self._text(src_lang, h)
            if h % 10 == 3:
                text += "</s> Note: this translation"
            out.append((text, "length" if h % 50 == 7 else "stop"))
        return out


def _stub_backend_class():
    from eax_data import languages
    from eax_data.generation.base import Completion, GenerationBackend

    by_name = {languages.name(code): code for code in LANGUAGES}

    class StubBackend(GenerationBackend):
        """Replaces the model call only: reads the task back out of the EAxT prompt (default template)."""

        def __init__(self):
            self.stub = StubCandidates()

        @property
        def id(self) -> str:
            return "stub:cpu_stages"

        def generate(self, messages, sampling, seeds):
            results = []
            for message, seed in zip(messages, seeds):
                lines = message.split("\n")
                src_name, source = lines[1].split(" Source: ", 1)
                trg_name = lines[-1].removesuffix(" Translation:")
                pairs = self.stub.completions(by_name[src_name], by_name[trg_name], source, seed, sampling.n)
                results.append([Completion(text, reason) for text, reason in pairs])
            return results

    return StubBackend


def _stub_step_class():
    from datatrove.data import Document
    from datatrove.pipeline.base import PipelineStep

    from eax_data.builders.generate import GenerateCandidates
    from eax_data.generation.base import task_seed
    from eax_data.prompts import clean_output
    from eax_data.schema import CANDIDATE_INDEX, FINISH_REASON, GENERATOR, SRC_LANG, SRC_TEXT, TASK_ID, TRG_LANG

    class StubGenerateCandidates(PipelineStep):
        """Emits what GenerateCandidates emits, without prompts, model or checkpoints."""

        name = "🧪 stub generation"
        type = GenerateCandidates.type
        reads = GenerateCandidates.reads
        writes = GenerateCandidates.writes

        def __init__(self, sampling):
            super().__init__()
            self.sampling = sampling
            self.stub = StubCandidates()

        def run(self, data, rank: int = 0, world_size: int = 1):
            n, stop, base_seed = self.sampling.n, self.sampling.stop, self.sampling.seed
            for task in data:
                meta = task.metadata
                pairs = self.stub.completions(meta[SRC_LANG], meta[TRG_LANG], task.text, task_seed(base_seed, task.id), n)
                self.stat_update("generated_tasks")
                self.stat_update("candidates_generated", value=len(pairs))
                for index, (text, reason) in enumerate(pairs):
                    metadata = {
                        **meta,
                        TASK_ID: task.id,
                        SRC_TEXT: task.text,
                        CANDIDATE_INDEX: index,
                        FINISH_REASON: reason,
                        GENERATOR: "stub:cpu_stages",
                    }
                    yield Document(text=clean_output(text, stop), id=f"{task.id}/{index}", metadata=metadata)

    return StubGenerateCandidates


def _hash_scorer():
    from eax_data.scoring.base import Scorer

    class HashScorer(Scorer):
        """Replaces the embedding model: crc32 of the candidate, scaled to [0, 1]."""

        kind = "stub"

        @property
        def id(self) -> str:
            return "stub:crc32"

        def describe(self) -> dict:
            return {"kind": "stub", "model": "crc32"}

        def _score(self, anchors, candidates, **_):
            return [zlib.crc32(text.encode()) / 4294967295.0 for text in candidates]

    return HashScorer()


# -- stages -----------------------------------------------------------------------------------


def make_recipe(corpus: str, out: str, candidates: int):
    from eax_data.recipe import recipe_from_dict

    return recipe_from_dict(
        {
            "name": "cpu-stages-benchmark",
            "languages": list(LANGUAGES),
            "corpus": {"kind": "english_centric", "path": corpus, "format": "parquet", "id": "synthetic"},
            "sampling": {"n": candidates},
            "execution": {"executor": "local", "workers": 1, "tasks": 1},
            "output": out,
        },
        source="<cpu_stages benchmark>",
    )


def candidates_steps(recipe, out: str, generator: str) -> list:
    import functools

    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import ParquetWriter

    from eax_data.builders.contracts import check_fields
    from eax_data.builders.filters import build_candidate_filters
    from eax_data.builders.generate import GenerateCandidates
    from eax_data.builders.score import ScoreCandidates
    from eax_data.pipelines import stages
    from eax_data.schema import CANDIDATE_SCHEMA, TASK_FIELDS

    if generator == "backend":
        generate = GenerateCandidates(
            backend_factory=_stub_backend_class(),
            sampling=recipe.sampling,
            prompt_template=recipe.prompt.generation,
            checkpoint_dir=os.path.join(out, stages.CHECKPOINTS),
            fingerprint=stages.generation_fingerprint(recipe),
            chunk_size=recipe.execution.chunk_size,
        )
    else:
        generate = _stub_step_class()(recipe.sampling)
    exclusion = functools.partial(stages._excluded_writer, out) if recipe.filters.keep_excluded else None
    steps = [
        JsonlReader(os.path.join(out, stages.TASKS)),
        generate,
        *build_candidate_filters(recipe.filters, exclusion),
        ScoreCandidates(_hash_scorer(), batch_size=recipe.scorer.batch_size),
        ParquetWriter(
            os.path.join(out, stages.CANDIDATES),
            output_filename="${rank}.parquet",
            schema=CANDIDATE_SCHEMA,
            adapter=stages._candidate_adapter,
        ),
    ]
    check_fields(steps, provided=TASK_FIELDS)
    return steps


def _metric(stage_stats: dict, step_part: str, key: str) -> int:
    return int(sum(m.get(key, 0) for name, m in stage_stats.items() if step_part in name))


def _du(path: str) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total


def _rss_mib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024  # KiB on Linux


def run_child(args) -> dict:
    """One stage of one scale in this (fresh) process; returns its figures."""
    work = args.workdir
    corpus, out = os.path.join(work, "corpus.parquet"), os.path.join(work, "out")
    result = {"stage": args._child}
    if args._child == "corpus":
        started = time.perf_counter()
        result |= write_corpus(corpus, args.rows)
        result["seconds"] = time.perf_counter() - started
        result["peak_rss_mib"] = _rss_mib()
        return result

    from eax_data.pipelines import stages
    from eax_data.pipelines.executors import make_executor
    from eax_data.pipelines.stats import drops_by_reason, merge_stage_stats

    recipe = make_recipe(corpus, out, args.candidates)
    if args._child == "tasks":
        pipeline = stages.tasks_pipeline(recipe, out)
    elif args._child == "candidates":
        pipeline = candidates_steps(recipe, out, args.generator)
    else:
        pipeline = stages.pairs_pipeline(recipe, out)
    log_dir = os.path.join(work, "logs", args._child)
    executor = make_executor(recipe.execution, pipeline, log_dir, tasks=1, workers=1, skip_completed=False)
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    load0 = os.getloadavg()[0]
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    executor.run()
    result["seconds"] = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
        os.makedirs(args.profile, exist_ok=True)
        profiler.dump_stats(os.path.join(args.profile, f"{args._child}-{args.rows}.prof"))
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    result["cpu_seconds"] = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    result["load_average"] = [round(load0, 2), round(os.getloadavg()[0], 2)]  # other work on the machine
    result["peak_rss_mib"] = _rss_mib()
    stats = merge_stage_stats(log_dir)
    result["drops"] = drops_by_reason({args._child: stats})
    if args._child == "tasks":
        result["rows"] = _metric(stats, "Anchor", "rows")
        result["anchored"] = _metric(stats, "Anchor", "anchored_sentences")
        result["tasks"] = _metric(stats, "Expand", "tasks")
        result["bytes_tasks"] = _du(os.path.join(out, stages.TASKS))
    elif args._child == "candidates":
        result["tasks"] = _metric(stats, "generation", "generated_tasks")
        result["candidates"] = _metric(stats, "generation", "candidates_generated")
        result["kept"] = _metric(stats, "scorer", "scored")
        result["bytes_candidates"] = _du(os.path.join(out, stages.CANDIDATES))
        result["bytes_excluded"] = _du(os.path.join(out, stages.EXCLUDED))
        result["bytes_checkpoints"] = _du(os.path.join(out, stages.CHECKPOINTS))
        result["checkpoint_files"] = sum(len(f) for _, _, f in os.walk(os.path.join(out, stages.CHECKPOINTS)))
    else:
        result["tasks"] = _metric(stats, "pairs", "tasks")
        result["pairs"] = _metric(stats, "pairs", "pairs")
        result["bytes_data"] = _du(os.path.join(out, stages.DATA))
    return result


# -- parent -----------------------------------------------------------------------------------


def _spawn(args, stage: str, rows: int, workdir: str) -> dict:
    command = [
        sys.executable, os.path.abspath(__file__), "--_child", stage, "--workdir", workdir, "--rows", str(rows),
        "--candidates", str(args.candidates), "--generator", args.generator,
    ]
    if args.profile:
        command += ["--profile", args.profile]
    log_path = os.path.join(workdir, f"{stage}.log")
    with open(log_path, "w") as log:
        process = subprocess.run(command, stdout=subprocess.PIPE, stderr=log, text=True)
    lines = [line for line in process.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if process.returncode != 0 or not lines:
        tail = Path(log_path).read_text(errors="replace")[-4000:]
        raise SystemExit(f"stage {stage} ({rows} rows) failed with exit code {process.returncode}:\n{tail}")
    return json.loads(lines[-1].removeprefix(RESULT_PREFIX))


def _code_version() -> str | None:
    """The commit measured ("+dirty": with local changes outside benchmarks/), or None outside a git checkout."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=True)
        dirty = subprocess.run(  # local changes to the measured code, not to the benchmarks
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!benchmarks"], cwd=root, capture_output=True, text=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def run_scale(args, scale: int) -> dict:
    rows = args.rows * scale
    base = args.tmp or tempfile.gettempdir()
    workdir = tempfile.mkdtemp(prefix=f"cpu_stages_{rows}_", dir=base)
    print(f"[{scale}x] {rows:,} rows in {workdir}", file=sys.stderr, flush=True)
    figures = {"scale": scale, "rows": rows, "candidates_per_task": args.candidates, "generator": args.generator,
               "code": _code_version(), "stages": {}}
    try:
        for stage in ("corpus", *STAGES):
            figures["stages"][stage] = result = _spawn(args, stage, rows, workdir)
            print(f"[{scale}x] {stage}: {result['seconds']:.1f} s, peak RSS {result['peak_rss_mib']:.0f} MiB, "
                  f"disk {_du(workdir) / 2**30:.2f} GiB", file=sys.stderr, flush=True)
            if stage == "candidates" and not args.keep:
                # resuming is not measured here; free the disk before the pairs stage
                shutil.rmtree(os.path.join(workdir, "out", "checkpoints"), ignore_errors=True)
        figures["disk_peak_gib"] = None  # filled below from the per-stage byte counts
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    s = figures["stages"]
    corpus_bytes = s["corpus"]["bytes"]
    figures["disk_peak_gib"] = round(
        (corpus_bytes + s["tasks"]["bytes_tasks"] + s["candidates"]["bytes_checkpoints"]
         + s["candidates"]["bytes_candidates"] + s["candidates"]["bytes_excluded"]) / 2**30, 2
    )
    seconds = sum(s[stage]["seconds"] for stage in STAGES)
    figures["total"] = {
        "seconds": seconds,
        "cpu_seconds": sum(s[stage]["cpu_seconds"] for stage in STAGES),
        "tasks": s["tasks"]["tasks"],
        "candidates": s["candidates"]["candidates"],
        "kept_candidates": s["candidates"]["kept"],
        "pairs": s["pairs"]["pairs"],
        "rows_per_s": rows / seconds,
        "tasks_per_s": s["tasks"]["tasks"] / seconds,
        "candidates_per_s": s["candidates"]["candidates"] / seconds,
        "peak_rss_mib": max(s[stage]["peak_rss_mib"] for stage in STAGES),
    }
    return figures


def print_report(results: list[dict]) -> None:
    header = (f"{'scale':>5} {'stage':<11} {'seconds':>9} {'cpu s':>9} {'rows/s':>9} {'tasks/s':>9} {'cands/s':>9} "
              f"{'peak RSS MiB':>12}")
    print(header)
    print("-" * len(header))
    for fig in results:
        s, rows = fig["stages"], fig["rows"]
        tasks, cands = fig["total"]["tasks"], fig["total"]["candidates"]
        for stage in (*STAGES, "total"):
            r = fig["total"] if stage == "total" else s[stage]
            sec = r["seconds"]
            print(f"{str(fig['scale']) + 'x':>5} {stage:<11} {sec:>9.1f} {r.get('cpu_seconds', float('nan')):>9.1f} {rows / sec:>9,.0f} {tasks / sec:>9,.0f} "
                  f"{cands / sec:>9,.0f} {r['peak_rss_mib']:>12.0f}")
        t = fig["total"]
        print(f"      {rows:,} rows -> {tasks:,} tasks -> {cands:,} candidates ({t['kept_candidates']:,} kept) "
              f"-> {t['pairs']:,} pairs; generator={fig['generator']}, disk peak ~{fig['disk_peak_gib']} GiB")
    groups: dict[tuple, dict] = {}
    for fig in results:  # ratios only between runs of the same setup
        groups.setdefault((fig["candidates_per_task"], fig["generator"]), {})[fig["scale"]] = fig
    for (candidates, generator), by_scale in groups.items():
        if 1 not in by_scale:
            continue
        base = by_scale[1]
        for scale, fig in sorted(by_scale.items()):
            if scale == 1:
                continue
            print(f"\n{scale}x / 1x ratios (input x{fig['rows'] / base['rows']:.0f}, {candidates} candidates per task, generator={generator}):")
            for stage in (*STAGES, "total"):
                a = base["total"] if stage == "total" else base["stages"][stage]
                b = fig["total"] if stage == "total" else fig["stages"][stage]
                print(f"  {stage:<11} time x{b['seconds'] / a['seconds']:.2f}   CPU time x{b['cpu_seconds'] / a['cpu_seconds']:.2f}   "
                      f"peak RSS x{b['peak_rss_mib'] / a['peak_rss_mib']:.2f}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=150_000, help="corpus rows at scale 1 (default 150000)")
    parser.add_argument("--scale", type=int, nargs="+", default=[1, 10], help="input multiples to run (default: 1 10)")
    parser.add_argument("--candidates", type=int, default=4, help="candidates per task (sampling.n, default 4)")
    parser.add_argument("--generator", choices=("backend", "step"), default="backend",
                        help="backend: real GenerateCandidates (prompts, checkpoints) around a stub model; "
                        "step: a stub step emitting the same candidates directly")
    parser.add_argument("--tmp", help="folder for the temporary corpus and outputs (default: the system temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders (and checkpoints)")
    parser.add_argument("--profile", metavar="DIR", help="write a cProfile dump per stage into DIR")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    parser.add_argument("--from-json", metavar="PATH", nargs="+", help="print the table of earlier --json files; run nothing")
    parser.add_argument("--_child", choices=("corpus", *STAGES), help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rows < 1 or args.candidates < 1 or any(s < 1 for s in args.scale):
        parser.error("--rows, --candidates and --scale must be >= 1")

    if args._child:
        print(RESULT_PREFIX + json.dumps(run_child(args)), flush=True)
        return

    if args.from_json:
        print_report([fig for path in args.from_json for fig in json.loads(Path(path).read_text())["results"]])
        return
    results = []
    for scale in sorted(set(args.scale)):
        results.append(run_scale(args, scale))
        if args.json:  # after every scale, so a long run that is stopped keeps what it measured
            Path(args.json).write_text(json.dumps({"rows": args.rows, "results": results}, indent=2) + "\n")
    print_report(results)


if __name__ == "__main__":
    main()
