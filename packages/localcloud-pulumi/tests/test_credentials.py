"""Whose credentials a deploy uses, as pulumi-aws picks them (localcloud_pulumi.credentials), and so which account it
deploys into and what it may do there: an unprivileged identity is denied as AWS would deny it.

Pages: the provider's authentication order (registry: pulumi/aws, "Authentication and Configuration"), and
allowedAccountIds / forbiddenAccountIds (the same page, "Configuration Reference").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from botocore.exceptions import ClientError

from harness_testing.identities import ADMIN, new_user, role_program, unique
from harness_testing.projects import DEV, PROD, TRUST_LAMBDA, roles, write_project
from localcloud.running import Profile, write_profiles
from localcloud_pulumi.deploy import DeployError, deploy, destroy

def test_keys_in_the_environment_deploy_as_that_user_into_its_account(workspace, state_dir, tmp_path):
    _, environ = new_user(workspace, "dev", ADMIN)
    name = unique("env-role")
    project = write_project(tmp_path / "p", role_program(name), {}, account=DEV)
    deploy("test", workspace.target, state_dir, project_dir=project, environ=environ)
    try:
        assert name in roles(workspace, "dev") and name not in roles(workspace, "prod")
    finally:
        destroy("test", workspace.target, state_dir, project_dir=project, environ=environ)


def test_an_unprivileged_user_is_denied_as_aws_would_deny_it_and_nothing_is_created(workspace, state_dir, tmp_path):
    _, environ = new_user(workspace, "prod")  # no policy: every IAM call is an implicit deny
    name = unique("denied-role")
    project = write_project(tmp_path / "p", role_program(name), {})
    with pytest.raises(DeployError, match=r"creating aws:iam/role:Role 'role' failed: .*AccessDenied.*iam:CreateRole"):
        deploy("test", workspace.target, state_dir, project_dir=project, environ=environ)
    assert name not in roles(workspace, "prod")


def test_allowed_account_ids_refuse_credentials_of_another_account(workspace, state_dir, tmp_path):
    _, environ = new_user(workspace, "dev", ADMIN)
    name = unique("guarded-role")
    project = write_project(tmp_path / "p", role_program(name), {}, account=PROD)
    with pytest.raises(DeployError, match=rf"AWS account ID not allowed: {DEV} \(the credentials from "
                                          rf"AWS_ACCESS_KEY_ID; aws:allowedAccountIds is {PROD}\)"):
        deploy("test", workspace.target, state_dir, project_dir=project, environ=environ)
    assert name not in roles(workspace, "dev")


def test_forbidden_account_ids_refuse_that_account(workspace, state_dir, tmp_path):
    project = write_project(tmp_path / "p", role_program(unique("forbidden")), {
        "aws:forbiddenAccountIds": [DEV]}, account=None)
    with pytest.raises(DeployError, match=rf"AWS account ID not allowed: {DEV} .*aws:forbiddenAccountIds"):
        deploy("test", workspace.target, state_dir, project_dir=project, account="dev")


def test_a_profile_of_the_state_directory_is_used_by_name(workspace, state_dir, tmp_path):
    """AWS_PROFILE names a profile in the state directory's aws/credentials, as `up` writes them."""
    _, environ = new_user(workspace, "dev", ADMIN)
    keys = {"aws_access_key_id": environ["AWS_ACCESS_KEY_ID"], "aws_secret_access_key": environ["AWS_SECRET_ACCESS_KEY"]}
    write_profiles(state_dir, workspace.cloud, [Profile("ci", {"region": "eu-west-1"}, keys)])
    name = unique("profile-role")
    project = write_project(tmp_path / "p", role_program(name), {}, account=DEV)
    deploy("test", workspace.target, state_dir, project_dir=project, environ={"AWS_PROFILE": "ci"})
    try:
        assert name in roles(workspace, "dev")
    finally:
        destroy("test", workspace.target, state_dir, project_dir=project, environ={"AWS_PROFILE": "ci"})
    with pytest.raises(DeployError, match=r"no profile 'nobody' in .*aws \(profiles: ci\)"):
        deploy("test", workspace.target, state_dir, project_dir=project, environ={"AWS_PROFILE": "nobody"})


