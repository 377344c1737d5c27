#!/usr/bin/env python3
"""Trains troupe-tiny-chat: a byte-level BPE tokenizer and a small Llama model.

Input: the folder written by prepare_corpus.py (train.txt, valid.txt,
heldout.txt). Output: a Hugging Face model folder (config.json,
model.safetensors in bf16, generation_config.json, tokenizer.json,
tokenizer_config.json, special_tokens_map.json) plus training_log.json.

Needs torch, transformers and tokenizers (it ran with torch 2.11,
transformers 5.17 on one H100). Everything random is seeded; the number of
optimizer steps is fixed once, after measuring the speed of the first steps,
so that training fits the --minutes wall budget (the step count is logged).
"""
import argparse
import json
import math
import os
import random
import sys
import time

import torch
import torch.nn.functional as F
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (AutoConfig, AutoModelForCausalLM, AutoTokenizer, GenerationConfig,
                          LlamaConfig, LlamaForCausalLM)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chat_data  # noqa: E402

DOC_SEPARATOR = "\n<|endoftext|>\n"
ENDOFTEXT, IM_START, IM_END = "<|endoftext|>", "<|im_start|>", "<|im_end|>"
SPECIAL_TOKENS = [ENDOFTEXT, IM_START, IM_END]  # ids 0, 1, 2
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")


def log(*args):
    print(*args, flush=True)


def read_docs(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if text.endswith("\n"):
        text = text[:-1]
    return text.split(DOC_SEPARATOR)


# ---------------------------------------------------------------- tokenizer

def train_tokenizer(docs, vocab_size):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=2, special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(docs, trainer=trainer, length=len(docs))
    for i, t in enumerate(SPECIAL_TOKENS):
        assert tok.token_to_id(t) == i, (t, tok.token_to_id(t))
    return tok


def write_tokenizer_files(tok, out_dir, max_length):
    tok.save(os.path.join(out_dir, "tokenizer.json"))
    added = {str(tok.token_to_id(t)): {
        "content": t, "lstrip": False, "normalized": False, "rstrip": False,
        "single_word": False, "special": True} for t in SPECIAL_TOKENS}
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "added_tokens_decoder": added,
        "additional_special_tokens": [IM_START, IM_END],
        "bos_token": ENDOFTEXT,
        "eos_token": IM_END,
        "pad_token": ENDOFTEXT,
        "unk_token": None,
        "add_bos_token": False,
        "add_eos_token": False,
        "clean_up_tokenization_spaces": False,
        "model_max_length": max_length,
        "chat_template": CHAT_TEMPLATE,
    }
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=2, ensure_ascii=False)
        f.write("\n")
    special = {"bos_token": ENDOFTEXT, "eos_token": IM_END, "pad_token": ENDOFTEXT,
               "additional_special_tokens": [IM_START, IM_END]}
    with open(os.path.join(out_dir, "special_tokens_map.json"), "w") as f:
        json.dump(special, f, indent=2)
        f.write("\n")


def encode_docs(tok, docs):
    """One flat id stream: each document followed by <|endoftext|>."""
    ids = []
    for enc in tok.encode_batch(docs, add_special_tokens=False):
        ids.extend(enc.ids)
        ids.append(0)
    return torch.tensor(ids, dtype=torch.int32)


# ---------------------------------------------------------------- model

def make_config(args, vocab_size):
    return LlamaConfig(
        vocab_size=vocab_size, hidden_size=args.hidden, intermediate_size=args.intermediate,
        num_hidden_layers=args.layers, num_attention_heads=args.heads,
        num_key_value_heads=args.kv_heads, head_dim=args.head_dim,
        max_position_embeddings=1024, rms_norm_eps=1e-5, rope_theta=10000.0,
        tie_word_embeddings=True, hidden_act="silu", attention_bias=False, mlp_bias=False,
        initializer_range=0.02, bos_token_id=0, eos_token_id=2, pad_token_id=0,
        use_cache=True)


