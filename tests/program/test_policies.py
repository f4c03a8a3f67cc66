"""Each policy document on its own: built from typed values by a small pure function, checked as the JSON IAM reads."""

from __future__ import annotations

import dataclasses
import json

import pytest

from components.policies import (
    AccountPrincipal,
    PolicyDocument,
    Statement,
    assume_role_policy,
    bucket_access_policy,
    bucket_key_policy,
    data_key_uses,
    grant_key_uses,
    grant_trust_policy,
    kms_actions,
    log_writing_policy,
    revoke_older_sessions_policy,
    service_trust_policy,
    suspended_grant_policy,
    tls_only_bucket_policy,
    trust_policy_for,
)
from components.settings import Access, Grant, SessionTags, SourceIdentity, trust_policy_size

CONSUMER = "222222222222"
LAMBDA_ROLE = f"arn:aws:iam::{CONSUMER}:role/writer-lambda"
ALICE = f"arn:aws:iam::{CONSUMER}:user/alice"
# Everything a grant's role may ever do: never deletes, ACLs, tagging or policy changes.
GRANT_ACTIONS = {"s3:PutObject", "s3:GetObject", "s3:ListBucket"}
GRANT = Grant(name="team", account_id=CONSUMER, role_names=("writer-lambda",), user_names=("alice",),
              key_prefix="incoming/", access=Access.WRITE, external_id="ext-123")


def statements(doc: PolicyDocument) -> dict[str, dict]:
    return {s["Sid"]: s for s in doc.to_dict()["Statement"]}


def actions(doc: PolicyDocument) -> set[str]:
    found = set()
    for statement in doc.to_dict()["Statement"]:
        value = statement["Action"]
        found |= {value} if isinstance(value, str) else set(value)
    return found


# --- trust_policy_for: who in a consumer account may assume a grant's role -------------------------------------


def test_trust_policy_trusts_the_consumer_account_narrowed_to_named_principals():
    stmts = statements(trust_policy_for(CONSUMER, [LAMBDA_ROLE], [ALICE]))
    workload = stmts["WorkloadsAssume"]
    assert workload["Principal"] == {"AWS": f"arn:aws:iam::{CONSUMER}:root"}
    assert workload["Action"] == "sts:AssumeRole"
    assert workload["Condition"] == {"ArnEquals": {"aws:PrincipalArn": LAMBDA_ROLE}}
    assert stmts["HumansAssume"]["Principal"] == {"AWS": f"arn:aws:iam::{CONSUMER}:root"}
    assert stmts["HumansAssume"]["Condition"]["ArnEquals"] == {"aws:PrincipalArn": ALICE}


def test_trust_policy_requires_mfa_of_humans_only():
    stmts = statements(trust_policy_for(CONSUMER, [LAMBDA_ROLE], [ALICE], require_mfa_for_humans=True))
    assert stmts["HumansAssume"]["Condition"]["Bool"] == {"aws:MultiFactorAuthPresent": "true"}
    assert "Bool" not in stmts["WorkloadsAssume"]["Condition"]


def test_trust_policy_without_mfa_has_no_mfa_condition():
    stmts = statements(trust_policy_for(CONSUMER, [], [ALICE], require_mfa_for_humans=False))
    assert "Bool" not in stmts["HumansAssume"]["Condition"]
    assert "WorkloadsAssume" not in stmts


def test_external_id_is_required_by_every_trust_statement():
    stmts = statements(trust_policy_for(CONSUMER, [LAMBDA_ROLE], [ALICE], external_id="ext-123"))
    assert len(stmts) == 2
    for statement in stmts.values():
        assert statement["Condition"]["StringEquals"] == {"sts:ExternalId": "ext-123"}


def test_trust_policy_lists_several_principals_sorted_and_once():
    other = f"arn:aws:iam::{CONSUMER}:role/another"
    stmts = statements(trust_policy_for(CONSUMER, [LAMBDA_ROLE, other, LAMBDA_ROLE]))
    assert stmts["WorkloadsAssume"]["Condition"]["ArnEquals"]["aws:PrincipalArn"] == sorted([LAMBDA_ROLE, other])


