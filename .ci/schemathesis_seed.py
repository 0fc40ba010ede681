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


# schemathesis's default answers to a schema-valid request, less 5xx (never acceptable here).
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429"]

# Operations whose input obeys rules that JSON Schema cannot state, and the statuses those
# rules answer, with the rules (the handlers' own checks, each answered naming the field).
# Only what is listed is allowed: any other refusal of a schema-valid request fails the run.
REFS = "references must name records that exist and that the caller may write for"
SEMANTIC = {
    **{f"POST /{p}/import": (["400", "422"], "the body is declared as bytes; whether they are "
                             "a CSV (400 if not) with valid rows (422 naming row and column) "
                             "is the server's to say")
       for p in ["regions", "reps", "partners", "contracts", "activities", "sales-records",
                 "goals", "assessments", "partners/transitions"]},
    "PUT /regions/{id}": (["422"], "external_id unique per kind"),
    "POST /reps": (["422"], REFS + "; left_on only with status departed, after hired_on"),
    "PUT /reps/{id}": (["422"], REFS + "; left_on only with status departed, after hired_on"),
    "POST /partners": (["422"], REFS + "; the owner rep works in the partner's region"),
    "PUT /partners/{id}": (["422"], REFS + "; the owner rep works in the partner's region"),
    "POST /partners/{id}/transitions": (["422"], "a move happens on or before today and after "
                                        "the last one; the stage graph allows it"),
    "POST /contracts": (["422"], REFS + "; rebate tiers ascend"),
    "PUT /contracts/{id}": (["422"], REFS + "; rebate tiers ascend"),
    "POST /activities": (["422"], REFS + "; the rep owns the partner"),
    "PUT /activities/{id}": (["422"], REFS + "; the rep owns the partner"),
    "POST /sales-records": (["422"], REFS + "; one record per partner and month"),
    "PUT /sales-records/{id}": (["422"], REFS + "; one record per partner and month"),
    "POST /goals": (["422"], REFS + "; the target's unit is the metric's"),
    "PUT /goals/{id}": (["422"], REFS + "; the target's unit is the metric's"),
    "POST /assessments": (["422"], REFS + "; each result's unit is its metric's; the spec "
                          "version is published"),
    "PUT /assessments/{id}": (["422"], REFS + "; each result's unit is its metric's; the spec "
                              "version is published"),
    "POST /process-specs": (["422"], "weights sum to 1; accelerators and tiers ascend"),
    "PUT /process-specs/{id}": (["422"], "weights sum to 1; accelerators and tiers ascend"),
    "GET /partners/{id}/scorecard": (["422"], "the process spec has a published version"),
    "GET /reps/{id}/scorecard": (["422"], "the process spec has a published version"),
    "POST /scenarios": (["422"], "inline specs obey the spec rules; partners name regions of "
                        "the channel; behaviour's cross-parameter rules"),
    "POST /scenarios/from-records": (["422"], "the process spec is published; the records hold "
                                     "enough months"),
    "POST /scenarios/{id}/runs": (["422"], "options go with their kind; names refer to the "
                                  "scenario's specs and parameters"),
    "POST /backtests": (["422"], "the records hold enough months before the cut"),
    "POST /tokens": (["422"], "a region only for a regional manager, a rep only for a rep; "
                     "expiry in the future"),
    "POST /webhooks": (["422"], "at least one known event; an absolute http(s) URL"),
    "PUT /webhooks/{id}": (["422"], "at least one known event; an absolute http(s) URL"),
    "POST /training/sessions": (["422"], "the exercise exists"),
    "POST /training/sessions/{id}/rounds": (["422"], "decisions are the exercise's, with its "
                                            "options"),
    "GET /audit": (["400"], "record_id needs kind beside it, a dependency between parameters "
                   "OpenAPI cannot declare"),
}


def toml_list(values):
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


lines = ["# Generated by .ci/schemathesis_seed.py for one run; not committed.", ""]
# positive_data_acceptance: a request the schema allows must be accepted (schemathesis's
# default statuses), except where a rule no JSON Schema can state refuses it. Two such rules
# follow from the document's own headers, the rest are listed in SEMANTIC:
# - 412 where an operation takes `If-Match`: a well-formed ETag naming another version than
#   the record's current one (RFC 9110 §13.1.1);
# - 422 where it takes `Idempotency-Key`: a key reused with another body (the IETF
#   Idempotency-Key draft, §2.7); the fuzzer draws the same few keys for many bodies.
# - 400 where it takes `If-Match`, for a reason in schemathesis rather than in the API: its
#   coverage phase draws header values from [A-Za-z0-9] only (HEADER_ALLOWED_CHARS in
#   schemathesis/specs/openapi/coverage/_wire.py, 4.32.5), finds no valid ETag (they are
#   quoted), and sends an invalid one such as `0` in cases it labels schema-valid. The
#   grammar itself is held to the parser by tests/api/protocol.rs.
with urllib.request.urlopen(BASE + "/openapi.json", timeout=30) as res:
    document = json.loads(res.read())
extra = {}
for path, item in document["paths"].items():
    for method, op in item.items():
        names = {p["name"] for p in op.get("parameters", []) if p.get("in") == "header"}
        label = f"{method.upper()} {path}"
        statuses = (["400", "412"] if "If-Match" in names else []) + (
            ["422"] if "Idempotency-Key" in names else [])
        statuses += SEMANTIC.get(label, ([], ""))[0]
        if statuses:
            extra[label] = sorted(set(statuses))
unknown = set(SEMANTIC) - {f"{m.upper()} {p}" for p, i in document["paths"].items() for m in i}
assert not unknown, f"SEMANTIC names operations the document does not have: {unknown}"
for label, statuses in sorted(extra.items()):
    lines += ["[[operations]]", f"include-name = {json.dumps(label)}",
              "[operations.checks.positive_data_acceptance]",
              f"expected-statuses = {toml_list(ACCEPTED + statuses)}", ""]
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
