"""Drives a running chanlab server through a Python client generated from the committed
OpenAPI document by openapi-python-client, unmodified (.ci/client.sh generates it and
starts the server): a region's create, read, list, update and delete; a partner file
imported and exported; a partner's stage moved; a scenario posted; a run of it followed to
its result, whose figures are read as typed fields, and its chart.

Every step asserts what the server answered and that the client parsed it into the typed
model the spec promises (a model the spec left untyped would parse as a bare dict or as
None, and fail here). Usage: client_flow.py BASE TOKEN CLIENT_DIR CHANLAB_BINARY
"""

import datetime
import io
import subprocess
import sys
import time
import tomllib

BASE, TOKEN, CLIENT_DIR, CHANLAB = sys.argv[1:5]
sys.path.insert(0, CLIENT_DIR)

# The generated package: every import below is a module openapi-python-client wrote.
from chanlab_client import AuthenticatedClient  # noqa: E402
from chanlab_client.api.partners import (  # noqa: E402
    export_partners,
    import_partners,
    list_partners,
    transition_partner,
)
from chanlab_client.api.regions import (  # noqa: E402
    create_region,
    delete_region,
    get_region,
    list_regions,
    update_region,
)
from chanlab_client.api.simulation import (  # noqa: E402
    create_run,
    create_scenario,
    get_run,
    get_run_chart,
)
from chanlab_client.models import (  # noqa: E402
    CompareDocument,
    ImportReport,
    LifecycleStage,
    Partner,
    Region,
    RegionInput,
    RegionPage,
    RunRequest,
    RunStatus,
    RunView,
    ScenarioFile,
    ScenarioRecord,
    TransitionInput,
)
from chanlab_client.types import File  # noqa: E402

client = AuthenticatedClient(base_url=BASE, token=TOKEN, raise_on_unexpected_status=True)
steps = []


def step(name):
    steps.append(name)
    print(f"-- {name}", flush=True)


def expect(response, status, model):
    """The response's status is `status` and its body parsed as `model`."""
    assert response.status_code == status, (status, response.status_code, response.content[:500])
    assert isinstance(response.parsed, model), (model, type(response.parsed), response.content[:500])
    return response.parsed


step("CRUD: a region is created, read, listed, updated and deleted")
made = expect(
    create_region.sync_detailed(client=client, body=RegionInput(name="Nordics", regional_manager="Astrid Berg")),
    201,
    Region,
)
read = get_region.sync_detailed(str(made.id), client=client)
region = expect(read, 200, Region)
assert region.name == "Nordics" and region.id == made.id
page = expect(list_regions.sync_detailed(client=client, limit=10), 200, RegionPage)
assert [r.id for r in page.items] == [made.id], page
etag = read.headers["etag"]
renamed = expect(
    update_region.sync_detailed(
        str(made.id), client=client, if_match=etag, body=RegionInput(name="Nordics and Baltics", regional_manager="Astrid Berg")
    ),
    200,
    Region,
)
assert renamed.name == "Nordics and Baltics"
stale = update_region.sync_detailed(
    str(made.id), client=client, if_match=etag, body=RegionInput(name="Stale", regional_manager="Astrid Berg")
)
assert stale.status_code == 412, stale.status_code
scratch = expect(create_region.sync_detailed(client=client, body=RegionInput(name="Scratch", regional_manager="B")), 201, Region)
gone = delete_region.sync_detailed(str(scratch.id), client=client)
assert gone.status_code == 204, gone.status_code
assert get_region.sync_detailed(str(scratch.id), client=client).status_code == 404

step("CSV: partners imported from a file (by the region's name) and exported")
csv = (
    "id,name,kind,tier,region_id,owner_rep_id,stage\n"
    ",Acme AB,reseller,A,Nordics and Baltics,,active\n"
    ",\"Nord, Ltd\",agent,C,Nordics and Baltics,,prospect\n"
)
report = expect(import_partners.sync_detailed(client=client, body=File(payload=io.BytesIO(csv.encode()))), 201, ImportReport)
assert report.imported == 2, report
exported = export_partners.sync_detailed(client=client)
assert exported.status_code == 200 and isinstance(exported.parsed, str), exported.content[:200]
assert "Acme AB" in exported.parsed and "\"Nord, Ltd\"" in exported.parsed, exported.parsed
assert "Nordics and Baltics" in exported.parsed, "the export names the region beside its id"

step("Transition: a prospect moves to negotiating")
partners = list_partners.sync_detailed(client=client, limit=10).parsed
nord = next(p for p in partners.items if p.name == "Nord, Ltd")
moved = expect(
    transition_partner.sync_detailed(
        str(nord.id), client=client, body=TransitionInput(to=LifecycleStage.NEGOTIATING, on=datetime.date.today())
    ),
    200,
    Partner,
)
assert moved.stage == LifecycleStage.NEGOTIATING
refused = transition_partner.sync_detailed(str(nord.id), client=client, body=TransitionInput(to=LifecycleStage.PROSPECT))
assert refused.status_code == 409, (refused.status_code, refused.content)

step("Scenario: a bundled scenario, made small, is posted as a typed body")
toml = subprocess.run([CHANLAB, "scenario", "show", "mid-size"], check=True, capture_output=True, text=True).stdout
doc = tomllib.loads(toml)
doc.update(horizon_months=6, replications=8, seed=11)
body = ScenarioFile.from_dict(doc)
scenario = expect(create_scenario.sync_detailed(client=client, body=body), 201, ScenarioRecord)
assert isinstance(scenario.scenario, ScenarioFile) and scenario.scenario.replications == 8

step("Run: the scenario is run and its result read as typed figures")
run = create_run.sync_detailed(str(scenario.id), client=client, body=RunRequest(replications=8))
assert run.status_code == 202, run.content
run_id = str(run.parsed.id)
deadline = time.monotonic() + 300
while True:
    view = expect(get_run.sync_detailed(run_id, client=client), 200, RunView)
    if view.status in (RunStatus.DONE, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.INTERRUPTED):
        break
    assert time.monotonic() < deadline, "the run did not finish in 300 s"
    time.sleep(0.2)
assert view.status == RunStatus.DONE, view.error
assert isinstance(view.result, CompareDocument), type(view.result)
report = view.result.report
assert report.replications == 8, report
names = [s.name for s in report.specs]
assert len(names) == len(doc["specs"]), names
for spec in report.specs:
    for kpi in spec.kpis:
        summary = kpi.summary
        assert summary.p5 <= summary.p50 <= summary.p95, (spec.name, kpi.kpi, summary)
    assert len(spec.monthly_sell_through) == 6
chart = get_run_chart.sync_detailed(run_id, client=client)
assert chart.status_code == 200 and isinstance(chart.parsed, File), chart.status_code
svg = chart.parsed.payload.read()
assert b"<svg" in svg[:500] and svg.rstrip().endswith(b"</svg>"), svg[:200]

print(f"client flow: {len(steps)} steps passed ({', '.join(s.split(':')[0] for s in steps)})")
