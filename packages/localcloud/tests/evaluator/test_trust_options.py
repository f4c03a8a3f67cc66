"""Evaluator cases for the keys a role's trust options use, one AWS rule per case, each naming its page.

Session tags (sts:TagSession, aws:TagKeys, aws:RequestTag/KEY, sts:TransitiveTagKeys), source identity
(sts:SetSourceIdentity, sts:SourceIdentity, aws:SourceIdentity), the organization keys (aws:PrincipalOrgID,
aws:PrincipalOrgPaths), confused-deputy keys of service principals (aws:SourceAccount, aws:SourceArn) and Lambda's
lambda:SourceFunctionArn. The keys are given in the request context here, as the gate builds it; whether the gate
puts them there is tested in tests/gate/. Pages are the IAM User Guide's unless said otherwise; a ``#section``
names the part of the page. Accounts: PROD owns the role and the bucket, DEV calls, as in test_evaluation.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from localcloud.evaluator import AccessRequest, Caller, evaluate
from localcloud_testing.evaluation import (
    BUCKET,
    CONDITION_KEYS,
    CONFUSED_DEPUTY,
    DEV,
    DEV_ROLE,
    OPERATORS,
    PROD,
    ROLE,
    SESSION_TAGS,
    SET_OPERATORS,
    SINGLE_VS_MULTI,
    SOURCE_FUNCTION_ARN,
    SOURCE_IDENTITY,
    VARIABLES,
    Case,
    allow,
    assert_follows_aws_rule,
    assert_table_is_well_formed,
    deny,
    policy,
    s3,
    service,
    session,
    trust,
    user,
)

TAG_KEYS = f"{CONDITION_KEYS}#condition-keys-tagkeys"
REQUEST_TAG = f"{CONDITION_KEYS}#condition-keys-requesttag"
CHAINING = f"{SESSION_TAGS}#id_session-tags_role-chaining"
SOURCE_IDENTITY_KEY = f"{CONDITION_KEYS}#condition-keys-sourceidentity"
SOURCE_IDENTITY_CHAIN = f"{SOURCE_IDENTITY}#id_credentials_temp_control-access_monitor-chain"
NO_VALUE_VARIABLE = f"{VARIABLES}#policy-vars-no-value"
ORG_ID = f"{CONDITION_KEYS}#condition-keys-principalorgid"
ORG_PATHS = f"{CONDITION_KEYS}#condition-keys-principalorgpaths"
SOURCE_ACCOUNT = f"{CONDITION_KEYS}#condition-keys-sourceaccount"
SOURCE_ARN = f"{CONDITION_KEYS}#condition-keys-sourcearn"
SERVICE_ROLES = f"{CONFUSED_DEPUTY}#cross-service-confused-deputy-prevention-sts"

# A DEV user whose own policy allows what the trust policies below decide (cross-account: both sides must allow).
ALICE = user("alice", DEV, policy(allow(["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
                                        f"arn:aws:iam::{PROD}:role/*")))
BOB = user("bob", DEV, *ALICE.identity_policies)


def sts(action: str, trust_policy: Mapping[str, Any], context: Mapping[str, Any] | None = None,
        caller: Caller = ALICE) -> AccessRequest:
    """``action`` (sts:AssumeRole or an action authorized with it) on ROLE, decided by ``trust_policy``."""
    return AccessRequest(caller, action, ROLE, PROD, dict(context or {}), trust_policy)


def tags(*pairs: tuple[str, str], transitive: list[str] | None = None) -> dict[str, Any]:
    """The context of an AssumeRole passing session tags: aws:RequestTag/KEY, aws:TagKeys, sts:TransitiveTagKeys."""
    context: dict[str, Any] = {f"aws:RequestTag/{key}": value for key, value in pairs}
    context["aws:TagKeys"] = [key for key, _ in pairs]
    if transitive is not None:
        context["sts:TransitiveTagKeys"] = transitive
    return context


# --- Session tags (id_session-tags.html, "Permissions required to add session tags") ----------------------------
TAG_KEYS_TRUST = policy(trust({"AWS": DEV}, action=["sts:AssumeRole", "sts:TagSession"],
                              Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["Project", "CostCenter"]}}))
ANY_PROJECT_TAG_TRUST = policy(trust({"AWS": DEV}, action=["sts:AssumeRole", "sts:TagSession"],
                                     Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["Project"]}}))
DEPARTMENT_TRUST = policy(
    trust({"AWS": DEV}),
    trust({"AWS": DEV}, action="sts:TagSession",
          Condition={"StringEquals": {"aws:RequestTag/Department": ["Engineering", "Marketing"]}}),
)
SET_OPERATOR_ON_REQUEST_TAG_TRUST = policy(
    trust({"AWS": DEV}, action=["sts:AssumeRole", "sts:TagSession"],
          Condition={"ForAllValues:StringEquals": {"aws:RequestTag/Department": ["Engineering"]}}))
# The page's third condition block, plus the Null block it suggests to require at least one transitive tag.
TRANSITIVE_TRUST = policy(trust({"AWS": DEV}, action=["sts:AssumeRole", "sts:TagSession"], Condition={
    "ForAllValues:StringEquals": {"sts:TransitiveTagKeys": ["Project", "Department"]},
    "Null": {"sts:TransitiveTagKeys": "false"},
}))
# Role2 of a chain trusts Role1's sessions carrying the transitive Project tag.
CHAINED_TRUST = policy(trust({"AWS": DEV_ROLE}, Condition={"StringEquals": {"aws:PrincipalTag/Project": "Automation"}}))
CHAINED_CALLER = session(DEV_ROLE, "Session1", policy(allow("sts:AssumeRole", ROLE)))

# --- Source identity (id_credentials_temp_control-access_monitor.html) ---------------------------------------------
SOURCE_IDENTITY_ACTIONS = ["sts:AssumeRole", "sts:SetSourceIdentity"]
REQUIRE_SOURCE_IDENTITY_TRUST = policy(trust({"AWS": DEV}, action=SOURCE_IDENTITY_ACTIONS,
                                             Condition={"Null": {"sts:SourceIdentity": "false"}}))
OWN_NAME_TRUST = policy(trust({"AWS": DEV}, action=SOURCE_IDENTITY_ACTIONS,
                              Condition={"StringEquals": {"sts:SourceIdentity": "${aws:username}"}}))
ALICE_ONLY_TRUST = policy(trust({"AWS": DEV_ROLE}, action=SOURCE_IDENTITY_ACTIONS,
                                Condition={"StringEquals": {"sts:SourceIdentity": "alice"}}))
CHAINED_SOURCE_CALLER = session(DEV_ROLE, "alice-session", policy(allow(SOURCE_IDENTITY_ACTIONS, ROLE)))
SOURCE_IDENTITY_ALICE = policy(allow("s3:PutObject", f"{BUCKET}/*",
                                     Condition={"StringEquals": {"aws:SourceIdentity": "alice"}}))

# --- Organizations (reference_policies_condition-keys.html) -----------------------------------------------------
ORG = "o-a1b2c3d4e5"
OU_PATH = f"{ORG}/r-ab12/ou-ab12-11111111/ou-ab12-22222222/"
PUT_ANYWHERE = policy(allow("s3:PutObject", f"{BUCKET}/*"))
ORG_BUCKET = policy(allow("s3:PutObject", f"{BUCKET}/*", Sid="AllowPutObject", Principal="*",
                          Condition={"StringEquals": {"aws:PrincipalOrgID": ORG}}))
ORG_TRUST = policy(trust("*", Condition={"StringEquals": {"aws:PrincipalOrgID": ORG}}))


def org_paths_bucket(*paths: str) -> dict[str, Any]:
    return policy(allow("s3:PutObject", f"{BUCKET}/*", Principal="*",
                        Condition={"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": list(paths)}}))


def org_caller(**context: Any) -> AccessRequest:
    """A DEV role session allowed by its own policy to put into PROD's bucket, which ORG_BUCKET decides."""
    return s3(session(DEV_ROLE, "ci", PUT_ANYWHERE), bucket_policy=ORG_BUCKET, context=context)


