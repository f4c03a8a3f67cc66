"""The GitHub Actions workflows, checked offline: zizmor's security audit and GitHub's workflow schema (zero
findings each), plus the properties the workflows are built on: pinned actions, least permissions, the preview
matrix and the deploy jobs (every project stack: prod, then each consumer), and the interface the live tests read.

Both tools run from the virtualenv's bin directory (uv.lock pins them). zizmor runs with --offline:
its online audits (impostor commits, tag/SHA mismatches, known-vulnerable versions) need the GitHub API, so the
pins' tags are checked here only as far as a comment names a version; see docs/ci.md.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_DIR = ROOT / ".github" / "workflows"
WORKFLOWS = sorted(WORKFLOW_DIR.glob("*.yml"))
# The project's stacks, from their stack files: prod (the data account) and every consumer (dev, analytics, ...).
STACKS = sorted((p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml")),
                key=lambda stack: (stack != "prod", stack))
CONSUMERS = [stack for stack in STACKS if stack != "prod"]


def variable(stack: str, purpose: str) -> str:
    """The repository variable of a stack's role, as bootstrap/ exports it (bootstrap.settings.variable_prefix)."""
    return f"{re.sub(r'[^A-Za-z0-9]', '_', stack).upper()}_{purpose.upper()}_ROLE_ARN"
BIN = Path(sys.executable).parent
TOOL_SECONDS = 30  # each takes well under a second or two; anything near this is a hang (e.g. a network wait)

PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
PINNED_LINE = re.compile(r"uses:\s*(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40})\s+#\s*v\d+\.\d+\.\d+\s*$")


# A workflow as PyYAML reads it: string keys, except `on`, which it reads as the boolean True (YAML 1.1).
Workflow = dict[str | bool, Any]


def load(path: Path) -> Workflow:
    return yaml.safe_load(path.read_text())


def triggers(workflow: Workflow) -> dict[str, Any]:
    # PyYAML reads the key `on` as the boolean True (YAML 1.1).
    value = workflow.get("on", workflow.get(True))
    return {value: None} if isinstance(value, str) else dict(value)


def steps(workflow: Workflow) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def run_tool(*args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN", "ZIZMOR_GITHUB_TOKEN")}
    env["NO_COLOR"] = "1"
    start = time.monotonic()
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TOOL_SECONDS * 4)
    return result, time.monotonic() - start


def test_the_three_workflows_exist():
    assert [p.name for p in WORKFLOWS] == ["deploy.yml", "integration.yml", "preview.yml"]


def test_zizmor_finds_nothing():
    result, seconds = run_tool(str(BIN / "zizmor"), "--offline", "--no-progress", "--color", "never",
                               str(WORKFLOW_DIR.relative_to(ROOT)))
    report = f"zizmor exit {result.returncode} in {seconds:.2f}s\n{result.stdout}\n{result.stderr}"
    print(report)
    assert result.returncode == 0, report
    assert "No findings to report" in result.stdout, report
    assert seconds < TOOL_SECONDS, report


def test_workflows_match_githubs_schema():
    result, seconds = run_tool(str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                               *[str(p.relative_to(ROOT)) for p in WORKFLOWS])
    report = f"check-jsonschema exit {result.returncode} in {seconds:.2f}s\n{result.stdout}\n{result.stderr}"
    print(report)
    assert result.returncode == 0, report
    assert seconds < TOOL_SECONDS, report


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_full_sha_with_its_version(path):
    workflow = load(path)
    uses = [step["uses"] for step in steps(workflow) if "uses" in step]
    uses += [job["uses"] for job in workflow["jobs"].values() if "uses" in job]  # reusable workflows
    assert uses, "no actions at all?"
    for ref in uses:
        assert PINNED.match(ref), f"{path.name}: {ref} is not pinned to a 40-character commit SHA"
    lines = [line for line in path.read_text().splitlines() if re.match(r"^\s*(-\s+)?uses:", line)]
    for line in lines:
        assert PINNED_LINE.search(line), f"{path.name}: `{line.strip()}` lacks a trailing `# vX.Y.Z` comment"


