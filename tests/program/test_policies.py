"""Each policy document on its own: built from typed values, checked as the JSON IAM will read."""

import pytest

from components.policies import (
    AccountPrincipal,
    Statement,
    PolicyDocument,
    assume_role_policy,
    bucket_access_policy,
    log_writing_policy,
    service_trust_policy,
    tls_only_bucket_policy,
    trust_policy_for,
)

DEV = "222222222222"
LAMBDA_ROLE = f"arn:aws:iam::{DEV}:role/writer-lambda"
ALICE = f"arn:aws:iam::{DEV}:user/alice"


def statements(doc: PolicyDocument) -> dict[str, dict]:
    return {s["Sid"]: s for s in doc.to_dict()["Statement"]}


def test_trust_policy_trusts_the_dev_account_and_narrows_to_named_principals():
    stmts = statements(trust_policy_for(DEV, [LAMBDA_ROLE], [ALICE]))
    workload = stmts["DevWorkloadsAssume"]
    assert workload["Principal"] == {"AWS": f"arn:aws:iam::{DEV}:root"}
    assert workload["Action"] == "sts:AssumeRole"
    assert workload["Condition"] == {"ArnEquals": {"aws:PrincipalArn": LAMBDA_ROLE}}
    assert stmts["DevHumansAssume"]["Condition"]["ArnEquals"] == {"aws:PrincipalArn": ALICE}


def test_trust_policy_requires_mfa_of_humans_only():
    stmts = statements(trust_policy_for(DEV, [LAMBDA_ROLE], [ALICE], require_mfa_for_humans=True))
    assert stmts["DevHumansAssume"]["Condition"]["Bool"] == {"aws:MultiFactorAuthPresent": "true"}
    assert "Bool" not in stmts["DevWorkloadsAssume"]["Condition"]


def test_trust_policy_without_mfa_has_no_mfa_condition():
    stmts = statements(trust_policy_for(DEV, [], [ALICE], require_mfa_for_humans=False))
    assert "Bool" not in stmts["DevHumansAssume"]["Condition"]
    assert "DevWorkloadsAssume" not in stmts


def test_external_id_is_required_by_every_trust_statement():
    stmts = statements(trust_policy_for(DEV, [LAMBDA_ROLE], [ALICE], external_id="ext-123"))
    for statement in stmts.values():
        assert statement["Condition"]["StringEquals"] == {"sts:ExternalId": "ext-123"}


def test_trust_policy_lists_several_principals_sorted_and_once():
    other = f"arn:aws:iam::{DEV}:role/another"
    stmts = statements(trust_policy_for(DEV, [LAMBDA_ROLE, other, LAMBDA_ROLE]))
    assert stmts["DevWorkloadsAssume"]["Condition"]["ArnEquals"]["aws:PrincipalArn"] == sorted([LAMBDA_ROLE, other])


def test_trust_policy_with_no_principals_is_refused():
    with pytest.raises(ValueError, match="at least one principal"):
        trust_policy_for(DEV, [], [])


def test_account_principal_rejects_a_malformed_account_id():
    with pytest.raises(ValueError, match="12 digits"):
        AccountPrincipal("1234")


def test_bucket_access_is_put_under_prefix_and_list_of_that_prefix_only():
    stmts = statements(bucket_access_policy("data", "incoming/"))
    assert stmts["WriteObjectsUnderPrefix"]["Action"] == "s3:PutObject"
    assert stmts["WriteObjectsUnderPrefix"]["Resource"] == "arn:aws:s3:::data/incoming/*"
    assert stmts["ListObjectsUnderPrefix"]["Action"] == "s3:ListBucket"
    assert stmts["ListObjectsUnderPrefix"]["Resource"] == "arn:aws:s3:::data"
    assert stmts["ListObjectsUnderPrefix"]["Condition"] == {"StringLike": {"s3:prefix": "incoming/*"}}
    assert "ReadObjectsUnderPrefix" not in stmts


def test_bucket_access_grants_read_only_when_asked():
    stmts = statements(bucket_access_policy("data", "incoming/", allow_read=True))
    assert stmts["ReadObjectsUnderPrefix"]["Action"] == "s3:GetObject"
    assert stmts["ReadObjectsUnderPrefix"]["Resource"] == "arn:aws:s3:::data/incoming/*"


def test_bucket_access_never_grants_wildcards():
    for doc in (bucket_access_policy("data", "in/"), bucket_access_policy("data", "in/", allow_read=True)):
        for statement in doc.to_dict()["Statement"]:
            assert statement["Effect"] == "Allow"
            assert "*" not in statement["Action"] and not statement["Action"].endswith(":*")
            assert statement["Resource"] != "*"


def test_tls_only_policy_denies_every_request_without_secure_transport():
    (statement,) = tls_only_bucket_policy("data").to_dict()["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == {"AWS": "*"}
    assert statement["Resource"] == ["arn:aws:s3:::data", "arn:aws:s3:::data/*"]
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_assume_role_policy_names_exactly_one_role():
    role = "arn:aws:iam::111111111111:role/writer"
    (statement,) = assume_role_policy(role).to_dict()["Statement"]
    assert statement == {"Sid": "AssumeProdWriterRole", "Effect": "Allow", "Action": "sts:AssumeRole",
                         "Resource": role}


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
    first = trust_policy_for(DEV, [LAMBDA_ROLE], [ALICE], external_id="x").to_json()
    second = trust_policy_for(DEV, [LAMBDA_ROLE], [ALICE], external_id="x").to_json()
    assert first == second
    assert '"Version": "2012-10-17"' in first
