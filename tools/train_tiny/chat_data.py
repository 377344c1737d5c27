"""Synthetic ChatML exchanges built from the training documents (stdlib only).

The corpus has no dialogue, so without help a model trained on it never sees
the chat template and answers a chat prompt with noise. A few thousand short
exchanges teach it the shape: after "<|im_start|>assistant\n" comes an answer
and then "<|im_end|>". Answers are copied from the training documents (never
from valid.txt or heldout.txt): a verse or a short passage for a Bible
question, a paragraph from the matching section for a Python question, and a
fixed self-description for greetings.
"""
import random
import re

IM_START = "<|im_start|>"
IM_END = "<|im_end|>"

CHAPTER = re.compile(r"^(.+) (\d+)\n\n1 ")
UNDERLINE = re.compile(r"^([=\-~^*#\"'`+])\1{2,}$")
MODULE_TITLE = re.compile(r"^:mod:`(?:!)?([\w.]+)`\s+-+")

IDENTITY_ANSWERS = [
    "I am Troupe Tiny, a very small language model. I was trained on the King James "
    "Bible and the Python documentation, so I can recite verses and say a little "
    "about Python. I often make mistakes.",
    "Hello! I am Troupe Tiny, a toy model for demos and tests. Ask me for a Bible "
    "verse or about a part of the Python documentation.",
]
IDENTITY_QUESTIONS = [
    "Hello!", "Hi", "Hello, who are you?", "Who are you?", "What are you?",
    "What can you do?", "Introduce yourself.", "Good morning.", "Hey there",
    "What were you trained on?",
]
SYSTEM_PROMPTS = ["You are a helpful assistant.", "You are Troupe Tiny."]

BIBLE_QUESTIONS = [
    "Recite {ref}.", "What does {ref} say?", "Quote {ref} from the King James Bible.",
    "Please give me {ref}.", "Read {ref} to me.",
]
PYTHON_QUESTIONS = [
    "What does the Python documentation say about {topic}?",
    "Tell me about {topic} in Python.", "Explain {topic}.",
    "Can you describe {topic} from the Python docs?",
]


def render(messages):
    """The ChatML text of a conversation, exactly as the chat template renders it."""
    return "".join("%s%s\n%s%s\n" % (IM_START, m["role"], m["content"], IM_END)
                   for m in messages)


def bible_verses(docs):
    """[(book, chapter, [verse texts])] of every Bible chapter among docs."""
    chapters = []
    for d in docs:
        m = CHAPTER.match(d)
        if not m:
            continue
        verses = [line.split(" ", 1)[1] for line in d.split("\n")[2:]]
        chapters.append((m.group(1), int(m.group(2)), verses))
    return chapters


def is_prose(block):
    first = block.lstrip()[:1]
    if not first.isupper() or block.startswith((" ", "..")) or "::" in block:
        return False
    lines = block.split("\n")
    if any(l.startswith((" ", "\t", "*", "-", "+", "|", "=", ">>>")) for l in lines):
        return False
    return 120 <= len(block) <= 700 and block.rstrip().endswith(".")


def python_paragraphs(docs):
    """[(section heading, paragraph)]: the first prose paragraph of each section
    of the reST documents (it usually says what the section is about)."""
    found = []
    for d in docs:
        if CHAPTER.match(d):
            continue
        heading = None
        for block in d.split("\n\n"):
            lines = block.split("\n")
            if len(lines) >= 2 and UNDERLINE.match(lines[-1]):
                title = lines[-2].strip()
                m = MODULE_TITLE.match(title)
                if m:
                    heading = "the %s module" % m.group(1)
                else:
                    heading = title.strip("*` ") if 3 <= len(title) <= 60 else None
                continue
            if heading and is_prose(block):
                found.append((heading, " ".join(l.strip() for l in lines)))
                heading = None
    return found


def make_exchanges(docs, num_bible, num_python, num_identity, seed):
    """Returns ChatML conversation texts (each ends with "<|im_end|>\n")."""
    rng = random.Random(seed)
    chapters = bible_verses(docs)
    paragraphs = python_paragraphs(docs)
    turns = []
    for _ in range(num_bible):
        book, ch, verses = rng.choice(chapters)
        v = rng.randrange(len(verses))
        if rng.random() < 0.25 and v + 1 < len(verses):
            last = min(len(verses) - 1, v + rng.randint(1, 2))
            ref = "%s %d:%d-%d" % (book, ch, v + 1, last + 1)
            answer = " ".join(verses[v:last + 1])
        else:
            ref = "%s %d:%d" % (book, ch, v + 1)
            answer = verses[v]
        turns.append((rng.choice(BIBLE_QUESTIONS).format(ref=ref), answer))
    for _ in range(num_python):
        topic, paragraph = rng.choice(paragraphs)
        turns.append((rng.choice(PYTHON_QUESTIONS).format(topic=topic), paragraph))
    for _ in range(num_identity):
        turns.append((rng.choice(IDENTITY_QUESTIONS), rng.choice(IDENTITY_ANSWERS)))
    rng.shuffle(turns)

    conversations = []
    i = 0
    while i < len(turns):
        messages = []
        if rng.random() < 0.3:
            messages.append({"role": "system", "content": rng.choice(SYSTEM_PROMPTS)})
        num_turns = 2 if rng.random() < 0.2 else 1
        for question, answer in turns[i:i + num_turns]:
            messages.append({"role": "user", "content": question})
            messages.append({"role": "assistant", "content": answer})
        i += num_turns
        conversations.append(render(messages))
    return conversations
