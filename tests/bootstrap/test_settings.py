"""The bootstrap stacks' config: every problem reported at once, by key; and it agrees with the project's stacks."""

from __future__ import annotations

import json

import pytest

from bootstrap.settings import BootstrapConfigError, DevBootstrap, ProdBootstrap, parse_dev, parse_prod
from components.settings import DevSettings, ProdSettings
from components.settings import parse_dev as parse_project_dev
from components.settings import parse_prod as parse_project_prod
from tests.project import stack_config
from tests.bootstrap.conftest import bootstrap_config

NS = "cross-account-s3-bootstrap:"


def raw(config: dict[str, str]) -> dict[str, str]:
    return {k[len(NS):]: v for k, v in config.items() if k.startswith(NS)}


def parsed(stack: str, config: dict[str, str] | None = None) -> ProdBootstrap | DevBootstrap:
    config = bootstrap_config(stack) if config is None else config
    parse = parse_prod if stack == "prod" else parse_dev
    return parse(raw(config), config.get("aws:region"), config.get("aws:allowedAccountIds"), stack)


def problems(stack: str, **overrides: str | None) -> list[str]:
    config = bootstrap_config(stack)
    for key, value in overrides.items():
        full = key if ":" in key else NS + key
        if value is None:
            config.pop(full, None)
        else:
            config[full] = value
    with pytest.raises(BootstrapConfigError) as raised:
        parsed(stack, config)
    return raised.value.problems


def test_the_committed_stack_files_parse():
    prod, dev = parsed("prod"), parsed("dev")
    assert isinstance(prod, ProdBootstrap) and isinstance(dev, DevBootstrap)
    assert (prod.ci.account_id, dev.ci.account_id) == ("111111111111", "222222222222")
    assert prod.bucket == "data-*" and dev.user_names == ("dev-user",)
    assert (prod.ci.deploy_environment, dev.ci.deploy_environment) == ("prod", "dev")


def test_every_problem_is_reported_at_once_by_key():
    found = problems("prod", githubRepo="not a repo", namePrefix="github", keyPrefix="/abs/", typo="1",
                     **{"aws:allowedAccountIds": '["111111111111", "222222222222"]'})
    assert len(found) == 5, found
    assert any(p.startswith(f"{NS}githubRepo: expected the GitHub repository as OWNER/REPO") for p in found)
    assert any(p.startswith(f"{NS}namePrefix: expected a prefix the CI role names") for p in found)
    assert any(p.startswith(f"{NS}keyPrefix: expected") for p in found)
    assert any(p.startswith(f"{NS}typo: unknown key") for p in found)
    assert any(p.startswith("aws:allowedAccountIds: expected exactly one 12-digit account ID") for p in found)


@pytest.mark.parametrize(("overrides", "key"), [
    ({"githubRepo": None}, "githubRepo: required"),
    ({"aws:allowedAccountIds": None}, "aws:allowedAccountIds: required"),
    ({"aws:region": "mars"}, "aws:region: expected"),
    ({"ciRolePath": "/"}, "ciRolePath: expected an IAM path other than /"),
    ({"bucketName": "acme-data"}, "bucketNamePattern: set either it or"),
    ({"stateKmsKeyArn": "arn:aws:kms:eu-west-1:111111111111:key/abc"}, "stateKmsKeyArn: only with"),
    ({"existingOidcProviderArn": "arn:aws:iam::999999999999:oidc-provider/token.actions.githubusercontent.com"},
     "existingOidcProviderArn: expected a provider in account 111111111111"),
])
def test_a_bad_prod_value_names_its_key(overrides, key):
    found = problems("prod", **overrides)
    assert any(key in p for p in found), found


@pytest.mark.parametrize(("overrides", "key"), [
    ({"executionRoleName": "writer-lambda"}, "executionRoleName: expected a role name starting with"),
    ({"userNames": '["ok", "not ok"]'}, "userNames: expected a list of IAM user names"),
    ({"functionName": "bad name"}, "functionName: expected"),
    ({"bucketName": "acme"}, "bucketName: unknown key"),
])
def test_a_bad_dev_value_names_its_key(overrides, key):
    found = problems("dev", **overrides)
    assert any(key in p for p in found), found


def test_the_error_reads_like_the_projects():
    with pytest.raises(BootstrapConfigError) as raised:
        parse_dev({}, "eu-west-1", '["222222222222"]')
    assert str(raised.value).startswith("Invalid configuration for stack 'dev':\n  - ")


# --- agreement with the project's own stack files ---------------------------------------------------------------


def _project(stack: str):
    config = stack_config(stack)
    project_raw = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("cross-account-s3:")}
    parse = parse_project_prod if stack == "prod" else parse_project_dev
    return config, parse(project_raw, config["aws:region"], stack)


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_bootstrap_and_project_stacks_name_the_same_account_and_region(stack):
    project_config, _ = _project(stack)
    bootstrap = bootstrap_config(stack)
    assert json.loads(bootstrap["aws:allowedAccountIds"]) == json.loads(project_config["aws:allowedAccountIds"])
    assert bootstrap["aws:region"] == project_config["aws:region"]


def test_prod_scope_covers_what_the_prod_stack_declares():
    _, project = _project("prod")
    bootstrap = parsed("prod")
    assert isinstance(project, ProdSettings) and isinstance(bootstrap, ProdBootstrap)
    assert project.role_name.startswith(f"{bootstrap.ci.name_prefix}-")
    assert bootstrap.key_prefix == project.key_prefix
    if project.bucket_name:
        assert bootstrap.bucket == project.bucket_name
    else:
        # Generated from the component's logical name, "data", plus a suffix (README: data-xxxxxxx).
        assert bootstrap.bucket == "data-*"


def test_dev_scope_covers_what_the_dev_stack_declares():
    _, project = _project("dev")
    bootstrap = parsed("dev")
    assert isinstance(project, DevSettings) and isinstance(bootstrap, DevBootstrap)
    assert bootstrap.function_name == project.function_name
    assert bootstrap.execution_role_name == project.execution_role_name
    assert project.group_name.startswith(f"{bootstrap.ci.name_prefix}-")
    assert sorted(bootstrap.user_names) == sorted(project.group_users)
