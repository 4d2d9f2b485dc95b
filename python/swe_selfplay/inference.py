"""The inference server's side of the loop (vLLM's OpenAI server): hot-loads and unloads LoRA adapters
(vLLM started with `--enable-lora` and VLLM_ALLOW_RUNTIME_LORA_UPDATING=True), lists what it serves, and
scores a fixed token sequence (`prompt_logprobs`) to compare versions with the trainer."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from .errors import ServiceError


class InferenceError(ServiceError):
    """The inference server refused or failed an administrative call."""


@dataclass
class VllmAdmin:
    #: The server's root, e.g. http://127.0.0.1:8000 (the OpenAI routes are under /v1).
    root_url: str
    timeout_s: float = 600.0

    def __post_init__(self) -> None:
        self.root_url = self.root_url.rstrip("/").removesuffix("/v1")

    def _post(self, path: str, body: dict[str, Any]) -> str:
        request = urllib.request.Request(
            self.root_url + path,
            data=json.dumps(body).encode("utf-8"),
            method="POST",
            headers={"content-type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", "replace")[:500]
            raise InferenceError(f"{self.root_url}{path}: HTTP {error.code}: {detail}") from None
        except urllib.error.URLError as error:
            raise InferenceError(f"{self.root_url}{path}: {error.reason}") from None

    def models(self) -> list[str]:
        try:
            with urllib.request.urlopen(self.root_url + "/v1/models", timeout=self.timeout_s) as response:
                return [entry["id"] for entry in json.loads(response.read())["data"]]
        except urllib.error.URLError as error:
            raise InferenceError(f"{self.root_url}/v1/models: {error.reason}") from None

    def load_adapter(self, name: str, path: str, replace: bool = False) -> None:
        """Serves the adapter at `path` under `name`; `replace` reloads a name already loaded in place."""
        body: dict[str, Any] = {"lora_name": name, "lora_path": str(path)}
        if replace:
            body["load_inplace"] = True
        self._post("/v1/load_lora_adapter", body)

    def unload_adapter(self, name: str) -> None:
        self._post("/v1/unload_lora_adapter", {"lora_name": name})

    def score(self, model: str, tokens: list[int]) -> list[float | None]:
        """The server's logprob of each token given the ones before it (None at position 0)."""
        text = self._post(
            "/v1/completions",
            {"model": model, "prompt": tokens, "max_tokens": 1, "prompt_logprobs": 0, "temperature": 0},
        )
        scored = json.loads(text)["choices"][0]["prompt_logprobs"]
        values: list[float | None] = []
        for index, entry in enumerate(scored):
            if not entry:
                values.append(None)
                continue
            values.append(float(entry[str(tokens[index])]["logprob"]))
        return values