def add_dropout(model, p):
    """Dropout on the embedding output and on each residual branch (attention
    o_proj, MLP down_proj), active in training mode only. LlamaConfig offers
    attention-probability dropout alone, and the corpus is small enough that
    the model memorises it within a few epochs without this. Hooks are not
    saved: the exported model is a plain Llama."""
    if p <= 0:
        return

    def hook(module, inputs, output):
        return F.dropout(output, p, module.training)

    model.model.embed_tokens.register_forward_hook(hook)
    for layer in model.model.layers:
        layer.self_attn.o_proj.register_forward_hook(hook)
        layer.mlp.down_proj.register_forward_hook(hook)


def window_batches(ids, context, batch_size):
    """Non-overlapping windows of context + 1 tokens, in batches (eval only)."""
    n = (len(ids) - 1) // context
    rows = [ids[i * context: i * context + context + 1] for i in range(n)]
    for i in range(0, n, batch_size):
        yield torch.stack(rows[i:i + batch_size]).long()


@torch.no_grad()
def mean_loss(model, ids, context, batch_size, device):
    model.eval()
    total, count = 0.0, 0
    for batch in window_batches(ids, context, batch_size):
        batch = batch.to(device)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits = model(input_ids=batch[:, :-1]).logits
        loss = F.cross_entropy(logits.float().reshape(-1, logits.size(-1)),
                               batch[:, 1:].reshape(-1), reduction="sum")
        total += loss.item()
        count += batch[:, 1:].numel()
    model.train()
    return total / count


def lr_at(step, total_steps, args):
    if step < args.warmup_steps:
        return args.lr * (step + 1) / args.warmup_steps
    progress = min(1.0, (step - args.warmup_steps) / max(1, total_steps - args.warmup_steps))
    return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * progress))


