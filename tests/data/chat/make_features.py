#!/usr/bin/python3
"""Writes jinja_features.json: small templates, one Jinja feature each, that the
tests render with both Troupe's renderer and Jinja2 (render_reference.py)."""
import json
import os
import random

cases = []


def case(case_name, template, **context):
    cases.append({"name": case_name, "template": template, "context": context})


# whitespace control
case("ws/trim_blocks_drops_newline_after_block", "{% if true %}\nA\n{% endif %}\nB\n")
case("ws/lstrip_blocks_strips_indent_before_block", "  {% if true %}\n  x\n  {% endif %}\n  y\n")
case("ws/minus_strips_both_sides", "a  \n {%- if true -%}  \n b \n {%- endif -%} \n c")
case("ws/plus_keeps_indent_and_newline", "x\n  {%+ if true %}y{% endif +%}\nz")
case("ws/variable_tags_not_lstripped", "a\n  {{ 'v' }}\n  b")
case("ws/variable_minus", "a \n {{- 'v' -}} \n b")
case("ws/comment_lstrip_and_trim", "a\n  {# comment #}\n  b\n{#- c -#}\n  d")
case("ws/trailing_newline_dropped", "line\n")
case("ws/crlf_normalized", "a\r\nb\rc\r\n{% if true %}\r\nd{% endif %}")
case("ws/text_before_tag_not_only_spaces", "x {% if true %}y{% endif %}")
case("ws/tag_after_block_end_on_same_line", "{% for i in [1,2] %}\n  {% if i %}{{ i }}{% endif %}\n{% endfor %}")
case("ws/raw_block", "{% raw %}{{ not rendered }}{% endraw %}\n  {%- raw -%}  {% x %}  {%- endraw %}!")
case("ws/unicode_text", "äöü {{ 'ß' }} 日本\n")
# expressions and literals
case("expr/arithmetic", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 1 / 4 }} {{ 10 / 5 }}")
case("expr/floats", "{{ 0.1 + 0.2 }} {{ 1e3 }} {{ 1.5e-7 }} {{ 1e16 }} {{ 2.5 * 2 }} {{ 1_000 }} {{ 3.0 }} {{ -0.0 }} {{ 123456789.125 }}")
case("expr/string_concat_and_tilde", "{{ 'a' + 'b' }} {{ 'n' ~ 1 ~ none ~ true ~ 2.0 }} {{ 'x' * 3 }}")
case("expr/adjacent_strings_and_escapes", "{{ 'a' 'b' \"c\" }} {{ 'tab\\there' }} {{ \"q\\\"uote\" }} {{ 'it\\'s' }} {{ '\\u00e9\\x41' }}")
case("expr/comparisons", "{{ 1 < 2 }} {{ 2 <= 2 }} {{ 3 > 4 }} {{ 'a' < 'b' }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' != 'b' }} {{ [1,2] == [1,2] }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }}")
case("expr/in_and_not_in", "{{ 'a' in 'cat' }} {{ 2 in [1,2] }} {{ 'k' in {'k': 1} }} {{ 'z' not in 'cat' }} {{ 3 not in [1,2] }}")
case("expr/boolean_ops_return_operands", "{{ 0 or 'x' }} {{ 'a' and 'b' }} {{ none or [] }} {{ not 0 }} {{ not 'a' }} {{ not x is defined }}")
case("expr/conditional_expression", "{{ 'y' if true else 'n' }} {{ 'y' if false else 'n' }} [{{ 'y' if false }}] {{ 1 if 0 else 2 if 0 else 3 }}")
case("expr/list_tuple_dict_literals", "{{ [1, 'two', none, true, 1.5] }} {{ {'k': 'v', 'n': [1]} }} {{ [] }} {{ {} }} {{ [1,] }}")
case("expr/python_repr_of_strings", "{{ ['it\\'s', 'say \"hi\"', 'both \\' \"', 'nl\\n', 'back\\\\slash', 'é'] }}")
case("expr/subscripts", "{{ xs[0] }} {{ xs[-1] }} {{ d['a'] }} {{ d.a }} {{ d['b']['c'] }} {{ d.b.c }} {{ 'héllo'[1] }} [{{ xs[10] }}] {{ xs.1 }}", xs=[1, 2, 3], d={"a": "A", "b": {"c": "C"}})
case("expr/slices", "{{ xs[::-1] }} {{ xs[1:] }} {{ xs[:2] }} {{ xs[1:-1] }} {{ xs[::2] }} {{ xs[-2:] }} {{ xs[5:] }} {{ 'héllo'[::-1] }} {{ 'abcdef'[1:4] }} {{ xs[3:0:-1] }} {{ xs[-10:10] }}", xs=[1, 2, 3, 4])
case("expr/missing_key_is_undefined", "[{{ d.nope }}] {{ d.nope is defined }} {{ d['nope'] is undefined }} {{ nothing is defined }}", d={"a": 1})
case("expr/unary_minus_and_plus", "{{ -x }} {{ +x }} {{ - 2 ** 2 }} {{ -1.5 }}", x=3)
case("expr/printing_values", "{{ none }} {{ true }} {{ false }} {{ 3 }} {{ 2.0 }} {{ d }} {{ undefined_name }}|", d={"z": None, "a": [True, 1.25]})
# statements
case("stmt/if_elif_else", "{% for x in [1, 2, 3] %}{% if x == 1 %}one{% elif x == 2 %}two{% else %}other{% endif %},{% endfor %}")
case("stmt/for_loop_variables", "{% for x in ['a','b','c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}|{% endfor %}")
case("stmt/for_prev_and_next_item", "{% for x in [1,2,3] %}{{ loop.previtem is defined }}{{ loop.previtem }}-{{ loop.nextitem }};{% endfor %}")
case("stmt/loop_cycle_and_repr", "{% for x in 'abc' %}{{ loop.cycle('odd', 'even') }} {{ loop }} {{ loop.depth }}{{ loop.depth0 }};{% endfor %}")
case("stmt/for_over_dict_and_items", "{% for k in d %}{{ k }}{% endfor %} {% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %} {% for k, v in d|items %}{{ k }}{{ v }}{% endfor %}", d={"b": 1, "a": 2})
case("stmt/for_over_string", "{% for c in 'héj' %}[{{ c }}]{% endfor %}")
case("stmt/for_else_and_filter", "{% for x in [] %}x{% else %}empty{% endfor %} {% for x in [1,2,3,4] if x is even %}{{ x }}/{{ loop.length }}{% endfor %}")
case("stmt/for_over_undefined_is_empty", "{% for x in nothing %}x{% else %}none{% endfor %}")
case("stmt/nested_loops_and_loop_shadowing", "{% for a in [1,2] %}{% for b in [3,4] %}{{ a }}{{ b }}{{ loop.index }}{% endfor %}{{ loop.index }} {% endfor %}")
case("stmt/break_and_continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}")
case("stmt/set_in_loop_does_not_leak", "{% set a = 5 %}{% for x in [1,2,3] %}{{ a }}{% set a = x %}{{ a }}{% endfor %}{{ a }}")
case("stmt/set_in_if_leaks", "{% if true %}{% set b = 2 %}{% endif %}{{ b }}")
case("stmt/set_per_iteration_scope", "{% for x in [1,2,3] %}{% if loop.first %}{% set a = 1 %}{% endif %}[{{ a }}]{% endfor %}")
case("stmt/namespace_attribute_assignment", "{% set ns = namespace(found=false, n=0) %}{% for x in [1,2,3] %}{% if x == 2 %}{% set ns.found = true %}{% endif %}{% set ns.n = ns.n + x %}{% endfor %}{{ ns.found }} {{ ns.n }} {{ ns.missing is defined }}")
case("stmt/namespace_from_dict", "{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}")
case("stmt/set_tuple_unpacking", "{% set a, b = [1, 2] %}{{ a }}{{ b }}")
case("stmt/block_set", "{% set body %}Hello {{ name }}!{% endset %}[{{ body }}] {% set up | upper %}shout{% endset %}{{ up }}", name="Ann")
case("stmt/macro_with_defaults", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', '?') }} {{ greet(punct='.', name='C') }}")
case("stmt/macro_sees_globals_not_loop_locals", "{% macro m() %}{{ g }}/{{ x is defined }}{% endmacro %}{% for x in [1] %}{{ m() }}{% endfor %}", g="G")
case("stmt/recursive_macro", "{% macro count(n) %}{{ n }}{% if n > 0 %}{{ count(n - 1) }}{% endif %}{% endmacro %}{{ count(5) }}")
case("stmt/filter_block", "{% filter upper %}abc {{ 'd' }}{% endfilter %}")
case("stmt/generation_block", "{% for m in ['a','b'] %}{% generation %}<{{ m }}>{% endgeneration %}{% endfor %}")
case("stmt/comment_only", "{# just a comment #}")
# filters
case("filter/trim_and_strip_methods", "[{{ '  x \\n'|trim }}] [{{ 'xxaxx'|trim('x') }}] [{{ '\\n a \\n'.strip() }}] [{{ '\\n a'.lstrip('\\n') }}] [{{ 'a \\n'.rstrip() }}] [{{ '\u3000a\u00a0'.strip() }}]")
case("filter/length", "{{ 'héllo'|length }} {{ [1,2]|length }} {{ {'a':1}|count }} {{ nothing|length }}")
case("filter/tojson", "{{ d|tojson }} {{ 'é\"\\n<>&'|tojson }} {{ [1, 2.5, none, true]|tojson }} {{ d|tojson(indent=2) }} {{ d|tojson(sort_keys=true) }} {{ 1e100|tojson }}", d={"z": 1, "a": {"n": [1, {"x": None}], "e": {}, "l": []}})
case("filter/tojson_positional_is_ensure_ascii", "{{ d|tojson(true) }} {{ d|tojson(false, 1) }}", d={"k": [1, 2], "s": "té😀"})
case("filter/tojson_separators", "{{ d|tojson(separators=(',', ':')) }} {{ d|tojson(indent=1, separators=(';', '=')) }}", d={"k": [1, 2], "s": "t"})
case("filter/string_lower_upper_title_capitalize", "{{ 5|string }} {{ 'MiXed'|lower }} {{ 'MiXed'|upper }} {{ 'hello world-wide'|title }} {{ 'hELLO'|capitalize }}")
case("filter/replace", "{{ 'aaa'|replace('a', 'b') }} {{ 'aaa'|replace('a', 'b', 2) }} {{ 'abc'|replace('', '-') }} {{ 'a.b'.replace('.', '::') }}")
case("filter/join", "{{ [1, 2, 3]|join(', ') }} {{ ['a','b']|join }} {{ users|join(', ', attribute='name') }}", users=[{"name": "x"}, {"name": "y"}])
case("filter/first_last_reverse_list", "{{ [1,2,3]|first }} {{ [1,2,3]|last }} {{ 'abc'|first }} {{ [1,2,3]|reverse|list }} {{ 'abc'|reverse }} {{ 'ab'|list }} [{{ []|first }}]")
case("filter/default", "{{ x|default('d') }} {{ none|default('d') }} {{ none|default('d', true) }} {{ ''|d('e', true) }} {{ 0|default(5) }} {{ y|default }}|", y=None)
case("filter/items", "{% for k, v in d|items %}{{ k }}:{{ v }} {% endfor %}", d={"b": [1], "a": None})
case("filter/selectattr_rejectattr", "{{ ms|selectattr('role', 'equalto', 'user')|map(attribute='content')|join(',') }} {{ ms|rejectattr('role', 'eq', 'user')|list|length }} {{ ms|selectattr('flag')|map(attribute='content')|list }}", ms=[{"role": "user", "content": "u1", "flag": True}, {"role": "assistant", "content": "a1"}, {"role": "user", "content": "u2"}])
case("filter/select_reject_map", "{{ [1,2,3,4]|select('odd')|list }} {{ [1,2,3,4]|reject('even')|list }} {{ ['a','B']|map('upper')|list }} {{ [1, none, 2]|select|list }}")
case("filter/int_float_abs_sum", "{{ '42'|int }} {{ '4.7'|int }} {{ 'x'|int }} {{ 'x'|int(7) }} {{ 3.9|int }} {{ '2.5'|float }} {{ 3|float }} {{ -3|abs }} {{ [1,2,3]|sum }} {{ [1.5, 2]|sum }}")
case("filter/sort_unique", "{{ [3,1,2]|sort }} {{ ['b','A','a','C']|sort }} {{ [3,1,2]|sort(reverse=true) }} {{ ['a','A','b']|unique|list }} {{ ms|sort(attribute='n')|map(attribute='n')|list }}", ms=[{"n": 2}, {"n": 1}])
case("filter/chained_with_precedence", "{{ '<|x|>' + '  y  '|trim + '|' }} {{ xs|length - 1 }} {{ -xs|length if false else 0 }}", xs=[1, 2, 3])
case("error/unary_minus_binds_before_filter", "{{ -xs|length }}", xs=[1, 2, 3])
case("filter/escape_and_safe", "{{ '<a href=\"x\">&\\'</a>'|e }} {{ '<b>'|safe }}")
case("filter/indent", "[{{ 'a\nb\n\nc'|indent }}] [{{ 'a\nb'|indent(2, true) }}] [{{ 'a\n\nb'|indent(width='> ', blank=true) }}] [{{ ''|indent(first=true) }}]")
case("filter/min_max", "{{ [3, 1, 2]|min }} {{ [3, 1, 2]|max }} {{ ['b', 'A', 'c']|max }} {{ ms|min(attribute='n') }} [{{ []|max }}]", ms=[{"n": 2}, {"n": 1}])
case("stmt/with_block", "{% set a = 1 %}{% with a = a + 1, b = 'x' %}{{ a }}{{ b }}{% set c = 3 %}{% endwith %}{{ a }}{{ b is defined }}{{ c is defined }}")
# tests
case("test/is_tests", "{{ none is none }} {{ 1 is none }} {{ 'a' is string }} {{ 1 is string }} {{ {} is mapping }} {{ [] is mapping }} {{ [] is iterable }} {{ 'a' is iterable }} {{ 1 is iterable }} {{ [] is sequence }} {{ 'a' is sequence }} {{ {} is sequence }} {{ x is sequence }} {{ x is iterable }}")
case("test/is_true_false_boolean", "{{ false is false }} {{ 0 is false }} {{ true is true }} {{ 1 is true }} {{ true is boolean }} {{ 1 is boolean }} {{ none is false }}")
case("test/number_tests", "{{ 1 is number }} {{ 1.5 is number }} {{ true is number }} {{ 1 is integer }} {{ 1.0 is integer }} {{ 1.0 is float }} {{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }}")
case("test/comparison_tests", "{{ 1 is eq 1 }} {{ 2 is gt 1 }} {{ 2 is lt 1 }} {{ 2 is ge 2 }} {{ 1 is le 0 }} {{ 1 is ne 2 }} {{ 'a' is in 'abc' }} {{ 'x' is in ['x'] }} {{ none is sameas none }} {{ 1 is eq(1) }}")
case("error/test_name_must_be_a_name", "{{ 1 is == 1 }}")
case("test/defined_and_not", "{{ x is defined }} {{ x is not defined }} {{ y is defined }} {{ y is undefined }} {{ d.k is not none }}", y=None, d={"k": 0})
case("test/callable_lower_upper", "{{ range is callable }} {{ 'a'.upper is callable }} {{ 1 is callable }} {{ 'abc' is lower }} {{ 'ABC' is upper }} {{ 'Abc' is lower }}")
# methods
case("method/startswith_endswith", "{{ 'hello'.startswith('he') }} {{ 'hello'.endswith('lo') }} {{ 'hello'.startswith(('x', 'h')) }} {{ 'hello'.endswith('xlo') }} {{ ''.startswith('') }}")
case("method/split_rsplit_splitlines", "{{ 'a b  c '.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a,b,c'.split(',', 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ '  a  b  '.split(none, 1) }} {{ 'x\\ny\\r\\nz\\n'.splitlines() }} {{ 'a</think>b</think>c'.split('</think>')[-1] }}")
case("method/find_count_join_upper", "{{ 'hello'.find('l') }} {{ 'hello'.rfind('l') }} {{ 'hello'.find('z') }} {{ 'hello'.count('l') }} {{ '-'.join(['a','b']) }} {{ 'Ab'.upper() }}{{ 'Ab'.lower() }} {{ 'ab cd'.title() }} {{ 'aB'.capitalize() }} {{ 'a-b'.replace('-', '+') }}")
case("method/is_predicates", "{{ '123'.isdigit() }} {{ '12a'.isdigit() }} {{ 'abc'.isalpha() }} {{ 'a1'.isalnum() }} {{ ' \\n'.isspace() }} {{ ''.isspace() }} {{ 'abc'.islower() }} {{ 'ABC'.isupper() }}")
case("method/dict_methods", "{{ d.keys()|list }} {{ d.values()|list }} {% for k, v in d.items() %}{{ k }}{{ v }}{% endfor %} {{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 'dflt') }} {{ d['items'] }}", d={"a": 1, "items": 2})
case("global/range", "{{ range(3)|list }} {{ range(1, 4)|list }} {{ range(10, 0, -3)|list }} {{ range(0)|list }}")
case("global/dict", "{{ dict(a=1, b='x') }}")
case("context/messages_style_access", "{% for m in messages %}{{ m.role }}:{{ m['content'] }}{% if not loop.last %}|{% endif %}{% endfor %}", messages=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}])
case("context/tools_none_is_falsy_but_defined", "{{ tools is defined }} {{ tools is none }} {% if tools %}yes{% else %}no{% endif %}", tools=None)
# errors: Jinja fails on these, so must the C++ renderer
case("error/raise_exception", "{% if true %}{{ raise_exception('Conversation roles must alternate') }}{% endif %}")
case("error/unknown_filter", "{{ 'a'|frobnicate }}")
case("error/unknown_test", "{{ 'a' is frobnicated }}")
case("error/unclosed_block", "{% if true %}never closed")
case("error/unclosed_tag", "{{ 'a' ")
case("error/unterminated_string", "{{ 'abc }}")
case("error/unbalanced_bracket", "{{ [1, 2 }}")
case("error/endfor_without_for", "{% endfor %}")
case("error/unknown_tag", "{% frobnicate %}")
case("error/add_undefined", "{{ nothing + 'x' }}")
case("error/attribute_of_undefined", "{{ nothing.attr }}")
case("error/string_plus_none", "{{ 'a' + none }}")
case("error/string_plus_int", "{{ 'a' + 1 }}")
case("error/call_undefined_function", "{{ nothing(1) }}")
case("error/division_by_zero", "{{ 1 / 0 }}")
case("error/set_attribute_on_non_namespace", "{% set d = {} %}{% set d.x = 1 %}")
case("error/iterate_none", "{% for x in none %}{% endfor %}")
case("error/compare_incompatible", "{{ 1 < 'a' }}")
case("error/break_outside_loop", "{% break %}")
case("error/missing_comment_end", "{# never closed")
case("error/content_none_concat", "{{ '<|im_start|>' + messages[0]['content'] }}", messages=[{"role": "user", "content": None}])

