"""SFT lines as token sequences whose loss mask marks exactly the assistant's tokens.

A line is one JSON object, of either kind (`export --format sft` and its token-exact variant):
- messages: `{"messages": [...], "tools": [...], "meta": {...}}` in OpenAI chat form. It is rendered with the
  model directory's own chat template and tools, as vLLM renders the RL path's turns (tool-call `arguments`
  parsed from their JSON string into an object first, as vLLM does), and tokenised without added special
  tokens. Each assistant turn's tokens are the rendering up to and including that turn minus the rendering of
  the turns before it with the generation prompt; the turn's end-of-turn token is labelled, the template's glue
  after it is not. A template whose renderings do not extend each other cannot be split this way: refused.
- tokens: `{"input_ids": [...], "labels": [...], "meta": {...}}`, labels -100 off the assistant's tokens and
  the token's own id on them.

Every problem names the file and the line; nothing is trained on from a file with a bad line."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .errors import SweSelfplayError

IGNORED_LABEL = -100
ROLES = ("system", "user", "assistant", "tool")


class SftLineError(SweSelfplayError):
    """A line of an SFT file that cannot be trained on; the message names the file and the line."""

    def __init__(self, path: str | Path, line: int, reason: str):
        self.path, self.line, self.reason = str(path), line, reason
        super().__init__(f"{path}:{line}: {reason}")


@dataclass(frozen=True)
class SftExample:
    #: The line's number in its file (1-based).
    line: int
    tokens: list[int]
    #: 1 on the tokens the loss is taken on (the assistant's), 0 elsewhere.
    mask: list[int]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def labelled(self) -> int:
        return sum(self.mask)


@dataclass
class SftData:
    examples: list[SftExample]
    lines: int = 0
    #: Lines cut to the maximum length (their tail dropped).
    truncated: int = 0
    #: Lines left out: longer than the maximum length (skip mode), or nothing labelled left after the cut.
    skipped: int = 0

    @property
    def tokens(self) -> int:
        return sum(len(example.tokens) for example in self.examples)

    @property
    def labelled(self) -> int:
        return sum(example.labelled for example in self.examples)


def _vllm_arguments(call: Any) -> dict[str, Any]:
    """A tool call with its `arguments` as an object (chat templates expect a mapping, and vLLM parses the
    OpenAI form's JSON string before rendering)."""
    if not isinstance(call, dict):
        raise ValueError("a tool call is not an object")
    function = call.get("function", call)
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        raise ValueError("a tool call has no function name")
    arguments = function.get("arguments")
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError as error:
            raise ValueError(f"tool call {function['name']!r}: arguments are not JSON ({error.msg})") from None
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise ValueError(f"tool call {function['name']!r}: arguments are not a JSON object")
    return {**call, "function": {**function, "arguments": arguments}} if "function" in call else {
        **call, "arguments": arguments}


def vllm_tools(tools: Any) -> list[dict[str, Any]] | None:
    """The tools as vLLM hands them to the chat template (its request model dumped: `type`, then `function`
    with `name`, `description` and `parameters`, null when absent, in that order; `tojson` keeps the order)."""
    if tools is None or tools == []:
        return None
    if not isinstance(tools, list):
        raise ValueError("tools is not a list")
    result = []
    for index, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise ValueError(f"tools[{index}] is not a function tool with a name")
        dumped = {"name": function["name"], "description": function.get("description"),
                  "parameters": function.get("parameters")}
        for optional in ("strict", "defer_loading"):
            if function.get(optional) is not None:
                dumped[optional] = function[optional]
        result.append({"type": tool.get("type", "function"), "function": dumped})
    return result


def checked_messages(messages: Any) -> list[dict[str, Any]]:
    if not isinstance(messages, list) or not messages:
        raise ValueError("messages is not a non-empty list")
    result = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise ValueError(f"messages[{index}] has no role of {', '.join(ROLES)}")
        content = message.get("content")
        if content is not None and not isinstance(content, str):
            raise ValueError(f"messages[{index}].content is not a string")
        message = {**message, "content": content or ""}
        calls = message.get("tool_calls")
        if calls is not None:
            if not isinstance(calls, list):
                raise ValueError(f"messages[{index}].tool_calls is not a list")
            message["tool_calls"] = [_vllm_arguments(call) for call in calls]
        result.append(message)
    if not any(message["role"] == "assistant" for message in result):
        raise ValueError("no assistant message to learn from")
    return result


def render_messages(tokenizer: Any, messages: list[dict[str, Any]],
                    tools: list[dict[str, Any]] | None) -> tuple[list[int], list[int]]:
    """(tokens, mask) of a conversation: the mask is 1 on each assistant turn's tokens and its end of turn."""

    def encode(upto: int, generation_prompt: bool) -> list[int]:
        text = tokenizer.apply_chat_template(messages[:upto], tools=tools, tokenize=False,
                                             add_generation_prompt=generation_prompt)
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])

    tokens = encode(len(messages), False)
    mask = [0] * len(tokens)
    end_of_turn = tokenizer.eos_token_id
    for index, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        before, through = encode(index, True), encode(index + 1, False)
        if through[:len(before)] != before or tokens[:len(through)] != through:
            raise ValueError(f"the chat template's rendering is not prefix-consistent at messages[{index}] "
                             "(assistant): its tokens cannot be told apart from the rest")
        span = range(len(before), len(through))
        ends = [position for position in span if tokens[position] == end_of_turn]
        for position in range(len(before), ends[-1] + 1 if ends else len(through)):
            mask[position] = 1
    return tokens, mask


