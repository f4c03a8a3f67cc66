"""Config is validated at start: every problem named by its key, with the form it expects.

A grant's keys are named ``cross-account-s3:grants[NAME].KEY``, or ``grants[INDEX].KEY`` while the grant has no
valid name, so a preview of a prod stack with many grants says which grant to fix.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from components.settings import (
    TRUST_POLICY_DEFAULT_LIMIT,
    TRUST_POLICY_MAX_LIMIT,
    Access,
    ConfigError,
    Encryption,
    Grant,
    SessionTags,
    SourceIdentity,
    Workload,
    parse_consumer,
    parse_prod,
    trust_policy_size,
)
from tests.program.conftest import (
    PROD_ACCOUNT,
    ANALYTICS_ACCOUNT,
    CONSUMER_STACKS,
    DEV_ACCOUNT,
    NS,
    PROD_STACK,
    changed_grant,
    grants_of,
    problems_of,
    raw,
    with_grants,
)
from tests.project import stack_config


def prod_problems(config: dict[str, str]) -> list[str]:
    return problems_of(parse_prod, raw(config))


def grant_problems(config: dict[str, str], grant_name: str = "dev-writer", /, **changes: Any) -> list[str]:
    return prod_problems(changed_grant(config, grant_name, **changes))


# --- the committed stack files ---------------------------------------------------------------------------------


def test_committed_prod_config_has_one_grant_per_consumer(prod_config):
    settings = parse_prod(raw(prod_config), prod_config["aws:region"])
    grants = {g.name: g for g in settings.grants}
    assert set(grants) == {"dev-writer", "analytics-reader"}
    assert grants["dev-writer"] == Grant(
        name="dev-writer", account_id=DEV_ACCOUNT, role_names=("cross-account-s3-writer-lambda",),
        user_names=("dev-user",), key_prefix="incoming/", access=Access.WRITE,
        external_id="dev-writer-3f9a61c2", require_mfa=True, max_session_seconds=3600,
        session_tags=SessionTags(("function",)), source_identity=SourceIdentity.ALLOWED,
        principal_org_id="o-xs3example01")
    assert grants["analytics-reader"].source_identity is SourceIdentity.REQUIRED
    assert grants["analytics-reader"].account_id == ANALYTICS_ACCOUNT
    assert grants["analytics-reader"].access is Access.READ
    assert settings.trust_policy_limit == TRUST_POLICY_DEFAULT_LIMIT


def test_a_grant_role_is_named_after_its_grant(prod_config):
    settings = parse_prod(raw(prod_config), prod_config["aws:region"])
    assert [g.role_name for g in settings.grants] == [f"cross-account-s3-{g.name}" for g in settings.grants]


@pytest.mark.parametrize("stack", CONSUMER_STACKS)
def test_committed_consumer_config_is_valid(stack):
    config = stack_config(stack)
    settings = parse_consumer(raw(config), config["aws:region"], stack)
    assert settings.prod_stack == PROD_STACK
    assert settings.grant


def test_grant_defaults_require_mfa_and_an_hour_session(prod_config):
    config = changed_grant(prod_config, "dev-writer", requireMfa=None, maxSessionDuration=None, externalId=None)
    (grant,) = [g for g in parse_prod(raw(config), "eu-west-1").grants if g.name == "dev-writer"]
    assert (grant.require_mfa, grant.max_session_seconds, grant.external_id) == (True, 3600, None)


def test_yaml_typed_grant_values_are_read_as_their_text(prod_config):
    # A stack file may leave numbers and booleans unquoted; they arrive as JSON numbers and booleans.
    config = changed_grant(prod_config, "dev-writer", accountId=int(DEV_ACCOUNT), maxSessionDuration=7200,
                           requireMfa=False)
    (grant,) = [g for g in parse_prod(raw(config), "eu-west-1").grants if g.name == "dev-writer"]
    assert (grant.account_id, grant.max_session_seconds, grant.require_mfa) == (DEV_ACCOUNT, 7200, False)


# --- a grant's problems name the grant and the key ------------------------------------------------------------


@pytest.mark.parametrize("key, value, expected", [
    ("accountId", "12345", "expected a 12-digit AWS account ID"),
    ("accountId", "22222222222a", "expected a 12-digit AWS account ID"),
    ("accountId", None, "required, a 12-digit AWS account ID"),
    ("keyPrefix", "/incoming/", "without a leading '/'"),
    ("keyPrefix", "incoming", "ending in '/'"),
    ("keyPrefix", "in/../out/", "'..' segments"),
    ("keyPrefix", None, "required, a key prefix"),
    ("roleNames", "writer", "a list of IAM role names"),
    ("roleNames", ["bad name"], "a list of IAM role names"),
    ("userNames", ["a", "a"], "without duplicates"),
    ("access", "admin", "expected write, read or read-write"),
    ("access", "Write", "expected write, read or read-write"),
    ("access", None, "required, write, read or read-write"),
    ("externalId", "x", "2-1224 characters"),
    ("requireMfa", "yes", "true or false"),
    ("maxSessionDuration", 60, "from 3600 to 43200"),
    ("maxSessionDuration", "an hour", "from 3600 to 43200"),
    ("tags", [1, 2], "a map of tag names"),
    ("roleName", "cross-account-s3-writer", "unknown key"),
])
def test_bad_grant_value_is_named_by_grant_and_key(prod_config, key, value, expected):
    problems = grant_problems(prod_config, **{key: value})
    assert [p for p in problems if p.startswith(f"{NS}grants[dev-writer].{key}: ")] == problems, problems
    assert any(expected in p for p in problems), problems


def test_config_error_names_the_grant_in_the_message(prod_config):
    with pytest.raises(ConfigError, match=r"Invalid configuration for stack 'prod':\n"
                                          r"  - cross-account-s3:grants\[dev-writer\]\.accountId: expected a 12-digit"):
        parse_prod(raw(changed_grant(prod_config, "dev-writer", accountId="42")), "eu-west-1", "prod")


def test_a_grant_without_a_valid_name_is_named_by_its_index(prod_config):
    problems = grant_problems(prod_config, "analytics-reader", name="Analytics_Reader", accountId="42")
    assert sorted(p.split(":")[1] for p in problems) == ["grants[1].accountId", "grants[1].name"], problems
    assert any("expected a grant name" in p for p in problems)


def test_a_grant_missing_its_name_is_named_by_its_index(prod_config):
    problems = grant_problems(prod_config, "dev-writer", name=None)
    assert problems == [f"{NS}grants[0].name: required, a grant name: 1-47 of [a-z0-9-], starting and ending "
                        "with a letter or digit (its role is cross-account-s3-<name>)"]


def test_a_grant_named_by_a_yaml_number_is_named_by_that_number(prod_config):
    problems = grant_problems(prod_config, "dev-writer", name=2024, accountId="42")
    assert [p.split(":")[1] for p in problems] == ["grants[2024].accountId"], problems


def test_a_grant_name_too_long_for_its_role_name_is_refused(prod_config):
    longest = "g" * (64 - len("cross-account-s3-"))
    assert parse_prod(raw(changed_grant(prod_config, "dev-writer", name=longest)), "eu-west-1")
    problems = grant_problems(prod_config, "dev-writer", name=longest + "g")
    assert problems[0].startswith(f"{NS}grants[0].name: expected a grant name"), problems


@pytest.mark.parametrize("name", ["-dev", "dev-", "Dev", "dev_writer", "dév"])
def test_a_grant_name_is_lowercase_letters_digits_and_inner_hyphens(prod_config, name):
    assert any(p.startswith(f"{NS}grants[0].name: expected")
               for p in grant_problems(prod_config, "dev-writer", name=name))


def test_two_grants_with_one_name_are_refused_naming_it(prod_config):
    problems = grant_problems(prod_config, "analytics-reader", name="dev-writer")
    assert problems == [f"{NS}grants[dev-writer].name: 'dev-writer' names more than one grant; each grant needs "
                        "its own name (its role is named after it)"]


def test_a_grant_with_no_principal_keys_is_refused(prod_config):
    problems = grant_problems(prod_config, roleNames=None, userNames=None)
    assert len(problems) == 1 and problems[0].startswith(f"{NS}grants[dev-writer].roleNames: required"), problems


def test_a_grant_with_empty_principal_lists_is_refused(prod_config):
    problems = grant_problems(prod_config, roleNames=[], userNames=[])
    assert problems == [f"{NS}grants[dev-writer].roleNames: the grant names no principal; give roleNames "
                        "and/or userNames, each a non-empty list"]


@pytest.mark.parametrize("kept", ["roleNames", "userNames"])
def test_a_grant_may_name_only_roles_or_only_users(prod_config, kept):
    dropped = {"roleNames", "userNames"} - {kept}
    config = changed_grant(prod_config, "dev-writer", **dict.fromkeys(dropped))
    assert parse_prod(raw(config), "eu-west-1")


def test_a_grant_that_is_not_an_object_is_named_by_its_index(prod_config):
    problems = prod_problems(with_grants(prod_config, [grants_of(prod_config)[0], "analytics-reader"]))
    assert [p.split(": ")[0] for p in problems] == [f"{NS}grants[1]"], problems


@pytest.mark.parametrize("value, expected", [
    ("[]", "expected a non-empty list of grants"),
    ('{"name": "dev-writer"}', "expected a non-empty list of grants"),
    ("dev-writer", "expected a non-empty list of grants"),
    (None, "required, a list of grants"),
])
def test_grants_must_be_a_non_empty_list(prod_config, value, expected):
    values = raw(prod_config)
    if value is None:
        del values["grants"]
    else:
        values["grants"] = value
    problems = problems_of(parse_prod, values)
    assert len(problems) == 1 and problems[0].startswith(f"{NS}grants: ") and expected in problems[0], problems


def test_every_problem_of_every_grant_is_reported_at_once(prod_config):
    config = changed_grant(prod_config, "dev-writer", accountId="x", requireMfa="maybe")
    config = changed_grant(config, "analytics-reader", keyPrefix="/", access="all")
    config[f"{NS}bucketName"] = "Not_A_Bucket"
    keys = sorted(p.split(": ")[0] for p in prod_problems(config))
    assert keys == [f"{NS}bucketName", f"{NS}grants[analytics-reader].access", f"{NS}grants[analytics-reader].keyPrefix",
                    f"{NS}grants[dev-writer].accountId", f"{NS}grants[dev-writer].requireMfa"]


# --- IAM's trust policy size limit -----------------------------------------------------------------------------


def many_roles(count: int, length: int) -> list[str]:
    return [f"{i:03d}".ljust(length, "r") for i in range(count)]


def big_grant_config(prod_config: dict[str, str], count: int, length: int, limit: int | None = None) -> dict[str, str]:
    # Without session tags, which would name the roles a second time (test_session_tags_count_the_roles_twice).
    config = changed_grant(prod_config, "dev-writer", roleNames=many_roles(count, length), allowSessionTags=None)
    if limit is not None:
        config[f"{NS}trustPolicySizeLimit"] = str(limit)
    return config


def size_of_big_grant(prod_config: dict[str, str], count: int, length: int) -> int:
    """The trust policy size of the committed dev-writer grant with `count` role names of `length` characters."""
    (grant,) = [g for g in parse_prod(raw(prod_config), "eu-west-1").grants if g.name == "dev-writer"]
    size = trust_policy_size(dataclasses.replace(grant, role_names=tuple(many_roles(count, length)),
                                                 session_tags=None))
    assert size is not None
    return size


def test_a_grant_whose_trust_policy_exceeds_the_default_limit_is_refused_naming_it(prod_config):
    size = size_of_big_grant(prod_config, 40, 40)
    assert TRUST_POLICY_DEFAULT_LIMIT < size <= TRUST_POLICY_MAX_LIMIT
    problems = prod_problems(big_grant_config(prod_config, 40, 40))
    assert problems == [f"{NS}grants[dev-writer]: its trust policy would be {size} characters, over IAM's limit of "
                        "2048 (trustPolicySizeLimit); name fewer principals, or split the grant"]


def test_a_raised_trust_policy_limit_accepts_the_grant_when_it_fits(prod_config):
    size = size_of_big_grant(prod_config, 40, 40)
    assert parse_prod(raw(big_grant_config(prod_config, 40, 40, limit=TRUST_POLICY_MAX_LIMIT)), "eu-west-1")
    assert parse_prod(raw(big_grant_config(prod_config, 40, 40, limit=size)), "eu-west-1")
    problems = prod_problems(big_grant_config(prod_config, 40, 40, limit=size - 1))
    assert problems[0].startswith(f"{NS}grants[dev-writer]: its trust policy would be {size} characters, over "
                                  f"IAM's limit of {size - 1}"), problems


def test_a_grant_too_big_even_for_the_highest_limit_is_refused(prod_config):
    assert size_of_big_grant(prod_config, 40, 64) > TRUST_POLICY_MAX_LIMIT
    problems = prod_problems(big_grant_config(prod_config, 40, 64, limit=TRUST_POLICY_MAX_LIMIT))
    assert [p.split(": ")[0] for p in problems] == [f"{NS}grants[dev-writer]"], problems


def test_the_size_limit_applies_to_each_grant_on_its_own(prod_config):
    # Two grants of 1,500 characters each: together over 2,048, but each role has its own trust policy.
    config = big_grant_config(prod_config, 9, 64)
    config = changed_grant(config, "analytics-reader", roleNames=many_roles(9, 64))
    assert all(1500 < (trust_policy_size(g) or 0) <= TRUST_POLICY_DEFAULT_LIMIT
               for g in parse_prod(raw(config), "eu-west-1").grants)


def test_session_tags_count_the_roles_twice(prod_config):
    # Only the workloads may tag: their ARNs are named again in the trust's PassSessionTags statement.
    (grant,) = [g for g in parse_prod(raw(prod_config), "eu-west-1").grants if g.name == "dev-writer"]
    roles = tuple(many_roles(5, 64))
    untagged = trust_policy_size(dataclasses.replace(grant, role_names=roles, session_tags=None)) or 0
    tagged = trust_policy_size(dataclasses.replace(grant, role_names=roles)) or 0
    assert tagged - untagged > sum(len(f"arn:aws:iam::{grant.account_id}:role/{r}") for r in roles)


def test_a_long_external_id_counts_against_the_trust_policy_size(prod_config):
    # Well-formed (IAM allows 2-1224 characters), but every trust statement repeats it: over 2,048 with two.
    config = changed_grant(prod_config, "dev-writer", externalId="x" * 1224)
    problems = prod_problems(config)
    assert [p.split(": ")[0] for p in problems] == [f"{NS}grants[dev-writer]"], problems
    assert parse_prod(raw(config | {f"{NS}trustPolicySizeLimit": str(TRUST_POLICY_MAX_LIMIT)}), "eu-west-1")


@pytest.mark.parametrize("limit", ["2047", "4097", "0", "big"])
def test_the_trust_policy_limit_is_iams_quota_range(prod_config, limit):
    problems = prod_problems(prod_config | {f"{NS}trustPolicySizeLimit": limit})
    assert problems == [f"{NS}trustPolicySizeLimit: expected IAM's trust policy size quota, 2048 to 4096, got "
                        f"{int(limit) if limit.isdigit() else limit!r}"]


# --- the rest of prod -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key, value, expected", [
    ("bucketName", "Not_A_Bucket", "an S3 bucket name"),
    ("versioning", "yes", "true or false"),
    ("permissionsBoundaryArn", "arn:aws:s3:::bucket", "an IAM managed policy ARN"),
    ("tags", "[1, 2]", "a map of tag names"),
    # The single-consumer keys are gone: a stack file still using them is told so.
    ("devAccountId", DEV_ACCOUNT, "unknown key"),
    ("trustedRoleNames", '["x"]', "unknown key"),
])
def test_bad_prod_value_is_named_with_expected_form(prod_config, key, value, expected):
    problems = prod_problems(prod_config | {f"{NS}{key}": value})
    assert len(problems) == 1 and problems[0].startswith(f"{NS}{key}: ") and expected in problems[0], problems


@pytest.mark.parametrize("region", [None, "", "europe", "EU-WEST-1"])
def test_bad_region_is_named(prod_config, region):
    assert [p.split(":")[0] + ":" + p.split(":")[1] for p in problems_of(parse_prod, raw(prod_config), region)] \
        == ["aws:region"]


# --- a consumer -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", CONSUMER_STACKS)
@pytest.mark.parametrize("key, value, expected", [
    ("prodStack", "", "required"),
    ("prodStack", "a/b/c/d", "stack reference"),
    ("grant", "", "required, the name of one of the prod stack's grants"),
    ("grant", "Dev_Writer", "the name of one of the prod stack's grants"),
    ("workload", "admin", "writer, reader or none"),
    ("lambdaTimeout", "0", "from 1 to 900"),
    ("lambdaTimeout", "901", "from 1 to 900"),
    ("lambdaMemory", "64", "from 128 to 10240"),
    ("logRetentionDays", "10", "retention periods"),
    ("maxBodyBytes", "-1", "bytes from 1"),
    ("maxObjectBytes", "0", "bytes from 1 to 4194304"),
    ("maxObjectBytes", str(4 * 1024 * 1024 + 1), "bytes from 1 to 4194304"),
    ("functionName", "has space", "a Lambda function name"),
    ("executionRoleName", "x" * 65, "an IAM role name"),
    ("groupUsers", '"dev-user"', "a list of IAM user names"),
    ("allowRead", "true", "unknown key"),
])
def test_bad_consumer_value_is_named_with_expected_form(stack, key, value, expected):
    problems = problems_of(parse_consumer, raw(stack_config(stack)) | {key: value})
    assert len(problems) == 1 and problems[0].startswith(f"{NS}{key}") and expected in problems[0], problems


def test_a_consumer_runs_the_writer_unless_told_otherwise(dev_config):
    values = {k: v for k, v in raw(dev_config).items() if k != "workload"}
    assert parse_consumer(values, "eu-west-1").workload is Workload.WRITER


@pytest.mark.parametrize("workload", list(Workload))
def test_a_consumer_may_run_any_workload(dev_config, workload):
    assert parse_consumer(raw(dev_config) | {"workload": workload.value}, "eu-west-1").workload is workload


def test_a_consumer_error_names_its_own_stack(analytics_config):
    with pytest.raises(ConfigError, match=r"Invalid configuration for stack 'analytics':\n  - cross-account-s3:grant:"):
        parse_consumer(raw(analytics_config) | {"grant": "No"}, "eu-west-1", "analytics")


def test_a_consumer_names_no_grant_without_a_grant_key(dev_config):
    values = {k: v for k, v in raw(dev_config).items() if k != "grant"}
    assert problems_of(parse_consumer, values) == [
        f"{NS}grant: required, the name of one of the prod stack's grants"]


def test_problems_are_plain_text_with_the_value_quoted(prod_config):
    (problem,) = grant_problems(prod_config, accountId="4\n2")
    assert problem.endswith("got '4\\n2'") and "\n" not in problem
    json.dumps(problem)  # printable as it is


# --- trust options and revocation ---------------------------------------------------------------------------


def grant_named(config: dict[str, str], name: str) -> Grant:
    return {g.name: g for g in parse_prod(raw(config), "eu-west-1").grants}[name]


def test_a_revocation_time_is_kept_in_utc_rounded_up_to_the_second(prod_config):
    config = changed_grant(prod_config, "dev-writer", revokeSessionsIssuedBefore="2026-12-01T11:30:15.250+02:00")
    # Rounded up: a session issued at 09:30:15.100 is still before the time named, and still revoked.
    assert grant_named(config, "dev-writer").revoke_sessions_issued_before == "2026-12-01T09:30:16Z"


@pytest.mark.parametrize("value, fragment", [
    ("2026-12-01T09:30:15", "without a zone the time is ambiguous"),
    ("2026-12-01", "without a zone the time is ambiguous"),
    ("yesterday", "an ISO 8601 time with a time zone"),
    ("2999-01-01T00:00:00Z", "is in the future; it would deny every session issued until then"),
])
def test_a_revocation_time_that_is_not_one_is_refused_naming_the_grant(prod_config, value, fragment):
    problems = prod_problems(changed_grant(prod_config, "dev-writer", revokeSessionsIssuedBefore=value))
    assert len(problems) == 1 and problems[0].startswith(f"{NS}grants[dev-writer].revokeSessionsIssuedBefore: ")
    assert fragment in problems[0]


def test_session_tag_keys_differing_only_in_case_are_one_key_and_refused(prod_config):
    problems = prod_problems(changed_grant(prod_config, "dev-writer", allowSessionTags=["function", "Function"]))
    assert problems == [f"{NS}grants[dev-writer].allowSessionTags: expected tag keys that differ other than in "
                        "case (STS compares keys without case), got ['function', 'Function']"]


@pytest.mark.parametrize("value, expected", [
    (True, SessionTags()), (False, None), (["function"], SessionTags(("function",))),
])
def test_allow_session_tags_is_a_flag_or_the_keys_allowed(prod_config, value, expected):
    assert grant_named(changed_grant(prod_config, "dev-writer", allowSessionTags=value),
                       "dev-writer").session_tags == expected


def test_a_suspended_grant_keeps_everything_else(prod_config):
    before = grant_named(prod_config, "analytics-reader")
    after = grant_named(changed_grant(prod_config, "analytics-reader", suspended=True), "analytics-reader")
    assert dataclasses.replace(after, suspended=False) == before and after.suspended


# --- encryption ---------------------------------------------------------------------------------------------


def test_encryption_defaults_to_sse_s3(prod_config):
    config = {k: v for k, v in prod_config.items() if k not in (f"{NS}encryption", f"{NS}kmsKeyUsers")}
    settings = parse_prod(raw(config), "eu-west-1")
    assert (settings.encryption, settings.kms_key_arn, settings.kms_key_users) == (Encryption.S3, None, ())


def test_the_committed_prod_stack_uses_kms_with_its_own_key(prod_config):
    settings = parse_prod(raw(prod_config), "eu-west-1")
    assert (settings.encryption, settings.kms_key_arn, settings.kms_deletion_window_days) == (Encryption.KMS, None, 30)


@pytest.mark.parametrize("key", ["kmsKeyArn", "kmsKeyDeletionWindowDays", "kmsKeyUsers"])
def test_a_kms_key_without_kms_encryption_is_refused_naming_it(prod_config, key):
    value = {"kmsKeyArn": f"arn:aws:kms:eu-west-1:{PROD_ACCOUNT}:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
             "kmsKeyDeletionWindowDays": "7", "kmsKeyUsers": prod_config[f"{NS}kmsKeyUsers"]}[key]
    config = {k: v for k, v in prod_config.items() if k != f"{NS}kmsKeyUsers"}
    problems = prod_problems(config | {f"{NS}encryption": "s3", f"{NS}{key}": value})
    assert problems == [f"{NS}{key}: only with {NS}encryption: kms"]


def test_a_key_of_another_region_is_refused(prod_config):
    arn = f"arn:aws:kms:us-east-1:{PROD_ACCOUNT}:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    problems = prod_problems(prod_config | {f"{NS}kmsKeyArn": arn})
    assert problems == [f"{NS}kmsKeyArn: the key is in us-east-1, but the bucket is in eu-west-1; S3 uses keys of "
                        "its own region only"]


def test_an_existing_key_takes_no_deletion_window(prod_config):
    arn = f"arn:aws:kms:eu-west-1:{PROD_ACCOUNT}:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    problems = prod_problems(prod_config | {f"{NS}kmsKeyArn": arn, f"{NS}kmsKeyDeletionWindowDays": "7"})
    assert [p.split(": ")[0] for p in problems] == [f"{NS}kmsKeyDeletionWindowDays"]
