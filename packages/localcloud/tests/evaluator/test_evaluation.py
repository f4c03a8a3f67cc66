"""Specification of localcloud's IAM evaluator, one AWS rule per case.

Every case names the AWS documentation page its rule comes from (IAM User Guide unless it is an STS or S3 page), so a
failing case tells the reader where to check the rule. Accounts: PROD owns the bucket and the role, DEV is the
calling account, OTHER is a third account.
"""

from __future__ import annotations

import pytest

from localcloud.evaluator import EXPLICIT_DENY, AccessRequest, Caller, Decision, StatementRef, evaluate
from localcloud_testing.evaluation import (
    ACTION,
    APP_ROLE,
    ASSUME_ANY_PROD_ROLE,
    ASSUME_ROLE,
    BOUNDARIES,
    BUCKET,
    BUCKET_ALLOWS_DEV,
    CI_USERS_ONLY_TRUST,
    CONDITION_KEYS,
    CROSS_ACCOUNT,
    DENY_WITHOUT_MFA,
    DEV,
    DEV_ROLE,
    DISABLE_PERMISSIONS,
    EVAL_LOGIC,
    EXTERNAL_ID_TRUST,
    GET_CALLER_IDENTITY,
    MFA_REQUIRED_TRUST,
    MULTI_VALUE,
    NOT_ACTION,
    NOT_PRINCIPAL,
    NOT_RESOURCE,
    OPERATORS,
    OTHER,
    PREFIX_LISTING,
    PRINCIPAL,
    PROD,
    PUT_INCOMING,
    RESOURCE,
    REVOKE,
    REVOKE_BEFORE,
    ROLE,
    S3_ACTIONS,
    SECURE_TRANSPORT_DENY,
    SESSION_POLICIES,
    SET_OPERATORS,
    SWITCH_ROLE,
    TLS_ONLY_BUCKET,
    TRUST_DEV_ROOT,
    TRUST_PROD_ROOT,
    VARIABLES,
    Case,
    alice,
    allow,
    assert_follows_aws_rule,
    assume,
    deny,
    known_page,
    policy,
    root,
    s3,
    service,
    session,
    trust,
    user,
    user_arn,
    when,
)


