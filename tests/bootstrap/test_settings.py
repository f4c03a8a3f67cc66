"""The bootstrap stacks' config: every problem reported at once, by key; and it agrees with the project's stacks,
every one of them: prod, and each consumer stack file (dev, analytics, and any added later)."""

from __future__ import annotations

import json

import pytest

from bootstrap.settings import BootstrapConfigError, ConsumerBootstrap, ProdBootstrap, parse_consumer, parse_prod
from components.settings import ConsumerSettings, ProdSettings
from components.settings import parse_consumer as parse_project_consumer
from components.settings import parse_prod as parse_project_prod
from tests.project import stack_config
from tests.bootstrap.conftest import (
    BOOTSTRAP_STACKS,
    CONSUMER_STACKS,
    PROJECT_CONSUMER_STACKS,
    PROJECT_STACKS,
    bootstrap_config,
    run_bootstrap,
)

NS = "cross-account-s3-bootstrap:"


def raw(config: dict[str, str]) -> dict[str, str]:
    return {k[len(NS):]: v for k, v in config.items() if k.startswith(NS)}


def parsed(stack: str, config: dict[str, str] | None = None) -> ProdBootstrap | ConsumerBootstrap:
    config = bootstrap_config(stack) if config is None else config
    parse = parse_prod if stack == "prod" else parse_consumer
    return parse(raw(config), config.get("aws:region"), config.get("aws:allowedAccountIds"), stack)


def consumer(stack: str) -> ConsumerBootstrap:
    settings = parsed(stack)
    assert isinstance(settings, ConsumerBootstrap), stack
    return settings


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
    prod, dev, analytics = parsed("prod"), parsed("dev"), parsed("analytics")
    assert isinstance(prod, ProdBootstrap)
    assert isinstance(dev, ConsumerBootstrap) and isinstance(analytics, ConsumerBootstrap)
    assert (prod.ci.account_id, dev.ci.account_id, analytics.ci.account_id) == \
        ("111111111111", "222222222222", "333333333333")
    assert prod.bucket == "data-*" and dev.user_names == ("dev-user",)
    assert (prod.ci.deploy_environment, dev.ci.deploy_environment, analytics.ci.deploy_environment) == \
        ("prod", "dev", "analytics")
    assert (analytics.function_name, analytics.execution_role_name, analytics.user_names) == \
        ("cross-account-s3-reader", "cross-account-s3-reader-lambda", ("analyst",))
    assert analytics.ci.github_repo == dev.ci.github_repo == prod.ci.github_repo == "OWNER/REPO"
    assert [analytics.ci.variable(p) for p in ("preview", "deploy", "integration")] == \
        ["ANALYTICS_PREVIEW_ROLE_ARN", "ANALYTICS_DEPLOY_ROLE_ARN", "ANALYTICS_INTEGRATION_ROLE_ARN"]


@pytest.mark.parametrize("stack", CONSUMER_STACKS)
def test_every_stack_but_prod_is_a_consumer(stack):
    assert isinstance(parsed(stack), ConsumerBootstrap)


def test_a_further_consumer_needs_only_a_stack_file():
    # As in the main program, any stack not named prod is a consumer account: load() takes it as one.
    config = bootstrap_config("analytics") | {
        "aws:allowedAccountIds": '["444444444444"]',
        "cross-account-s3-bootstrap:functionName": "cross-account-s3-billing",
        "cross-account-s3-bootstrap:executionRoleName": "cross-account-s3-billing-lambda",
    }
    run = run_bootstrap("billing-eu", config)
    assert run.export("githubVariables") == {
        f"BILLING_EU_{purpose.upper()}_ROLE_ARN":
            f"arn:aws:iam::444444444444:role/github-actions/github-cross-account-s3-{purpose}"
        for purpose in ("preview", "deploy", "integration")
    }
    assert run.account.permissions("integration")["Statement"] == [
        {"Sid": "InvokeFunction", "Effect": "Allow", "Action": "lambda:InvokeFunction",
         "Resource": "arn:aws:lambda:eu-west-1:444444444444:function:cross-account-s3-billing"},
    ]


@pytest.mark.parametrize("stack", ["github", "1st", "GitHub-eu"])
def test_a_stack_name_that_gives_no_valid_variable_names_is_refused(stack):
    config = bootstrap_config("analytics")
    with pytest.raises(BootstrapConfigError) as raised:
        parse_consumer(raw(config), config["aws:region"], config["aws:allowedAccountIds"], stack)
    assert any(p.startswith(f"stack name: {stack!r} would name its repository variables")
               for p in raised.value.problems), raised.value.problems


