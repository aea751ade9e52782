"""Render a build's dataset card (README.md) from its data, stats and recipe.

``render_card_for_folder(folder, release)`` needs only the folder (recipe.yaml, stats.json, data/,
candidates/), so any build output can be re-rendered; ``write_card_for_folder`` also writes the
plots. The card uses nothing but the recipe, the stats and the data: no environment, no tokens.
"""

from __future__ import annotations

import json
import os
from importlib import resources

from eax_data import __version__, languages
from eax_data.prompts import generation_template
from eax_data.cards.changelog import changelog, changelog_markdown, flatten
from eax_data.cards.facts import CardFacts, read_facts
from eax_data.cards.plots import PLOT_FILES, write_plots
from eax_data.cards.release_info import ReleaseInfo

TEMPLATE = "dataset_card.md.j2"
README = "README.md"
LOCAL_PATH = "PATH/TO/THIS/FOLDER"
PARAMETER_SECTIONS = ("mode", "sampling", "pairs", "filters", "prompt", "generator", "scorer", "pivot", "leakage")
HIDDEN_PARAMETERS = {"prompt.generation", "generator.endpoint_url", "generator.api_key_env"}

DROP_REASONS = {
    "malformed_json": "corpus line that is not valid JSON",
    "missing_field": "corpus row without a field its kind needs",
    "unknown_language": "corpus row with an unknown language code",
    "no_english_side": "corpus row without an English side",
    "empty_text": "corpus row with an empty text",
    "duplicate_source": "source sentence seen before in the same language (no new tasks)",
    "empty": "empty candidate",
    "copy_of_source": "candidate copies the source x",
    "copy_of_reference": "candidate copies the English anchor e",
    "length_ratio": "candidate/anchor length ratio outside `filters.length_ratio` (per target language when `per_language`)",
    "truncated_at_token_limit": "generation stopped at `sampling.max_new_tokens` (finish reason `length`)",
    "unbalanced_brackets": "quotes or brackets left open that the anchor closes",
    "truncated_sentence": "candidate ends mid-sentence (`filters.truncation.final_punctuation`)",
    "number_mismatch": "a number of the anchor and source is missing or changed",
    "wrong_script": "too few letters in the target language's script (`filters.script.min_share`)",
    "repetition": "repeated words, n-grams or sentences (degenerate sampling loop)",
    "partial_copy_of_reference": "long spans copied from the English anchor (half-translated)",
    "partial_copy_of_source": "long spans copied from the source sentence",
    "mixed_language_sentence": "a sentence of the candidate is not in the target language (sentence-level LID)",
    "test_overlap_exact": "source or anchor equals a test-set sentence (`leakage`)",
    "test_overlap_near": "source or anchor shares most n-grams with a test-set sentence (`leakage`)",
    "margin_quantile": "pair margin below `pairs.min_margin_quantile` of its direction",
    "direction_balance": "pair beyond its direction's quota (`pairs.direction_temperature`)",
    "duplicate": "candidate repeats another candidate of its task",
    "wrong_language": "language ID: candidate not in the target language",
    "low_language_score": "language-ID probability below `filters.language_id.min_score`",
    "single_candidate": "task with one candidate left: no pair",
    "no_pair": "no candidate beat the lowest one by the pair rule (`pairs.min_margin`, ...)",
    "direction_cap": "pair beyond `pairs.max_per_direction`",
    "task_without_candidates": "task whose every candidate was filtered out",
}

__all__ = ["ReleaseInfo", "counts_matrix", "render_card", "render_card_for_folder", "write_card", "write_card_for_folder"]


def _configs(directions: list[str]) -> list[dict]:
    configs = [{"config_name": "all", "data_files": [{"split": "train", "path": "data/*/*.parquet"}], "default": True}]
    configs += [{"config_name": d, "data_files": [{"split": "train", "path": f"data/{d}/*.parquet"}]} for d in directions]
    return configs


def matrix_languages(recipe) -> list[str]:
    """Axis of the counts matrix: the non-English languages (x2x), plus English (reward_data)."""
    codes = [c for c in recipe.languages if c != languages.ENGLISH]
    return [languages.ENGLISH, *codes] if recipe.mode == "reward_data" else codes


