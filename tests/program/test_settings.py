"""Config is validated at start: every problem named by its key, with the form it expects."""

import pytest

from components.settings import ConfigError, parse_dev, parse_prod

PREFIX = "cross-account-s3:"


def raw(config: dict[str, str]) -> dict[str, str]:
    return {k[len(PREFIX):]: v for k, v in config.items() if k.startswith(PREFIX)}


def problems_of(parse, values, region="eu-west-1") -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(values, region)
    return caught.value.problems


def test_committed_prod_config_is_valid(prod_config):
    settings = parse_prod(raw(prod_config), prod_config["aws:region"])
    assert settings.dev_account_id == "222222222222"
    assert settings.key_prefix == "incoming/"
    assert settings.require_mfa is True


def test_committed_dev_config_is_valid(dev_config):
    settings = parse_dev(raw(dev_config), dev_config["aws:region"])
    assert settings.prod_stack == "organization/cross-account-s3/prod"


@pytest.mark.parametrize("key, value, expected", [
    ("devAccountId", "12345", "12-digit AWS account ID"),
    ("devAccountId", "22222222222a", "12-digit AWS account ID"),
    ("keyPrefix", "/incoming/", "without a leading '/'"),
    ("keyPrefix", "incoming", "ending in '/'"),
    ("keyPrefix", "in/../out/", "'..' segments"),
    ("trustedRoleNames", "[]", "required, a non-empty list"),
    ("trustedRoleNames", "writer", "a list of IAM role names"),
    ("trustedRoleNames", '["bad name"]', "a list of IAM role names"),
    ("trustedUserNames", '["a", "a"]', "without duplicates"),
    ("bucketName", "Not_A_Bucket", "an S3 bucket name"),
    ("requireMfa", "yes", "true or false"),
    ("maxSessionDuration", "60", "from 3600 to 43200"),
    ("maxSessionDuration", "an hour", "from 3600 to 43200"),
    ("permissionsBoundaryArn", "arn:aws:s3:::bucket", "an IAM managed policy ARN"),
    ("tags", "[1, 2]", "a map of tag names"),
    ("trustedRolenames", '["x"]', "unknown key"),
])
def test_bad_prod_value_is_named_with_expected_form(prod_config, key, value, expected):
    values = raw(prod_config)
    if key == "trustedRoleNames" and value == "[]":
        values.pop("trustedUserNames")
    values[key] = value
    problems = problems_of(parse_prod, values)
    assert any(p.startswith(f"{PREFIX}{key}") and expected in p for p in problems), problems


def test_missing_dev_account_id_is_required(prod_config):
    values = raw(prod_config)
    del values["devAccountId"]
    assert any("devAccountId: required" in p for p in problems_of(parse_prod, values))


def test_missing_principals_are_required(prod_config):
    values = raw(prod_config)
    del values["trustedRoleNames"], values["trustedUserNames"]
    assert any("trustedRoleNames: required" in p for p in problems_of(parse_prod, values))


@pytest.mark.parametrize("region", [None, "", "europe", "EU-WEST-1"])
def test_bad_region_is_named(prod_config, region):
    assert any(p.startswith("aws:region") for p in problems_of(parse_prod, raw(prod_config), region))


def test_every_problem_is_reported_at_once(prod_config):
    values = raw(prod_config) | {"devAccountId": "x", "keyPrefix": "/", "requireMfa": "maybe"}
    problems = problems_of(parse_prod, values)
    assert len(problems) == 3


@pytest.mark.parametrize("key, value, expected", [
    ("prodStack", "", "required"),
    ("prodStack", "a/b/c/d", "stack reference"),
    ("lambdaTimeout", "0", "from 1 to 900"),
    ("lambdaTimeout", "901", "from 1 to 900"),
    ("lambdaMemory", "64", "from 128 to 10240"),
    ("logRetentionDays", "10", "retention periods"),
    ("maxBodyBytes", "-1", "bytes from 1"),
    ("functionName", "has space", "a Lambda function name"),
    ("executionRoleName", "x" * 65, "an IAM role name"),
    ("groupUsers", '"dev-user"', "a list of IAM user names"),
])
def test_bad_dev_value_is_named_with_expected_form(dev_config, key, value, expected):
    values = raw(dev_config) | {key: value}
    problems = problems_of(parse_dev, values)
    assert any(p.startswith(f"{PREFIX}{key}") and expected in p for p in problems), problems


def test_config_error_message_lists_the_stack_and_each_problem(prod_config):
    values = raw(prod_config) | {"devAccountId": "x"}
    with pytest.raises(ConfigError, match=r"Invalid configuration for stack 'prod':\n  - cross-account-s3:devAccountId"):
        parse_prod(values, "eu-west-1")