def test_one_action_one_pin_across_workflows():
    pins: dict[str, set[str]] = {}
    for path in WORKFLOWS:
        for line in path.read_text().splitlines():
            if match := PINNED_LINE.search(line):
                pins.setdefault(match["action"], set()).add(match["sha"])
    assert pins and all(len(shas) == 1 for shas in pins.values()), pins


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_level_permissions_are_empty(path):
    assert load(path)["permissions"] == {}


# What each job may do with GITHUB_TOKEN and OIDC, exactly.
JOB_PERMISSIONS = {
    ("preview.yml", "preview"): {"contents": "read", "id-token": "write", "pull-requests": "write"},
    ("deploy.yml", "prod"): {"contents": "read", "id-token": "write"},
    ("deploy.yml", "dev"): {"contents": "read", "id-token": "write"},
    ("deploy.yml", "analytics"): {"contents": "read", "id-token": "write"},
    ("integration.yml", "live"): {"contents": "read", "id-token": "write"},
    ("integration.yml", "report"): {"issues": "write"},
}


def test_each_job_asks_for_exactly_its_permissions():
    declared = {(p.name, name): job.get("permissions") for p in WORKFLOWS for name, job in load(p)["jobs"].items()}
    assert declared == JOB_PERMISSIONS


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_checkout_never_persists_the_token(path):
    checkouts = [s for s in steps(load(path)) if s.get("uses", "").startswith("actions/checkout@")]
    for step in checkouts:
        assert step.get("with", {}).get("persist-credentials") is False


def test_the_project_stacks_are_prod_and_the_consumers():
    assert STACKS[0] == "prod" and {"dev", "analytics"} <= set(CONSUMERS)


