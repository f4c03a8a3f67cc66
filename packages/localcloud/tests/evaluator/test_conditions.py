"""Unit tests of the condition operators, context handling and matching helpers.

Pages (IAM User Guide): reference_policies_elements_condition_operators.html,
reference_policies_condition-logic-multiple-context-keys-or-values.html, reference_policies_multi-value-conditions.html,
reference_policies_variables.html, reference_policies_elements_principal.html.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from localcloud.evaluator import Caller
from localcloud.evaluator.conditions import (
    UnsupportedOperator,
    arn_like,
    binary_equals,
    bool_equals,
    evaluate_condition_block,
    evaluate_key,
    ip_address_in,
    normalize_context,
    parse_date,
    parse_number,
    parse_operator,
    policy_value_str,
    string_equals,
    string_equals_ignore_case,
    string_like,
)
from localcloud.evaluator.matching import (
    PrincipalMatch,
    UnresolvedVariable,
    action_matches,
    glob_match,
    match_principal,
    not_principal_excludes,
    resource_matches,
    substitute_variables,
)

# ---------------------------------------------------------------------------------------------------------------
# Context and values
# ---------------------------------------------------------------------------------------------------------------


def test_normalize_context_lowercases_keys_and_wraps_values() -> None:
    context = normalize_context({"aws:SecureTransport": True, "aws:TagKeys": ["a", "b"], "s3:max-keys": 5})
    assert context == {"aws:securetransport": ("true",), "aws:tagkeys": ("a", "b"), "s3:max-keys": ("5",)}


def test_normalize_context_drops_empty_lists_as_missing_keys() -> None:
    assert "aws:tagkeys" not in normalize_context({"aws:TagKeys": []})


def test_normalize_context_keeps_empty_string_as_a_value() -> None:
    # An empty s3:prefix is a real value: listing the bucket root (operators page, StringLike example with "").
    assert normalize_context({"s3:prefix": ""}) == {"s3:prefix": ("",)}


@pytest.mark.parametrize(("raw", "expected"), [(True, "true"), (False, "false"), (10, "10"), (1.5, "1.5"), ("x", "x")])
def test_policy_value_str_renders_json_scalars(raw: object, expected: str) -> None:
    assert policy_value_str(raw) == expected


# ---------------------------------------------------------------------------------------------------------------
# String, ARN, numeric, date, bool, binary, IP comparators
# ---------------------------------------------------------------------------------------------------------------


def test_string_equals_is_case_sensitive() -> None:
    assert string_equals("prod", "prod")
    assert not string_equals("Prod", "prod")


def test_string_equals_ignore_case_folds_case() -> None:
    assert string_equals_ignore_case("PROD", "prod")
    assert not string_equals_ignore_case("prod1", "prod")


@pytest.mark.parametrize(
    ("value", "pattern", "expected"),
    [
        ("incoming/2026/a.csv", "incoming/*", True),
        ("incoming/", "incoming/*", True),
        ("Incoming/a", "incoming/*", False),
        ("file-1", "file-?", True),
        ("file-10", "file-?", False),
        ("a.b", "a?b", True),
        ("axb", "a.b", False),  # regex metacharacters are literal
        ("", "", True),
        ("x", "", False),
    ],
)
def test_string_like_globs_case_sensitively(value: str, pattern: str, expected: bool) -> None:
    assert string_like(value, pattern) is expected


def test_arn_like_compares_each_part_separately() -> None:
    # The example of the operators page: StringLike matches, ArnLike does not.
    pattern = "arn:aws:someservice:*:111122223333:finance/*"
    value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
    assert string_like(value, pattern)
    assert not arn_like(value, pattern)


@pytest.mark.parametrize("operator", ["ArnLike", "ArnEquals", "ArnLikeIfExists"])
def test_arn_operators_do_not_let_star_cross_colons(operator: str) -> None:
    pattern = "arn:aws:someservice:*:111122223333:finance/*"
    value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
    assert not evaluate_key(parse_operator(operator), (value,), [pattern])
    assert evaluate_key(parse_operator(operator), ("arn:aws:someservice:us-east-2:111122223333:finance/a",), [pattern])


def test_arn_like_star_matches_within_a_part() -> None:
    assert arn_like("arn:aws:iam::222222222222:role/ci/Deployer", "arn:aws:iam::*:role/*")
    assert not arn_like("arn:aws:iam::222222222222:user/alice", "arn:aws:iam::*:role/*")


def test_arn_like_resource_part_may_hold_colons() -> None:
    assert arn_like("arn:aws:logs:us-east-1:1:log-group:app:*", "arn:aws:logs:*:1:log-group:app:*")


def test_arn_like_rejects_values_that_are_not_arns() -> None:
    assert not arn_like("not-an-arn", "*")
    assert not arn_like("arn:aws:iam::1:user/a", "arn:aws:iam")


@pytest.mark.parametrize(("value", "expected"), [("10", Decimal(10)), ("1.50", Decimal("1.5")), ("ten", None),
                                                 ("NaN", None), ("", None)])
def test_parse_number(value: str, expected: Decimal | None) -> None:
    assert parse_number(value) == expected


@pytest.mark.parametrize(
    "value",
    ["2026-01-01T12:00:00Z", "2026-01-01T12:00:00.000Z", "2026-01-01T13:00:00+01:00", "2026-01-01T12:00:00",
     "1767268800"],
)
def test_parse_date_accepts_iso8601_and_epoch_for_the_same_instant(value: str) -> None:
    assert parse_date(value) == datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def test_parse_date_keeps_fractions_and_rejects_garbage() -> None:
    assert parse_date("2026-01-01T12:00:00.250Z") == datetime(2026, 1, 1, 12, 0, 0, 250000, tzinfo=timezone.utc)
    assert parse_date("yesterday") is None


@pytest.mark.parametrize(
    ("operator", "request_value", "policy_value", "expected"),
    [
        ("NumericEquals", "10", "10.0", True),
        ("NumericNotEquals", "10", "10", False),
        ("NumericLessThan", "9", "10", True),
        ("NumericLessThan", "10", "10", False),
        ("NumericLessThanEquals", "10", "10", True),
        ("NumericGreaterThan", "11", "10", True),
        ("NumericGreaterThan", "10", "10", False),
        ("NumericGreaterThanEquals", "10", "10", True),
        ("NumericLessThan", "abc", "10", False),
        ("DateEquals", "2026-01-01T00:00:00Z", "1767225600", True),
        ("DateNotEquals", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", False),
        ("DateLessThan", "2025-12-31T23:59:59Z", "2026-01-01T00:00:00Z", True),
        ("DateLessThan", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", False),
        ("DateLessThanEquals", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", True),
        ("DateGreaterThan", "2026-01-01T00:00:01Z", "2026-01-01T00:00:00Z", True),
        ("DateGreaterThanEquals", "2025-12-31T00:00:00Z", "2026-01-01T00:00:00Z", False),
        ("DateGreaterThan", "not a date", "2026-01-01T00:00:00Z", False),
    ],
)
def test_numeric_and_date_operators(operator: str, request_value: str, policy_value: str, expected: bool) -> None:
    assert evaluate_key(parse_operator(operator), (request_value,), [policy_value]) is expected


def test_bool_compares_true_and_false_only() -> None:
    assert bool_equals("true", "true")
    assert bool_equals("TRUE", "true")
    assert not bool_equals("false", "true")
    assert not bool_equals("yes", "yes")


def test_binary_equals_compares_decoded_bytes() -> None:
    assert binary_equals("QmluYXJ5VmFsdWVJbkJhc2U2NA==", "QmluYXJ5VmFsdWVJbkJhc2U2NA==")
    assert not binary_equals("QUJD", "QUJE")
    assert not binary_equals("not base64!", "not base64!")


@pytest.mark.parametrize(
    ("address", "cidr", "expected"),
    [
        ("203.0.113.7", "203.0.113.0/24", True),
        ("203.0.114.7", "203.0.113.0/24", False),
        ("203.0.113.7", "203.0.113.7", True),  # no prefix means /32
        ("2001:db8:1234:5678::1", "2001:DB8:1234:5678::/64", True),
        ("203.0.113.7", "2001:DB8::/32", False),
        ("garbage", "203.0.113.0/24", False),
    ],
)
def test_ip_address_in(address: str, cidr: str, expected: bool) -> None:
    assert ip_address_in(address, cidr) is expected


# ---------------------------------------------------------------------------------------------------------------
# Operator parsing
# ---------------------------------------------------------------------------------------------------------------


def test_parse_operator_reads_qualifier_negation_and_if_exists() -> None:
    operator = parse_operator("ForAllValues:StringNotLikeIfExists")
    assert (operator.qualifier, operator.base, operator.negated, operator.if_exists) == (
        "ForAllValues", "StringLike", True, True,
    )


def test_parse_operator_is_case_insensitive() -> None:
    assert parse_operator("stringequals").base == "StringEquals"


@pytest.mark.parametrize("name", ["StringEqualz", "NullIfExists", "ForAnyValue:Null", "ForSomeValues:StringEquals", ""])
def test_parse_operator_rejects_unknown_forms(name: str) -> None:
    with pytest.raises(UnsupportedOperator):
        parse_operator(name)


# ---------------------------------------------------------------------------------------------------------------
# Missing keys, negation, set qualifiers, Null
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        ("StringEquals", False),
        ("StringLike", False),
        ("ArnLike", False),
        ("NumericLessThan", False),
        ("DateLessThan", False),
        ("Bool", False),
        ("IpAddress", False),
        ("StringNotEquals", True),
        ("StringNotLike", True),
        ("ArnNotLike", True),
        ("NotIpAddress", True),
        ("StringEqualsIfExists", True),
        ("BoolIfExists", True),
        ("StringNotEqualsIfExists", True),
        ("ForAllValues:StringEquals", True),
        ("ForAnyValue:StringEquals", False),
        ("ForAnyValue:StringNotEquals", False),
        ("ForAnyValue:StringEqualsIfExists", True),
    ],
)
def test_missing_key(operator: str, expected: bool) -> None:
    assert evaluate_key(parse_operator(operator), None, ["x"]) is expected


@pytest.mark.parametrize(("policy_value", "present", "expected"),
                         [("true", False, True), ("true", True, False), ("false", True, True), ("false", False, False)])
def test_null_checks_key_presence(policy_value: str, present: bool, expected: bool) -> None:
    request_values = ("2026-01-01T00:00:00Z",) if present else None
    assert evaluate_key(parse_operator("Null"), request_values, [policy_value]) is expected


def test_values_of_one_key_combine_as_or() -> None:
    assert evaluate_key(parse_operator("StringEquals"), ("b",), ["a", "b"])


def test_values_of_a_negated_operator_combine_as_nor() -> None:
    operator = parse_operator("StringNotEquals")
    assert not evaluate_key(operator, ("b",), ["a", "b"])
    assert evaluate_key(operator, ("c",), ["a", "b"])


def test_for_all_values_needs_every_request_value_listed() -> None:
    operator = parse_operator("ForAllValues:StringLike")
    assert evaluate_key(operator, ("PostDateTime", "Message"), ["PostDateTime", "Message", "Tags"])
    assert not evaluate_key(operator, ("PostDateTime", "UserName"), ["PostDateTime", "Message", "Tags"])


def test_for_any_value_needs_one_request_value_listed() -> None:
    operator = parse_operator("ForAnyValue:StringLike")
    assert evaluate_key(operator, ("UserName", "PostDateTime"), ["ID", "PostDateTime"])
    assert not evaluate_key(operator, ("UserName",), ["ID", "PostDateTime"])


def test_for_all_values_negated_requires_no_request_value_listed() -> None:
    operator = parse_operator("ForAllValues:StringNotEquals")
    assert evaluate_key(operator, ("a", "b"), ["c"])
    assert not evaluate_key(operator, ("a", "c"), ["c"])


def test_single_valued_operator_on_multivalued_key_matches_any_value() -> None:
    assert evaluate_key(parse_operator("StringEquals"), ("x", "team"), ["team"])
    assert not evaluate_key(parse_operator("StringNotEquals"), ("x", "team"), ["team"])


# ---------------------------------------------------------------------------------------------------------------
# Condition blocks
# ---------------------------------------------------------------------------------------------------------------


def test_block_operators_and_keys_combine_as_and() -> None:
    context = normalize_context({"aws:SecureTransport": "true", "s3:prefix": "incoming/"})
    block = {"Bool": {"aws:SecureTransport": "true"}, "StringLike": {"s3:prefix": "incoming/*"}}
    assert evaluate_condition_block(block, context).matched
    failing = {**block, "StringEquals": {"s3:prefix": "incoming/", "aws:PrincipalAccount": "1"}}
    outcome = evaluate_condition_block(failing, context)
    assert not outcome.matched and not outcome.unsupported
    assert outcome.detail == "StringEquals on aws:PrincipalAccount is not met"


def test_block_key_lookup_ignores_key_case() -> None:
    context = normalize_context({"sts:ExternalId": "abc"})
    assert evaluate_condition_block({"StringEquals": {"STS:EXTERNALID": "abc"}}, context).matched


def test_empty_block_matches() -> None:
    assert evaluate_condition_block(None, {}).matched
    assert evaluate_condition_block({}, {}).matched


def test_unknown_operator_is_reported_unsupported() -> None:
    outcome = evaluate_condition_block({"StringEqualz": {"k": "v"}}, normalize_context({"k": "v"}))
    assert (outcome.matched, outcome.unsupported) == (False, True)
    assert "StringEqualz" in (outcome.detail or "")


def test_false_operator_wins_over_unknown_operator() -> None:
    # AND with a false operator is false whatever the unknown one says, so it is a plain non-match.
    block = {"StringEqualz": {"k": "v"}, "StringEquals": {"k": "other"}}
    outcome = evaluate_condition_block(block, normalize_context({"k": "v"}))
    assert (outcome.matched, outcome.unsupported) == (False, False)


def test_policy_bool_value_is_normalised() -> None:
    context = normalize_context({"aws:MultiFactorAuthPresent": "true"})
    assert evaluate_condition_block({"Bool": {"aws:MultiFactorAuthPresent": True}}, context).matched
    assert not evaluate_condition_block({"Bool": {"aws:MultiFactorAuthPresent": False}}, context).matched


# ---------------------------------------------------------------------------------------------------------------
# Policy variables
# ---------------------------------------------------------------------------------------------------------------


def test_variables_substitute_from_context() -> None:
    variables = normalize_context({"aws:username": "alice"})
    assert substitute_variables("home/${aws:username}/", variables) == "home/alice/"
    assert string_like("home/alice/x", "home/${aws:username}/*", variables)
    assert not string_like("home/bob/x", "home/${aws:username}/*", variables)


def test_variable_default_is_used_when_key_missing() -> None:
    assert substitute_variables("${aws:PrincipalTag/team, 'none'}", {}) == "none"


def test_variable_without_value_or_default_is_unresolved() -> None:
    with pytest.raises(UnresolvedVariable, match="aws:username"):
        substitute_variables("${aws:username}", {})


def test_variable_escapes_are_literal_characters() -> None:
    assert glob_match("a${*}b", "a*b", variables={})
    assert not glob_match("a${*}b", "axxb", variables={})
    assert glob_match("cost${$}", "cost$", variables={})


def test_substituted_value_is_not_a_wildcard() -> None:
    variables = normalize_context({"aws:username": "a*"})
    assert not glob_match("home/${aws:username}", "home/abc", variables=variables)
    assert glob_match("home/${aws:username}", "home/a*", variables=variables)


def test_variables_disabled_leave_text_literal() -> None:
    assert substitute_variables("${aws:username}", None) == "${aws:username}"


def test_variables_in_arn_like_do_not_split_on_the_key_colon() -> None:
    variables = normalize_context({"aws:PrincipalAccount": "222222222222"})
    assert arn_like("arn:aws:iam::222222222222:role/R", "arn:aws:iam::${aws:PrincipalAccount}:role/*", variables)


def test_variables_are_not_used_by_numeric_operators() -> None:
    variables = normalize_context({"limit": "10"})
    assert not evaluate_key(parse_operator("NumericEquals"), ("10",), ["${limit}"], variables)


# ---------------------------------------------------------------------------------------------------------------
# Action, resource and principal matching
# ---------------------------------------------------------------------------------------------------------------


def test_action_matching_is_case_insensitive_with_wildcards() -> None:
    assert action_matches(["s3:Get*", "S3:PUTOBJECT"], "s3:PutObject")
    assert not action_matches("s3:Get*", "s3:PutObject")


def test_resource_matching_is_case_sensitive_glob() -> None:
    assert resource_matches("arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y:z")
    assert not resource_matches("arn:aws:s3:::B/*", "arn:aws:s3:::b/x")
    assert resource_matches("*", "*")
    assert not resource_matches("arn:aws:s3:::*", "*")


USER = Caller("arn:aws:iam::222222222222:user/alice", "user", "222222222222", "arn:aws:iam::222222222222:user/alice")
SESSION = Caller(
    "arn:aws:sts::222222222222:assumed-role/Deployer/ci",
    "assumed-role",
    "222222222222",
    "arn:aws:iam::222222222222:role/ci/Deployer",
)
LAMBDA = Caller("lambda.amazonaws.com", "service", None, "lambda.amazonaws.com")


@pytest.mark.parametrize(
    ("principal", "caller", "expected"),
    [
        ("*", USER, PrincipalMatch.DIRECT),
        ("*", LAMBDA, PrincipalMatch.DIRECT),
        ({"AWS": "*"}, SESSION, PrincipalMatch.DIRECT),
        ({"AWS": "222222222222"}, USER, PrincipalMatch.ACCOUNT),
        ({"AWS": "arn:aws:iam::222222222222:root"}, SESSION, PrincipalMatch.ACCOUNT),
        ({"AWS": "arn:aws:iam::333333333333:root"}, USER, None),
        ({"AWS": "arn:aws:iam::222222222222:user/alice"}, USER, PrincipalMatch.DIRECT),
        ({"AWS": "arn:aws:iam::222222222222:user/*"}, USER, None),
        ({"AWS": "arn:aws:iam::222222222222:role/ci/Deployer"}, SESSION, PrincipalMatch.ROLE),
        ({"AWS": "arn:aws:iam::222222222222:role/Deployer"}, SESSION, None),  # the path is part of the role ARN
        ({"AWS": "arn:aws:sts::222222222222:assumed-role/Deployer/ci"}, SESSION, PrincipalMatch.DIRECT),
        ({"AWS": ["333333333333", "arn:aws:iam::222222222222:role/ci/Deployer", "222222222222"]}, SESSION,
         PrincipalMatch.ROLE),
        ({"Service": "lambda.amazonaws.com"}, LAMBDA, PrincipalMatch.DIRECT),
        ({"Service": ["ec2.amazonaws.com"]}, LAMBDA, None),
        ({"Service": "lambda.amazonaws.com"}, USER, None),
        ({"AWS": "222222222222"}, LAMBDA, None),
        ({"Federated": "cognito-identity.amazonaws.com"}, USER, None),
    ],
)
def test_match_principal(principal: object, caller: Caller, expected: PrincipalMatch | None) -> None:
    assert match_principal(principal, caller) == expected


def test_not_principal_for_deny_needs_the_whole_chain_listed() -> None:
    only_user = {"AWS": "arn:aws:iam::222222222222:user/alice"}
    with_account = {"AWS": ["arn:aws:iam::222222222222:user/alice", "arn:aws:iam::222222222222:root"]}
    assert not not_principal_excludes(only_user, USER, whole_chain=True)
    assert not_principal_excludes(with_account, USER, whole_chain=True)


def test_not_principal_for_allow_excludes_on_any_listed_link() -> None:
    assert not_principal_excludes({"AWS": "222222222222"}, SESSION, whole_chain=False)
    assert not not_principal_excludes({"AWS": "333333333333"}, SESSION, whole_chain=False)
