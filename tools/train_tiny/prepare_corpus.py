#!/usr/bin/python3
"""Builds the troupe-tiny-chat corpus from two Debian packages.

Sources (both installed with apt-get; see README.md for licences):
  * King James Bible: package bible-kjv-text (/usr/lib/bible.data), printed by
    the `bible` program of package bible-kjv as
        bible -l 1000000 Gen1:1-Rev22:21
    (pretty-printing on, one verse per line: -l sets a line width larger than
    any verse, so no verse is wrapped).
  * Python 3.11 documentation sources: package python3.11-doc, every
    *.rst.txt file under /usr/share/doc/python3.11/html/_sources/.

Documents: one per Bible chapter (1,189), one per documentation file.
Order: all Bible chapters in canonical order, then documentation files sorted
by their path relative to _sources/ (byte order).
Split, by the document's index i in that order (0-based):
  i % 50 == 49  -> heldout.txt  (never seen in training; perplexity)
  i % 50 == 24  -> valid.txt    (checkpoint selection during training)
  otherwise     -> train.txt

Text of a Bible chapter:
    "<Book> <chapter>\n\n<verse> <text>\n<verse> <text>\n..."
Text of a documentation file: the UTF-8 source with "\r\n" and "\r" turned
into "\n", trailing whitespace stripped from every line, runs of three or
more newlines collapsed to two, and leading/trailing blank lines removed.

File format: train.txt and valid.txt separate documents with a line holding
only DOC_SEPARATOR ("<|endoftext|>"), which never occurs in the sources;
heldout.txt joins its documents with one blank line ("\n\n") and is plain
text, so that any tokenizer reads it without special tokens. Every file ends
with "\n". Output is byte-for-byte deterministic for the same packages.
"""
import argparse
import os
import re
import subprocess
import sys

DOC_SEPARATOR = "<|endoftext|>"
DOCS_ROOT = "/usr/share/doc/python3.11/html/_sources"
HELDOUT_EVERY = 50
HELDOUT_PHASE = 49
VALID_PHASE = 24

CHAPTER_HEADER = re.compile(r"^(\S.*) (\d+)$")
VERSE_LINE = re.compile(r"^\s+(\d+) (.*)$")


def bible_chapters():
    """Yields the text of each chapter of the KJV, in canonical order."""
    out = subprocess.run(["bible", "-l", "1000000", "Gen1:1-Rev22:21"],
                         check=True, capture_output=True).stdout
    text = out.decode("ascii")
    header, verses = None, []
    for line in text.split("\n"):
        if not line.strip():
            continue
        m = VERSE_LINE.match(line)
        if m:
            if header is None:
                raise ValueError("verse before any chapter header: %r" % line)
            verses.append("%s %s" % (m.group(1), m.group(2).strip()))
            continue
        m = CHAPTER_HEADER.match(line)
        if not m:
            raise ValueError("unexpected line from bible: %r" % line)
        if header is not None:
            yield header, verses
        header, verses = "%s %s" % (m.group(1), m.group(2)), []
    if header is not None:
        yield header, verses


def bible_documents():
    docs = []
    for header, verses in bible_chapters():
        docs.append(header + "\n\n" + "\n".join(verses))
    if len(docs) != 1189:
        raise ValueError("expected 1189 chapters, got %d" % len(docs))
    return docs


def clean_rst(raw):
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n")


def doc_files(root):
    paths = []
    for dirpath, _, files in os.walk(root):
        for name in files:
            if name.endswith(".rst.txt"):
                paths.append(os.path.relpath(os.path.join(dirpath, name), root))
    return sorted(paths, key=lambda p: p.encode("utf-8"))


def python_documents(root):
    docs = []
    for rel in doc_files(root):
        with open(os.path.join(root, rel), "rb") as f:
            text = clean_rst(f.read().decode("utf-8"))
        if text:
            docs.append(text)
    if not docs:
        raise ValueError("no *.rst.txt files under %s" % root)
    return docs


def write(path, docs, separator):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(separator.join(docs) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--docs-root", default=DOCS_ROOT)
    args = ap.parse_args()

    docs = bible_documents() + python_documents(args.docs_root)
    for d in docs:
        if DOC_SEPARATOR in d:
            raise ValueError("a source document contains %s" % DOC_SEPARATOR)
    train, valid, heldout = [], [], []
    for i, d in enumerate(docs):
        phase = i % HELDOUT_EVERY
        (heldout if phase == HELDOUT_PHASE else
         valid if phase == VALID_PHASE else train).append(d)

    os.makedirs(args.out, exist_ok=True)
    sep = "\n" + DOC_SEPARATOR + "\n"
    write(os.path.join(args.out, "train.txt"), train, sep)
    write(os.path.join(args.out, "valid.txt"), valid, sep)
    write(os.path.join(args.out, "heldout.txt"), heldout, "\n\n")
    for name, part in (("train", train), ("valid", valid), ("heldout", heldout)):
        print("%-8s %5d documents %10d characters" %
              (name, len(part), sum(len(d) for d in part)), file=sys.stderr)


if __name__ == "__main__":
    main()
