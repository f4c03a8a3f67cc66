"""The AWS provider's settings as localcloud applies them (localcloud_pulumi.providers): an explicit provider's
inputs and the default provider's aws: stack config, each applied or refused by name.

Pages: the pulumi-aws provider's Configuration Reference (assumeRole, assumeRoles, allowedAccountIds,
forbiddenAccountIds, defaultTags); API_AssumeRole.html.
"""

from __future__ import annotations

import json

import pytest

from harness_testing.identities import ADMIN, new_user, role_program, unique
from harness_testing.projects import DEV, PROD, TRUST_LAMBDA, roles, write_project
from localcloud_pulumi.deploy import DeployError, deploy, destroy, preview
from localcloud_pulumi.providers import ProviderSettingError, assume_role_params, check_explicit, check_stack_config


def trusted_prod_role(workspace, user: str) -> str:
    """A prod role with every permission, whose trust names the dev user ``user``."""
    name = unique("deploy-role")
    prod = workspace.cloud.client("iam", "prod")
    prod.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{DEV}:user/{user}"}, "Action": "sts:AssumeRole"}]}))
    prod.put_role_policy(RoleName=name, PolicyName="admin", PolicyDocument=json.dumps(ADMIN))
    return f"arn:aws:iam::{PROD}:role/{name}"


