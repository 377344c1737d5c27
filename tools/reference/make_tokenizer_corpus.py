#!/usr/bin/env python3
"""Writes tokenizer_corpus.json: strings that stress the hard parts of BPE
tokenizers (whitespace runs, newlines, digits, contractions, CJK, emoji,
combining marks, invalid byte sequences, special tokens inside text).
Invalid byte sequences are stored as latin-1 escaped byte lists
("bytes_hex"), since JSON strings cannot hold them."""
import json

CASES = [
    "Hello world",
    "Hello, world! How are you today?",
    " leading space",
    "trailing space ",
    "  two leading spaces",
    "multiple     spaces    inside",
    "tabs\tand\ttabs\t\t",
    "line one\nline two\n\nline four\n",
    "\n\n\n",
    "   \n   \n",
    "windows\r\nline endings\r\n",
    "numbers 1 12 123 1234 12345 123456 3.14159 -42 1e10",
    "2024-11-26T23:15:02Z",
    "I'm sure you're right; they've said we'll see, isn't it? I'D SAY SHE'S OK",
    "don't DON'T Don't",
    "CamelCaseWordsAndsnake_case_words and kebab-case-words",
    "def foo(x):\n    return x ** 2  # square\n",
    "if (a && b || !c) { return a->b[0]; }",
    "https://example.com/path?query=1&x=y#frag",
    "email: someone@example.org",
    "東京は日本の首都です。",
    "中文分词测试：我们在这里。",
    "한국어 텍스트도 있습니다",
    "Ελληνικά και Русский текст",
    "مرحبا بالعالم",
    "emoji 😀😃😄 👍🏽 👨‍👩‍👧‍👦 🇫🇷",
    "combining: e\u0301 a\u0300 n\u0303 (decomposed) vs é à ñ (composed)",
    "Å Ω ﬁ ① ２ ｆｕｌｌｗｉｄｔｈ",
    "zero\u200bwidth\u200djoiner",
    "ümlaut Ünïcödé façade naïve café",
    "a" * 200,
    "ab " * 50,
    "<|begin_of_text|>Hello<|eot_id|>",
    "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n",
    "<s> hello </s> [INST] test [/INST]",
    "text with <|endoftext|> in the middle",
    "",
    " ",
    "!!!???...,,,;;;",
    "$100.00 + €50 = ¥?",
    "The year 1999 and the year 2000.",
    "   indented\n\tcode\n        more",
    "x" + " " * 17 + "y",
    "A\u0000B",
]

INVALID_BYTES = [
    b"invalid \xff\xfe bytes",
    b"truncated \xe6\x97",
    b"\xc3\x28 bad continuation",
    b"lone continuation \x80\x81",
]


def main():
    cases = [{"text": t} for t in CASES]
    cases += [{"bytes_hex": b.hex()} for b in INVALID_BYTES]
    with open("tokenizer_corpus.json", "w", encoding="utf-8") as f:
        json.dump({"cases": cases}, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
