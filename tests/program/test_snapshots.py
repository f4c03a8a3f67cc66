"""Every resource each stack declares, compared with the committed tests/snapshots/<stack>.json.

A change to what the program declares (a policy, a trusted principal, a Lambda setting, the handler's code)
fails here with the diff, so it is reviewed as a change to tests/snapshots/ in the same commit.
"""

import difflib
import json
import shutil

import pytest

from localcloud_pulumi import synth as synthesis
from localcloud_pulumi.synth import SECRET
from offline.stacks import PROJECT_DIR
from tests.project import main_synth, stack_config, synth
from tests.program.conftest import synthesized

SNAPSHOTS = PROJECT_DIR / "tests" / "snapshots"
STACKS = ("prod", "dev")
HINT = "run `make snapshots` to accept the change"


def as_text(document: dict) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def snapshot_diff(stack: str, text: str) -> str:
    committed = (SNAPSHOTS / f"{stack}.json").read_text()
    return "".join(difflib.unified_diff(
        committed.splitlines(keepends=True), text.splitlines(keepends=True),
        fromfile=f"tests/snapshots/{stack}.json (committed)", tofile=f"synth --stack {stack} (now)",
    ))


@pytest.mark.parametrize("stack", STACKS)
def test_stack_matches_its_committed_snapshot(stack):
    diff = snapshot_diff(stack, as_text(synthesized(stack)))
    if diff:
        pytest.fail(f"{stack} declares something else than tests/snapshots/{stack}.json:\n{diff}\n{HINT}",
                    pytrace=False)


def test_synth_is_deterministic():
    # Fresh runs (dev runs prod too: its StackReference is answered with prod's synth), as the CLI prints them.
    for stack in STACKS:
        assert main_synth(stack) == as_text(synthesized(stack))


def test_synth_does_not_depend_on_where_the_project_is_checked_out(tmp_path):
    checkout = tmp_path / "elsewhere"
    checkout.mkdir()
    for name in ("Pulumi.yaml", "Pulumi.prod.yaml", "Pulumi.dev.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, checkout / name)
    shutil.copytree(PROJECT_DIR / "lambda_handler", checkout / "lambda_handler")
    for stack in STACKS:
        assert as_text(synthesis.synth(stack, project_dir=checkout)) == as_text(synthesized(stack))


def test_a_new_trusted_principal_shows_in_the_snapshot_diff():
    config = stack_config("prod") | {"cross-account-s3:trustedUserNames": '["dev-user", "alice"]'}
    diff = snapshot_diff("prod", as_text(synth("prod", config=config)))
    added = [line for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert any("arn:aws:iam::222222222222:user/alice" in line for line in added), diff


@pytest.mark.parametrize("stack", STACKS)
def test_snapshot_carries_no_secret_and_no_local_path(stack):
    text = as_text(synthesized(stack))
    external_id = stack_config("prod")["cross-account-s3:externalId"]
    assert external_id not in text
    assert str(PROJECT_DIR) not in text


def test_secret_inputs_are_marked_and_the_rest_stays_readable():
    (function,) = [r for r in synthesized("dev")["resources"] if r["type"] == "aws:lambda/function:Function"]
    assert function["secretInputs"] == ["environment"]
    variables = function["inputs"]["environment"]["variables"]
    assert variables["EXTERNAL_ID"] == SECRET
    assert variables["TARGET_ROLE_ARN"] == "arn:aws:iam::111111111111:role/cross-account-s3-writer"


def test_dev_reads_prod_through_its_synth():
    prod = synthesized("prod")["exports"]
    dev = {r["name"]: r for r in synthesized("dev")["resources"]}
    assert dev["writer-assume-prod-role"]["inputs"]["policy"]["Statement"][0]["Resource"] == prod["roleArn"]
    assert dev["writer-function"]["inputs"]["environment"]["variables"]["TARGET_BUCKET"] == prod["bucketName"]


def test_resources_name_their_parent_component():
    resources = {(r["type"], r["name"]): r for r in synthesized("prod")["resources"]}
    assert resources[("aws:iam/role:Role", "writer-role")]["parent"] == {
        "type": "cross-account-s3:access:WriterRole", "name": "writer"}
    assert resources[("cross-account-s3:access:WriterRole", "writer")]["parent"] is None