def test_trust_policy_with_no_principals_is_refused():
    with pytest.raises(ValueError, match="at least one principal"):
        trust_policy_for(CONSUMER, [], [])


def test_account_principal_rejects_a_malformed_account_id():
    with pytest.raises(ValueError, match="12 digits"):
        AccountPrincipal("1234")


# --- grant_trust_policy: a grant's trust, from the grant alone ------------------------------------------------


def test_grant_trust_policy_names_the_grants_principals_as_arns_of_its_account():
    stmts = statements(grant_trust_policy(GRANT))
    assert stmts["WorkloadsAssume"]["Condition"]["ArnEquals"] == {"aws:PrincipalArn": LAMBDA_ROLE}
    assert stmts["HumansAssume"]["Condition"]["ArnEquals"] == {"aws:PrincipalArn": ALICE}
    assert {s["Principal"]["AWS"] for s in stmts.values()} == {f"arn:aws:iam::{CONSUMER}:root"}


def test_grant_trust_policy_is_trust_policy_for_of_the_grants_values():
    assert grant_trust_policy(GRANT) == trust_policy_for(CONSUMER, [LAMBDA_ROLE], [ALICE], external_id="ext-123",
                                                          require_mfa_for_humans=True)


def test_grant_trust_policy_requires_mfa_and_external_id_as_the_grant_says():
    relaxed = statements(grant_trust_policy(dataclasses.replace(GRANT, require_mfa=False, external_id=None)))
    assert all("Bool" not in s["Condition"] and "StringEquals" not in s["Condition"] for s in relaxed.values())
    strict = statements(grant_trust_policy(GRANT))
    assert strict["HumansAssume"]["Condition"]["Bool"] == {"aws:MultiFactorAuthPresent": "true"}
    assert all(s["Condition"]["StringEquals"] == {"sts:ExternalId": "ext-123"} for s in strict.values())


def test_grant_trust_policy_does_not_depend_on_the_grants_access_or_prefix():
    assert grant_trust_policy(GRANT) == grant_trust_policy(
        dataclasses.replace(GRANT, access=Access.READ, key_prefix="elsewhere/"))


def test_a_grant_of_only_users_or_only_roles_has_only_that_statement():
    assert set(statements(grant_trust_policy(dataclasses.replace(GRANT, role_names=())))) == {"HumansAssume"}
    assert set(statements(grant_trust_policy(dataclasses.replace(GRANT, user_names=())))) == {"WorkloadsAssume"}


# --- trust_policy_size: what IAM counts against its limit ------------------------------------------------------


def test_trust_policy_size_is_the_documents_length_without_whitespace():
    compact = json.dumps(grant_trust_policy(GRANT).to_dict(), separators=(",", ":"))
    size = trust_policy_size(GRANT)
    assert size is not None and size == len(compact)
    assert " " not in compact and "\n" not in compact
    assert size < len(grant_trust_policy(GRANT).to_json())  # the deployed text is indented


def test_trust_policy_size_grows_with_each_principal():
    one = trust_policy_size(GRANT)
    two = trust_policy_size(dataclasses.replace(GRANT, role_names=("writer-lambda", "x" * 40)))
    assert one is not None and two is not None
    assert two - one == len(f',"arn:aws:iam::{CONSUMER}:role/{"x" * 40}"') + len("[]")


def test_trust_policy_size_of_an_invalid_grant_is_none():
    assert trust_policy_size(dataclasses.replace(GRANT, role_names=(), user_names=())) is None
    assert trust_policy_size(dataclasses.replace(GRANT, account_id="")) is None


# --- bucket_access_policy: what a grant's role may do under its prefix ----------------------------------------

LIST_UNDER_PREFIX = {"Sid": "ListObjectsUnderPrefix", "Effect": "Allow", "Action": "s3:ListBucket",
                     "Resource": "arn:aws:s3:::data", "Condition": {"StringLike": {"s3:prefix": "incoming/*"}}}
PUT_UNDER_PREFIX = {"Sid": "WriteObjectsUnderPrefix", "Effect": "Allow", "Action": "s3:PutObject",
                    "Resource": "arn:aws:s3:::data/incoming/*"}
GET_UNDER_PREFIX = {"Sid": "ReadObjectsUnderPrefix", "Effect": "Allow", "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::data/incoming/*"}


