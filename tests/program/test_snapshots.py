"""Every resource each stack declares (prod, dev, analytics), compared with the committed tests/snapshots/<stack>.json.

A change to what the program declares (a policy, a grant, a trusted principal, a Lambda setting, the handler's code)
fails here with the diff, so it is reviewed as a change to tests/snapshots/ in the same commit.
"""

from __future__ import annotations

import difflib
import json
import shutil

import pytest

from localcloud_pulumi import synth as synthesis
from localcloud_pulumi.synth import SECRET
from offline.stacks import PROJECT_DIR
from tests.program.conftest import CONSUMER_STACKS, NS, STACKS, changed_grant, synthesized
from tests.project import main_synth, stack_config, synth

SNAPSHOTS = PROJECT_DIR / "tests" / "snapshots"
HINT = "run `make snapshots` to accept the change"


def as_text(document: dict) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def snapshot_diff(stack: str, text: str) -> str:
    committed = (SNAPSHOTS / f"{stack}.json").read_text()
    return "".join(difflib.unified_diff(
        committed.splitlines(keepends=True), text.splitlines(keepends=True),
        fromfile=f"tests/snapshots/{stack}.json (committed)", tofile=f"synth --stack {stack} (now)",
    ))


def resources_of(stack: str) -> dict[str, dict]:
    return {r["name"]: r for r in synthesized(stack)["resources"]}


def test_every_stack_has_a_snapshot_and_every_snapshot_a_stack():
    assert sorted(p.stem for p in SNAPSHOTS.glob("*.json")) == sorted(STACKS), HINT


@pytest.mark.parametrize("stack", STACKS)
def test_stack_matches_its_committed_snapshot(stack):
    if not (SNAPSHOTS / f"{stack}.json").exists():
        pytest.fail(f"tests/snapshots/{stack}.json does not exist; {HINT}", pytrace=False)
    diff = snapshot_diff(stack, as_text(synthesized(stack)))
    if diff:
        pytest.fail(f"{stack} declares something else than tests/snapshots/{stack}.json:\n{diff}\n{HINT}",
                    pytrace=False)


@pytest.mark.parametrize("stack", STACKS)
def test_synth_is_deterministic(stack):
    # A fresh run (a consumer runs prod too: its StackReference is answered with prod's synth), as the CLI prints it.
    assert main_synth(stack) == as_text(synthesized(stack))


def test_synth_does_not_depend_on_where_the_project_is_checked_out(tmp_path):
    checkout = tmp_path / "elsewhere"
    checkout.mkdir()
    for path in [PROJECT_DIR / "Pulumi.yaml", PROJECT_DIR / "__main__.py", *PROJECT_DIR.glob("Pulumi.*.yaml")]:
        shutil.copy(path, checkout / path.name)
    shutil.copytree(PROJECT_DIR / "lambda_handler", checkout / "lambda_handler",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for stack in STACKS:
        assert as_text(synthesis.synth(stack, project_dir=checkout)) == as_text(synthesized(stack))


def test_a_new_trusted_principal_shows_in_the_snapshot_diff():
    config = changed_grant(stack_config("prod"), "dev-writer", userNames=["dev-user", "alice"])
    diff = snapshot_diff("prod", as_text(synth("prod", config=config)))
    added = [line for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert any("arn:aws:iam::222222222222:user/alice" in line for line in added), diff


def test_a_grant_widened_to_read_write_shows_in_the_snapshot_diff():
    config = changed_grant(stack_config("prod"), "analytics-reader", access="read-write")
    diff = snapshot_diff("prod", as_text(synth("prod", config=config)))
    added = [line for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert any('"s3:PutObject"' in line for line in added), diff


@pytest.mark.parametrize("stack", STACKS)
def test_snapshot_carries_no_local_path(stack):
    assert str(PROJECT_DIR) not in as_text(synthesized(stack))


@pytest.mark.parametrize("stack", STACKS)
def test_snapshot_carries_no_external_id(stack):
    text = as_text(synthesized(stack))
    external_ids = [g["externalId"] for g in json.loads(stack_config("prod")[f"{NS}grants"]) if "externalId" in g]
    assert external_ids and not [x for x in external_ids if x in text]


@pytest.mark.parametrize("stack", STACKS)
def test_snapshot_shows_which_grant_role_each_stack_names(stack):
    # Role ARNs are no secret: reviewers must see which role a change trusts or points at.
    text = as_text(synthesized(stack))
    roles = [f"arn:aws:iam::111111111111:role/cross-account-s3-{g['name']}"
             for g in json.loads(stack_config("prod")[f"{NS}grants"])]
    expected = roles if stack == "prod" else [r for r in roles if r.endswith(stack_config(stack)[f"{NS}grant"])]
    assert all(role in text for role in expected), expected


@pytest.mark.parametrize("stack", CONSUMER_STACKS)
def test_the_function_environment_is_marked_secret(stack):
    (function,) = [r for r in synthesized(stack)["resources"] if r["type"] == "aws:lambda/function:Function"]
    assert function["secretInputs"] == ["environment"]
    assert SECRET in json.dumps(function["inputs"]["environment"])


@pytest.mark.parametrize("stack", CONSUMER_STACKS)
def test_in_the_secret_environment_only_the_external_id_is_hidden(stack):
    (function,) = [r for r in synthesized(stack)["resources"] if r["type"] == "aws:lambda/function:Function"]
    variables = function["inputs"]["environment"]["variables"]
    assert variables["EXTERNAL_ID"] == SECRET
    grant = stack_config(stack)[f"{NS}grant"]
    assert variables["TARGET_ROLE_ARN"] == f"arn:aws:iam::111111111111:role/cross-account-s3-{grant}"


@pytest.mark.parametrize("stack", CONSUMER_STACKS)
def test_a_consumer_reads_its_grant_from_prods_synth(stack):
    prod = synthesized("prod")["exports"]
    grant = prod["grants"][stack_config(stack)[f"{NS}grant"]]
    resources = resources_of(stack)
    (assume,) = [r for name, r in resources.items() if name.endswith("-assume-grant-role") and
                 r["type"] == "aws:iam/rolePolicy:RolePolicy"]
    assert assume["inputs"]["policy"]["Statement"][0]["Resource"] == grant["roleArn"]
    assert resources["humans-assume-grant-role"]["inputs"]["policy"]["Statement"][0]["Resource"] == grant["roleArn"]
    assert synthesized(stack)["exports"]["roleArn"] == grant["roleArn"]
    assert synthesized(stack)["exports"]["access"] == grant["access"]


def test_resources_name_their_parent_component():
    resources = {(r["type"], r["name"]): r for r in synthesized("prod")["resources"]}
    for grant in json.loads(stack_config("prod")[f"{NS}grants"]):
        name = grant["name"]
        assert resources[("aws:iam/role:Role", f"{name}-role")]["parent"] == {
            "type": "cross-account-s3:access:GrantRole", "name": name}
        assert resources[("cross-account-s3:access:GrantRole", name)]["parent"] is None
