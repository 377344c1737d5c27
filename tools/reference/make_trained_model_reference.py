#!/usr/bin/env python3
"""Reference logits and greedy continuations of the bundled trained model
(models/troupe-tiny-chat) computed by Hugging Face transformers, for text
prompts: plain passages from its corpus and ChatML chat turns rendered with the
model's own chat template.

Random-weight checkpoints have near-flat logits, so greedy continuations of
any two bf16 implementations part after a few tokens; a trained model's logits
are peaked, which makes "greedy tokens identical for 32 steps" a meaningful
check. Two files, the same format as the tiny-model references:

  <repo>/tests/data/reference/logits_troupe-tiny-chat.json   float32 (CPU or GPU)
  <repo>/tests/gpu/data/logits_bf16_troupe-tiny-chat.json    bfloat16 on the GPU

Each prompt holds its text, the token ids (transformers' tokenizer, checked
against tokenizer.json read by the tokenizers library), the logits of a fixed
set of probe token ids at every position, and 32 greedy tokens from a plain
argmax loop over full forward passes (no KV cache, no generate() heuristics).

    python3 tools/reference/make_trained_model_reference.py <repo root> [--out-dir DIR]
"""
import argparse
import json
import math
import os
import random

import torch
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM, AutoTokenizer

PLAIN = [
    "In the beginning God created the heaven and the earth.",
    "And the LORD spake unto Moses, saying,",
    "The json module provides",
    "To create a virtual environment, run",
]
CHATS = [
    [{"role": "user", "content": "Who are you?"}],
    [{"role": "user", "content": "What does the Python documentation say about the json module?"}],
    [{"role": "user", "content": "Tell me a story."}],
    [{"role": "system", "content": "You are a helpful assistant."},
     {"role": "user", "content": "How do I read a file in Python?"}],
]
NUM_GREEDY = 32
NUM_PROBES = 96


def token_ids(tok, raw, text):
    ids = tok(text).input_ids
    if ids != raw.encode(text, add_special_tokens=True).ids:
        raise SystemExit("AutoTokenizer and tokenizer.json disagree on %r" % text)
    return ids


def run(model, prompts, probes, device):
    out = []
    for p in prompts:
        ids = p["input_ids"]
        with torch.no_grad():
            logits = model(torch.tensor([ids], device=device)).logits[0].float()
            rows = logits[:, probes].cpu().tolist()
            seq, greedy = list(ids), []
            for _ in range(NUM_GREEDY):
                nxt = int(torch.argmax(model(torch.tensor([seq], device=device)).logits[0, -1]))
                greedy.append(nxt)
                seq.append(nxt)
        out.append({"text": p["text"], "input_ids": ids, "probe_token_ids": probes,
                    "logits": rows, "greedy_ids": greedy})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--out-dir", help="write both files here instead of the repo")
    args = ap.parse_args()
    model_dir = os.path.join(args.root, "models", "troupe-tiny-chat")
    tok = AutoTokenizer.from_pretrained(model_dir)
    raw = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))

    prompts = [{"text": t, "input_ids": token_ids(tok, raw, t)} for t in PLAIN]
    for messages in CHATS:
        text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        prompts.append({"text": text, "input_ids": token_ids(tok, raw, text)})

    rng = random.Random(20261127)
    probes = sorted(rng.sample(range(len(raw.get_vocab())), NUM_PROBES))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    results = {}
    for dtype, name in ((torch.float32, "float32"), (torch.bfloat16, "bfloat16")):
        if dtype == torch.bfloat16 and device != "cuda":
            print("no GPU: skipping the bfloat16 reference")
            continue
        model = AutoModelForCausalLM.from_pretrained(
            model_dir, dtype=dtype, attn_implementation="eager").to(device).eval()
        results[name] = run(model, prompts, probes, device)

    paths = {"float32": ("tests/data/reference", "logits_troupe-tiny-chat.json"),
             "bfloat16": ("tests/gpu/data", "logits_bf16_troupe-tiny-chat.json")}
    for name, rows in results.items():
        folder = args.out_dir or os.path.join(args.root, paths[name][0])
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, paths[name][1]), "w") as f:
            json.dump({"model": "troupe-tiny-chat", "dtype": name, "device": device,
                       "source": "transformers forward, argmax loop", "prompts": rows}, f)

    if "bfloat16" in results:
        num = den = 0.0
        same = 0
        for a, b in zip(results["bfloat16"], results["float32"]):
            for ra, rb in zip(a["logits"], b["logits"]):
                for x, y in zip(ra, rb):
                    num += (x - y) ** 2
                    den += y * y
            same += a["greedy_ids"] == b["greedy_ids"]
        print("transformers bf16 vs fp32: relative logits error %.3e, greedy identical %d/%d"
              % (math.sqrt(num / den), same, len(prompts)))
    for r in results["float32"]:
        print(repr(r["text"][-40:]), "->", repr(tok.decode(r["greedy_ids"])))


if __name__ == "__main__":
    main()