def test_write_grant_may_put_and_list_under_its_prefix_only():
    assert bucket_access_policy("data", "incoming/", Access.WRITE).to_dict()["Statement"] == [
        PUT_UNDER_PREFIX, LIST_UNDER_PREFIX]


def test_read_grant_cannot_write():
    assert bucket_access_policy("data", "incoming/", Access.READ).to_dict()["Statement"] == [
        GET_UNDER_PREFIX, LIST_UNDER_PREFIX]


def test_write_grant_cannot_read():
    assert "s3:GetObject" not in actions(bucket_access_policy("data", "incoming/", Access.WRITE))


def test_read_write_grant_may_put_get_and_list_under_its_prefix():
    assert bucket_access_policy("data", "incoming/", Access.READ_WRITE).to_dict()["Statement"] == [
        PUT_UNDER_PREFIX, GET_UNDER_PREFIX, LIST_UNDER_PREFIX]


@pytest.mark.parametrize("access", list(Access), ids=lambda a: a.value)
def test_no_access_level_deletes_changes_acls_or_policies(access):
    doc = bucket_access_policy("data", "in/", access)
    assert actions(doc) <= GRANT_ACTIONS
    assert actions(doc) == {"s3:ListBucket"} | ({"s3:PutObject"} if access.writes else set()) | (
        {"s3:GetObject"} if access.reads else set())
    for statement in doc.to_dict()["Statement"]:
        assert statement["Effect"] == "Allow"
        assert "*" not in statement["Action"] and not statement["Action"].endswith(":*")
        assert statement["Resource"] != "*"
        assert "NotAction" not in statement and "NotResource" not in statement


@pytest.mark.parametrize("access", list(Access), ids=lambda a: a.value)
def test_listing_is_limited_to_the_prefix_by_s3_prefix(access):
    listing = statements(bucket_access_policy("data", "team-a/in/", access))["ListObjectsUnderPrefix"]
    assert listing["Resource"] == "arn:aws:s3:::data"
    assert listing["Condition"] == {"StringLike": {"s3:prefix": "team-a/in/*"}}


@pytest.mark.parametrize("access", list(Access), ids=lambda a: a.value)
def test_object_actions_are_limited_to_the_prefix_of_the_bucket(access):
    objects = [s for s in bucket_access_policy("data", "team-a/in/", access).to_dict()["Statement"]
               if s["Sid"] != "ListObjectsUnderPrefix"]
    assert objects and all(s["Resource"] == "arn:aws:s3:::data/team-a/in/*" for s in objects)


def test_read_and_write_flags_of_each_access():
    assert [(a.value, a.writes, a.reads) for a in Access] == [
        ("write", True, False), ("read", False, True), ("read-write", True, True)]


# --- the rest ----------------------------------------------------------------------------------------------------


