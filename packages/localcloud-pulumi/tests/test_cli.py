"""python -m localcloud's harness commands as a user runs them, in a process of their own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from harness_testing.projects import TRUST_LAMBDA, write_project


def localcloud(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "localcloud", *args], cwd=cwd, capture_output=True, text=True)


def test_deploy_without_a_running_cloud_says_how_to_start_one(tmp_path: Path):
    project = write_project(tmp_path / "project", f"import pulumi_aws as aws\naws.iam.Role('r', assume_role_policy="
                                                  f"'{TRUST_LAMBDA}')\n", {})
    result = localcloud("--state-dir", str(tmp_path / "state"), "deploy", "-s", "test", cwd=project)
    assert result.returncode == 2
    assert "No localcloud is running for" in result.stderr
    assert "start one with `python -m localcloud up`" in result.stderr


def test_a_stack_the_project_does_not_have_is_named(tmp_path: Path):
    project = write_project(tmp_path / "project", "", {})
    result = localcloud("deploy", "-s", "staging", "-C", str(project), cwd=tmp_path)
    assert result.returncode == 2
    assert f"the project in {project} has no stack 'staging' (stacks: test)" in result.stderr


def test_a_directory_that_is_not_a_pulumi_project_is_named(tmp_path: Path):
    result = localcloud("preview", "-s", "dev", "-C", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert f"{tmp_path} is not a Pulumi project (no Pulumi.yaml)" in result.stderr


def test_malformed_accounts_are_named(tmp_path: Path):
    result = localcloud("serve", "--accounts", "prod=111111111111,dev=22", cwd=tmp_path)
    assert result.returncode == 2
    assert "argument --accounts: 'dev=22' is not NAME=ACCOUNT_ID" in result.stderr


def test_a_malformed_organization_id_is_named(tmp_path: Path):
    """Organizations API reference, API_Organization.html: an ID is o- and 10 to 32 lowercase letters or digits."""
    result = localcloud("up", "--org", "o-ABC", cwd=tmp_path)
    assert result.returncode == 2
    assert "argument --org: 'o-ABC' is not an organization ID: an organization ID is o- followed by" in result.stderr


def test_an_org_management_account_the_cloud_lacks_is_named_before_the_cloud_starts(tmp_path: Path):
    project = write_project(tmp_path / "project", "", {})
    result = localcloud("--state-dir", str(tmp_path / "state"), "up", "-C", str(project), "--org", "o-a1b2c3d4e5",
                        "--org-management", "staging", cwd=tmp_path)
    assert result.returncode == 2
    assert "--org-management 'staging' is none of the cloud's accounts: test=111111111111" in result.stderr
    assert not (tmp_path / "state" / "cloud.json").exists()