def test_preview_runs_on_pull_requests_for_every_stack_and_comments():
    workflow = load(WORKFLOW_DIR / "preview.yml")
    assert set(triggers(workflow)) == {"pull_request"}
    job = workflow["jobs"]["preview"]
    assert job["strategy"]["matrix"]["stack"][:3] == ["prod", "dev", "analytics"]
    assert sorted(job["strategy"]["matrix"]["stack"]) == sorted(STACKS)  # a new stack file needs its entry
    assert job["strategy"]["fail-fast"] is False  # one stack's failure never cancels the others' previews
    roles = {entry["stack"]: entry["role-arn"] for entry in job["strategy"]["matrix"]["include"]}
    assert roles == {stack: f"${{{{ vars.{variable(stack, 'preview')} }}}}" for stack in STACKS}
    assert roles["analytics"] == "${{ vars.ANALYTICS_PREVIEW_ROLE_ARN }}"
    assert "github.event.pull_request.number" in job["concurrency"]["group"]
    assert "matrix.stack" in job["concurrency"]["group"]
    (pulumi,) = [s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    assert pulumi["with"]["command"] == "preview"
    assert {k: pulumi["with"][k] for k in ("diff", "comment-on-pr", "edit-pr-comment")} == \
        {"diff": True, "comment-on-pr": True, "edit-pr-comment": True}
    assert pulumi["with"]["stack-name"] == "${{ vars.PULUMI_ORG }}/cross-account-s3/${{ matrix.stack }}"


def test_deploy_runs_prod_then_each_consumer_one_at_a_time_in_environments():
    workflow = load(WORKFLOW_DIR / "deploy.yml")
    assert triggers(workflow) == {"push": {"branches": ["main"]}, "workflow_dispatch": None}
    assert workflow["concurrency"] == {"group": "deploy", "cancel-in-progress": False}
    jobs = workflow["jobs"]
    # One job per stack, named after it; a new stack file needs its job.
    assert sorted(jobs) == sorted(STACKS)
    assert jobs["analytics"]["steps"][-1]["with"]["stack-name"] == "${{ vars.PULUMI_ORG }}/cross-account-s3/analytics"
    assert "needs" not in jobs["prod"]
    for stack in CONSUMERS:
        # After prod, whose outputs the consumer's StackReference reads; not after another consumer.
        assert jobs[stack]["needs"] in ("prod", ["prod"]), stack
    for stack, job in jobs.items():
        assert job["environment"] == stack  # the deploy role of bootstrap/ trusts environment:<stack> only
        (credentials,) = [s for s in job["steps"] if s.get("uses", "").startswith("aws-actions/")]
        assert credentials["with"]["role-to-assume"] == f"${{{{ vars.{variable(stack, 'deploy')} }}}}"
        (check,) = [s for s in job["steps"] if s.get("name") == "Check the repository variables"]
        assert check["env"]["ROLE_ARN"] == credentials["with"]["role-to-assume"]
        assert variable(stack, "deploy") in check["run"]
        (pulumi,) = [s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
        assert pulumi["with"]["command"] == "up"
        assert pulumi["with"]["stack-name"] == f"${{{{ vars.PULUMI_ORG }}}}/cross-account-s3/{stack}"


def test_integration_runs_daily_with_the_live_tests_interface():
    workflow = load(WORKFLOW_DIR / "integration.yml")
    assert set(triggers(workflow)) == {"schedule", "workflow_dispatch"}
    assert len(triggers(workflow)["schedule"]) == 1
    live = workflow["jobs"]["live"]
    (tests,) = [s for s in live["steps"] if "pytest" in s.get("run", "")]
    assert tests["run"].strip() == ".venv/bin/python -m pytest -m live tests/integration"
    # tests/integration/conftest.py: LIVE_<STACK>_OUTPUTS and LIVE_<STACK>_PROFILE of prod and of each consumer.
    names = [re.sub(r"[^A-Za-z0-9]", "_", stack).upper() for stack in STACKS]
    assert {f"LIVE_{name}_{kind}" for name in names for kind in ("OUTPUTS", "PROFILE")} | {"AWS_REGION"} <= \
        set(tests["env"])
    assert {"LIVE_ANALYTICS_OUTPUTS", "LIVE_ANALYTICS_PROFILE"} <= set(tests["env"])
    # Only the profiles: the credentials the configure steps export to the job are blanked.
    assert {tests["env"][k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")} == {""}
    (outputs,) = [s for s in live["steps"] if "pulumi stack output" in s.get("run", "")]
    assert "--json --show-secrets" in outputs["run"]
    assert set(re.findall(r'--stack "\$(\w+)_STACK"', outputs["run"])) == set(names)
    assert live["env"] == {f"{name}_STACK": f"${{{{ vars.PULUMI_ORG }}}}/cross-account-s3/{stack}"
                           for name, stack in zip(names, STACKS)}
    credentials = [s for s in live["steps"] if s.get("uses", "").startswith("aws-actions/")]
    # prod's reader first: with a self-managed (s3://) backend, its credentials read the stacks' outputs.
    assert [s["with"]["role-to-assume"] for s in credentials][0] == f"${{{{ vars.{variable('prod', 'integration')} }}}}"
    assert {s["with"]["role-to-assume"] for s in credentials} == \
        {f"${{{{ vars.{variable(stack, 'integration')} }}}}" for stack in STACKS}
    assert all(s["with"]["output-credentials"] is True for s in credentials)
    (profiles,) = [s for s in live["steps"] if "aws configure set" in s.get("run", "")]
    for stack in STACKS:
        assert tests["env"][f"LIVE_{re.sub(r'[^A-Za-z0-9]', '_', stack).upper()}_PROFILE"] == f"live-{stack}"
        assert f"--profile live-{stack} aws_session_token" in profiles["run"]


def test_a_failed_integration_run_opens_or_updates_one_issue():
    report = load(WORKFLOW_DIR / "integration.yml")["jobs"]["report"]
    assert report["needs"] in ("live", ["live"]) and report["if"] == "failure()"
    (step,) = report["steps"]
    assert step["env"]["TITLE"] == "Scheduled integration run failed"
    assert "gh issue comment" in step["run"] and "gh issue create" in step["run"]