def token_line(record: dict[str, Any], vocabulary: int | None) -> tuple[list[int], list[int]]:
    ids, labels = record.get("input_ids"), record.get("labels")
    if not isinstance(ids, list) or not isinstance(labels, list):
        raise ValueError("input_ids and labels must both be lists")
    if len(ids) != len(labels):
        raise ValueError(f"{len(ids)} input_ids but {len(labels)} labels")
    for index, (token, label) in enumerate(zip(ids, labels)):
        if not isinstance(token, int) or isinstance(token, bool) or token < 0 or (vocabulary and token >= vocabulary):
            raise ValueError(f"input_ids[{index}] is {token!r}, not a token id of the model")
        if label != IGNORED_LABEL and label != token:
            raise ValueError(f"labels[{index}] is {label!r}: expected {IGNORED_LABEL} or the token's id {token}")
    mask = [0 if label == IGNORED_LABEL else 1 for label in labels]
    if mask and mask[0]:
        raise ValueError("labels[0] is labelled, but the first token has nothing before it to predict it")
    return list(ids), mask


def read_sft_file(path: str | Path, tokenizer: Callable[[], Any], *, max_length: int, overlong: str = "skip",
                  vocabulary: int | None = None) -> SftData:
    """Every line as an example (blank lines aside); `tokenizer()` is called once, at the first messages line.
    Raises SftLineError at the first bad line."""
    data = SftData(examples=[])
    loaded: list[Any] = []
    with open(path, encoding="utf-8") as file:
        for number, text in enumerate(file, start=1):
            if not text.strip():
                continue
            data.lines += 1
            try:
                record = json.loads(text)
                if not isinstance(record, dict):
                    raise ValueError("not a JSON object")
                if "messages" in record:
                    messages, tools = checked_messages(record["messages"]), vllm_tools(record.get("tools"))
                    if not loaded:
                        loaded.append(tokenizer())
                    tokens, mask = render_messages(loaded[0], messages, tools)
                elif "input_ids" in record:
                    tokens, mask = token_line(record, vocabulary)
                else:
                    raise ValueError("neither messages nor input_ids: not an SFT line")
            except json.JSONDecodeError as error:
                raise SftLineError(path, number, f"not JSON ({error.msg})") from None
            except ValueError as error:
                raise SftLineError(path, number, str(error)) from None
            if not any(mask):
                raise SftLineError(path, number, "no assistant token to learn from")
            if len(tokens) > max_length:
                if overlong == "skip" or not any(mask[:max_length]):
                    data.skipped += 1
                    continue
                tokens, mask = tokens[:max_length], mask[:max_length]
                data.truncated += 1
            meta = record.get("meta") if isinstance(record.get("meta"), dict) else {}
            data.examples.append(SftExample(line=number, tokens=tokens, mask=mask, meta=meta))
    return data