# Random expressions over a small context (fixed seed): a differential check of
# operators, filters, tests and methods in combinations nobody wrote by hand.
# Left out: printf-style '%' on strings, map(attribute=…) over non-dicts
# (lists holding Undefined) and printing tuples, which the C++ renderer does
# not support (it prints tuples as lists).
random_context = {
    "xs": [3, 1, 2], "s": "  Hello, World é ", "d": {"k": 1, "b": [True, None], "e": ""}, "n": 7,
    "f": 2.5, "empty": [], "msgs": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": " yo "}],
}
atoms = ["1", "0", "-2", "2.5", "0.5", "'a'", "'Ab c'", "' x '", "''", "'é'", "none", "true", "false", "[1, 'a']",
         "{'k': 1}", "xs", "s", "d", "n", "f", "empty", "msgs", "nothing", "msgs[0]", "d.k", "d['b']", "xs[-1]",
         "s[1:4]", "xs[::-1]", "msgs[-1].content", "d.missing", "msgs[5]"]
binary_ops = ["+", "-", "*", "//", "~", "==", "!=", "<", ">=", "in", "not in", "and", "or"]
filters = ["length", "trim", "upper", "lower", "first", "last", "default('z')", "default('z', true)", "string",
           "tojson", "reverse|list", "list", "join(',')", "int", "sort", "unique|list", "items|list|length", "count",
           "capitalize", "title", "replace('l', 'L')", "float", "abs", "selectattr('role')|list",
           "sum", "min", "max", "indent(2)"]