CASES: list[Case] = [
    # --- Default deny and explicit deny -------------------------------------------------------------------------
    Case("default_deny_when_no_policy_applies", s3(user(), account=DEV), False, EVAL_LOGIC,
         "no identity-based policy allows s3:PutObject"),
    Case("same_account_identity_allow_is_enough", s3(alice(PUT_INCOMING)), True, EVAL_LOGIC),
    Case("identity_allow_for_another_resource_does_not_grant",
         s3(alice(policy(allow("s3:PutObject", "arn:aws:s3:::other-bucket/*")))), False, EVAL_LOGIC),
    Case("explicit_deny_in_identity_policy_beats_identity_allow",
         s3(alice(PUT_INCOMING, policy(deny("s3:*", "*", Sid="NoS3")))), False, EVAL_LOGIC,
         "explicit deny in identity-based policy (statement NoS3)"),
    Case("explicit_deny_in_bucket_policy_beats_identity_and_bucket_allows",
         s3(alice(PUT_INCOMING),
            bucket_policy=policy(allow("s3:*", f"{BUCKET}/*", Principal={"AWS": user_arn("alice", PROD)}),
                                 deny("s3:PutObject", f"{BUCKET}/*", Sid="Frozen", Principal="*"))),
         False, EVAL_LOGIC, "explicit deny in resource policy (statement Frozen)"),
    Case("explicit_deny_in_permissions_boundary_beats_identity_allow",
         s3(alice(PUT_INCOMING, boundary=policy(allow("*"), deny("s3:PutObject", "*")))),
         False, BOUNDARIES, "explicit deny in permissions boundary"),
    Case("explicit_deny_in_session_policy_beats_role_allow",
         s3(session(APP_ROLE, "s1", PUT_INCOMING,
                    session_policy=policy(allow("*"), deny("s3:PutObject")))),
         False, SESSION_POLICIES, "explicit deny in session policy"),
    Case("explicit_deny_in_trust_policy_beats_trust_allow",
         assume(user("alice", DEV, ASSUME_ANY_PROD_ROLE),
                policy(trust({"AWS": f"arn:aws:iam::{DEV}:root"}),
                       trust({"AWS": user_arn("alice")}, effect="Deny", Sid="NotAlice"))),
         False, EVAL_LOGIC, "explicit deny in role trust policy (statement NotAlice)"),
    Case("get_caller_identity_is_allowed_even_under_explicit_deny",
         AccessRequest(user("alice", DEV, policy(deny("*"))), "sts:GetCallerIdentity", "*", None),
         True, GET_CALLER_IDENTITY),
    # --- Permissions boundary and session policy only narrow ------------------------------------------------------
    Case("permissions_boundary_without_the_action_narrows_identity_allow",
         s3(alice(policy(allow("s3:*")), boundary=policy(allow("s3:GetObject")))),
         False, BOUNDARIES, "permissions boundary does not allow s3:PutObject"),
    Case("permissions_boundary_with_the_action_keeps_identity_allow",
         s3(alice(PUT_INCOMING, boundary=policy(allow("s3:*")))), True, BOUNDARIES),
    Case("permissions_boundary_alone_grants_nothing",
         s3(alice(boundary=policy(allow("s3:*")))), False, BOUNDARIES),
    Case("session_policy_without_the_action_narrows_role_permissions",
         s3(session(APP_ROLE, "s1", PUT_INCOMING, session_policy=policy(allow("s3:GetObject")))),
         False, SESSION_POLICIES, "session policy does not allow"),
    # --- Cross-account S3: both sides --------------------------------------------------------------------------
    Case("cross_account_write_denied_when_bucket_has_no_policy",
         s3(session(DEV_ROLE, "ci", PUT_INCOMING)), False, CROSS_ACCOUNT, "has no resource policy"),
    Case("cross_account_write_allowed_with_identity_allow_and_bucket_policy_naming_account",
         s3(session(DEV_ROLE, "ci", PUT_INCOMING), bucket_policy=BUCKET_ALLOWS_DEV), True, CROSS_ACCOUNT),
    Case("cross_account_write_denied_when_bucket_policy_allows_but_identity_does_not",
         s3(session(DEV_ROLE, "ci"), bucket_policy=BUCKET_ALLOWS_DEV), False, CROSS_ACCOUNT,
         "no identity-based policy allows"),
    Case("cross_account_write_denied_when_bucket_policy_names_another_account",
         s3(session(DEV_ROLE, "ci", PUT_INCOMING),
            bucket_policy=policy(allow("s3:PutObject", f"{BUCKET}/*", Principal={"AWS": OTHER}))),
         False, CROSS_ACCOUNT),
    Case("cross_account_bucket_policy_role_arn_matches_every_session_of_the_role",
         s3(session(DEV_ROLE, "nightly", PUT_INCOMING),
            bucket_policy=policy(allow("s3:PutObject", f"{BUCKET}/*", Principal={"AWS": DEV_ROLE}))),
         True, PRINCIPAL),
    Case("cross_account_bucket_policy_session_arn_does_not_match_another_session",
         s3(session(DEV_ROLE, "nightly", PUT_INCOMING),
            bucket_policy=policy(allow("s3:PutObject", f"{BUCKET}/*",
                                       Principal={"AWS": f"arn:aws:sts::{DEV}:assumed-role/Deployer/ci"}))),
         False, PRINCIPAL),
    Case("cross_account_principal_star_still_needs_identity_allow",
         s3(user("alice"), bucket_policy=policy(allow("s3:PutObject", f"{BUCKET}/*", Principal="*"))),
         False, CROSS_ACCOUNT),
    Case("cross_account_principal_star_with_identity_allow_is_allowed",
         s3(user("alice", DEV, PUT_INCOMING),
            bucket_policy=policy(allow("s3:PutObject", f"{BUCKET}/*", Principal={"AWS": "*"}))),
         True, PRINCIPAL),
    # --- Same-account resource policies --------------------------------------------------------------------------
    Case("same_account_bucket_policy_naming_user_grants_without_identity_allow",
         s3(alice(), bucket_policy=policy(allow("s3:PutObject", f"{BUCKET}/*",
                                                             Principal={"AWS": user_arn("alice", PROD)}))),
         True, EVAL_LOGIC),
    Case("same_account_bucket_policy_naming_account_root_needs_identity_allow",
         s3(alice(), bucket_policy=policy(allow("s3:PutObject", f"{BUCKET}/*",
                                                             Principal={"AWS": f"arn:aws:iam::{PROD}:root"}))),
         False, PRINCIPAL),
    Case("same_account_bucket_policy_naming_user_is_not_limited_by_boundary",
         s3(alice(boundary=policy(allow("s3:GetObject"))),
            bucket_policy=policy(allow("s3:PutObject", f"{BUCKET}/*", Principal={"AWS": user_arn("alice", PROD)}))),
         True, EVAL_LOGIC),
    Case("same_account_bucket_policy_naming_role_arn_is_limited_by_session_policy",
         s3(session(APP_ROLE, "s1", session_policy=policy(allow("s3:GetObject"))),
            bucket_policy=policy(allow("s3:PutObject", f"{BUCKET}/*", Principal={"AWS": APP_ROLE}))),
         False, EVAL_LOGIC, "session policy does not allow"),
    Case("same_account_bucket_policy_naming_session_arn_ignores_session_policy",
         s3(session(APP_ROLE, "s1", session_policy=policy(allow("s3:GetObject"))),
            bucket_policy=policy(allow("s3:PutObject", f"{BUCKET}/*",
                                       Principal={"AWS": f"arn:aws:sts::{PROD}:assumed-role/App/s1"}))),
         True, EVAL_LOGIC),
    # --- sts:AssumeRole and trust policies -----------------------------------------------------------------------
    Case("same_account_assume_denied_without_trust_policy_even_with_identity_allow",
         assume(alice(ASSUME_ANY_PROD_ROLE), None), False, EVAL_LOGIC, "has no role trust policy"),
    Case("same_account_assume_allowed_when_trust_names_user_without_identity_allow",
         assume(alice(), policy(trust({"AWS": user_arn("alice", PROD)}))), True, ASSUME_ROLE),
    Case("same_account_assume_with_trust_naming_account_needs_identity_allow",
         assume(alice(), TRUST_PROD_ROOT), False, ASSUME_ROLE),
    Case("same_account_assume_with_trust_naming_account_and_identity_allow_is_allowed",
         assume(alice(ASSUME_ANY_PROD_ROLE), TRUST_PROD_ROOT), True, ASSUME_ROLE),
    Case("cross_account_assume_allowed_when_trust_names_account_root_and_identity_allows",
         assume(user("alice", DEV, ASSUME_ANY_PROD_ROLE), TRUST_DEV_ROOT), True, ASSUME_ROLE),
    Case("cross_account_assume_denied_when_trust_names_account_root_but_identity_does_not_allow",
         assume(user("alice", DEV), TRUST_DEV_ROOT), False, ASSUME_ROLE),
    Case("cross_account_assume_needs_identity_allow_even_when_trust_names_user",
         assume(user("alice", DEV), policy(trust({"AWS": user_arn("alice")}))), False, ASSUME_ROLE),
    Case("cross_account_assume_denied_when_trust_names_another_account",
         assume(user("alice", DEV, ASSUME_ANY_PROD_ROLE), policy(trust({"AWS": f"arn:aws:iam::{OTHER}:root"}))),
         False, CROSS_ACCOUNT, f"role trust policy does not allow {user_arn('alice')}"),
    Case("trust_account_id_is_the_same_principal_as_its_root_arn",
         assume(user("alice", DEV, ASSUME_ANY_PROD_ROLE), policy(trust({"AWS": DEV}))), True, PRINCIPAL),
    Case("trust_role_arn_matches_a_session_of_that_role",
         assume(session(DEV_ROLE, "ci", ASSUME_ANY_PROD_ROLE), policy(trust({"AWS": DEV_ROLE}))), True, PRINCIPAL),
    Case("trust_session_arn_matches_that_session",
         assume(session(DEV_ROLE, "ci", ASSUME_ANY_PROD_ROLE),
                policy(trust({"AWS": f"arn:aws:sts::{DEV}:assumed-role/Deployer/ci"}))), True, PRINCIPAL),
    Case("trust_session_arn_does_not_match_another_session_of_the_role",
         assume(session(DEV_ROLE, "laptop", ASSUME_ANY_PROD_ROLE),
                policy(trust({"AWS": f"arn:aws:sts::{DEV}:assumed-role/Deployer/ci"}))), False, PRINCIPAL),
    Case("trust_principal_with_partial_wildcard_matches_nothing",
         assume(user("alice", DEV, ASSUME_ANY_PROD_ROLE), policy(trust({"AWS": f"arn:aws:iam::{DEV}:user/*"}))),
         False, PRINCIPAL),
    Case("trust_principal_star_lets_any_account_assume_with_identity_allow",
         assume(user("alice", OTHER, ASSUME_ANY_PROD_ROLE), policy(trust("*"))), True, PRINCIPAL),
    Case("service_principal_lambda_assumes_role_with_service_trust",
         assume(service("lambda.amazonaws.com"), policy(trust({"Service": "lambda.amazonaws.com"}))), True, PRINCIPAL),
    Case("service_principal_not_named_in_trust_is_denied",
         assume(service("ec2.amazonaws.com"), policy(trust({"Service": "lambda.amazonaws.com"}))), False, PRINCIPAL),
    Case("service_trust_does_not_let_users_assume",
         assume(alice(ASSUME_ANY_PROD_ROLE), policy(trust({"Service": "lambda.amazonaws.com"}))),
         False, PRINCIPAL),
    Case("root_user_cannot_assume_a_role",
         assume(root(DEV), TRUST_DEV_ROOT), False, SWITCH_ROLE, "root user cannot assume"),
    # --- Trust conditions: aws:PrincipalArn, sts:ExternalId, MFA ----------------------------------------------
    Case("trust_arnlike_principal_arn_admits_matching_user",
         assume(user("ci-bot", DEV, ASSUME_ANY_PROD_ROLE),
                CI_USERS_ONLY_TRUST),
         True, CONDITION_KEYS),
    Case("trust_arnlike_principal_arn_rejects_other_user",
         assume(user("alice", DEV, ASSUME_ANY_PROD_ROLE),
                CI_USERS_ONLY_TRUST),
         False, CONDITION_KEYS),
    Case("trust_arnequals_principal_arn_is_the_role_arn_for_a_session",
         assume(session(DEV_ROLE, "ci", ASSUME_ANY_PROD_ROLE),
                policy(trust({"AWS": DEV}, Condition={"ArnEquals": {"aws:PrincipalArn": DEV_ROLE}}))),
         True, CONDITION_KEYS),
    Case("trust_arnequals_principal_arn_does_not_match_the_session_arn",
         assume(session(DEV_ROLE, "ci", ASSUME_ANY_PROD_ROLE),
                policy(trust({"AWS": DEV}, Condition={
                    "ArnEquals": {"aws:PrincipalArn": f"arn:aws:sts::{DEV}:assumed-role/Deployer/ci"}}))),
         False, CONDITION_KEYS),
    Case("external_id_present_and_equal_allows_assume",
         assume(user("alice", DEV, ASSUME_ANY_PROD_ROLE), EXTERNAL_ID_TRUST,
                context={"sts:ExternalId": "prod-uploads-7f3a"}),
         True, ASSUME_ROLE),
    Case("external_id_missing_denies_assume",
         assume(user("alice", DEV, ASSUME_ANY_PROD_ROLE), EXTERNAL_ID_TRUST), False, OPERATORS),
    Case("external_id_wrong_denies_assume",
         assume(user("alice", DEV, ASSUME_ANY_PROD_ROLE), EXTERNAL_ID_TRUST, context={"sts:ExternalId": "guess"}),
         False, ASSUME_ROLE),
    Case("mfa_required_trust_allows_when_mfa_present_true",
         assume(user("alice", DEV, ASSUME_ANY_PROD_ROLE), MFA_REQUIRED_TRUST,
                context={"aws:MultiFactorAuthPresent": "true"}),
         True, CONDITION_KEYS),
    Case("mfa_required_trust_denies_when_mfa_present_false",
         assume(user("alice", DEV, ASSUME_ANY_PROD_ROLE), MFA_REQUIRED_TRUST,
                context={"aws:MultiFactorAuthPresent": "false"}),
         False, CONDITION_KEYS),
    Case("mfa_required_trust_denies_when_mfa_key_missing_as_with_long_term_keys",
         assume(user("alice", DEV, ASSUME_ANY_PROD_ROLE), MFA_REQUIRED_TRUST), False, CONDITION_KEYS),
    Case("bool_if_exists_false_deny_blocks_request_without_mfa",
         s3(alice(DENY_WITHOUT_MFA), context={"aws:MultiFactorAuthPresent": "false"}),
         False, OPERATORS, "statement DenyWithoutMfa"),
    Case("bool_if_exists_false_deny_blocks_long_term_keys_without_the_key",
         s3(alice(DENY_WITHOUT_MFA)), False, OPERATORS),
    Case("bool_if_exists_false_deny_lets_mfa_sessions_through",
         s3(alice(DENY_WITHOUT_MFA), context={"aws:MultiFactorAuthPresent": "true"}), True, OPERATORS),
    # --- Bucket conditions ---------------------------------------------------------------------------------------
    Case("bucket_policy_denies_request_without_secure_transport",
         s3(session(DEV_ROLE, "ci", PUT_INCOMING), bucket_policy=TLS_ONLY_BUCKET,
            context={"aws:SecureTransport": "false"}),
         False, OPERATORS, "explicit deny in resource policy (statement DenyInsecureTransport)"),
    Case("bucket_policy_secure_transport_deny_lets_tls_request_through",
         s3(session(DEV_ROLE, "ci", PUT_INCOMING), bucket_policy=TLS_ONLY_BUCKET,
            context={"aws:SecureTransport": "true"}),
         True, OPERATORS),
    Case("list_bucket_with_allowed_prefix_is_allowed",
         s3(alice(PREFIX_LISTING), "s3:ListBucket", BUCKET, context={"s3:prefix": "incoming/2026/"}),
         True, S3_ACTIONS),
    Case("list_bucket_with_other_prefix_is_denied",
         s3(alice(PREFIX_LISTING), "s3:ListBucket", BUCKET, context={"s3:prefix": "secret/"}),
         False, S3_ACTIONS),
    Case("list_bucket_without_prefix_key_is_denied_by_stringlike",
         s3(alice(PREFIX_LISTING), "s3:ListBucket", BUCKET), False, OPERATORS),
    Case("condition_key_names_are_case_insensitive",
         s3(alice(when({"Bool": {"AWS:SECURETRANSPORT": "true"}})),
            context={"aws:SecureTransport": "true"}),
         True, CONDITION_KEYS),
    Case("condition_values_are_case_sensitive_for_string_equals",
         s3(alice(when({"StringEquals": {"s3:prefix": "Incoming/"}}, "s3:ListBucket")),
            "s3:ListBucket", BUCKET, context={"s3:prefix": "incoming/"}),
         False, OPERATORS),
    Case("string_equals_ignore_case_ignores_value_case",
         s3(alice(when({"StringEqualsIgnoreCase": {"s3:prefix": "Incoming/"}}, "s3:ListBucket")),
            "s3:ListBucket", BUCKET, context={"s3:prefix": "incoming/"}),
         True, OPERATORS),
    # --- Revoking sessions with aws:TokenIssueTime -----------------------------------------------------------------
    Case("revoke_sessions_denies_session_issued_before_cutoff",
         s3(session(APP_ROLE, "old", PUT_INCOMING, REVOKE_BEFORE),
            context={"aws:TokenIssueTime": "2026-01-01T11:59:59Z"}),
         False, REVOKE, "statement RevokeOlderSessions"),
    Case("revoke_sessions_allows_session_issued_after_cutoff",
         s3(session(APP_ROLE, "new", PUT_INCOMING, REVOKE_BEFORE),
            context={"aws:TokenIssueTime": "2026-01-01T12:00:01.250Z"}),
         True, REVOKE),
    Case("revoke_sessions_does_not_touch_long_term_user_keys",
         s3(alice(PUT_INCOMING, REVOKE_BEFORE)), True, REVOKE),
    Case("revoke_sessions_spares_a_session_issued_at_the_cutoff_itself",
         s3(session(APP_ROLE, "edge", PUT_INCOMING, REVOKE_BEFORE),
            context={"aws:TokenIssueTime": "2026-01-01T12:00:00Z"}),
         True, OPERATORS),
    Case("revoke_sessions_denies_every_action_of_an_older_session",
         s3(session(APP_ROLE, "old", policy(allow("*")), REVOKE_BEFORE), "sqs:SendMessage",
            f"arn:aws:sqs:eu-west-1:{PROD}:queue", context={"aws:TokenIssueTime": "2026-01-01T08:00:00Z"}),
         False, REVOKE, "statement RevokeOlderSessions"),
    Case("revoke_sessions_deny_beats_a_bucket_policy_naming_the_session",
         s3(session(APP_ROLE, "old", REVOKE_BEFORE),
            bucket_policy=policy(allow("s3:PutObject", f"{BUCKET}/*",
                                       Principal={"AWS": f"arn:aws:sts::{PROD}:assumed-role/App/old"})),
            context={"aws:TokenIssueTime": "2026-01-01T08:00:00Z"}),
         False, EVAL_LOGIC, "explicit deny in identity-based policy (statement RevokeOlderSessions)"),
    Case("revoke_by_issue_time_on_a_user_denies_its_older_temporary_credentials",
         s3(alice(PUT_INCOMING, REVOKE_BEFORE), context={"aws:TokenIssueTime": "2025-12-31T23:00:00Z"}),
         False, DISABLE_PERMISSIONS, "statement RevokeOlderSessions"),
    # --- A Deny of everything ("Action": "*", "Resource": "*") beats every allow ------------------------------------
    Case("deny_everything_in_identity_policy_beats_identity_allow_and_bucket_policy_naming_the_user",
         s3(alice(PUT_INCOMING, policy(deny("*", "*", Sid="DenyAll"))),
            bucket_policy=policy(allow("s3:*", f"{BUCKET}/*", Principal={"AWS": user_arn("alice", PROD)}))),
         False, EVAL_LOGIC, "explicit deny in identity-based policy (statement DenyAll)"),
    Case("deny_everything_in_bucket_policy_beats_a_cross_account_grant_on_both_sides",
         s3(session(DEV_ROLE, "ci", PUT_INCOMING),
            bucket_policy=policy(*BUCKET_ALLOWS_DEV["Statement"], deny("*", "*", Sid="DenyAll", Principal="*"))),
         False, EVAL_LOGIC, "explicit deny in resource policy (statement DenyAll)"),
    Case("deny_everything_in_trust_policy_beats_a_trust_allow_naming_the_user",
         assume(alice(), policy(trust({"AWS": user_arn("alice", PROD)}),
                                trust("*", action="*", effect="Deny", Sid="DenyAll"))),
         False, EVAL_LOGIC, "explicit deny in role trust policy (statement DenyAll)"),
    Case("deny_everything_in_permissions_boundary_beats_an_allow_of_everything",
         s3(alice(policy(allow("*")), boundary=policy(allow("*"), deny("*", "*", Sid="DenyAll")))),
         False, EVAL_LOGIC, "explicit deny in permissions boundary"),
    # --- Action and resource matching -------------------------------------------------------------------------
    Case("action_names_are_case_insensitive",
         s3(alice(policy(allow("S3:putobject", f"{BUCKET}/*"))), "s3:PutObject"), True, ACTION),
    Case("request_action_case_does_not_matter_either",
         s3(alice(PUT_INCOMING), "S3:PUTOBJECT"), True, ACTION),
    Case("action_star_wildcard_matches_inside_the_name",
         s3(alice(policy(allow("s3:*Object", f"{BUCKET}/*")))), True, ACTION),
    Case("action_question_mark_matches_exactly_one_character",
         s3(alice(policy(allow("s3:?utObject", f"{BUCKET}/*")))), True, ACTION),
    Case("action_wildcard_does_not_cross_into_another_service",
         s3(alice(policy(allow("sqs:*", "*")))), False, ACTION),
    Case("resource_arns_are_case_sensitive",
         s3(alice(policy(allow("s3:PutObject", "arn:aws:s3:::Prod-Bucket/*")))), False, RESOURCE),
    Case("resource_star_spans_slashes",
         s3(alice(policy(allow("s3:PutObject", "arn:aws:s3:::prod-*")))), True, RESOURCE),
    Case("resource_question_mark_matches_one_character",
         s3(alice(policy(allow("s3:PutObject", f"{BUCKET}/incoming/dat?.csv")))), True, RESOURCE),
    Case("resource_question_mark_does_not_match_two_characters",
         s3(alice(policy(allow("s3:PutObject", f"{BUCKET}/incoming/da?.csv")))), False, RESOURCE),
    Case("not_action_allow_grants_everything_but_the_listed_actions",
         s3(alice(policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}))), True, NOT_ACTION),
    Case("not_action_deny_denies_everything_but_the_listed_actions",
         s3(alice(policy(allow("s3:*"), {"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"}))),
         False, NOT_ACTION),
    Case("not_action_deny_spares_the_listed_action",
         s3(alice(policy(allow("s3:*"), {"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"})),
            "s3:GetObject"),
         True, NOT_ACTION),
    Case("not_resource_allow_excludes_the_listed_resource",
         s3(alice(policy({"Effect": "Allow", "Action": "s3:*", "NotResource": f"{BUCKET}/*"}))),
         False, NOT_RESOURCE),
    Case("not_resource_allow_grants_other_resources",
         s3(alice(policy({"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*"}))),
         True, NOT_RESOURCE),
    Case("statement_may_be_a_single_object",
         s3(alice({"Statement": allow("s3:PutObject", f"{BUCKET}/*")})), True, EVAL_LOGIC),
    # --- Operators: Null, set qualifiers, negation, IfExists, Numeric, Date ------------------------------------
    Case("null_true_allows_long_term_keys_without_token_issue_time",
         s3(alice(when({"Null": {"aws:TokenIssueTime": "true"}}))),
         True, OPERATORS),
    Case("null_true_refuses_sessions_with_token_issue_time",
         s3(session(APP_ROLE, "s", when({"Null": {"aws:TokenIssueTime": True}})),
            context={"aws:TokenIssueTime": "2026-01-01T00:00:00Z"}),
         False, OPERATORS),
    Case("for_any_value_on_missing_key_does_not_grant",
         s3(alice(when({"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}}))),
         False, SET_OPERATORS),
    Case("for_all_values_on_missing_key_grants",
         s3(alice(when({"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}))),
         True, SET_OPERATORS),
    Case("for_all_values_denies_when_one_request_value_is_not_listed",
         s3(alice(when({"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}})),
            context={"aws:TagKeys": ["team", "owner"]}),
         False, SET_OPERATORS),
    Case("negated_operator_on_missing_key_is_true",
         s3(alice(when({"StringNotEquals": {"aws:PrincipalTag/team": "blocked"}}))),
         True, OPERATORS),
    Case("negated_operator_values_combine_as_nor",
         s3(alice(when({
             "StringNotEquals": {"aws:PrincipalTag/team": ["blocked", "quarantine"]}})),
            context={"aws:PrincipalTag/team": "quarantine"}),
         False, MULTI_VALUE),
    Case("if_exists_on_missing_key_is_true",
         s3(alice(when({
             "StringEqualsIfExists": {"s3:x-amz-acl": "bucket-owner-full-control"}}))),
         True, OPERATORS),
    Case("if_exists_on_present_key_still_compares",
         s3(alice(when({
             "StringEqualsIfExists": {"s3:x-amz-acl": "bucket-owner-full-control"}})),
            context={"s3:x-amz-acl": "public-read"}),
         False, OPERATORS),
    Case("numeric_less_than_equals_allows_small_max_keys",
         s3(alice(when({"NumericLessThanEquals": {"s3:max-keys": 10}}, "s3:ListBucket")),
            "s3:ListBucket", BUCKET, context={"s3:max-keys": "5"}),
         True, OPERATORS),
    Case("numeric_less_than_equals_refuses_large_max_keys",
         s3(alice(when({"NumericLessThanEquals": {"s3:max-keys": "10"}}, "s3:ListBucket")),
            "s3:ListBucket", BUCKET, context={"s3:max-keys": "50"}),
         False, OPERATORS),
    Case("date_less_than_on_current_time_allows_before_expiry",
         s3(alice(when({"DateLessThan": {"aws:CurrentTime": "2026-06-30T00:00:00Z"}})),
            context={"aws:CurrentTime": "2026-03-01T08:00:00Z"}),
         True, OPERATORS),
    Case("date_less_than_on_current_time_refuses_after_expiry",
         s3(alice(when({"DateLessThan": {"aws:CurrentTime": "2026-06-30T00:00:00Z"}})),
            context={"aws:CurrentTime": "2026-07-01T00:00:00Z"}),
         False, OPERATORS),
    Case("unknown_condition_operator_never_grants",
         s3(alice(when({"StringEqualz": {"s3:prefix": "x"}})),
            context={"s3:prefix": "x"}),
         False, OPERATORS, "not supported"),
    Case("unknown_condition_operator_in_deny_still_denies",
         s3(alice(PUT_INCOMING, policy(deny("s3:*", Condition={"StringEqualz": {"s3:prefix": "x"}})))),
         False, OPERATORS, "explicit deny"),
    # --- Root user ------------------------------------------------------------------------------------------------
    Case("root_user_is_allowed_in_its_own_account_without_policies", s3(root(PROD)), True, EVAL_LOGIC),
    Case("root_user_is_still_bound_by_explicit_deny_in_bucket_policy",
         s3(root(PROD), bucket_policy=policy(deny("s3:PutObject", f"{BUCKET}/*", Principal="*"))), False, EVAL_LOGIC),
    Case("root_user_of_another_account_needs_the_bucket_policy", s3(root(DEV)), False, CROSS_ACCOUNT),
    Case("root_user_of_another_account_named_by_bucket_policy_is_allowed",
         s3(root(DEV), bucket_policy=BUCKET_ALLOWS_DEV), True, CROSS_ACCOUNT),
    # --- NotPrincipal ---------------------------------------------------------------------------------------------
    Case("deny_not_principal_spares_user_listed_with_its_account",
         s3(alice(PUT_INCOMING), bucket_policy=policy(deny("s3:*", f"{BUCKET}/*", NotPrincipal={
             "AWS": [user_arn("alice", PROD), f"arn:aws:iam::{PROD}:root"]}))),
         True, NOT_PRINCIPAL),
    Case("deny_not_principal_denies_everyone_else",
         s3(user("bob", PROD, PUT_INCOMING), bucket_policy=policy(deny("s3:*", f"{BUCKET}/*", NotPrincipal={
             "AWS": [user_arn("alice", PROD), f"arn:aws:iam::{PROD}:root"]}))),
         False, NOT_PRINCIPAL),
    Case("deny_not_principal_with_only_the_role_arn_still_denies_its_sessions",
         s3(session(APP_ROLE, "s1", PUT_INCOMING), bucket_policy=policy(
             deny("s3:*", f"{BUCKET}/*", NotPrincipal={"AWS": APP_ROLE}))),
         False, NOT_PRINCIPAL),
    # --- Policy variables ---------------------------------------------------------------------------------------
    Case("policy_variable_username_grants_the_users_own_prefix",
         s3(alice(policy(allow("s3:PutObject", f"{BUCKET}/home/${{aws:username}}/*"))),
            resource=f"{BUCKET}/home/alice/notes.txt"),
         True, VARIABLES),
    Case("policy_variable_username_does_not_grant_another_users_prefix",
         s3(alice(policy(allow("s3:PutObject", f"{BUCKET}/home/${{aws:username}}/*"))),
            resource=f"{BUCKET}/home/bob/notes.txt"),
         False, VARIABLES),
    Case("policy_variable_without_value_makes_the_statement_not_apply",
         s3(session(APP_ROLE, "s1", policy(allow("s3:PutObject", f"{BUCKET}/home/${{aws:username}}/*"))),
            resource=f"{BUCKET}/home/s1/notes.txt"),
         False, VARIABLES, "aws:username"),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_evaluate_follows_aws_rule(case: Case) -> None:
    assert_follows_aws_rule(case)


def test_table_has_at_least_forty_cases_with_unique_ids() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids), f"duplicate ids: {sorted(i for i in ids if ids.count(i) > 1)}"


def test_every_case_cites_a_known_documentation_page() -> None:
    unknown = {case.id: case.page for case in CASES if not known_page(case.page)}
    assert not unknown, f"cases citing pages outside the list: {unknown}"


def test_table_covers_both_outcomes() -> None:
    outcomes = {case.allowed for case in CASES}
    assert outcomes == {True, False}


# ---------------------------------------------------------------------------------------------------------------
# Focused tests on the decision's shape and on the API contract
# ---------------------------------------------------------------------------------------------------------------


def test_explicit_deny_decision_names_policy_kind_and_sid() -> None:
    request = s3(session(DEV_ROLE, "ci", PUT_INCOMING), bucket_policy=policy(SECURE_TRANSPORT_DENY),
                 context={"aws:SecureTransport": False})
    decision = evaluate(request)
    assert decision == Decision(
        allowed=False,
        reason="explicit deny in resource policy (statement DenyInsecureTransport)",
        deciding_policy="resource policy",
        deciding_statement="DenyInsecureTransport",
        effect=EXPLICIT_DENY,
        determining=(StatementRef("resource policy", 0, "DenyInsecureTransport"),),
    )


def test_statement_without_sid_is_labelled_by_position() -> None:
    decision = evaluate(s3(alice(policy(allow("s3:GetObject"), deny("s3:PutObject")))))
    assert decision.deciding_statement == "#2"


def test_trust_denial_names_the_caller_arn() -> None:
    decision = evaluate(assume(user("bob", DEV, ASSUME_ANY_PROD_ROLE), TRUST_PROD_ROOT))
    assert decision.reason == f"role trust policy does not allow {user_arn('bob')} to sts:AssumeRole"


def test_cross_account_allow_reason_names_both_sides() -> None:
    decision = evaluate(s3(session(DEV_ROLE, "ci", PUT_INCOMING), bucket_policy=BUCKET_ALLOWS_DEV))
    assert decision.allowed
    assert "identity-based policy" in decision.reason and "resource policy" in decision.reason


def test_tag_session_is_authorized_by_the_trust_policy() -> None:
    trust_policy = policy(trust({"AWS": DEV}, action=["sts:AssumeRole"]))
    request = AccessRequest(user("alice", DEV, policy(allow("sts:*"))), "sts:TagSession", ROLE, PROD, {}, trust_policy)
    assert not evaluate(request).allowed  # the trust policy allows sts:AssumeRole only
    tagging = policy(trust({"AWS": DEV}, action=["sts:AssumeRole", "sts:TagSession"]))
    assert evaluate(AccessRequest(request.caller, "sts:TagSession", ROLE, PROD, {}, tagging)).allowed


def test_explicit_context_principal_arn_overrides_the_derived_one() -> None:
    condition = {"StringEquals": {"aws:PrincipalArn": "arn:aws:iam::222222222222:user/from-gate"}}
    caller = alice(policy(allow("s3:PutObject", Condition=condition)))
    assert not evaluate(s3(caller)).allowed
    assert evaluate(s3(caller, context={"aws:principalarn": "arn:aws:iam::222222222222:user/from-gate"})).allowed


def test_caller_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="Caller kind 'role' is invalid"):
        Caller("arn:aws:iam::111111111111:role/R", "role", PROD, "arn:aws:iam::111111111111:role/R")


def test_caller_outside_service_needs_an_account() -> None:
    with pytest.raises(ValueError, match="needs its 12-digit account"):
        Caller("arn:aws:iam::111111111111:user/a", "user", None, "arn:aws:iam::111111111111:user/a")


def test_dataclasses_are_frozen() -> None:
    decision = evaluate(s3(root(PROD)))
    with pytest.raises(AttributeError):
        decision.allowed = False  # pyrefly: ignore[read-only] - the assignment this test proves is refused