def assume_only(account_id: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{account_id}:role/*"}]}


def test_assume_role_blocks_become_assume_role_parameters_in_either_case():
    typed = {"roleArn": "arn:aws:iam::111111111111:role/r", "sessionName": "ci", "externalId": "x",
             "duration": "1h30m", "policyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"], "tags": {"b": "2", "a": "1"},
             "transitiveTagKeys": ["a"], "sourceIdentity": "me", "policy": "{}"}
    snake = {"role_arn": "arn:aws:iam::111111111111:role/r", "session_name": "ci", "external_id": "x",
             "duration": "1h30m", "policy_arns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"], "tags": {"b": "2", "a": "1"},
             "transitive_tag_keys": ["a"], "source_identity": "me", "policy": "{}"}

    expected = {"RoleArn": "arn:aws:iam::111111111111:role/r", "RoleSessionName": "ci", "ExternalId": "x",
                "DurationSeconds": 5400, "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}],
                "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}], "TransitiveTagKeys": ["a"],
                "SourceIdentity": "me", "Policy": "{}"}
    assert assume_role_params("p", typed) == expected == assume_role_params("p", snake)
    with pytest.raises(ProviderSettingError, match=r"duration '90 minutes' is not a duration such as 15m"):
        assume_role_params("p", {"roleArn": "arn:aws:iam::1:role/r", "duration": "90 minutes"})
    with pytest.raises(ProviderSettingError, match=r"provider 'p': assume_role needs a role_arn"):
        assume_role_params("p", {"sessionName": "ci"})


def test_provider_settings_localcloud_does_not_apply_are_named():
    check_explicit("p", {"region": "eu-west-1", "skipCredentialsValidation": "false", "skipRegionValidation": "true"})
    with pytest.raises(ProviderSettingError, match=r"provider 'p': localcloud does not apply the aws provider "
                                                   r"input\(s\) defaultTags, endpoints; it applies"):
        check_explicit("p", {"region": "eu-west-1", "defaultTags": "{}", "endpoints": "[]"})
    check_stack_config({"aws:region": "eu-west-1", "aws:profile": "p", "app:name": "x"})
    with pytest.raises(ProviderSettingError, match=r"config key\(s\) aws:defaultTags of the default aws provider"):
        check_stack_config({"aws:region": "eu-west-1", "aws:defaultTags": "{}"})


def test_an_explicit_provider_s_default_tags_fail_the_preview_and_nothing_is_created(workspace, state_dir, tmp_path):
    name = unique("tagged")
    project = write_project(tmp_path / "p", (
        "import pulumi, pulumi_aws as aws\n"
        "tagged = aws.Provider('tagged', region='eu-west-1', default_tags={'tags': {'team': 'data'}})\n"
        f"aws.iam.Role('role', name='{name}', assume_role_policy='{TRUST_LAMBDA}',\n"
        "             opts=pulumi.ResourceOptions(provider=tagged))\n"), {})

    with pytest.raises(DeployError, match=r"provider 'tagged': localcloud does not apply the aws provider "
                                          r"input\(s\) defaultTags"):
        deploy("test", workspace.target, state_dir, project_dir=project)
    assert name not in roles(workspace, "prod")


def test_stack_config_the_default_provider_does_not_apply_is_refused(workspace, state_dir, tmp_path):
    name = unique("default-tagged")
    project = write_project(tmp_path / "p", role_program(name), {"aws:defaultTags": {"tags": {"team": "data"}}})

    with pytest.raises(DeployError, match=r"stack test: localcloud does not apply the config key\(s\) "
                                          r"aws:defaultTags of the default aws provider"):
        preview("test", workspace.target, state_dir, project_dir=project)
    assert name not in roles(workspace, "prod")


def test_the_default_provider_assumes_the_stack_s_aws_assume_role(workspace, state_dir, tmp_path):
    """aws:assumeRole in stack config: an unprivileged dev user deploys into prod through the role, and the
    stack's allowedAccountIds are checked against the role's account, as the provider checks them."""
    user, environ = new_user(workspace, "dev", assume_only(PROD))
    role_arn = trusted_prod_role(workspace, user)
    name = unique("via-default")
    project = write_project(tmp_path / "p", role_program(name), {"aws:assumeRole": {"roleArn": role_arn,
                                                                                   "sessionName": "ci"}})
    deploy("test", workspace.target, state_dir, project_dir=project, environ=environ)
    try:
        assert name in roles(workspace, "prod") and name not in roles(workspace, "dev")
    finally:
        destroy("test", workspace.target, state_dir, project_dir=project, environ=environ)


def test_a_default_assume_role_into_an_account_not_allowed_is_refused(workspace, state_dir, tmp_path):
    user, environ = new_user(workspace, "dev", assume_only(PROD))
    role_arn = trusted_prod_role(workspace, user)
    name = unique("not-allowed")
    project = write_project(tmp_path / "p", role_program(name), {"aws:assumeRoles": [{"roleArn": role_arn}]},
                            account=DEV)

    with pytest.raises(DeployError, match=rf"AWS account ID not allowed: {PROD} .*assuming {role_arn}"):
        deploy("test", workspace.target, state_dir, project_dir=project, environ=environ)
    assert name not in roles(workspace, "prod") | roles(workspace, "dev")


def test_an_explicit_provider_s_allowed_account_ids_are_checked_after_it_assumes(workspace, state_dir, tmp_path):
    user, environ = new_user(workspace, "dev", assume_only(PROD))
    role_arn = trusted_prod_role(workspace, user)
    name = unique("guarded-provider")
    project = write_project(tmp_path / "p", (
        "import pulumi, pulumi_aws as aws\n"
        f"prod = aws.Provider('prod', region='eu-west-1', allowed_account_ids=['{DEV}'],\n"
        f"                    assume_roles=[{{'role_arn': '{role_arn}'}}])\n"
        f"aws.iam.Role('role', name='{name}', assume_role_policy='{TRUST_LAMBDA}',\n"
        "             opts=pulumi.ResourceOptions(provider=prod))\n"), {}, account=DEV)

    with pytest.raises(DeployError, match=rf"AWS account ID not allowed: {PROD} \(the credentials from provider "
                                          rf"'prod'; allowed_account_ids is {DEV}\)"):
        deploy("test", workspace.target, state_dir, project_dir=project, environ=environ)
    assert name not in roles(workspace, "prod") | roles(workspace, "dev")