def org_paths(paths: list[str] | None, *patterns: str) -> AccessRequest:
    context = {"aws:PrincipalOrgPaths": paths} if paths is not None else {}
    return s3(session(DEV_ROLE, "ci", PUT_ANYWHERE), bucket_policy=org_paths_bucket(*patterns), context=context)


# --- Service principals: confused deputy (confused-deputy.html, reference_policies_condition-keys.html) ----------
LAMBDA_FROM_PROD_TRUST = policy(trust({"Service": "lambda.amazonaws.com"},
                                      Condition={"StringEquals": {"aws:SourceAccount": PROD}}))
# confused-deputy.html: the Incident Manager example, in PROD.
INCIDENT_TRUST = policy(trust({"Service": "ssm-incidents.amazonaws.com"}, Condition={
    "ArnLike": {"aws:SourceArn": f"arn:aws:ssm-incidents:*:{PROD}:incident-record/myresponseplan/*"}}))
TOPIC = f"arn:aws:sns:eu-west-1:{PROD}:uploads"
# reference_policies_condition-keys.html: S3 publishing to SNS; a bucket ARN holds no account, so both keys.
TOPIC_POLICY = policy(allow("sns:Publish", TOPIC, Principal={"Service": "s3.amazonaws.com"}, Condition={
    "ArnLike": {"aws:SourceArn": BUCKET}, "StringEquals": {"aws:SourceAccount": PROD}}))