def test_a_role_profile_assumes_its_role_from_its_source_profile(workspace, state_dir, tmp_path):
    """aws:profile (the stack's config) names a profile with role_arn and source_profile: the deploy runs as the
    role's session, in the role's account."""
    _, environ = new_user(workspace, "dev", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{PROD}:role/*"}]})
    user_arn = workspace.cloud.client("sts", credentials={"aws_access_key_id": environ["AWS_ACCESS_KEY_ID"],
                                                         "aws_secret_access_key": environ["AWS_SECRET_ACCESS_KEY"]}
                                      ).get_caller_identity()["Arn"]
    deployer_role = unique("deployer")
    prod = workspace.cloud.client("iam", "prod")
    prod.create_role(RoleName=deployer_role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole"}]}))
    prod.put_role_policy(RoleName=deployer_role, PolicyName="admin", PolicyDocument=json.dumps(ADMIN))
    write_profiles(state_dir, workspace.cloud, [
        Profile("dev-user", {"region": "eu-west-1"}, {"aws_access_key_id": environ["AWS_ACCESS_KEY_ID"],
                                                       "aws_secret_access_key": environ["AWS_SECRET_ACCESS_KEY"]}),
        Profile("prod-deployer", {"role_arn": f"arn:aws:iam::{PROD}:role/{deployer_role}",
                                  "source_profile": "dev-user"})])
    name = unique("assumed-role")
    project = write_project(tmp_path / "p", role_program(name), {"aws:profile": "prod-deployer"})
    deploy("test", workspace.target, state_dir, project_dir=project)
    try:
        assert name in roles(workspace, "prod")
    finally:
        destroy("test", workspace.target, state_dir, project_dir=project)


def test_with_no_credentials_the_account_named_or_else_the_first_allowed_one_is_used(workspace, state_dir, tmp_path):
    name = unique("named-account")
    unguarded = write_project(tmp_path / "p", role_program(name), {}, account=None)
    with pytest.raises(DeployError, match=r"no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or "
                                          r"AWS_PROFILE .*, pass --account, or list the account in "
                                          r"aws:allowedAccountIds"):
        deploy("test", workspace.target, state_dir, project_dir=unguarded)
    with pytest.raises(DeployError, match=r"localcloud has no account 'staging'; its accounts are prod "
                                          rf"\({PROD}\), dev \({DEV}\)"):
        deploy("test", workspace.target, state_dir, project_dir=unguarded, account="staging")
    deploy("test", workspace.target, state_dir, project_dir=unguarded, account="dev")
    try:
        assert name in roles(workspace, "dev")
    finally:
        destroy("test", workspace.target, state_dir, project_dir=unguarded, account=DEV)


def test_a_first_allowed_account_the_cloud_lacks_is_named(workspace, state_dir, tmp_path):
    name = unique("absent-account")
    elsewhere = write_project(tmp_path / "p", role_program(name), {}, account="444444444444")
    with pytest.raises(DeployError, match=r"stack test deploys into account 444444444444 \(its first "
                                          r"aws:allowedAccountIds\), which this localcloud does not have; its "
                                          rf"accounts are prod \({PROD}\), dev \({DEV}\)"):
        deploy("test", workspace.target, state_dir, project_dir=elsewhere)
    assert name not in roles(workspace, "prod") | roles(workspace, "dev")


def test_half_given_keys_are_an_error_not_a_fallback(workspace, state_dir, tmp_path):
    project = write_project(tmp_path / "p", role_program(unique("half")), {})
    with pytest.raises(DeployError, match="AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together"):
        deploy("test", workspace.target, state_dir, project_dir=project, environ={"AWS_ACCESS_KEY_ID": "AKIA..."})
    with pytest.raises(DeployError, match=r"the credentials from AWS_ACCESS_KEY_ID are not valid in this localcloud"):
        deploy("test", workspace.target, state_dir, project_dir=project,
               environ={"AWS_ACCESS_KEY_ID": "AKIAUNKNOWNUNKNOWN00", "AWS_SECRET_ACCESS_KEY": "x" * 40})


def test_an_unprivileged_user_deploys_through_a_provider_that_assumes_a_trusted_role(workspace, state_dir, tmp_path):
    """The usual cross-account deploy: a user in dev with nothing but sts:AssumeRole, and an explicit provider
    that assumes a prod role whose trust names that user. A trust that names someone else denies it, and nothing
    is created."""
    user, environ = new_user(workspace, "dev", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{PROD}:role/*"}]})
    prod = workspace.cloud.client("iam", "prod")
    trusting, other = unique("trusts-user"), unique("trusts-other")
    for role, principal in ((trusting, f"arn:aws:iam::{DEV}:user/{user}"),
                            (other, f"arn:aws:iam::{DEV}:user/someone-else")):
        prod.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{DEV}:root"}, "Action": "sts:AssumeRole",
             "Condition": {"ArnEquals": {"aws:PrincipalArn": principal}}}]}))
        prod.put_role_policy(RoleName=role, PolicyName="admin", PolicyDocument=json.dumps(ADMIN))

    def program(role: str, created: str) -> str:
        return ("import pulumi, pulumi_aws as aws\n"
                "prod = aws.Provider('prod', region='eu-west-1', assume_roles=[aws.ProviderAssumeRoleArgs(\n"
                f"    role_arn='arn:aws:iam::{PROD}:role/{role}', session_name='ci')])\n"
                f"aws.iam.Role('role', name='{created}', assume_role_policy='{TRUST_LAMBDA}',\n"
                "             opts=pulumi.ResourceOptions(provider=prod))\n")

    allowed_name, denied_name = unique("via-provider"), unique("via-refusing")
    allowed = write_project(tmp_path / "allowed", program(trusting, allowed_name), {}, account=DEV)
    denied = write_project(tmp_path / "denied", program(other, denied_name), {}, account=DEV, name="driver-denied")
    deploy("test", workspace.target, state_dir, project_dir=allowed, environ=environ)
    try:
        assert allowed_name in roles(workspace, "prod")
        with pytest.raises(DeployError, match=rf"provider 'prod' cannot assume arn:aws:iam::{PROD}:role/{other}: "
                                              r".*AccessDenied"):
            deploy("test", workspace.target, state_dir, project_dir=denied, environ=environ)
        assert denied_name not in roles(workspace, "prod") | roles(workspace, "dev")
        with pytest.raises(ClientError):
            prod.get_role(RoleName=denied_name)
    finally:
        destroy("test", workspace.target, state_dir, project_dir=allowed, environ=environ)


def test_the_cli_deploys_with_the_environment_s_credentials(workspace, tmp_path):
    """`python -m localcloud deploy` in another process, against this cloud, as the user the environment names."""
    _, environ = new_user(workspace, "prod")  # no permissions
    name = unique("cli-role")
    project = write_project(tmp_path / "p", role_program(name), {})
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | environ
    result = subprocess.run([sys.executable, "-m", "localcloud", "--state-dir", str(workspace.state_dir), "deploy",
                             "-s", "test", "-C", str(project)], capture_output=True, text=True, env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "AccessDenied" in result.stderr and "iam:CreateRole" in result.stderr
    assert name not in roles(workspace, "prod")
