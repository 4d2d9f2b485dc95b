"""An independent check of `swe-selfplay export --format sft-tokens`: renders each messages line of an
`export --format sft` file with transformers' own `apply_chat_template` from the model directory, labels the
assistant turns by rendering successive prefixes, and compares ids and labels with the token lines (which the
export got from the server's `/tokenize`).

Usage: python sft_tokens_reference.py MODEL_DIR SFT_JSONL SFT_TOKENS_JSONL (exit 1 on the first difference).
"""

import json
import sys

from transformers import AutoTokenizer

IGNORED = -100
SENTINEL = "SWESELFPLAYTURNSENTINEL"


def template_messages(messages):
    """Tool-call arguments as objects, as vLLM hands them to the template (malformed JSON becomes {})."""
    shaped = []
    for message in messages:
        message = dict(message)
        if message.get("tool_calls"):
            calls = []
            for call in message["tool_calls"]:
                try:
                    arguments = json.loads(call["function"]["arguments"] or "{}")
                except json.JSONDecodeError:
                    arguments = {}
                if not isinstance(arguments, dict):
                    arguments = {}
                calls.append({**call, "function": {**call["function"], "arguments": arguments}})
            message["tool_calls"] = calls
        shaped.append(message)
    return shaped


def render(tokenizer, messages, tools, generation_prompt):
    text = tokenizer.apply_chat_template(
        template_messages(messages), tools=tools or None, add_generation_prompt=generation_prompt, tokenize=False
    )
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def reference_line(tokenizer, line):
    """The line's ids and labels: each assistant turn's tokens up to and including the one that closes it."""
    messages, tools = line["messages"], line["tools"]
    ids = render(tokenizer, messages, tools, False)
    labels = [IGNORED] * len(ids)
    first = next(index for index, message in enumerate(messages) if message["role"] == "assistant")
    head = messages[:first]
    closed = render(tokenizer, head + [{"role": "assistant", "content": SENTINEL}], tools, False)
    opened = render(tokenizer, head, tools, True) + tokenizer(SENTINEL, add_special_tokens=False)["input_ids"]
    assert closed[: len(opened)] == opened, "the template does not render a reply after its generation prompt"
    closing = closed[len(opened) :]
    for index, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prompt = render(tokenizer, messages[:index], tools, True)
        with_reply = render(tokenizer, messages[: index + 1], tools, False)
        assert with_reply[: len(prompt)] == prompt and ids[: len(with_reply)] == with_reply, f"message {index}"
        end = len(with_reply) - len(closing)
        assert with_reply[end:] == closing, f"message {index} does not end with the turn closing"
        for position in range(len(prompt), end + 1):
            labels[position] = ids[position]
    return ids, labels


def main(model_dir, sft_path, tokens_path):
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    with open(sft_path) as sft, open(tokens_path) as tokens:
        pairs = list(zip([json.loads(text) for text in sft], [json.loads(text) for text in tokens], strict=True))
    labelled = total = 0
    for number, (line, token_line) in enumerate(pairs, start=1):
        ids, labels = reference_line(tokenizer, line)
        for name, mine, theirs in (("input_ids", ids, token_line["input_ids"]), ("labels", labels, token_line["labels"])):
            if mine != theirs:
                where = next((i for i, pair in enumerate(zip(mine, theirs)) if pair[0] != pair[1]), min(len(mine), len(theirs)))
                print(f"line {number}: {name} differ from transformers' rendering at token {where}", file=sys.stderr)
                return 1
        total += len(ids)
        labelled += sum(1 for label in labels if label != IGNORED)
    print(f"{len(pairs)} lines, {total} tokens, {labelled} labelled: identical to transformers' apply_chat_template")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