def as_service(name: str, trust_policy: Mapping[str, Any], **context: Any) -> AccessRequest:
    return AccessRequest(service(name), "sts:AssumeRole", ROLE, PROD, context, trust_policy)


def publish(**context: Any) -> AccessRequest:
    return AccessRequest(service("s3.amazonaws.com"), "sns:Publish", TOPIC, PROD, context, TOPIC_POLICY)


# --- lambda:SourceFunctionArn (Lambda Developer Guide, permissions-source-function-arn.html) ----------------------
EXECUTION_ROLE = f"arn:aws:iam::{PROD}:role/fn-exec"
SOURCE_LAMBDA = f"arn:aws:lambda:us-east-1:{PROD}:function:source_lambda"
OTHER_LAMBDA = f"arn:aws:lambda:us-east-1:{PROD}:function:other_lambda"
# The page's "Example policy granting a specific Lambda function access to an Amazon S3 resource".
SOURCE_FUNCTION_POLICY = policy(allow("s3:PutObject", f"{BUCKET}/*", Sid="ExampleSourceFunctionArn",
                                      Condition={"ArnEquals": {"lambda:SourceFunctionArn": SOURCE_LAMBDA}}))
# The page's SCP "denying access to Amazon S3 under specific conditions", as an identity policy of the role.
SOURCE_FUNCTION_DENY = policy(allow("s3:*", f"{BUCKET}/*"), deny("s3:*", f"{BUCKET}/*", Condition={
    "StringNotEqualsIfExists": {"aws:SourceVpc": ["vpc-12345678"]},
    "ArnNotEqualsIfExists": {"lambda:SourceFunctionArn": SOURCE_LAMBDA}}))
BUCKET_PINNING_FUNCTION = policy(allow("s3:PutObject", f"{BUCKET}/*", Principal={"AWS": EXECUTION_ROLE},
                                       Condition={"ArnEquals": {"lambda:SourceFunctionArn": SOURCE_LAMBDA}}))


def from_function(identity: Mapping[str, Any] | None, function: str | None,
                  bucket_policy: Mapping[str, Any] | None = None, **context: Any) -> AccessRequest:
    """A request of an execution-role session; ``function`` None: made outside the execution environment."""
    caller = session(EXECUTION_ROLE, "source_lambda", *([identity] if identity else []))
    if function:
        context["lambda:SourceFunctionArn"] = function
    return s3(caller, bucket_policy=bucket_policy, context=context)


