"""Evaluator cases for KMS key policies, one AWS rule per case, each naming its page.

A request on a KMS key is an ``AccessRequest`` with ``key_policy=True``: ``resource_policy`` is the key's one key
policy. Pages are the KMS Developer Guide's (key-policies.html, key-policy-default.html,
key-policy-modifying-external-accounts.html, iam-policies.html, conditions-kms.html) and the S3 User Guide's
(UsingKMSEncryption.html, bucket-key.html), with a ``#section`` where it helps. The context keys S3 passes when it
calls KMS for a caller (kms:ViaService, kms:CallerAccount, kms:EncryptionContext:aws:s3:arn) are given here as the
gate builds them; whether the gate builds them is tested in tests/gate/test_s3_kms.py. Accounts: PROD owns the key,
DEV calls from another account, as in test_evaluation.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from localcloud.evaluator import KEY, AccessRequest, Caller, evaluate
from localcloud_testing.evaluation import (
    DEV,
    EVAL_LOGIC,
    KEY_POLICIES,
    KEY_POLICY_DEFAULT,
    KEY_POLICY_EXTERNAL,
    KMS_CONDITIONS,
    KMS_IAM_POLICIES,
    PROD,
    S3_BUCKET_KEYS,
    S3_SSE_KMS,
    Case,
    allow,
    assert_follows_aws_rule,
    assert_table_is_well_formed,
    deny,
    policy,
    root,
    session,
    user,
)

REGION = "eu-west-1"
KEY_ARN = f"arn:aws:kms:{REGION}:{PROD}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
APP_ROLE = f"arn:aws:iam::{PROD}:role/App"
DEV_ROLE = f"arn:aws:iam::{DEV}:role/ci/Deployer"
OBJECT_ARN = "arn:aws:s3:::prod-bucket/incoming/data.csv"
BUCKET_ARN = "arn:aws:s3:::prod-bucket"
VIA_S3 = f"s3.{REGION}.amazonaws.com"

DEFAULT_KEY_POLICY_PAGE = f"{KEY_POLICY_DEFAULT}#key-policy-default-allow-root-enable-iam"
CRYPTO_USERS_PAGE = f"{KEY_POLICIES}#key-policy-users-crypto"
VIA_SERVICE_PAGE = f"{KMS_CONDITIONS}#conditions-kms-via-service"
CALLER_ACCOUNT_PAGE = f"{KMS_CONDITIONS}#conditions-kms-caller-account"
CONTEXT_PAGE = f"{KMS_CONDITIONS}#conditions-kms-encryption-context"
CONTEXT_CASE_PAGE = f"{KMS_CONDITIONS}#conditions-kms-encryption-context-case"
CONTEXT_KEYS_PAGE = f"{KMS_CONDITIONS}#conditions-kms-encryption-context-keys"
S3_CONTEXT_PAGE = f"{S3_SSE_KMS}#encryption-context"


def key_statement(principal: Any, actions: str | list[str] = "kms:*", **extra: Any) -> dict[str, Any]:
    """A key policy statement: its Resource "*" means the key itself (key-policies.html)."""
    return {"Effect": "Allow", "Principal": principal, "Action": actions, "Resource": "*", **extra}


# key-policy-default.html: the default key policy, as CreateKey attaches it when no Policy is given.
DEFAULT_KEY_POLICY = policy({"Sid": "Enable IAM User Permissions", **key_statement({"AWS": f"arn:aws:iam::{PROD}:root"})})
NAMES_APP_ROLE = policy(key_statement({"AWS": APP_ROLE}, ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"]))
NAMES_ALICE = policy(key_statement({"AWS": f"arn:aws:iam::{PROD}:user/alice"}, "kms:Decrypt"))
NAMES_DEV_ACCOUNT = policy(*DEFAULT_KEY_POLICY["Statement"], key_statement({"AWS": f"arn:aws:iam::{DEV}:root"},
                                                                           ["kms:Decrypt", "kms:GenerateDataKey"]))
NAMES_DEV_ROLE = policy(*DEFAULT_KEY_POLICY["Statement"], key_statement({"AWS": DEV_ROLE}, "kms:Decrypt"))
# The AWS managed key for S3 (aws/s3): every principal of the account, through S3 only ("auto-s3-2" as KMS
# returns it from GetKeyPolicy; its first statement is the pattern conditions-kms.html shows for EBS).
AWS_MANAGED_S3 = policy(
    key_statement({"AWS": "*"}, ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                                 "kms:DescribeKey"],
                  Condition={"StringEquals": {"kms:CallerAccount": PROD, "kms:ViaService": VIA_S3}}),
    key_statement({"AWS": f"arn:aws:iam::{PROD}:root"}, ["kms:Describe*", "kms:Get*", "kms:List*"]),
)
VIA_S3_ONLY = policy(key_statement({"AWS": APP_ROLE}, "kms:GenerateDataKey",
                                   Condition={"StringEquals": {"kms:ViaService": VIA_S3}}))
OBJECTS_UNDER_INCOMING = policy(key_statement(
    {"AWS": APP_ROLE}, "kms:Decrypt",
    Condition={"StringLike": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::prod-bucket/incoming/*"}}))
WHOLE_BUCKET = policy(key_statement(
    {"AWS": APP_ROLE}, "kms:Decrypt",
    Condition={"StringEquals": {"kms:EncryptionContext:aws:s3:arn": BUCKET_ARN}}))
CONTEXT_KEY_OTHER_CASE = policy(key_statement(
    {"AWS": APP_ROLE}, "kms:Decrypt",
    Condition={"StringEquals": {"kms:EncryptionContext:AWS:S3:ARN": BUCKET_ARN}}))
ONLY_THE_S3_CONTEXT = policy(key_statement(
    {"AWS": APP_ROLE}, "kms:Decrypt",
    Condition={"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["aws:s3:arn"]}}))
ANY_PRINCIPAL_OF_DEV = policy(*DEFAULT_KEY_POLICY["Statement"], key_statement(
    "*", "kms:Decrypt", Condition={"StringEquals": {"kms:CallerAccount": DEV}}))
DENY_DECRYPT_OUTSIDE_S3 = policy(
    *DEFAULT_KEY_POLICY["Statement"],
    {"Sid": "DenyOutsideS3", "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
     "Condition": {"StringNotEquals": {"kms:ViaService": VIA_S3}}},
)

ALLOW_KEY = policy(allow(["kms:Decrypt", "kms:GenerateDataKey"], KEY_ARN))
ADMIN = policy(allow("*", "*"))


def on_key(caller: Caller, key_policy: Mapping[str, Any] | None, action: str = "kms:Decrypt",
           **context: Any) -> AccessRequest:
    """``action`` on KEY_ARN (owned by PROD), decided with ``key_policy`` as the key's policy."""
    return AccessRequest(caller, action, KEY_ARN, PROD, dict(context), key_policy, key_policy=True)