def counts_matrix(pairs: dict[str, int], codes: list[str]) -> str:
    """Markdown src x trg table of pair counts with totals (``codes``: the axis, in order)."""
    non_en = list(codes)
    header = "| src \\ trg | " + " | ".join(non_en) + " | total |"
    lines = [header, "|" + "---|" * (len(non_en) + 2)]
    column_totals = {c: 0 for c in non_en}
    for src in non_en:
        cells, row_total = [], 0
        for trg in non_en:
            if src == trg:
                cells.append("–")
                continue
            count = pairs.get(f"{src}-{trg}", 0)
            cells.append(str(count))
            row_total += count
            column_totals[trg] += count
        lines.append(f"| **{src}** | " + " | ".join(cells) + f" | {row_total} |")
    lines.append("| **total** | " + " | ".join(str(column_totals[c]) for c in non_en) + f" | {sum(column_totals.values())} |")
    return "\n".join(lines)


_SIZES = ("n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "10M<n<100M", "100M<n<1B", "1B<n<10B", "10B<n<100B", "100B<n<1T")


def _size_category(n: int) -> str:
    """The Hub's ``size_categories`` label of ``n`` rows."""
    for power, label in enumerate(_SIZES, start=3):
        if n < 10**power:
            return label
    return "n>1T"


def _card_data(facts: CardFacts):
    from huggingface_hub import DatasetCardData

    codes = list(facts.recipe.languages)
    if languages.ENGLISH not in codes:
        codes.append(languages.ENGLISH)  # the English anchor (ref_text) is part of every row
    return DatasetCardData(
        language=codes,
        license=facts.license or "other",
        task_categories=["translation"],
        multilinguality=["translation"],
        annotations_creators=["machine-generated"],
        language_creators=["found", "machine-generated"],
        pretty_name=facts.recipe.name,
        size_categories=[_size_category(facts.total_pairs)],
        tags=["eax", "x2x", "preference", "dpo", "machine-translation"],
        configs=_configs(facts.directions),
    )


def _cell(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return "`" + text.replace("`", "'").replace("|", "\\|").replace("\n", "\\n") + "`"


def _parameters(facts: CardFacts) -> list[tuple[str, str]]:
    plain = facts.recipe.to_dict()
    flat = flatten({section: plain[section] for section in PARAMETER_SECTIONS})
    return [(key, _cell(value)) for key, value in flat.items() if key not in HIDDEN_PARAMETERS]


def _mean(values) -> str:
    import numpy as np

    finite = values[np.isfinite(values)]
    return f"{finite.mean():.4f}" if len(finite) else "–"


def _direction_rows(facts: CardFacts) -> list[list[str]]:
    rows = []
    for name in facts.directions:
        tasks, pairs = facts.tasks.get(name), facts.pairs[name]
        ratio = f"{pairs / tasks:.2f}" if tasks else "–"
        scores = facts.scores.get(name)
        means = [_mean(getattr(scores, c)) for c in ("chosen", "rejected", "margin")] if scores else ["–"] * 3
        rows.append([name, str(tasks) if tasks is not None else "–", str(pairs), ratio, *means])
    return rows


def _balance_matrix(facts: CardFacts) -> str | None:
    """Pairs per direction before per-direction selection (margin quantile, balancing), if it removed any."""
    before = facts.pairs_before_selection
    if not before or before == facts.pairs:
        return None
    return counts_matrix(before, matrix_languages(facts.recipe))


def _scoring_text(recipe) -> str:
    """One paragraph: which scorer(s), against what, and how an ensemble is combined."""
    def one(leaf) -> str:
        what = {"embedding": f"embedding cosine (`{leaf.model}`)", "reward_model": f"reward model `{leaf.model}`",
                "comet": f"COMET `{leaf.model}`", "comet_qe": f"reference-free COMET `{leaf.model}`"}.get(leaf.kind, leaf.kind)
        if leaf.reference == "pivot":
            what += " against a pivot reference (the generator's greedy translation of the English anchor into the target language)"
        elif leaf.reference == "task":
            what += " against the corpus' human translation"
        return what

    anchor = "the source sentence" if recipe.mode == "reward_data" else "the English anchor"
    if recipe.scorer.kind != "ensemble":
        return f"Candidates were scored by {one(recipe.scorer)}; the anchor is {anchor}."
    method = {"z_mean": "mean of per-direction z-scores", "rank_mean": "mean of per-direction percentile ranks (0-100)"}[recipe.scorer.combine]
    members = "; ".join(f"{one(leaf)} (weight {leaf.weight:g})" for leaf in recipe.scorer.members)
    return f"Candidates were scored by an ensemble, combined as the weighted {method}: {members}. The anchor is {anchor}."


def _example_cell(example: dict) -> str:
    """One excluded candidate as a table cell: direction, source, candidate."""
    text = lambda value: value.replace("|", "\\|").replace("\n", " ")  # noqa: E731
    return f"{example['direction']}: {text(example['source'])} → *{text(example['candidate'])}*"


def _example_config(facts: CardFacts) -> str:
    filled = [d for d in facts.directions if facts.pairs[d]]
    return filled[0] if filled else "all"


def _render(facts: CardFacts, release: ReleaseInfo | None, current_dir: str) -> str:
    from huggingface_hub import DatasetCard

    log = None
    if release is not None and release.previous_dir:
        log = changelog_markdown(changelog(release.previous_dir, current_dir), release.previous_revision, release.revision)
    template = resources.files("eax_data.cards").joinpath("templates", TEMPLATE).read_text(encoding="utf-8")
    card = DatasetCard.from_template(
        _card_data(facts),
        template_str=template,
        name=facts.recipe.name,
        tool_version=__version__,
        total_pairs=facts.total_pairs,
        n_directions=len([d for d in facts.directions if facts.pairs[d]]),
        total_tasks=sum(facts.tasks.values()),
        matrix=counts_matrix(facts.pairs, matrix_languages(facts.recipe)),
        balance_matrix=_balance_matrix(facts),
        generation_template=generation_template(facts.recipe),
        scoring=_scoring_text(facts.recipe),
        direction_rows=_direction_rows(facts),
        directions=facts.directions,
        plots=list(PLOT_FILES) if facts.total_pairs else [],
        proxy_validation=facts.proxy_validation,
        leakage=facts.leakage,
        load_path=release.repo_id if release else LOCAL_PATH,
        load_revision=f', revision="{release.revision}"' if release else "",
        example_config=_example_config(facts),
        recipe=facts.recipe,
        license_id=facts.license,
        generators=facts.generators,
        scorers=facts.scorers,
        parameters=_parameters(facts),
        fingerprint=facts.fingerprint,
        drops=[(reason, count, DROP_REASONS.get(reason, "")) for reason, count in facts.drops.items()],
        drop_examples=[(reason, [_example_cell(e) for e in rows]) for reason, rows in facts.drop_examples.items()],
        release=release,
        changelog=log,
    )
    return str(card).rstrip("\n") + "\n"


def render_card_for_folder(folder: str, release: ReleaseInfo | None = None) -> str:
    """The README.md text of a build folder (plots are linked, not written: see write_card_for_folder)."""
    return _render(read_facts(folder), release, folder)


def write_card_for_folder(folder: str, release: ReleaseInfo | None = None) -> str:
    """Write ``assets/*.png`` and ``README.md`` into a build folder; returns the README path."""
    facts = read_facts(folder)
    write_plots(folder, facts.scores)
    return _write(folder, _render(facts, release, folder))


def render_card(recipe, out: str, result) -> str:
    """The card of a build that just finished (``result`` is its BuildResult)."""
    return _render(read_facts(out, recipe, result), None, out)


def write_card(recipe, out: str, result) -> str:
    """Plots and README.md for pipelines/build.finish; same card as ``write_card_for_folder(out)``."""
    facts = read_facts(out, recipe, result)
    write_plots(out, facts.scores)
    return _write(out, _render(facts, None, out))


def _write(folder: str, text: str) -> str:
    path = os.path.join(folder, README)
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    return path
