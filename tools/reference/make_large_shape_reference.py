#!/usr/bin/env python3
"""Llama-3-shaped checkpoints with seeded random weights, and what Hugging Face
transformers computes with them in bfloat16 on a GPU: the end-to-end check of
the CUDA executor at real sizes (CudaExecutorLargeShapes in
tests/engine/exec/cuda_executor_test.cpp).

Nothing is downloaded: the model is built from a config, its weights drawn
from a seeded normal (std = initializer_range), and saved with
save_pretrained. For each prompt (random token ids) the reference keeps the
logits of a fixed set of probe ids (random ones plus each position's top 8)
at every position, and 32 greedy tokens from model.generate.

    python3 make_large_shape_reference.py OUT_DIR [--no-reference] 1b|8b [...]

--no-reference only makes the checkpoints (for benchmarks).

writes OUT_DIR/<shape>/{config.json, model*.safetensors, reference.json}.
Run it on the GPU machine (an 8B shape is 16 GB: it cannot travel).
"""
import json
import os
import random
import sys
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM

SHAPES = {
    # Llama 3.2 1B: tied embeddings, head_dim 64.
    "1b": dict(hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
               num_attention_heads=32, num_key_value_heads=8, tie_word_embeddings=True),
    # Llama 3 8B.
    "8b": dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
               num_attention_heads=32, num_key_value_heads=8, tie_word_embeddings=False),
}
NUM_PROMPTS = 8
NUM_NEW_TOKENS = 32
NUM_RANDOM_PROBES = 48
NUM_TOP_PROBES = 8


def build(shape, seed):
    cfg = LlamaConfig(vocab_size=128256, max_position_embeddings=8192, rms_norm_eps=1e-5,
                      rope_theta=500000.0, bos_token_id=128000, eos_token_id=128001,
                      initializer_range=0.02, **SHAPES[shape])
    torch.manual_seed(seed)
    torch.set_default_dtype(torch.bfloat16)  # an 8B model in fp32 would be 32 GB
    with torch.device("cuda"):
        model = LlamaForCausalLM(cfg)
    torch.set_default_dtype(torch.float32)
    # Independent of transformers' init scheme: every weight drawn here, norms
    # around 1 so that they matter.
    gen = torch.Generator(device="cuda").manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=gen, device="cuda"))
            else:
                p.copy_(0.02 * torch.randn(p.shape, generator=gen, device="cuda"))
    return model.eval()


def reference(model, seed, like=None):
    """Logits at probe ids and greedy tokens; `like` reuses another run's
    prompts and probes (the fp32 run of the same weights)."""
    rng = random.Random(seed)
    vocab = model.config.vocab_size
    prompts = []
    for i in range(NUM_PROMPTS):
        n = rng.randint(16, 160)
        ids = [rng.randrange(1000, vocab - 1000) for _ in range(n)]
        if like:
            ids = like["prompts"][i]["input_ids"]
            n = len(ids)
        x = torch.tensor([ids], device="cuda")
        with torch.no_grad():
            logits = model(x).logits[0].float()
            probes = set(rng.sample(range(vocab), NUM_RANDOM_PROBES))
            for t in range(n):
                probes.update(torch.topk(logits[t], NUM_TOP_PROBES).indices.tolist())
            probes = sorted(probes)
            if like:
                probes = like["prompts"][i]["probe_token_ids"]
            rows = logits[:, torch.tensor(probes, device="cuda")].cpu().tolist()
            out = model.generate(x, attention_mask=torch.ones_like(x), max_new_tokens=NUM_NEW_TOKENS,
                                 min_new_tokens=NUM_NEW_TOKENS, do_sample=False, temperature=None,
                                 top_p=None, top_k=None, pad_token_id=0)
        greedy = out[0, n:].tolist()
        prompts.append({"input_ids": ids, "probe_token_ids": probes, "logits": rows,
                        "greedy_ids": greedy})
    return {"dtype": str(next(model.parameters()).dtype).replace("torch.", ""), "device": torch.cuda.get_device_name(0), "prompts": prompts}


def main():
    out_dir, shapes = sys.argv[1], sys.argv[2:]
    with_reference = "--no-reference" not in shapes
    shapes = [s for s in shapes if s != "--no-reference"]
    for shape in shapes:
        t0 = time.time()
        model = build(shape, seed=1234)
        path = os.path.join(out_dir, shape)
        if not with_reference:
            model.save_pretrained(path, safe_serialization=True, max_shard_size="5GB")
            print(f"{shape}: saved to {path} in {time.time() - t0:.0f} s", flush=True)
            continue
        ref = reference(model, seed=99)
        model.save_pretrained(path, safe_serialization=True, max_shard_size="5GB")
        with open(os.path.join(path, "reference.json"), "w") as f:
            json.dump(ref, f)
        # The same weights in fp32: how far transformers' own bf16 run is from
        # exact, the band any bf16 implementation lives in.
        model = model.float()
        with open(os.path.join(path, "reference_fp32.json"), "w") as f:
            json.dump(reference(model, seed=99, like=ref), f)
        print(f"{shape}: {sum(p.numel() for p in model.parameters()) / 1e9:.2f} B params, "
              f"saved to {path} in {time.time() - t0:.0f} s", flush=True)
        del model
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