def test_tls_only_policy_denies_every_request_without_secure_transport():
    (statement,) = tls_only_bucket_policy("data").to_dict()["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == {"AWS": "*"}
    assert statement["Resource"] == ["arn:aws:s3:::data", "arn:aws:s3:::data/*"]
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_assume_role_policy_names_exactly_one_role():
    role = "arn:aws:iam::111111111111:role/cross-account-s3-team"
    (statement,) = assume_role_policy(role).to_dict()["Statement"]
    assert statement == {"Sid": "AssumeGrantRole", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role}


def test_assume_role_policy_can_require_mfa():
    (statement,) = assume_role_policy("arn:aws:iam::111111111111:role/w", require_mfa=True).to_dict()["Statement"]
    assert statement["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def test_service_trust_policy_trusts_only_the_service():
    (statement,) = service_trust_policy("lambda.amazonaws.com").to_dict()["Statement"]
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"


def test_log_policy_is_scoped_to_one_log_group():
    arn = "arn:aws:logs:eu-west-1:222222222222:log-group:/aws/lambda/w"
    (statement,) = log_writing_policy(arn).to_dict()["Statement"]
    assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statement["Resource"] == f"{arn}:*"


def test_invalid_action_is_refused_with_the_rule():
    with pytest.raises(ValueError, match="service namespace, a colon"):
        Statement("Bad", ("PutObject",))


def test_duplicate_statement_ids_are_refused():
    s = Statement("Same", ("s3:PutObject",), resources=("arn:aws:s3:::b/*",))
    with pytest.raises(ValueError, match="unique"):
        PolicyDocument((s, s))


def test_with_condition_returns_a_new_statement():
    base = Statement("S", ("s3:ListBucket",), resources=("arn:aws:s3:::b",))
    narrowed = base.with_condition("StringLike", "s3:prefix", "in/*")
    assert base.conditions == {}
    assert narrowed.conditions == {"StringLike": {"s3:prefix": "in/*"}}


def test_documents_serialize_deterministically():
    first = grant_trust_policy(GRANT).to_json()
    second = grant_trust_policy(dataclasses.replace(GRANT, role_names=tuple(reversed(GRANT.role_names)))).to_json()
    assert first == second
    assert '"Version": "2012-10-17"' in first


# --- trust options ---------------------------------------------------------------------------------------------


def test_no_trust_option_allows_only_assume_role():
    assert actions(trust_policy_for(CONSUMER, [LAMBDA_ROLE], [ALICE])) == {"sts:AssumeRole"}


def test_session_tags_get_a_statement_of_their_own_limited_to_the_listed_keys():
    stmts = statements(trust_policy_for(CONSUMER, [LAMBDA_ROLE], [ALICE], session_tag_keys=["function", "team"],
                                        external_id="ext-123"))
    assert stmts["PassSessionTags"] == {
        "Sid": "PassSessionTags", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{CONSUMER}:root"},
        "Action": "sts:TagSession",
        "Condition": {"ArnEquals": {"aws:PrincipalArn": LAMBDA_ROLE},  # the workloads only, never the people
                      "ForAllValues:StringEquals": {"aws:TagKeys": ["function", "team"]}}}
    # TagSession is authorized only within an AssumeRole, whose statements keep checking who and the external ID.
    assert stmts["WorkloadsAssume"]["Action"] == stmts["HumansAssume"]["Action"] == "sts:AssumeRole"


def test_session_tags_of_any_key_carry_no_key_condition():
    stmts = statements(trust_policy_for(CONSUMER, [LAMBDA_ROLE], session_tag_keys=()))
    assert stmts["PassSessionTags"]["Condition"] == {"ArnEquals": {"aws:PrincipalArn": LAMBDA_ROLE}}


def test_a_grant_of_people_only_allows_no_session_tags():
    # A tag a person chose could pass for a function's and defeat conditions on aws:PrincipalTag.
    assert "PassSessionTags" not in statements(trust_policy_for(CONSUMER, [], [ALICE], session_tag_keys=()))


def test_an_allowed_source_identity_is_allowed_not_required():
    stmts = statements(trust_policy_for(CONSUMER, [LAMBDA_ROLE], [ALICE], source_identity="allowed"))
    assert stmts["SetSourceIdentity"]["Action"] == "sts:SetSourceIdentity"
    assert all("sts:SourceIdentity" not in json.dumps(s) for s in stmts.values())


def test_a_required_source_identity_is_any_for_workloads_and_their_own_name_for_humans():
    stmts = statements(trust_policy_for(CONSUMER, [LAMBDA_ROLE], [ALICE], source_identity="required"))
    assert stmts["WorkloadsAssume"]["Condition"]["Null"] == {"sts:SourceIdentity": "false"}
    assert stmts["HumansAssume"]["Condition"]["StringEquals"] == {"sts:SourceIdentity": "${aws:username}"}
    assert "SetSourceIdentity" in stmts


def test_an_unknown_source_identity_option_is_refused():
    with pytest.raises(ValueError, match="source_identity"):
        trust_policy_for(CONSUMER, [LAMBDA_ROLE], source_identity="sometimes")


def test_the_organization_guard_is_on_every_statement():
    stmts = statements(trust_policy_for(CONSUMER, [LAMBDA_ROLE], [ALICE], session_tag_keys=(),
                                        source_identity="allowed", principal_org_id="o-a1b2c3d4e5"))
    assert set(stmts) == {"WorkloadsAssume", "HumansAssume", "PassSessionTags", "SetSourceIdentity"}
    assert all(s["Condition"]["StringEquals"]["aws:PrincipalOrgID"] == "o-a1b2c3d4e5" for s in stmts.values())


def test_grant_trust_policy_passes_every_option_of_the_grant():
    grant = dataclasses.replace(GRANT, session_tags=SessionTags(("function",)),
                                source_identity=SourceIdentity.REQUIRED, principal_org_id="o-a1b2c3d4e5")
    assert grant_trust_policy(grant) == trust_policy_for(
        CONSUMER, [LAMBDA_ROLE], [ALICE], external_id="ext-123", session_tag_keys=("function",),
        source_identity="required", principal_org_id="o-a1b2c3d4e5")


# --- revocation ------------------------------------------------------------------------------------------------


def test_revoking_older_sessions_denies_everything_to_sessions_issued_before_the_time():
    # id_roles_use_revoke-sessions.html: what the console's "Revoke active sessions" attaches.
    (statement,) = revoke_older_sessions_policy("2026-12-01T09:30:15Z").to_dict()["Statement"]
    assert statement == {"Sid": "RevokeOlderSessions", "Effect": "Deny", "Action": "*", "Resource": "*",
                         "Condition": {"DateLessThan": {"aws:TokenIssueTime": "2026-12-01T09:30:15Z"}}}


def test_a_suspended_grant_denies_everything_unconditionally():
    (statement,) = suspended_grant_policy().to_dict()["Statement"]
    assert statement == {"Sid": "GrantSuspended", "Effect": "Deny", "Action": "*", "Resource": "*"}


def test_the_every_action_wildcard_is_the_only_bare_action():
    with pytest.raises(ValueError, match="service namespace"):
        Statement("Bad", ("s3*",))


# --- the consumer's assume permission and the execution role's trust ----------------------------------------


def test_assume_role_policy_requires_the_external_id_when_given():
    (statement,) = assume_role_policy("arn:aws:iam::111111111111:role/w", external_id="ext-123").to_dict()[
        "Statement"]
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": "ext-123"}}


def test_assume_role_policy_allows_tags_and_a_source_identity_on_the_same_role_only():
    role = "arn:aws:iam::111111111111:role/w"
    assume, extras = assume_role_policy(role, external_id="e-1", tag_session=True,
                                        set_source_identity=True).to_dict()["Statement"]
    assert assume["Action"] == "sts:AssumeRole"
    assert extras == {"Sid": "TagOrIdentifyGrantSession", "Effect": "Allow",
                      "Action": ["sts:TagSession", "sts:SetSourceIdentity"], "Resource": role}


def test_service_trust_policy_can_pin_the_source_account():
    (statement,) = service_trust_policy("lambda.amazonaws.com", source_account=CONSUMER).to_dict()["Statement"]
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": CONSUMER}}


# --- SSE-KMS: the bucket key's policy, the grants' use of it, the bucket's encryption denies --------------------

KEY_ARN = "arn:aws:kms:eu-west-1:111111111111:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
PROD = "111111111111"


def test_a_write_grant_may_generate_and_decrypt_data_keys_a_read_grant_only_decrypt():
    # UsingKMSEncryption.html: PutObject needs kms:GenerateDataKey; a multipart upload kms:Decrypt too;
    # GetObject kms:Decrypt.
    assert kms_actions(Access.WRITE) == ("kms:GenerateDataKey", "kms:Decrypt")
    assert kms_actions(Access.READ_WRITE) == ("kms:GenerateDataKey", "kms:Decrypt")
    assert kms_actions(Access.READ) == ("kms:Decrypt",)


def test_a_grants_role_may_use_the_bucket_key_through_s3_in_the_buckets_region_only():
    stmts = statements(bucket_access_policy("data", "incoming/", Access.READ, kms_key_arn=KEY_ARN,
                                            region="eu-west-1"))
    assert stmts["UseBucketKeyThroughS3"] == {
        "Sid": "UseBucketKeyThroughS3", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY_ARN,
        "Condition": {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}}


def test_without_a_key_a_grant_has_no_kms_permission():
    assert not any(a.startswith("kms:") for a in actions(bucket_access_policy("data", "in/", Access.WRITE)))


def test_the_key_policy_administers_through_iam_but_delegates_no_use():
    # key-policies.html: the key policy must allow every use; the account principal delegates to IAM only for
    # what its statement lists.
    document = bucket_key_policy(PROD, "eu-west-1", "data", [])
    (admin,) = document.to_dict()["Statement"]
    assert admin["Principal"] == {"AWS": f"arn:aws:iam::{PROD}:root"}
    assert "kms:PutKeyPolicy" in admin["Action"]  # the account can always change the policy
    assert not any("*" in a or a.startswith(("kms:CreateGrant", "kms:Revoke")) for a in admin["Action"])
    assert not {"kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt", "kms:*"} & set(admin["Action"])
    assert not any(a.startswith(("kms:Decrypt", "kms:Generate", "kms:Encrypt", "kms:ReEncrypt"))
                   for a in admin["Action"])


def test_each_grant_uses_the_key_for_its_own_prefix_through_s3_only():
    grants = [GRANT, dataclasses.replace(GRANT, name="analytics-reader", access=Access.READ, key_prefix="out/")]
    document = bucket_key_policy(PROD, "eu-west-1", "data", data_key_uses(grants, PROD))
    stmts = statements(document)
    assert set(stmts) == {"KeyAdministration", "GrantTeam", "GrantAnalyticsReader"}
    reader = stmts["GrantAnalyticsReader"]
    assert reader["Action"] == "kms:Decrypt"
    assert reader["Condition"] == {
        "ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{PROD}:role/cross-account-s3-analytics-reader"},
        "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"},
        # The bucket's ARN (S3 Bucket Keys) or an object's under the prefix (bucket-key.html).
        "StringLike": {"kms:EncryptionContext:aws:s3:arn": ["arn:aws:s3:::data", "arn:aws:s3:::data/out/*"]},
    }
    assert stmts["GrantTeam"]["Action"] == ["kms:GenerateDataKey", "kms:Decrypt"]


