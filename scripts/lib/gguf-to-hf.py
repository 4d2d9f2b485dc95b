"""Turns a GGUF model file into a plain Hugging Face model directory (safetensors, config, tokenizer with its
chat template) that vLLM's CPU build serves.

The weights are dequantized by transformers' GGUF loader; the quantization settings it records are dropped
and the state dict is copied into a model built from the bare config, so the saved directory loads as an
ordinary bfloat16 checkpoint.

Usage: python gguf-to-hf.py MODEL.gguf OUTPUT_DIR
"""

import os
import sys

import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer


def load_dequantized(directory: str, name: str):
    gguf_config = getattr(transformers, "GgufConfig", None)
    if gguf_config is not None:
        try:
            return AutoModelForCausalLM.from_pretrained(
                directory,
                gguf_file=name,
                quantization_config=gguf_config(dequantize=True),
                dtype=torch.float32,
            )
        except TypeError:
            pass  # this transformers takes no GgufConfig: its GGUF loader dequantizes by itself
    return AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, dtype=torch.float32)


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    source, output = sys.argv[1], sys.argv[2]
    directory, name = os.path.split(os.path.abspath(source))

    tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=name)
    if not getattr(tokenizer, "chat_template", None):
        sys.exit(f"{source}: the GGUF file has no chat template")
    loaded = load_dequantized(directory, name)

    config = AutoConfig.from_pretrained(directory, gguf_file=name)
    for attribute in ("quantization_config",):
        if hasattr(config, attribute):
            delattr(config, attribute)
    config.dtype = torch.bfloat16
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
    # Tied embeddings leave lm_head to the input embedding; anything else missing is a broken conversion.
    missing = [key for key in missing if not (key == "lm_head.weight" and config.tie_word_embeddings)]
    if missing or unexpected:
        sys.exit(f"{source}: state dict does not fit the config: missing {missing}, unexpected {unexpected}")
    del loaded
    model = model.to(torch.bfloat16)
    if model.generation_config is not None and tokenizer.eos_token_id is not None:
        model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(output, safe_serialization=True)
    tokenizer.save_pretrained(output)
    print(f"{source} -> {output}: {sum(p.numel() for p in model.parameters()) / 1e6:.0f}M parameters", file=sys.stderr)


if __name__ == "__main__":
    main()
