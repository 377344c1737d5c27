#!/usr/bin/python3
"""Reference renderer for Troupe's chat template tests.

Renders chat templates with Jinja2 set up as Hugging Face transformers does in
apply_chat_template (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks,
loop controls, the {% generation %} tag, raise_exception, strftime_now and a
tojson without HTML escaping), and prints one JSON object:
  {case name: {"ok": true, "output": text} | {"ok": false, "error": text}}

Usage:
  render_reference.py conversations NODE_MODULES conversations.json
  render_reference.py features features.json
Exit status 3 when jinja2 is not installed (the caller skips).
"""
import json
import os
import sys
from datetime import datetime

try:
    import jinja2
    from jinja2 import nodes
    from jinja2.ext import Extension
    from jinja2.sandbox import ImmutableSandboxedEnvironment
except ImportError:
    print("python3-jinja2 is not installed", file=sys.stderr)
    sys.exit(3)


class AssistantTracker(Extension):
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        call = self.call_method("_generation_support")
        return nodes.CallBlock(call, [], [], body).set_lineno(lineno)

    def _generation_support(self, caller):
        return caller()


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(format):
    return datetime.now().strftime(format)


def make_environment():
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def render(env, source, context):
    try:
        return {"ok": True, "output": env.from_string(source).render(**context)}
    except Exception as e:  # any Jinja or Python error: the C++ renderer must fail too
        return {"ok": False, "error": f"{type(e).__name__}: {e}"}


def special_token_text(config, key):
    value = config.get(key)
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return value["content"]
    return ""


def load_templates(spec, node_modules, data_dir):
    """name -> (source, bos_token, eos_token); templates whose files are missing are left out."""
    out = {}
    for name, where in spec.items():
        if "tokenizer_config" in where:
            path = os.path.join(node_modules, where["tokenizer_config"])
            if not os.path.exists(path):
                continue
            with open(path, encoding="utf-8") as f:
                config = json.load(f)
            out[name] = (config["chat_template"], special_token_text(config, "bos_token"),
                         special_token_text(config, "eos_token"))
        else:
            with open(os.path.join(data_dir, where["file"]), encoding="utf-8") as f:
                out[name] = (f.read(), where.get("bos_token", ""), where.get("eos_token", ""))
    return out


def conversations(node_modules, path):
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    env = make_environment()
    templates = load_templates(spec["templates"], node_modules, os.path.dirname(path))
    results = {}
    for conv in spec["conversations"]:
        for template_name in conv.get("templates", list(spec["templates"])):
            if template_name not in templates:
                continue
            source, bos, eos = templates[template_name]
            for add_generation_prompt in (False, True):
                context = {
                    "messages": conv["messages"],
                    "tools": conv.get("tools"),
                    "documents": None,
                    "add_generation_prompt": add_generation_prompt,
                    "bos_token": bos,
                    "eos_token": eos,
                }
                context.update(conv.get("extra", {}))
                name = f"{template_name}/{conv['name']}/gen={int(add_generation_prompt)}"
                results[name] = render(env, source, context)
    return results


def features(path):
    with open(path, encoding="utf-8") as f:
        cases = json.load(f)
    env = make_environment()
    return {case["name"]: render(env, case["template"], case.get("context", {})) for case in cases}


def main(argv):
    if len(argv) >= 4 and argv[1] == "conversations":
        results = conversations(argv[2], argv[3])
    elif len(argv) >= 3 and argv[1] == "features":
        results = features(argv[2])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    json.dump(results, sys.stdout, ensure_ascii=False, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
