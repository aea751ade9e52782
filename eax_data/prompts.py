"""Prompts of the EAX method and the cleaning of model output.

Generation uses the EAxT prompt (source + English reference). The published ``prompt`` is the
*direct* x->y prompt without the reference, because the trained model will not see English at
inference time.
"""

from __future__ import annotations

import hashlib

from eax_data import languages

# The paper's evaluation template; also the default training prompt.
DIRECT_TEMPLATE = "Translate the following text from {src} into {trg}:\n{src}: {source}\n{trg}:"

# The paper's 20 diverse instruction templates (NJUNLP/EAX utils/prompts.py), {source} = x.
DIVERSE_TEMPLATES = (
    "Translate the below text from {src} to {trg}.\nSource: {source}\nTarget:",
    "Source: {source}\nYour task is to translate the following text from {src} into {trg}.\nTarget:",
    "Please provide a translation from {src} to {trg} for the following text:\n{source}\nTarget:",
    "Source: {source}\nTranslate the source text from {src} to {trg}.\nTarget:",
    "Please translate the following text:\n{src} Source: {source}\n{trg} Target:",
    "Source: {source}\nTranslate from {src} to {trg}.\nTarget:",
    "Please translate this text from {src} into {trg}.\nSource: {source}\nTarget:",
    "Translate this {src} text into {trg}:\nSource: {source}\nTranslation:",
    "{src} Source: {source}\n{trg} Translation:",
    "Translate the following text from {src} to {trg}:\nText: {source}\nAnswer:",
    "Translate the following {src} source text to {trg}:\n{src}: {source}\n{trg}:",
    "Source: {source}\nCan you translate the given text from {src} into {trg}?\nTarget:",
    "Translate the text below from {src} to {trg}:\n{source}\nTarget Translation:",
    "Write a translation of the given text from {src} to {trg}.\n{src}: {source}\n{trg}:",
    "Source: {source}\nGiven the text in {src}, translate it into {trg}.\nTarget:",
    "Write the text in {src} in {trg}.\nSource: {source}\nTarget:",
    "From {src} to {trg}, translate the text:\nSource: {source}\nTarget:",
    "Source: {source}\nProvide a translation of the given text from {src} to {trg}.\nTarget:",
    "Make a translation of the given text from {src} to {trg}.\n{src}: {source}\n{trg}:",
    "{src}: {source}\n{trg}:",
)


def generation_template(recipe) -> str:
    """EAxT in x2x builds; the direct prompt in reward_data builds (there the reference is the answer)."""
    return DIRECT_TEMPLATE if recipe.mode == "reward_data" else recipe.prompt.generation


def generation_prompt(template: str, src_lang: str, trg_lang: str, ref_lang: str, source: str, reference: str) -> str:
    """The EAxT prompt: translate ``source`` into ``trg_lang`` with ``reference`` as a guide."""
    return template.format(
        src=languages.name(src_lang),
        trg=languages.name(trg_lang),
        ref=languages.name(ref_lang),
        source=source,
        reference=reference,
    )


def training_prompt(style: str, src_lang: str, trg_lang: str, source: str, task_id: str, seed: int = 0) -> str:
    """The direct x->y prompt stored in the dataset; "diverse" picks a template per task, stably."""
    template = DIRECT_TEMPLATE
    if style == "diverse":
        digest = hashlib.sha256(f"{seed}:{task_id}".encode()).digest()
        template = DIVERSE_TEMPLATES[int.from_bytes(digest[:4], "big") % len(DIVERSE_TEMPLATES)]
    return template.format(src=languages.name(src_lang), trg=languages.name(trg_lang), source=source)


def clean_output(text: str, stop: tuple[str, ...] | list[str] = ("</s>",)) -> str:
    """The paper's post-processing: cut at the first stop string, strip, join lines with "; "."""
    for marker in stop:
        if marker and marker in text:
            text = text[: text.index(marker)]
    text = text.strip()
    if "\n" in text:
        text = "; ".join(line.strip() for line in text.splitlines() if line.strip())
    return text