@pytest.mark.parametrize("stack", CONSUMER_STACKS)
@pytest.mark.parametrize(("overrides", "key"), [
    ({"executionRoleName": "reader-lambda"}, "executionRoleName: expected a role name starting with"),
    ({"userNames": '["ok", "not ok"]'}, "userNames: expected a list of IAM user names"),
    ({"functionName": "bad name"}, "functionName: expected"),
    ({"bucketName": "acme"}, "bucketName: unknown key"),
    ({"keyPrefix": "incoming/"}, "keyPrefix: unknown key"),
])
def test_a_bad_consumer_value_names_its_key(stack, overrides, key):
    found = problems(stack, **overrides)
    assert any(key in p for p in found), found


@pytest.mark.parametrize("stack", ["dev", "analytics"])
def test_the_error_reads_like_the_projects(stack):
    with pytest.raises(BootstrapConfigError) as raised:
        parse_consumer({}, "eu-west-1", '["222222222222"]', stack)
    assert str(raised.value).startswith(f"Invalid configuration for stack '{stack}':\n  - ")


# --- agreement with the project's own stack files ---------------------------------------------------------------


def _project(stack: str):
    config = stack_config(stack)
    project_raw = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("cross-account-s3:")}
    parse = parse_project_prod if stack == "prod" else parse_project_consumer
    return config, parse(project_raw, config["aws:region"], stack)


def _consumer_project(stack: str) -> ConsumerSettings:
    _, project = _project(stack)
    assert isinstance(project, ConsumerSettings), stack
    return project


def _prod_project() -> ProdSettings:
    _, project = _project("prod")
    assert isinstance(project, ProdSettings)
    return project


def test_every_project_stack_has_a_bootstrap_stack():
    # A consumer without one would have no roles for its preview and deploy jobs (docs/ci.md: adding a consumer).
    assert BOOTSTRAP_STACKS == PROJECT_STACKS
    assert "prod" in PROJECT_STACKS and {"dev", "analytics"} <= set(PROJECT_CONSUMER_STACKS)


@pytest.mark.parametrize("stack", PROJECT_STACKS)
def test_bootstrap_and_project_stacks_name_the_same_account_and_region(stack):
    project_config, _ = _project(stack)
    bootstrap = bootstrap_config(stack)
    assert json.loads(bootstrap["aws:allowedAccountIds"]) == json.loads(project_config["aws:allowedAccountIds"])
    assert bootstrap["aws:region"] == project_config["aws:region"]


def test_prod_scope_covers_what_the_prod_stack_declares():
    _, project = _project("prod")
    bootstrap = parsed("prod")
    assert isinstance(project, ProdSettings) and isinstance(bootstrap, ProdBootstrap)
    assert all(grant.role_name.startswith(f"{bootstrap.ci.name_prefix}-") for grant in project.grants)
    # The live integration tests check what dev's writer wrote: under the dev-writer grant's prefix.
    (dev_writer,) = [grant for grant in project.grants if grant.name == _consumer_project("dev").grant]
    assert bootstrap.key_prefix == dev_writer.key_prefix
    if project.bucket_name:
        assert bootstrap.bucket == project.bucket_name
    else:
        # Generated from the component's logical name, "data", plus a suffix (README: data-xxxxxxx).
        assert bootstrap.bucket == "data-*"


def test_prods_integration_reader_covers_every_grants_prefix():
    # The live tests (tests/integration/conftest.py) check and clean up with prod's integration reader under the
    # prefix of every consumer they use: what dev writes, and what analytics reads (the same incoming/). A grant
    # outside the reader's keyPrefix would fail them with AccessDenied, so it fails here first.
    bootstrap = parsed("prod")
    assert isinstance(bootstrap, ProdBootstrap)
    outside = {grant.name: grant.key_prefix for grant in _prod_project().grants
               if not grant.key_prefix.startswith(bootstrap.key_prefix)}
    assert not outside, f"grants outside the integration reader's keyPrefix {bootstrap.key_prefix!r}: {outside}"


@pytest.mark.parametrize("stack", PROJECT_CONSUMER_STACKS)
def test_consumer_scope_covers_what_the_consumer_stack_declares(stack):
    project = _consumer_project(stack)
    bootstrap = consumer(stack)
    assert bootstrap.function_name == project.function_name
    assert bootstrap.execution_role_name == project.execution_role_name
    assert project.group_name.startswith(f"{bootstrap.ci.name_prefix}-")
    assert sorted(bootstrap.user_names) == sorted(project.group_users)


@pytest.mark.parametrize("stack", PROJECT_CONSUMER_STACKS)
def test_each_consumers_grant_is_for_the_account_its_bootstrap_stack_serves(stack):
    project = _consumer_project(stack)
    (grant,) = [grant for grant in _prod_project().grants if grant.name == project.grant]
    assert grant.account_id == consumer(stack).ci.account_id
    # The grant's principals are what the consumer's deploy role creates (its function's execution role, its users).
    assert consumer(stack).execution_role_name in grant.role_names
    assert set(grant.user_names) <= set(consumer(stack).user_names)
