#!/usr/bin/env python3
"""The offline-throughput baseline: Hugging Face transformers' generate on the
same workload as `engine_bench --fixed-output` (N requests of P random prompt
tokens, each generating exactly O tokens greedily), in bf16 on the GPU, in
batches of B (all prompts have the same length, so no padding is needed).

    python3 hf_generate_baseline.py MODEL_DIR [--requests 500] [--prompt 202]
                                    [--output 179] [--batch 128]

Prints output tokens/s over the whole run (model load excluded).
"""
import argparse
import random
import time

import torch
from transformers import AutoModelForCausalLM


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--prompt", type=int, default=202)
    ap.add_argument("--output", type=int, default=179)
    ap.add_argument("--batch", type=int, default=128)
    a = ap.parse_args()
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.bfloat16).cuda().eval()
    vocab = model.config.vocab_size
    rng = random.Random(12345)
    prompts = [[rng.randrange(1000, vocab - 1000) for _ in range(a.prompt)] for _ in range(a.requests)]
    # One small warm-up batch (kernel selection, allocator).
    x = torch.tensor(prompts[:2], device="cuda")
    model.generate(x, attention_mask=torch.ones_like(x), max_new_tokens=4, do_sample=False,
                   temperature=None, top_p=None, top_k=None, pad_token_id=0)
    torch.cuda.synchronize()
    t0 = time.time()
    num_out = 0
    for i in range(0, a.requests, a.batch):
        x = torch.tensor(prompts[i:i + a.batch], device="cuda")
        with torch.no_grad():
            out = model.generate(x, attention_mask=torch.ones_like(x), max_new_tokens=a.output,
                                 min_new_tokens=a.output, do_sample=False, temperature=None,
                                 top_p=None, top_k=None, pad_token_id=0)
        num_out += (out.shape[1] - a.prompt) * out.shape[0]
    torch.cuda.synchronize()
    secs = time.time() - t0
    print(f"transformers generate ({torch.cuda.get_device_name(0)}): {a.requests} requests x "
          f"{a.prompt} prompt / {a.output} output tokens, batch {a.batch}: {num_out} output tokens "
          f"in {secs:.1f} s = {num_out / secs:.0f} output tok/s", flush=True)


if __name__ == "__main__":
    main()