def test_key_users_may_read_and_write_anywhere_in_the_bucket_through_s3():
    users = [f"arn:aws:iam::{PROD}:role/data-admin"]
    stmts = statements(bucket_key_policy(PROD, "eu-west-1", "data", data_key_uses([], PROD, users)))
    assert stmts["KeyUsers"]["Condition"]["ArnEquals"] == {"aws:PrincipalArn": users[0]}
    assert stmts["KeyUsers"]["Condition"]["StringLike"] == {
        "kms:EncryptionContext:aws:s3:arn": ["arn:aws:s3:::data", "arn:aws:s3:::data/*"]}


def test_grant_statement_ids_stay_unique_when_names_differ_only_by_hyphens():
    grants = [dataclasses.replace(GRANT, name="a-1"), dataclasses.replace(GRANT, name="a1")]
    assert [use.sid for use in grant_key_uses(grants, PROD)] == ["GrantA1", "GrantA1X"]


def test_the_bucket_refuses_writes_asking_for_another_encryption_or_key():
    # API_PutObject.html (x-amz-server-side-encryption, ...-aws-kms-key-id: aws:kms without a key id is aws/s3).
    stmts = statements(tls_only_bucket_policy("data", kms_key_arn=KEY_ARN))
    sse, key = "s3:x-amz-server-side-encryption", "s3:x-amz-server-side-encryption-aws-kms-key-id"
    assert stmts["DenyOtherEncryption"]["Condition"] == {"Null": {sse: "false"},
                                                         "StringNotEquals": {sse: "aws:kms"}}
    assert stmts["DenyOtherKmsKey"]["Condition"] == {"Null": {key: "false"}, "StringNotEquals": {key: KEY_ARN}}
    assert stmts["DenyAwsManagedKey"]["Condition"] == {"Null": {key: "true"}, "StringEquals": {sse: "aws:kms"}}
    for sid in ("DenyOtherEncryption", "DenyOtherKmsKey", "DenyAwsManagedKey"):
        assert stmts[sid]["Effect"] == "Deny" and stmts[sid]["Action"] == "s3:PutObject"
        assert stmts[sid]["Resource"] == "arn:aws:s3:::data/*"


def test_without_a_key_the_bucket_policy_only_refuses_plain_http():
    assert set(statements(tls_only_bucket_policy("data"))) == {"DenyInsecureTransport"}
