#!/usr/bin/env python3
"""Reference logits of the tiny test models computed by Hugging Face
transformers in bfloat16 on a GPU (the precision the CUDA executor runs in),
for the prompts of tests/data/reference/logits_<model>.json (fp32 there).

Writes tests/gpu/data/logits_bf16_<model>.json in the same format and prints
how far bf16 transformers itself is from the fp32 reference: the band a bf16
executor can be held to.

    python3 tests/gpu/make_bf16_reference.py <repo root> <output dir>
"""
import json
import math
import sys

import torch
from transformers import AutoModelForCausalLM

root, out_dir = sys.argv[1], sys.argv[2]
for name in ("tiny-llama3", "tiny-qwen2"):
    ref = json.load(open(f"{root}/tests/data/reference/logits_{name}.json"))
    model = AutoModelForCausalLM.from_pretrained(
        f"{root}/tests/data/models/{name}", dtype=torch.bfloat16).cuda().eval()
    prompts, num, den, same = [], 0.0, 0.0, 0
    for p in ref["prompts"]:
        ids = torch.tensor([p["input_ids"]], device="cuda")
        probe = p["probe_token_ids"]
        with torch.no_grad():
            logits = model(ids).logits[0].float()[:, probe].cpu().tolist()
            # A plain argmax loop over full forward passes, as the fp32 reference.
            seq, greedy = list(p["input_ids"]), []
            for _ in range(len(p["greedy_ids"])):
                nxt = int(torch.argmax(model(torch.tensor([seq], device="cuda")).logits[0, -1]))
                greedy.append(nxt)
                seq.append(nxt)
        for row, ref_row in zip(logits, p["logits"]):
            for a, b in zip(row, ref_row):
                num += (a - b) ** 2
                den += b * b
        same += greedy == p["greedy_ids"]
        prompts.append({"input_ids": p["input_ids"], "probe_token_ids": probe,
                        "logits": logits, "greedy_ids": greedy})
    json.dump({"model": name, "dtype": "bfloat16", "source": "transformers forward, argmax loop",
               "prompts": prompts}, open(f"{out_dir}/logits_bf16_{name}.json", "w"))
    print(f"{name}: transformers bf16 vs fp32 reference: relative logits error "
          f"{math.sqrt(num / den):.3e}, greedy identical {same}/{len(prompts)}")
