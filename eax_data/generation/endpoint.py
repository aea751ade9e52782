"""Any OpenAI-compatible server (``vllm serve``, ``transformers serve``, a hosted API).

One request per sample (some servers ignore ``n``), each with its own seed, sent concurrently.
The API key is read from the environment variable the recipe names, never from the recipe.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

from eax_data.generation.base import Completion, GenerationBackend, GenerationError
from eax_data.recipe import GeneratorConfig, SamplingConfig

_RETRIES = 4


class EndpointBackend(GenerationBackend):
    def __init__(self, config: GeneratorConfig, chat_template: bool = True, transport=None):
        import httpx

        self.config = config
        self.chat_template = chat_template
        self.base_url = config.endpoint_url.rstrip("/")
        if not self.base_url.endswith("/v1"):
            self.base_url += "/v1"
        headers = {}
        if config.api_key_env:
            key = os.environ.get(config.api_key_env)
            if not key:
                raise GenerationError(f"generator.api_key_env: environment variable {config.api_key_env} is not set")
            headers["Authorization"] = f"Bearer {key}"
        self.client = httpx.Client(headers=headers, timeout=httpx.Timeout(600.0, connect=10.0), transport=transport)

    @property
    def id(self) -> str:
        return f"{self.config.model}@{self.config.revision or 'endpoint'}"

    def _request(self, message: str, sampling: SamplingConfig, seed: int) -> Completion:
        import httpx

        body = {
            "model": self.config.model,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_new_tokens,
            "seed": seed,
            "n": 1,
        }
        if self.chat_template:
            route, body["messages"] = "/chat/completions", [{"role": "user", "content": message}]
        else:
            route, body["prompt"] = "/completions", message
        for attempt in range(_RETRIES):
            try:
                response = self.client.post(self.base_url + route, json=body)
                if response.status_code < 500:
                    break
            except httpx.TransportError as err:
                if attempt == _RETRIES - 1:
                    raise GenerationError(f"{self.base_url}{route}: {err}") from err
            time.sleep(2**attempt)
        if response.status_code != 200:
            raise GenerationError(f"{self.base_url}{route}: HTTP {response.status_code}: {response.text[:300]}")
        choice = response.json()["choices"][0]
        text = choice["message"].get("content") or "" if self.chat_template else choice.get("text") or ""
        return Completion(text, choice.get("finish_reason"))

    def generate(self, messages: list[str], sampling: SamplingConfig, seeds: list[int]) -> list[list[Completion]]:
        jobs = [(m, seed + k) for m, seed in zip(messages, seeds) for k in range(sampling.n)]
        with ThreadPoolExecutor(max_workers=self.config.batch_size) as pool:
            flat = list(pool.map(lambda job: self._request(job[0], sampling, job[1]), jobs))
        n = sampling.n
        return [flat[i * n : (i + 1) * n] for i in range(len(messages))]

    def close(self) -> None:
        self.client.close()