tests = ["defined", "undefined", "none", "string", "number", "mapping", "sequence", "iterable", "true", "false",
         "integer", "float", "boolean", "odd", "even", "in [1, 'a']", "eq 1"]
methods = ["strip()", "split()", "split(',')", "startswith('a')", "endswith(' ')", "upper()", "lower()",
           "lstrip()", "rstrip(' é')", "replace('o', '0')", "find('o')", "count('l')", "title()"]


def random_expr(rng, depth):
    roll = rng.random()
    if depth <= 0 or roll < 0.25:
        return rng.choice(atoms)
    if roll < 0.45:
        return f"({random_expr(rng, depth - 1)} {rng.choice(binary_ops)} {random_expr(rng, depth - 1)})"
    if roll < 0.65:
        return f"{random_expr(rng, depth - 1)}|{rng.choice(filters)}"
    if roll < 0.75:
        return f"({random_expr(rng, depth - 1)} is {rng.choice(['', 'not '])}{rng.choice(tests)})"
    if roll < 0.85:
        return rng.choice(["s", "d.e", "msgs[1].content", "'a,b'"]) + "." + rng.choice(methods)
    if roll < 0.92:
        return f"(not {random_expr(rng, depth - 1)})"
    return f"({random_expr(rng, depth - 1)} if {random_expr(rng, depth - 1)} else {random_expr(rng, depth - 1)})"


