#!/usr/bin/env python3
"""Sliding-window perplexity of a causal LM over a text file, with transformers.

This is the procedure of the transformers documentation page "Perplexity of
fixed-length models", made exact about which tokens are scored:

  ids     = tokenizer(text).input_ids        (the tokenizer's own special-token
                                              rule; troupe-tiny-chat adds none)
  prev_end = 0
  for begin in 0, stride, 2*stride, ...:
      end     = min(begin + context, len(ids))
      window  = ids[begin:end]
      trg_len = end - prev_end                # tokens not scored by an earlier window
      labels  = window, with the first len(window) - trg_len entries set to -100
      # The model predicts window[j] from logits row j - 1, so window[0] is never
      # scored. Scored positions of this window: j in [max(1, len - trg_len), len).
      nll    += sum over scored j of -log_softmax(logits[j - 1])[window[j]]  (fp64)
      tokens += number of scored j
      prev_end = end
      stop after the window with end == len(ids)
  perplexity = exp(nll / tokens)

So with stride < context every token but the first is scored exactly once
(tokens = len(ids) - 1); with stride == context each window's first token has
no context and is skipped (tokens = len(ids) - number of windows).

The documentation's code instead weights each window's mean loss by
(number of non -100 labels) - 1, which undercounts by one in every window whose
first label is already masked. That variant is reported too, as "docs_formula",
but "perplexity" and "tokens_evaluated" are the exact per-token figures that
Troupe's `troupe eval perplexity` reproduces.

Usage:
  perplexity_reference.py --model DIR --file TEXT --windows 256:128,512:512 \
      [--dtype float32] [--device cuda] [--json-out FILE]
Prints (and writes) one JSON object with a result per (context, stride) pair.
"""
import argparse
import json
import math
import os

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer


def encode(model_dir, text):
    """Token ids as the transformers tokenizer gives them, checked against the
    tokenizers library reading tokenizer.json directly."""
    from tokenizers import Tokenizer
    raw = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    raw_ids = raw.encode(text, add_special_tokens=True).ids
    try:
        ids = AutoTokenizer.from_pretrained(model_dir)(text).input_ids
    except Exception as e:  # report, but still measure with tokenizer.json
        print(json.dumps({"warning": "AutoTokenizer failed: %r" % (e,)}))
        return raw_ids, "tokenizers"
    if ids != raw_ids:
        raise SystemExit("AutoTokenizer and tokenizer.json disagree on the token ids")
    return ids, "transformers"


@torch.no_grad()
def sliding_window(model, ids, context, stride, device):
    seq_len = len(ids)
    if seq_len < 2:
        raise SystemExit("the text has fewer than two tokens")
    all_ids = torch.tensor(ids, dtype=torch.long, device=device)
    nll_sum, tokens = 0.0, 0
    docs_nll, docs_tokens = 0.0, 0
    num_windows = 0
    prev_end = 0
    for begin in range(0, seq_len, stride):
        end = min(begin + context, seq_len)
        trg_len = end - prev_end
        window = all_ids[begin:end]
        n = end - begin
        first_scored = max(1, n - trg_len)
        logits = model(input_ids=window[None]).logits[0].double()
        logprobs = torch.log_softmax(logits[first_scored - 1:n - 1], dim=-1)
        targets = window[first_scored:n]
        window_nll = -logprobs.gather(1, targets[:, None]).sum().item()
        window_tokens = n - first_scored
        nll_sum += window_nll
        tokens += window_tokens
        # the documentation's weighting: (non-masked labels) - batch size
        docs_weight = min(trg_len, n) - 1
        if window_tokens > 0:
            docs_nll += window_nll / window_tokens * docs_weight
            docs_tokens += docs_weight
        num_windows += 1
        prev_end = end
        if end == seq_len:
            break
    return {
        "context": context, "stride": stride, "num_text_tokens": seq_len,
        "num_windows": num_windows, "tokens_evaluated": tokens,
        "nll_sum": nll_sum, "mean_nll": nll_sum / tokens,
        "perplexity": math.exp(nll_sum / tokens),
        "docs_formula": {"tokens": docs_tokens,
                         "perplexity": math.exp(docs_nll / docs_tokens)},
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--file", required=True)
    ap.add_argument("--windows", default="512:512",
                    help="comma-separated context:stride pairs")
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--json-out")
    args = ap.parse_args()

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dtype = getattr(torch, args.dtype)
    model = AutoModelForCausalLM.from_pretrained(
        args.model, dtype=dtype, attn_implementation="eager").to(args.device).eval()
    with open(args.file, encoding="utf-8") as f:
        text = f.read()
    ids, tokenized_by = encode(args.model, text)

    results = []
    for pair in args.windows.split(","):
        context, stride = (int(x) for x in pair.split(":"))
        if not 0 < stride <= context:
            raise SystemExit("need 0 < stride <= context, got %s" % pair)
        results.append(sliding_window(model, ids, context, stride, args.device))
    report = {
        "model": os.path.basename(os.path.normpath(args.model)),
        "file": os.path.basename(args.file), "num_characters": len(text),
        "dtype": args.dtype, "device": args.device, "tokenized_by": tokenized_by,
        "attn_implementation": "eager", "transformers": transformers.__version__,
        "torch": torch.__version__, "results": results,
    }
    text_out = json.dumps(report, indent=1)
    print(text_out)
    if args.json_out:
        with open(args.json_out, "w") as f:
            f.write(text_out + "\n")


if __name__ == "__main__":
    main()
