#!/usr/bin/env python3
"""Seed a running chanlab server with records and write the schemathesis config that
points the fuzzer at them.

Without real ids, every `/{id}` operation only ever sees 404s and every body that refers to
another record only ever sees 422s, so the fuzzer never reaches the handlers' core logic.
This creates a small channel (regions, reps, partners in several stages, contracts,
activities, sales, goals, a published and a draft process spec, assessments) through the
API itself and binds each id-shaped parameter and body field to a dictionary of the ids
that exist, used in about half the generated cases (the other half stay random).

Usage: schemathesis_seed.py BASE_URL TOKEN OUT_TOML
Standard library only: it runs before (and outside) the schemathesis virtualenv.
"""

import json
import sys
import urllib.request

BASE, TOKEN, OUT = sys.argv[1], sys.argv[2], sys.argv[3]


def call(method, path, body=None, content_type="application/json"):
    data = None
    if body is not None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + TOKEN)
    if data is not None:
        req.add_header("Content-Type", content_type)
    with urllib.request.urlopen(req, timeout=30) as res:
        assert 200 <= res.status < 300, (method, path, res.status)
        return json.loads(res.read() or b"null")


def create(path, body):
    return call("POST", path, body)["id"]


def eur(minor):
    return {"amount_minor": minor, "currency": "EUR"}


SPEC = {
    "name": "FY27 potential-based",
    "goal_setting": {
        "strategy": {"kind": "flat_growth", "growth": 0.05},
        "period": "quarter",
        "metric": "sell_through",
    },
    "cadences": [{"tier": "A", "activity": "visit", "count": 2, "every_months": 1}],
    "onboarding": {"months": 3, "trainings": 2, "visits_per_month": 2},
    "assessment": {"key_links": [{"metric": "visits", "weight": 1.0}], "every": "quarter"},
    "incentive": {"basis": "sell_through", "commission_rate": 0.03},
    "partner_program": {"base_margin": 0.06, "target_period": "quarter"},
}

ids = {k: [] for k in ["region", "rep", "partner", "contract", "activity", "sales",
                       "goal", "spec", "assessment"]}

for r in range(3):
    ids["region"].append(create("/regions", {"name": f"Region {r}", "regional_manager": "Astrid Berg"}))
for i, region in enumerate(ids["region"] * 2):
    ids["rep"].append(create("/reps", {"name": f"Rep {i}", "region_id": region,
                                       "hired_on": "2025-03-01", "status": "active"}))
stages = ["prospect", "negotiating", "contracted", "active", "at_risk", "churned"]
for i, stage in enumerate(stages * 2):
    rep = ids["rep"][i % len(ids["rep"])]
    region = ids["region"][i % len(ids["region"])]
    ids["partner"].append(create("/partners", {
        "name": f"Partner {i}", "kind": "distributor", "tier": "ABC"[i % 3],
        "region_id": region, "owner_rep_id": rep, "stage": stage}))
spec = create("/process-specs", SPEC)
call("POST", f"/process-specs/{spec}/publish")
ids["spec"] += [spec, create("/process-specs", SPEC)]
for i, partner in enumerate(ids["partner"]):
    rep = ids["rep"][i % len(ids["rep"])]
    ids["contract"].append(create("/contracts", {
        "partner_id": partner, "start": "2026-01-01", "term_months": 12, "margin": 0.05,
        "sell_in_target": eur(100_000), "target_period": "quarter"}))
    for day in (3, 12):
        ids["activity"].append(create("/activities", {
            "rep_id": rep, "partner_id": partner, "date": f"2026-11-{day:02}",
            "kind": "visit", "outcome": "completed"}))
    for month in ("2026-10", "2026-11"):
        ids["sales"].append(create("/sales-records", {
            "partner_id": partner, "month": month, "sell_in": eur(10_000 + i),
            "sell_through": eur(8_000 + i)}))
for rep in ids["rep"]:
    ids["goal"].append(create("/goals", {
        "scope": {"kind": "rep", "id": rep}, "period": "2026-Q4", "metric": "visits",
        "target": {"count": 6}, "strategy": "manual"}))
    ids["assessment"].append(create("/assessments", {
        "scope": {"kind": "rep", "id": rep}, "period": "2026-Q4", "process_spec_id": spec,
        "spec_version": 1, "results": [{"metric": "visits", "weight": 1.0,
                                        "target": {"count": 6}, "actual": {"count": 5}}]}))

# Which dictionary each `/{id}` path belongs to, and which body and query fields name
# which kind of record.
PATHS = {
    "regions": "region", "reps": "rep", "partners": "partner", "contracts": "contract",
    "activities": "activity", "sales-records": "sales", "goals": "goal",
    "process-specs": "spec", "assessments": "assessment",
}
FIELDS = {
    "region_id": "region", "rep_id": "rep", "owner_rep_id": "rep", "partner_id": "partner",
    "process_spec_id": "spec",
}


def toml_list(values):
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


lines = ["# Generated by .ci/schemathesis_seed.py for one run; not committed.", ""]
for kind, values in ids.items():
    lines += [f"[dictionaries.{kind}]", f"values = {toml_list(values)}", ""]
# ETags the server issues (a record's version) and the wildcard: without them nearly every
# PUT, DELETE, transition and publish stops at 412 on a random `If-Match`.
lines += ["[dictionaries.etag]", 'values = [\'"1"\', \'"2"\', \'"3"\', "*"]', ""]
lines += [f"[dictionaries.any_record]",
          f"values = {toml_list([v for vs in ids.values() for v in vs])}", ""]
for segment, kind in PATHS.items():
    lines += [
        "[[operations]]",
        f'include-path-regex = "^/{segment}/\\\\{{id\\\\}}"',
        "[operations.parameters]",
        f'"path.id" = {{ dictionary = "{kind}", probability = 0.5 }}',
    ]
    for field, fkind in FIELDS.items():
        lines.append(f'"body.{field}" = {{ dictionary = "{fkind}", probability = 0.5 }}')
        lines.append(f'"query.{field}" = {{ dictionary = "{fkind}", probability = 0.5 }}')
    lines.append('"body.scope.id" = { dictionary = "any_record", probability = 0.5 }')
    lines.append('"header.If-Match" = { dictionary = "etag", probability = 0.7 }')
    lines.append("")
# Collections (`POST /partners`, `GET /goals?rep_id=`) get the same field bindings.
lines += ["[parameters]"]
for field, fkind in FIELDS.items():
    lines.append(f'"body.{field}" = {{ dictionary = "{fkind}", probability = 0.5 }}')
    lines.append(f'"query.{field}" = {{ dictionary = "{fkind}", probability = 0.5 }}')
lines.append('"body.scope.id" = { dictionary = "any_record", probability = 0.5 }')
lines.append("")

with open(OUT, "w") as out:
    out.write("\n".join(lines))
print(f"seeded {sum(len(v) for v in ids.values())} records: "
      + ", ".join(f"{len(v)} {k}" for k, v in ids.items()))