def train(args, model, train_ids, valid_ids, device):
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8, fused=True)
    step_model = model
    if args.compile:
        step_model = torch.compile(model)
    gen = torch.Generator().manual_seed(args.seed)
    train_gpu = train_ids.to(device)
    tokens_per_step = args.batch_size * args.context
    max_steps_by_epochs = int(args.max_epochs * len(train_ids) / tokens_per_step)
    total_steps = args.max_steps or max_steps_by_epochs
    budget_s = args.minutes * 60.0
    history = []
    best = {"valid_loss": float("inf"), "step": -1, "state": None}
    start = time.time()
    calibrated = bool(args.max_steps)
    step = 0
    while step < total_steps:
        offsets = torch.randint(0, len(train_ids) - args.context - 1,
                                (args.batch_size,), generator=gen)
        idx = offsets.to(device)[:, None] + torch.arange(args.context + 1, device=device)
        batch = train_gpu[idx].long()
        lr = lr_at(step, total_steps, args)
        for group in opt.param_groups:
            group["lr"] = lr
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits = step_model(input_ids=batch[:, :-1]).logits
        loss = F.cross_entropy(logits.float().reshape(-1, logits.size(-1)),
                               batch[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1

        if not calibrated and step == args.calibrate_steps:
            # Fix the schedule once: steps that fit the remaining budget at the
            # speed of steps [calibrate/2, calibrate), capped by max_epochs.
            torch.cuda.synchronize()
            t_half = calib_t0
            per_step = (time.time() - t_half) / (args.calibrate_steps // 2)
            remaining = budget_s - (time.time() - start)
            # leave room for the evaluations (about 2% of steps' time)
            fit = step + int(0.97 * remaining / per_step)
            total_steps = max(step + 1, min(fit, max_steps_by_epochs))
            calibrated = True
            log("calibrated: %.1f ms/step, %.0f tokens/s -> %d steps (%.1f epochs)" % (
                per_step * 1e3, tokens_per_step / per_step, total_steps,
                total_steps * tokens_per_step / len(train_ids)))
        if not calibrated and step == args.calibrate_steps // 2:
            torch.cuda.synchronize()
            calib_t0 = time.time()

        if step % args.log_every == 0 or step == total_steps:
            entry = {"step": step, "lr": lr, "train_loss": loss.item(),
                     "elapsed_s": round(time.time() - start, 1)}
            if step % args.eval_every == 0 or step == total_steps:
                v = mean_loss(model, valid_ids, args.context, 64, device)
                entry["valid_loss"] = v
                if v < best["valid_loss"]:
                    best = {"valid_loss": v, "step": step,
                            "state": {k: t.detach().clone() for k, t in model.state_dict().items()}}
            history.append(entry)
            log(json.dumps(entry))
    model.load_state_dict(best["state"])
    log("kept the checkpoint of step %d (valid loss %.4f)" % (best["step"], best["valid_loss"]))
    return {"steps": step, "best_step": best["step"], "best_valid_loss": best["valid_loss"],
            "tokens_per_step": tokens_per_step, "train_seconds": round(time.time() - start, 1),
            "history": history}


# ---------------------------------------------------------------- saving

def save_model(model, out_dir):
    model = model.to(torch.bfloat16)
    model.save_pretrained(out_dir, safe_serialization=True)
    # Published Llama checkpoints spell these keys the transformers-4 way;
    # write them too so that readers of either spelling find them.
    path = os.path.join(out_dir, "config.json")
    with open(path) as f:
        original = f.read()
    config = json.loads(original)
    config.setdefault("rope_theta", 10000.0)
    config.setdefault("torch_dtype", "bfloat16")
    config["architectures"] = ["LlamaForCausalLM"]
    with open(path, "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    try:
        AutoConfig.from_pretrained(out_dir)
    except Exception as e:  # keep what transformers wrote if it rejects the extra keys
        log("config.json with legacy keys did not load (%r); keeping the original" % (e,))
        with open(path, "w") as f:
            f.write(original)
    gen = GenerationConfig(bos_token_id=0, eos_token_id=[2, 0], pad_token_id=0,
                           do_sample=True, temperature=0.7, top_p=0.9, top_k=50,
                           repetition_penalty=1.1, max_new_tokens=256)
    gen.save_pretrained(out_dir)


@torch.no_grad()
def show_samples(out_dir, device):
    """Reloads the saved folder (checks it is loadable) and answers a few prompts."""
    tok = AutoTokenizer.from_pretrained(out_dir)
    model = AutoModelForCausalLM.from_pretrained(out_dir).to(device).eval()
    samples = []
    prompts = ["Who are you?", "Recite John 3:16.", "Recite Genesis 1:1.",
               "What does the Python documentation say about the json module?",
               "Tell me about list comprehensions in Python."]
    for prompt in prompts:
        text = tok.apply_chat_template([{"role": "user", "content": prompt}],
                                       tokenize=False, add_generation_prompt=True)
        ids = tok(text, return_tensors="pt", add_special_tokens=False).input_ids.to(device)
        out = model.generate(ids, do_sample=False, max_new_tokens=80,
                             repetition_penalty=1.1)
        answer = tok.decode(out[0, ids.shape[1]:], skip_special_tokens=False)
        samples.append({"prompt": prompt, "greedy": answer})
        log("PROMPT %r\n  -> %r" % (prompt, answer))
    ids = tok("In the beginning", return_tensors="pt").input_ids.to(device)
    out = model.generate(ids, do_sample=False, max_new_tokens=60)
    completion = tok.decode(out[0], skip_special_tokens=False)
    samples.append({"prompt": "In the beginning", "greedy_completion": completion})
    log("COMPLETION %r" % completion)
    return samples


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", required=True, help="folder from prepare_corpus.py")
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=8.0, help="wall budget of the training loop")
    ap.add_argument("--max-steps", type=int, default=0, help="fixed step count (smoke tests)")
    ap.add_argument("--max-epochs", type=float, default=16.0)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--tokenizer", help="reuse tokenizer.json from this folder instead of training one")
    ap.add_argument("--vocab-size", type=int, default=8192)
    ap.add_argument("--hidden", type=int, default=384)
    ap.add_argument("--intermediate", type=int, default=1024)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--heads", type=int, default=6)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--head-dim", type=int, default=64)
    ap.add_argument("--context", type=int, default=512)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr", type=float, default=2e-4)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--warmup-steps", type=int, default=200)
    ap.add_argument("--calibrate-steps", type=int, default=60)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--chat-bible", type=int, default=1500)
    ap.add_argument("--chat-python", type=int, default=1500)
    ap.add_argument("--chat-identity", type=int, default=200)
    ap.add_argument("--compile", action=argparse.BooleanOptionalAction, default=True)
    args = ap.parse_args()

    random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    device = torch.device("cuda")
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()

    train_docs = read_docs(os.path.join(args.corpus, "train.txt"))
    valid_docs = read_docs(os.path.join(args.corpus, "valid.txt"))
    with open(os.path.join(args.corpus, "heldout.txt"), encoding="utf-8") as f:
        heldout_text = f.read()
    if args.tokenizer:
        tok = Tokenizer.from_file(os.path.join(args.tokenizer, "tokenizer.json"))
    else:
        tok = train_tokenizer(train_docs, args.vocab_size)
    write_tokenizer_files(tok, args.out, 1024)
    log("tokenizer: %d tokens (%.1fs)" % (tok.get_vocab_size(), time.time() - t0))

    chats = chat_data.make_exchanges(train_docs, args.chat_bible, args.chat_python,
                                     args.chat_identity, args.seed)
    docs = train_docs + chats
    random.Random(args.seed).shuffle(docs)
    train_ids = encode_docs(tok, docs)
    valid_ids = encode_docs(tok, valid_docs)
    heldout_ids = torch.tensor(tok.encode(heldout_text, add_special_tokens=False).ids,
                               dtype=torch.int32)
    log("tokens: train %d (of which %d chat exchanges), valid %d, heldout %d (%.1fs)" % (
        len(train_ids), len(chats), len(valid_ids), len(heldout_ids), time.time() - t0))

    config = make_config(args, tok.get_vocab_size())
    model = LlamaForCausalLM(config).to(device)
    add_dropout(model, args.dropout)
    num_params = sum(p.numel() for p in model.parameters())
    log("model: %d parameters (%.1f MB in bf16)" % (num_params, num_params * 2 / 1e6))

    try:
        result = train(args, model, train_ids, valid_ids, device)
    except Exception as e:  # a compile failure must not cost the whole run
        if not args.compile:
            raise
        log("compiled training failed (%r); retrying eager" % (e,))
        args.compile = False
        torch.manual_seed(args.seed)
        model = LlamaForCausalLM(config).to(device)
        add_dropout(model, args.dropout)
        result = train(args, model, train_ids, valid_ids, device)

    heldout_loss = mean_loss(model, heldout_ids, args.context, 64, device)
    log("held-out: loss %.4f perplexity %.2f over non-overlapping %d-token windows" % (
        heldout_loss, math.exp(heldout_loss), args.context))
    save_model(model, args.out)
    try:
        samples = show_samples(args.out, device)
    except Exception as e:  # the weights are saved; report and go on
        log("samples failed: %r" % (e,))
        samples = [{"error": repr(e)}]
    result.update({
        "args": vars(args), "num_parameters": num_params,
        "train_tokens": len(train_ids), "valid_tokens": len(valid_ids),
        "heldout_tokens": len(heldout_ids), "num_chat_exchanges": len(chats),
        "heldout_loss_nonoverlapping": heldout_loss,
        "heldout_perplexity_nonoverlapping": math.exp(heldout_loss),
        "samples": samples, "torch": torch.__version__,
        "device": torch.cuda.get_device_name(0), "total_seconds": round(time.time() - t0, 1)})
    with open(os.path.join(args.out, "training_log.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
