"""SFT lines to token sequences: the assistant tokens marked by the real Qwen2.5 chat template (the vLLM model's
directory, SWE_SELFPLAY_VLLM_MODEL), token lines as given, and bad lines refused with their line number."""

import json
import os

import pytest
from test_adapters import tokenizer_dir

from swe_selfplay.sft_data import SftLineError, checked_messages, read_sft_file, render_messages, vllm_tools

MODEL_DIR = os.environ.get("SWE_SELFPLAY_VLLM_MODEL") or tokenizer_dir()

TOOLS = [{"type": "function", "function": {"name": "bash", "description": "Run a shell command.",
                                           "parameters": {"type": "object",
                                                          "properties": {"command": {"type": "string"}},
                                                          "required": ["command"]}}}]
CONVERSATION = [
    {"role": "system", "content": "You repair bugs."},
    {"role": "user", "content": "The test test_add fails."},
    {"role": "assistant", "content": "",
     "tool_calls": [{"id": "call_1", "type": "function",
                     "function": {"name": "bash", "arguments": "{\"command\": \"pytest -q\"}"}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "1 failed"},
    {"role": "assistant", "content": "Fixed."},
]


@pytest.fixture(scope="module")
def tokenizer():
    if not MODEL_DIR:
        pytest.skip("no prepared model directory (scripts/prepare-vllm.sh; SWE_SELFPLAY_VLLM_MODEL)")
    transformers = pytest.importorskip("transformers")
    return transformers.AutoTokenizer.from_pretrained(MODEL_DIR)


def spans(tokens, mask):
    """The runs of marked tokens."""
    runs, current = [], []
    for token, flag in zip(tokens, mask):
        if flag:
            current.append(token)
        elif current:
            runs.append(current)
            current = []
    return runs + ([current] if current else [])


def test_exactly_the_assistant_turns_and_their_end_of_turn_tokens_are_marked(tokenizer):
    tokens, mask = render_messages(tokenizer, checked_messages(CONVERSATION), vllm_tools(TOOLS))
    # The whole sequence is the template's rendering, as vLLM renders it (arguments as an object).
    rendered = tokenizer.apply_chat_template(
        [*CONVERSATION[:2], {**CONVERSATION[2], "tool_calls": [{"id": "call_1", "type": "function", "function": {
            "name": "bash", "arguments": {"command": "pytest -q"}}}]}, *CONVERSATION[3:]],
        tools=vllm_tools(TOOLS), tokenize=False)
    assert tokenizer.decode(tokens) == rendered
    assert [tokenizer.decode(run) for run in spans(tokens, mask)] == [
        '<tool_call>\n{"name": "bash", "arguments": {"command": "pytest -q"}}\n</tool_call><|im_end|>',
        "Fixed.<|im_end|>",
    ]
    # Everything else (system prompt with the tools, user turn, tool output, the generation prompts and the
    # newline after each end of turn) is context only.
    unmarked = tokenizer.decode([token for token, flag in zip(tokens, mask) if not flag])
    assert unmarked.endswith("<|im_start|>user\n<tool_response>\n1 failed\n</tool_response><|im_end|>\n"
                             "<|im_start|>assistant\n\n")
    assert '"name": "bash"' in unmarked.split("\n</tools>")[0] and "The test test_add fails." in unmarked


def test_a_messages_line_and_its_token_line_give_the_same_example(tmp_path, tokenizer):
    tokens, mask = render_messages(tokenizer, checked_messages(CONVERSATION), vllm_tools(TOOLS))
    path = tmp_path / "sft.jsonl"
    labels = [token if flag else -100 for token, flag in zip(tokens, mask)]
    path.write_text(json.dumps({"messages": CONVERSATION, "tools": TOOLS, "meta": {"role": "solver"}}) + "\n\n"
                    + json.dumps({"input_ids": tokens, "labels": labels}) + "\n")
    data = read_sft_file(path, lambda: tokenizer, max_length=4096)
    assert data.lines == 2 and [example.line for example in data.examples] == [1, 3]
    assert data.examples[0].tokens == data.examples[1].tokens and data.examples[0].mask == data.examples[1].mask
    assert data.examples[0].meta == {"role": "solver"}


def test_a_template_whose_renderings_do_not_extend_each_other_is_refused_with_the_line(tmp_path, tokenizer):
    import copy

    counting = copy.deepcopy(tokenizer)
    # The system prompt names the number of messages: the rendering of a prefix is no prefix of the whole.
    counting.chat_template = ("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }} "
                              "({{ messages|length }})<|im_end|>\n{% endfor %}"
                              "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    path = tmp_path / "sft.jsonl"
    path.write_text(json.dumps({"messages": CONVERSATION[:2] + [{"role": "assistant", "content": "ok"}]}) + "\n")
    with pytest.raises(SftLineError, match=r"sft\.jsonl:1: the chat template's rendering is not "
                                           r"prefix-consistent at messages\[2\]"):
        read_sft_file(path, lambda: counting, max_length=4096)


@pytest.mark.parametrize("line, reason", [
    ("{not json", "not JSON"),
    (json.dumps([1, 2]), "not a JSON object"),
    (json.dumps({"text": "hello"}), "neither messages nor input_ids"),
    (json.dumps({"input_ids": [1, 2, 3], "labels": [-100, 2]}), "3 input_ids but 2 labels"),
    (json.dumps({"input_ids": [1, 2, 3], "labels": [-100, 7, 3]}), "labels[1] is 7: expected -100 or the token's id 2"),
    (json.dumps({"input_ids": [1, 2, 99], "labels": [-100, 2, 99]}), "input_ids[2] is 99, not a token id"),
    (json.dumps({"input_ids": [1, 2], "labels": [1, 2]}), "labels[0] is labelled"),
    (json.dumps({"input_ids": [1, 2], "labels": [-100, -100]}), "no assistant token to learn from"),
    (json.dumps({"messages": [{"role": "user", "content": "hi"}]}), "no assistant message"),
    (json.dumps({"messages": [{"role": "robot", "content": "hi"}]}), "messages[0] has no role"),
    (json.dumps({"messages": [{"role": "assistant", "content": "", "tool_calls": [
        {"type": "function", "function": {"name": "bash", "arguments": "{broken"}}]}]}),
     "tool call 'bash': arguments are not JSON"),
    (json.dumps({"messages": [{"role": "assistant", "content": "x"}], "tools": [{"type": "function"}]}),
     "tools[0] is not a function tool"),
])
def test_a_bad_line_is_refused_with_its_file_and_line_number(tmp_path, line, reason):
    path = tmp_path / "bad.jsonl"
    good = json.dumps({"input_ids": [1, 2, 3], "labels": [-100, 2, 3]})
    path.write_text(f"{good}\n{good}\n{line}\n{good}\n")

    def no_tokenizer():
        raise AssertionError("a bad line is refused before any tokenizer is loaded")

    with pytest.raises(SftLineError) as raised:
        read_sft_file(path, no_tokenizer, max_length=100, vocabulary=64)
    assert str(raised.value).startswith(f"{path}:3: ") and reason in str(raised.value), str(raised.value)


def test_overlong_lines_are_skipped_or_truncated_and_counted(tmp_path):
    path = tmp_path / "long.jsonl"
    lines = [{"input_ids": [1, 2, 3, 4, 5, 6], "labels": [-100, -100, 3, 4, 5, 6]},
             {"input_ids": [1, 2, 3, 4, 5, 6], "labels": [-100, -100, -100, -100, 5, 6]},
             {"input_ids": [1, 2, 3], "labels": [-100, 2, 3]}]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    skipped = read_sft_file(path, lambda: None, max_length=4)
    assert (len(skipped.examples), skipped.skipped, skipped.truncated) == (1, 2, 0)
    cut = read_sft_file(path, lambda: None, max_length=4, overlong="truncate")
    # The second line has nothing labelled in its first 4 tokens: skipped even in truncate mode.
    assert (len(cut.examples), cut.skipped, cut.truncated) == (2, 1, 1)
    assert cut.examples[0].tokens == [1, 2, 3, 4] and cut.examples[0].mask == [0, 0, 1, 1]
    assert (cut.tokens, cut.labelled) == (7, 4)