def via_s3(caller: Caller, key_policy: Mapping[str, Any], object_arn: str = OBJECT_ARN,
           action: str = "kms:Decrypt") -> AccessRequest:
    """The KMS request S3 makes as ``caller`` (UsingKMSEncryption.html): through S3, in the caller's account, with
    the object's (or with a Bucket Key the bucket's) ARN as encryption context."""
    return on_key(caller, key_policy, action, **{
        "kms:ViaService": VIA_S3, "kms:CallerAccount": caller.account,
        "kms:EncryptionContext:aws:s3:arn": object_arn, "kms:EncryptionContextKeys": ["aws:s3:arn"]})


def app(*policies: Mapping[str, Any], name: str = "worker", **kwargs: Any) -> Caller:
    return session(APP_ROLE, name, *policies, **kwargs)


ALICE = user("alice", PROD)
BOB_WITH_KEY = user("bob", PROD, ALLOW_KEY)
ADMIN_USER = user("admin", PROD, ADMIN)
DEV_USER = user("carol", DEV, ALLOW_KEY)
DEV_USER_WITHOUT = user("dave", DEV)
DEV_SESSION = session(DEV_ROLE, "ci", ALLOW_KEY)
DEV_SESSION_WITHOUT = session(DEV_ROLE, "ci")