CASES: list[Case] = [
    # --- aws:TagKeys with ForAllValues on sts:AssumeRole and sts:TagSession --------------------------------------
    Case("tag_keys_for_all_values_passes_an_assume_role_without_tags",
         sts("sts:AssumeRole", TAG_KEYS_TRUST), True, SINGLE_VS_MULTI),
    Case("tag_keys_for_all_values_passes_assume_role_with_the_listed_keys",
         sts("sts:AssumeRole", TAG_KEYS_TRUST, tags(("Project", "A"), ("CostCenter", "1"))), True, TAG_KEYS),
    Case("tag_keys_for_all_values_passes_tag_session_with_the_listed_keys",
         sts("sts:TagSession", TAG_KEYS_TRUST, tags(("Project", "A"), ("CostCenter", "1"))), True, TAG_KEYS),
    Case("tag_keys_for_all_values_passes_tag_session_with_a_subset_of_the_keys",
         sts("sts:TagSession", TAG_KEYS_TRUST, tags(("Project", "A"))), True, SET_OPERATORS),
    Case("tag_keys_for_all_values_denies_assume_role_with_an_unlisted_key",
         sts("sts:AssumeRole", TAG_KEYS_TRUST, tags(("Project", "A"), ("Owner", "me"))), False, SESSION_TAGS,
         "role trust policy does not allow"),
    Case("tag_keys_for_all_values_denies_tag_session_with_an_unlisted_key",
         sts("sts:TagSession", TAG_KEYS_TRUST, tags(("Project", "A"), ("Owner", "me"))), False, SESSION_TAGS),
    Case("tag_keys_for_any_value_denies_an_assume_role_without_tags",
         sts("sts:AssumeRole", ANY_PROJECT_TAG_TRUST), False, SINGLE_VS_MULTI),
    Case("tag_keys_for_any_value_passes_with_one_listed_key_among_others",
         sts("sts:TagSession", ANY_PROJECT_TAG_TRUST, tags(("Owner", "me"), ("Project", "A"))), True,
         SINGLE_VS_MULTI),
    # --- aws:RequestTag/KEY -------------------------------------------------------------------------------------
    Case("request_tag_with_a_listed_value_allows_tag_session",
         sts("sts:TagSession", DEPARTMENT_TRUST, tags(("Department", "Engineering"))), True, SESSION_TAGS),
    Case("request_tag_with_another_value_denies_tag_session",
         sts("sts:TagSession", DEPARTMENT_TRUST, tags(("Department", "Sales"))), False, SESSION_TAGS),
    Case("request_tag_missing_makes_string_equals_false",
         sts("sts:TagSession", DEPARTMENT_TRUST, tags(("Project", "A"))), False, OPERATORS),
    Case("request_tag_key_name_matches_regardless_of_case",
         sts("sts:TagSession", DEPARTMENT_TRUST, {"aws:RequestTag/department": "Marketing",
                                                  "aws:TagKeys": ["department"]}), True, REQUEST_TAG),
    Case("request_tag_decides_tag_session_not_assume_role",
         sts("sts:AssumeRole", DEPARTMENT_TRUST, tags(("Department", "Sales"))), True, SESSION_TAGS),
    Case("set_operator_on_single_valued_request_tag_passes_when_the_tag_is_missing",
         sts("sts:TagSession", SET_OPERATOR_ON_REQUEST_TAG_TRUST, tags(("Project", "A"))), True, SINGLE_VS_MULTI),
    # --- sts:TransitiveTagKeys and chaining ---------------------------------------------------------------------
    Case("transitive_keys_within_the_list_are_allowed",
         sts("sts:TagSession", TRANSITIVE_TRUST, tags(("Project", "A"), ("Department", "E"), transitive=["Project"])),
         True, SESSION_TAGS),
    Case("transitive_key_outside_the_list_is_denied",
         sts("sts:TagSession", TRANSITIVE_TRUST, tags(("Project", "A"), ("CostCenter", "1"),
                                                      transitive=["CostCenter"])), False, SESSION_TAGS),
    Case("null_false_on_transitive_keys_requires_at_least_one",
         sts("sts:TagSession", TRANSITIVE_TRUST, tags(("Project", "A"))), False, SESSION_TAGS),
    Case("chained_trust_admits_a_session_carrying_the_transitive_tag",
         sts("sts:AssumeRole", CHAINED_TRUST, {"aws:PrincipalTag/Project": "Automation"}, CHAINED_CALLER),
         True, CHAINING),
    Case("chained_trust_refuses_a_session_without_the_transitive_tag",
         sts("sts:AssumeRole", CHAINED_TRUST, {}, CHAINED_CALLER), False, CHAINING),
    # --- sts:SourceIdentity in the AssumeRole request -------------------------------------------------------------
    Case("trust_requiring_a_source_identity_refuses_assume_role_without_one",
         sts("sts:AssumeRole", REQUIRE_SOURCE_IDENTITY_TRUST), False, SOURCE_IDENTITY),
    Case("trust_requiring_a_source_identity_admits_assume_role_with_one",
         sts("sts:AssumeRole", REQUIRE_SOURCE_IDENTITY_TRUST, {"sts:SourceIdentity": "alice"}), True,
         SOURCE_IDENTITY),
    Case("trust_requiring_a_source_identity_allows_setting_it",
         sts("sts:SetSourceIdentity", REQUIRE_SOURCE_IDENTITY_TRUST, {"sts:SourceIdentity": "alice"}), True,
         SOURCE_IDENTITY),
    Case("trust_source_identity_username_variable_admits_the_users_own_name",
         sts("sts:SetSourceIdentity", OWN_NAME_TRUST, {"sts:SourceIdentity": "alice"}), True, VARIABLES),
    Case("trust_source_identity_username_variable_refuses_another_name",
         sts("sts:SetSourceIdentity", OWN_NAME_TRUST, {"sts:SourceIdentity": "alice"}, BOB), False, VARIABLES),
    Case("trust_source_identity_username_variable_refuses_assume_role_of_the_same_statement",
         sts("sts:AssumeRole", OWN_NAME_TRUST, {"sts:SourceIdentity": "bob"}), False, SOURCE_IDENTITY),
    Case("trust_source_identity_username_variable_without_a_username_does_not_apply",
         sts("sts:SetSourceIdentity", OWN_NAME_TRUST, {"sts:SourceIdentity": "ci"},
             session(DEV_ROLE, "ci", *ALICE.identity_policies)), False, NO_VALUE_VARIABLE, "aws:username"),
    Case("chained_assume_role_sees_the_calling_sessions_source_identity_as_sts_source_identity",
         sts("sts:SetSourceIdentity", ALICE_ONLY_TRUST, {"aws:SourceIdentity": "alice", "sts:SourceIdentity": "alice"},
             CHAINED_SOURCE_CALLER), True, SOURCE_IDENTITY_CHAIN),
    Case("chained_assume_role_with_another_sessions_source_identity_is_refused",
         sts("sts:AssumeRole", ALICE_ONLY_TRUST, {"aws:SourceIdentity": "bob", "sts:SourceIdentity": "bob"},
             CHAINED_SOURCE_CALLER), False, SOURCE_IDENTITY_CHAIN),
    # --- aws:SourceIdentity on the session's later requests -----------------------------------------------------
    Case("source_identity_of_the_session_decides_a_later_request",
         s3(session(ROLE, "s", SOURCE_IDENTITY_ALICE), context={"aws:SourceIdentity": "alice"}), True,
         SOURCE_IDENTITY_KEY),
    Case("another_source_identity_is_denied",
         s3(session(ROLE, "s", SOURCE_IDENTITY_ALICE), context={"aws:SourceIdentity": "bob"}), False,
         SOURCE_IDENTITY_KEY),
    Case("a_session_without_source_identity_is_denied",
         s3(session(ROLE, "s", SOURCE_IDENTITY_ALICE)), False, SOURCE_IDENTITY_KEY),
    # --- aws:PrincipalOrgID and aws:PrincipalOrgPaths -----------------------------------------------------------
    Case("principal_org_id_of_the_organization_admits_another_accounts_principal",
         org_caller(**{"aws:PrincipalOrgID": ORG}), True, ORG_ID),
    Case("principal_org_id_of_another_organization_is_denied",
         org_caller(**{"aws:PrincipalOrgID": "o-zzzzzzzzzz"}), False, ORG_ID),
    Case("principal_org_id_missing_outside_an_organization_is_denied",
         org_caller(), False, ORG_ID),
    Case("principal_org_id_in_a_trust_with_principal_star_admits_the_organization",
         sts("sts:AssumeRole", ORG_TRUST, {"aws:PrincipalOrgID": ORG}), True, ORG_ID),
    Case("principal_org_id_in_a_trust_with_principal_star_refuses_outsiders",
         sts("sts:AssumeRole", ORG_TRUST), False, ORG_ID),
    Case("principal_org_paths_matches_an_account_directly_in_the_ou",
         org_paths([OU_PATH], f"{OU_PATH}*"), True, ORG_PATHS),
    Case("principal_org_paths_matches_an_account_in_a_child_ou",
         org_paths([f"{OU_PATH}ou-ab12-33333333/"], f"{OU_PATH}*"), True, ORG_PATHS),
    Case("principal_org_paths_children_only_pattern_skips_the_ou_itself",
         org_paths([OU_PATH], f"{OU_PATH}ou-*"), False, ORG_PATHS),
    Case("principal_org_paths_of_a_sibling_ou_is_denied",
         org_paths([f"{ORG}/r-ab12/ou-ab12-11111111/ou-ab12-44444444/"], f"{OU_PATH}*"), False, ORG_PATHS),
    Case("principal_org_paths_for_any_value_matches_one_of_several_values",
         org_paths([f"{ORG}/r-ab12/ou-ab12-55555555/", OU_PATH], f"{OU_PATH}*"), True, SINGLE_VS_MULTI),
    Case("principal_org_paths_missing_makes_for_any_value_false",
         org_paths(None, f"{ORG}/*"), False, SINGLE_VS_MULTI),
    # --- aws:SourceAccount / aws:SourceArn for service principals -------------------------------------------------
    Case("service_trust_pinning_source_account_admits_that_account",
         as_service("lambda.amazonaws.com", LAMBDA_FROM_PROD_TRUST, **{"aws:SourceAccount": PROD}), True,
         SERVICE_ROLES),
    Case("service_trust_pinning_source_account_refuses_another_account",
         as_service("lambda.amazonaws.com", LAMBDA_FROM_PROD_TRUST, **{"aws:SourceAccount": DEV}), False,
         SOURCE_ACCOUNT),
    Case("service_trust_pinning_source_account_refuses_a_request_without_it",
         as_service("lambda.amazonaws.com", LAMBDA_FROM_PROD_TRUST), False, SOURCE_ACCOUNT),
    Case("service_trust_source_arn_like_admits_the_documented_incident_record",
         as_service("ssm-incidents.amazonaws.com", INCIDENT_TRUST, **{
             "aws:SourceArn": f"arn:aws:ssm-incidents:eu-west-1:{PROD}:incident-record/myresponseplan/6ac1"}),
         True, SERVICE_ROLES),
    Case("service_trust_source_arn_like_refuses_another_response_plan",
         as_service("ssm-incidents.amazonaws.com", INCIDENT_TRUST, **{
             "aws:SourceArn": f"arn:aws:ssm-incidents:eu-west-1:{PROD}:incident-record/other/6ac1"}),
         False, SOURCE_ARN),
    Case("service_trust_source_arn_refuses_a_request_without_it",
         as_service("ssm-incidents.amazonaws.com", INCIDENT_TRUST), False, SOURCE_ARN),
    Case("resource_policy_with_both_keys_admits_the_owners_bucket",
         publish(**{"aws:SourceArn": BUCKET, "aws:SourceAccount": PROD}), True, CONFUSED_DEPUTY),
    Case("resource_policy_with_both_keys_refuses_the_same_bucket_name_of_another_account",
         publish(**{"aws:SourceArn": BUCKET, "aws:SourceAccount": DEV}), False, CONFUSED_DEPUTY),
    # --- lambda:SourceFunctionArn --------------------------------------------------------------------------------
    Case("source_function_arn_in_an_identity_policy_admits_that_function",
         from_function(SOURCE_FUNCTION_POLICY, SOURCE_LAMBDA), True, SOURCE_FUNCTION_ARN),
    Case("source_function_arn_in_an_identity_policy_refuses_another_function_of_the_role",
         from_function(SOURCE_FUNCTION_POLICY, OTHER_LAMBDA), False, SOURCE_FUNCTION_ARN),
    Case("source_function_arn_in_an_identity_policy_refuses_the_role_outside_lambda",
         from_function(SOURCE_FUNCTION_POLICY, None), False, SOURCE_FUNCTION_ARN),
    Case("source_function_arn_if_exists_deny_stops_another_function",
         from_function(SOURCE_FUNCTION_DENY, OTHER_LAMBDA), False, SOURCE_FUNCTION_ARN, "explicit deny"),
    Case("source_function_arn_if_exists_deny_spares_the_function",
         from_function(SOURCE_FUNCTION_DENY, SOURCE_LAMBDA), True, SOURCE_FUNCTION_ARN),
    Case("source_function_arn_if_exists_deny_spares_requests_from_the_vpc",
         from_function(SOURCE_FUNCTION_DENY, None, **{"aws:SourceVpc": "vpc-12345678"}), True, SOURCE_FUNCTION_ARN),
    Case("source_function_arn_if_exists_deny_stops_requests_with_neither_key",
         from_function(SOURCE_FUNCTION_DENY, None), False, OPERATORS, "explicit deny"),
    Case("source_function_arn_cannot_be_used_in_a_resource_based_policy",
         from_function(None, SOURCE_LAMBDA, BUCKET_PINNING_FUNCTION), False, SOURCE_FUNCTION_ARN),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_evaluate_follows_aws_rule(case: Case) -> None:
    assert_follows_aws_rule(case)


def test_case_ids_are_unique_and_pages_known() -> None:
    assert_table_is_well_formed(CASES)


def test_the_resource_based_policy_grants_once_the_condition_is_gone() -> None:
    """The control of source_function_arn_cannot_be_used_in_a_resource_based_policy: the same bucket policy without
    its condition grants the execution role's session in the same account (reference_policies_evaluation-logic
    .html), so the condition on lambda:SourceFunctionArn is what fails there."""
    statement = dict(BUCKET_PINNING_FUNCTION["Statement"][0])
    del statement["Condition"]
    assert evaluate(from_function(None, SOURCE_LAMBDA, policy(statement))).allowed