rng = random.Random(20261126)
for i in range(600):
    case(f"random/{i:03d}", "{{ " + random_expr(rng, 3) + " }}", **random_context)

# Random statement structures with random whitespace and whitespace-control
# signs around every tag: trim_blocks/lstrip_blocks are where renderers differ.
texts = ["", " ", "  ", "\n", "\n  ", "a", " b ", "\t", "x\n", "\n\n", "  \n", "c  \n  "]


def ws_text(rng):
    return "".join(rng.choice(texts) for _ in range(rng.randint(0, 2)))


def tag(rng, body):
    return rng.choice(["{%", "{%-", "{%+"]) + " " + body + " " + rng.choice(["%}", "-%}", "+%}"])


def random_block(rng, depth):
    out = ws_text(rng)
    for _ in range(rng.randint(1, 3)):
        roll = rng.random()
        if roll < 0.25:
            out += rng.choice(["{{", "{{-"]) + " " + rng.choice(["x", "loop.index", "'v'", "y"]) + " " + rng.choice(["}}", "-}}"])
        elif roll < 0.35:
            out += rng.choice(["{#", "{#-"]) + " note " + rng.choice(["#}", "-#}"])
        elif roll < 0.45:
            out += tag(rng, "set y = " + rng.choice(["1", "'s'", "y ~ 'z'"]))
        elif roll < 0.7 and depth > 0:
            out += tag(rng, "if " + rng.choice(["true", "false", "x", "y is defined"])) + random_block(rng, depth - 1)
            if rng.random() < 0.5:
                out += tag(rng, "else") + random_block(rng, depth - 1)
            out += tag(rng, "endif")
        elif depth > 0:
            out += tag(rng, "for x in " + rng.choice(["[1, 2]", "xs", "[]"])) + random_block(rng, depth - 1) + tag(rng, "endfor")
        out += ws_text(rng)
    return out


rng = random.Random(7)
for i in range(300):
    case(f"random_ws/{i:03d}", random_block(rng, 2), xs=["p", "q"])

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "jinja_features.json"), "w", encoding="utf-8") as f:
    json.dump(cases, f, ensure_ascii=False, indent=1)
    f.write("\n")
print(len(cases), "cases")