CASES: list[Case] = [
    # --- The default key policy delegates to IAM (key-policy-default.html) ------------------------------------
    Case("default_policy_and_an_identity_allow", on_key(BOB_WITH_KEY, DEFAULT_KEY_POLICY), True,
         DEFAULT_KEY_POLICY_PAGE),
    Case("default_policy_without_an_identity_allow", on_key(ALICE, DEFAULT_KEY_POLICY), False,
         DEFAULT_KEY_POLICY_PAGE, "no identity-based policy allows"),
    Case("default_policy_lets_the_account_root_user_in", on_key(root(PROD), DEFAULT_KEY_POLICY), True,
         DEFAULT_KEY_POLICY_PAGE),
    Case("an_identity_policy_for_another_action_does_not_count",
         on_key(BOB_WITH_KEY, DEFAULT_KEY_POLICY, "kms:ScheduleKeyDeletion"), False, KMS_IAM_POLICIES,
         "no identity-based policy allows"),
    # --- A key policy naming the principal allows it alone (key-policies.html) --------------------------------
    Case("key_policy_naming_the_role_allows_its_session_without_an_identity_policy", on_key(app(), NAMES_APP_ROLE),
         True, CRYPTO_USERS_PAGE),
    Case("key_policy_naming_the_user_allows_it_without_an_identity_policy", on_key(ALICE, NAMES_ALICE), True,
         CRYPTO_USERS_PAGE),
    Case("key_policy_naming_the_role_is_still_narrowed_by_a_session_policy",
         on_key(app(session_policy=policy(allow("s3:*", "*"))), NAMES_APP_ROLE), False, EVAL_LOGIC,
         "session policy does not allow"),
    Case("key_policy_naming_the_role_does_not_grant_other_actions", on_key(app(), NAMES_APP_ROLE, "kms:PutKeyPolicy"),
         False, KEY_POLICIES, "no key policy allows"),
    # --- Without the key policy, IAM allows nothing (key-policies.html) ---------------------------------------
    Case("key_policy_without_the_caller_denies_even_an_administrator", on_key(ADMIN_USER, NAMES_APP_ROLE), False,
         KEY_POLICIES, "no key policy allows"),
    Case("key_policy_without_the_account_denies_the_root_user", on_key(root(PROD), NAMES_APP_ROLE), False,
         KEY_POLICIES, "no key policy allows"),
    Case("a_key_without_a_key_policy_lets_nobody_in", on_key(ADMIN_USER, None), False, KEY_POLICIES,
         "has no key policy"),
    Case("iam_policies_need_the_key_policy_to_enable_them", on_key(BOB_WITH_KEY, NAMES_APP_ROLE), False,
         KMS_IAM_POLICIES, "no key policy allows"),
    # --- Another account: the key policy and the caller's identity policy (key-policy-modifying-external-...) --
    Case("other_account_named_by_the_key_policy_with_an_identity_allow", on_key(DEV_USER, NAMES_DEV_ACCOUNT), True,
         KEY_POLICY_EXTERNAL),
    Case("other_account_named_by_the_key_policy_without_an_identity_allow",
         on_key(DEV_USER_WITHOUT, NAMES_DEV_ACCOUNT), False, KEY_POLICY_EXTERNAL,
         "cross-account access needs the caller's identity allow"),
    Case("other_accounts_role_named_by_the_key_policy_still_needs_its_identity_allow",
         on_key(DEV_SESSION_WITHOUT, NAMES_DEV_ROLE), False, KEY_POLICY_EXTERNAL, "no identity-based policy allows"),
    Case("other_accounts_role_named_by_the_key_policy_with_its_identity_allow", on_key(DEV_SESSION, NAMES_DEV_ROLE),
         True, KEY_POLICY_EXTERNAL),
    Case("other_account_not_in_the_key_policy_is_denied_whatever_its_iam_says",
         on_key(user("erin", DEV, ADMIN), DEFAULT_KEY_POLICY), False, KEY_POLICY_EXTERNAL, "no key policy allows"),
    Case("everyone_of_an_account_by_caller_account_still_needs_the_identity_allow",
         on_key(DEV_USER_WITHOUT, ANY_PRINCIPAL_OF_DEV, **{"kms:CallerAccount": DEV}), False, CALLER_ACCOUNT_PAGE),
    Case("everyone_of_an_account_by_caller_account_with_the_identity_allow",
         on_key(DEV_USER, ANY_PRINCIPAL_OF_DEV, **{"kms:CallerAccount": DEV}), True, CALLER_ACCOUNT_PAGE),
    # --- Explicit denies win (key-policies.html: "explicitly allowed, and never denied") -----------------------
    Case("a_key_policy_deny_beats_the_account_delegation",
         on_key(BOB_WITH_KEY, DENY_DECRYPT_OUTSIDE_S3), False, KEY_POLICIES, "explicit deny in key policy"),
    Case("the_same_deny_spares_requests_through_s3", via_s3(BOB_WITH_KEY, DENY_DECRYPT_OUTSIDE_S3), True,
         VIA_SERVICE_PAGE),
    Case("an_identity_deny_beats_a_key_policy_naming_the_user",
         on_key(user("alice", PROD, policy(deny("kms:*"))), NAMES_ALICE), False, KEY_POLICIES,
         "explicit deny in identity-based policy"),
    # --- kms:ViaService (conditions-kms.html) ------------------------------------------------------------------
    Case("via_service_allows_the_request_s3_makes", via_s3(app(), VIA_S3_ONLY, action="kms:GenerateDataKey"), True,
         VIA_SERVICE_PAGE),
    Case("via_service_denies_a_direct_call", on_key(app(), VIA_S3_ONLY, "kms:GenerateDataKey"), False,
         VIA_SERVICE_PAGE, "no key policy allows"),
    Case("via_service_of_another_region_does_not_match",
         on_key(app(), VIA_S3_ONLY, "kms:GenerateDataKey", **{"kms:ViaService": "s3.us-east-1.amazonaws.com"}),
         False, VIA_SERVICE_PAGE),
    # --- kms:EncryptionContext:aws:s3:arn (UsingKMSEncryption.html, bucket-key.html) ---------------------------
    Case("encryption_context_names_an_object_under_the_prefix", via_s3(app(), OBJECTS_UNDER_INCOMING), True,
         S3_CONTEXT_PAGE),
    Case("encryption_context_names_an_object_outside_the_prefix",
         via_s3(app(), OBJECTS_UNDER_INCOMING, "arn:aws:s3:::prod-bucket/reports/q1.csv"), False, CONTEXT_PAGE),
    Case("object_arn_conditions_fail_once_s3_bucket_keys_are_on",
         via_s3(app(), OBJECTS_UNDER_INCOMING, BUCKET_ARN), False, f"{S3_BUCKET_KEYS}#bucket-key-policies"),
    Case("bucket_arn_condition_matches_s3_bucket_keys", via_s3(app(), WHOLE_BUCKET, BUCKET_ARN), True,
         f"{S3_BUCKET_KEYS}#bucket-key-policies"),
    Case("encryption_context_condition_key_names_ignore_case", via_s3(app(), CONTEXT_KEY_OTHER_CASE, BUCKET_ARN),
         True, CONTEXT_CASE_PAGE),
    Case("encryption_context_keys_only_the_s3_pair", via_s3(app(), ONLY_THE_S3_CONTEXT), True, CONTEXT_KEYS_PAGE),
    Case("encryption_context_keys_with_an_extra_pair",
         on_key(app(), ONLY_THE_S3_CONTEXT, **{"kms:EncryptionContextKeys": ["aws:s3:arn", "Project"]}), False,
         CONTEXT_KEYS_PAGE),
    # --- kms:CallerAccount: the AWS managed key aws/s3 (conditions-kms.html, UsingKMSEncryption.html) ----------
    Case("aws_managed_key_lets_any_principal_of_its_account_use_it_through_s3", via_s3(ALICE, AWS_MANAGED_S3),
         True, CALLER_ACCOUNT_PAGE),
    Case("aws_managed_key_refuses_a_direct_call", on_key(ALICE, AWS_MANAGED_S3, **{"kms:CallerAccount": PROD}),
         False, CALLER_ACCOUNT_PAGE),
    Case("aws_managed_key_refuses_another_account", via_s3(DEV_USER, AWS_MANAGED_S3), False,
         f"{S3_SSE_KMS}#aws-managed-customer-managed-keys"),
    Case("aws_managed_key_lets_the_account_read_its_metadata",
         on_key(root(PROD), AWS_MANAGED_S3, "kms:DescribeKey"), True, CALLER_ACCOUNT_PAGE),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_evaluate_follows_aws_rule(case: Case) -> None:
    assert_follows_aws_rule(case)


def test_case_ids_are_unique_and_pages_known() -> None:
    assert_table_is_well_formed(CASES)


def test_a_missing_key_policy_allow_is_reported_as_the_key_policy() -> None:
    """The decision names the key policy as the policy that did not allow: the gate's message says "because no
    resource-based policy allows the kms:Decrypt action", as KMS does for a key policy (key-policies.html)."""
    decision = evaluate(on_key(ADMIN_USER, NAMES_APP_ROLE))
    assert decision.implicit_deny and decision.missing_allow == KEY


def test_an_allow_names_both_sides_of_a_cross_account_grant() -> None:
    """Across accounts the decision carries the identity statement and the key policy statement that allowed
    (key-policy-modifying-external-accounts.html: both must allow)."""
    decision = evaluate(on_key(DEV_USER, NAMES_DEV_ACCOUNT))
    assert decision.allowed
    assert {ref.kind for ref in decision.determining} == {"identity-based policy", KEY}


def test_the_same_request_without_the_key_policy_flag_is_decided_by_iam_alone() -> None:
    """The control of key_policy_without_the_caller_denies_even_an_administrator: as an ordinary resource policy,
    the same document would let the account's administrator in through its identity policy
    (reference_policies_evaluation-logic.html), so the key policy rule is what denies."""
    request = on_key(ADMIN_USER, NAMES_APP_ROLE)
    ordinary = AccessRequest(request.caller, request.action, request.resource, request.resource_account,
                             request.context, request.resource_policy)
    assert evaluate(ordinary).allowed
