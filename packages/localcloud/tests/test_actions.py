"""Request classification: the operation, IAM action(s), resource(s) and context of real botocore requests.

Requests are built by boto3 clients and captured before they are sent, so the shapes are exactly what SDKs send.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.session
import pytest
from botocore.config import Config

from localcloud.actions import S3_ACTIONS, ActionPlan, UnexpectedParameter, UnknownOperation, classify, lambda_target
from localcloud.kms import KmsKey
from localcloud.sigv4 import HttpRequest

PROD = "111111111111"
DEV = "222222222222"
REGION = "eu-west-1"


class Captured(Exception):
    def __init__(self, request: Any) -> None:
        super().__init__("captured")
        self.request = request


class FakeDirectory:
    """Buckets "prod-*" belong to prod; roles live at path /deploy/."""

    def bucket_account(self, bucket: str) -> str | None:
        return PROD if bucket.startswith("prod-") else DEV if bucket.startswith("dev-") else None

    def role_arn(self, account: str, name: str) -> str | None:
        return f"arn:aws:iam::{account}:role/deploy/{name}" if name != "missing" else None

    def user_arn(self, account: str, name: str) -> str | None:
        return f"arn:aws:iam::{account}:user/{name}"

    def group_arn(self, account: str, name: str) -> str | None:
        return f"arn:aws:iam::{account}:group/{name}"

    def kms_key(self, account: str, region: str, key_id: str) -> KmsKey | None:
        return None

    def kms_alias_target(self, account: str, region: str, alias_name: str) -> str | None:
        return None

    def kms_ciphertext_keys(self, region: str, blob: bytes) -> list[KmsKey] | None:
        return None

    def kms_aws_managed_key(self, account: str, region: str, alias_name: str) -> KmsKey | None:
        return None


@pytest.fixture(scope="module")
def session() -> boto3.session.Session:
    return boto3.session.Session(
        botocore_session=botocore.session.get_session(),
        aws_access_key_id="AKIAEXAMPLEEXAMPLE01",
        aws_secret_access_key="secret",
        region_name=REGION,
    )


def request_of(session: boto3.session.Session, service: str, operation: str, **params: Any) -> HttpRequest:
    config = Config(s3={"addressing_style": "path"}, signature_version="s3v4" if service == "s3" else None)
    client = session.client(service, endpoint_url="https://127.0.0.1:8443", config=config)

    def capture(request: Any, **_: Any) -> None:
        raise Captured(request)

    client.meta.events.register("before-send", capture)
    with pytest.raises(Captured) as captured:
        getattr(client, operation)(**params)
    prepared = captured.value.request
    parts = urlsplit(prepared.url)
    body = prepared.body or b""
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode()
    headers = {k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in prepared.headers.items()}
    return HttpRequest(prepared.method, parts.path, parts.query, headers, body)


def plan_of(session: boto3.session.Session, service: str, operation: str, caller: str = DEV, **params: Any) -> ActionPlan:
    request = request_of(session, service, operation, **params)
    return classify(request, service=service, region=REGION, caller_account=caller, directory=FakeDirectory())


def checks_of(plan: ActionPlan) -> list[tuple[str, str, str | None]]:
    return [(check.action, check.resource, check.resource_account) for check in plan.checks]


# --- the S3 table ------------------------------------------------------------------------------------------------


def test_s3_action_table() -> None:
    model = botocore.session.get_session().get_service_model("s3")

    assert set(model.operation_names) <= set(S3_ACTIONS), "every S3 operation needs a row in S3_ACTIONS"
    assert {name: (S3_ACTIONS[name].action, S3_ACTIONS[name].resource) for name in (
        "ListObjects", "ListObjectsV2", "HeadBucket", "HeadObject", "ListBuckets",
        "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "CopyObject", "DeleteObjects",
        "PutBucketPolicy", "GetBucketPolicy", "PutBucketVersioning", "PutBucketEncryption",
        "PutPublicAccessBlock", "PutBucketOwnershipControls",
    )} == {
        "ListObjects": ("s3:ListBucket", "bucket"),
        "ListObjectsV2": ("s3:ListBucket", "bucket"),
        "HeadBucket": ("s3:ListBucket", "bucket"),
        "HeadObject": ("s3:GetObject", "object"),
        "ListBuckets": ("s3:ListAllMyBuckets", "account"),
        "CreateMultipartUpload": ("s3:PutObject", "object"),
        "UploadPart": ("s3:PutObject", "object"),
        "CompleteMultipartUpload": ("s3:PutObject", "object"),
        "CopyObject": ("s3:PutObject", "object"),
        "DeleteObjects": ("s3:DeleteObject", "object"),
        "PutBucketPolicy": ("s3:PutBucketPolicy", "bucket"),
        "GetBucketPolicy": ("s3:GetBucketPolicy", "bucket"),
        "PutBucketVersioning": ("s3:PutBucketVersioning", "bucket"),
        "PutBucketEncryption": ("s3:PutEncryptionConfiguration", "bucket"),
        "PutPublicAccessBlock": ("s3:PutBucketPublicAccessBlock", "bucket"),
        "PutBucketOwnershipControls": ("s3:PutBucketOwnershipControls", "bucket"),
    }
    assert S3_ACTIONS["GetObject"].version_action == "s3:GetObjectVersion"


def test_s3_table_agrees_with_the_permissions_botocore_documents() -> None:
    """Where an operation's documentation names exactly one s3: permission for itself, the table uses it."""
    import re

    model = botocore.session.get_session().get_service_model("s3")
    disagreements = {}
    for name in model.operation_names:
        documented = set(re.findall(r"\bs3:([A-Z][A-Za-z]+)", model.operation_model(name).documentation or ""))
        entry = S3_ACTIONS[name]
        if len(documented) == 1 and entry.action.startswith("s3:"):
            (permission,) = documented
            if permission.lower() != entry.action[3:].lower():
                disagreements[name] = (permission, entry.action)

    assert disagreements == {}


# --- S3 requests -------------------------------------------------------------------------------------------------


def test_list_objects_is_list_bucket_with_the_prefix_in_context(session: boto3.session.Session) -> None:
    plan = plan_of(session, "s3", "list_objects_v2", Bucket="prod-data", Prefix="reports/2026/")

    assert plan.operation == "ListObjectsV2"
    assert checks_of(plan) == [("s3:ListBucket", "arn:aws:s3:::prod-data", PROD)]
    assert plan.checks[0].context["s3:prefix"] == "reports/2026/"


def test_head_object_is_get_object(session: boto3.session.Session) -> None:
    plan = plan_of(session, "s3", "head_object", Bucket="prod-data", Key="a/b c.txt")

    assert checks_of(plan) == [("s3:GetObject", "arn:aws:s3:::prod-data/a/b c.txt", PROD)]


def test_get_object_with_version_is_get_object_version(session: boto3.session.Session) -> None:
    plan = plan_of(session, "s3", "get_object", Bucket="prod-data", Key="k", VersionId="v1")

    assert checks_of(plan) == [("s3:GetObjectVersion", "arn:aws:s3:::prod-data/k", PROD)]


def test_list_buckets_is_list_all_my_buckets_on_star(session: boto3.session.Session) -> None:
    assert checks_of(plan_of(session, "s3", "list_buckets")) == [("s3:ListAllMyBuckets", "*", DEV)]


@pytest.mark.parametrize(
    ("operation", "params", "expected"),
    [
        ("create_multipart_upload", {}, "CreateMultipartUpload"),
        ("upload_part", {"UploadId": "u1", "PartNumber": 1, "Body": b"x"}, "UploadPart"),
        ("complete_multipart_upload", {"UploadId": "u1", "MultipartUpload": {"Parts": []}}, "CompleteMultipartUpload"),
    ],
)
def test_multipart_steps_are_put_object(
    session: boto3.session.Session, operation: str, params: dict[str, Any], expected: str
) -> None:
    plan = plan_of(session, "s3", operation, Bucket="prod-data", Key="big.bin", **params)

    assert plan.operation == expected
    assert checks_of(plan) == [("s3:PutObject", "arn:aws:s3:::prod-data/big.bin", PROD)]


def test_copy_object_checks_the_destination_and_the_source(session: boto3.session.Session) -> None:
    plan = plan_of(
        session, "s3", "copy_object", Bucket="prod-data", Key="copy", CopySource={"Bucket": "dev-src", "Key": "o/k"}
    )

    assert plan.operation == "CopyObject"
    assert checks_of(plan) == [
        ("s3:PutObject", "arn:aws:s3:::prod-data/copy", PROD),
        ("s3:GetObject", "arn:aws:s3:::dev-src/o/k", DEV),
    ]


def test_delete_objects_is_one_delete_object_per_key(session: boto3.session.Session) -> None:
    plan = plan_of(
        session, "s3", "delete_objects", Bucket="prod-data",
        Delete={"Objects": [{"Key": "a"}, {"Key": "b", "VersionId": "v2"}]},
    )

    assert plan.per_item
    assert checks_of(plan) == [
        ("s3:DeleteObject", "arn:aws:s3:::prod-data/a", PROD),
        ("s3:DeleteObjectVersion", "arn:aws:s3:::prod-data/b", PROD),
    ]


@pytest.mark.parametrize(
    ("operation", "params", "action"),
    [
        ("put_bucket_policy", {"Policy": "{}"}, "s3:PutBucketPolicy"),
        ("get_bucket_policy", {}, "s3:GetBucketPolicy"),
        ("put_bucket_versioning", {"VersioningConfiguration": {"Status": "Enabled"}}, "s3:PutBucketVersioning"),
        ("put_bucket_encryption", {"ServerSideEncryptionConfiguration": {"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}}, "s3:PutEncryptionConfiguration"),
        ("put_public_access_block", {"PublicAccessBlockConfiguration": {"BlockPublicAcls": True}},
         "s3:PutBucketPublicAccessBlock"),
        ("put_bucket_ownership_controls", {"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}},
         "s3:PutBucketOwnershipControls"),
        ("get_bucket_acl", {}, "s3:GetBucketAcl"),
        ("put_bucket_tagging", {"Tagging": {"TagSet": []}}, "s3:PutBucketTagging"),
        ("delete_bucket", {}, "s3:DeleteBucket"),
        ("head_bucket", {}, "s3:ListBucket"),
    ],
)
def test_bucket_subresources_map_to_their_actions(
    session: boto3.session.Session, operation: str, params: dict[str, Any], action: str
) -> None:
    plan = plan_of(session, "s3", operation, Bucket="prod-data", **params)

    assert checks_of(plan) == [(action, "arn:aws:s3:::prod-data", PROD)]


def test_put_object_with_acl_also_needs_put_object_acl(session: boto3.session.Session) -> None:
    plan = plan_of(session, "s3", "put_object", Bucket="prod-data", Key="k", Body=b"x",
                   ACL="bucket-owner-full-control", ServerSideEncryption="aws:kms")

    assert [check.action for check in plan.checks] == ["s3:PutObject", "s3:PutObjectAcl"]
    assert plan.checks[0].context["s3:x-amz-acl"] == "bucket-owner-full-control"
    assert plan.checks[0].context["s3:x-amz-server-side-encryption"] == "aws:kms"


def test_bucket_nobody_owns_yet_is_in_the_callers_account(session: boto3.session.Session) -> None:
    plan = plan_of(session, "s3", "create_bucket", Bucket="new-bucket",
                   CreateBucketConfiguration={"LocationConstraint": REGION})

    assert checks_of(plan) == [("s3:CreateBucket", "arn:aws:s3:::new-bucket", DEV)]


# --- STS and IAM -------------------------------------------------------------------------------------------------


def test_assume_role_is_on_the_role_in_its_account_with_external_id(session: boto3.session.Session) -> None:
    role_arn = f"arn:aws:iam::{PROD}:role/deploy/writer"
    plan = plan_of(session, "sts", "assume_role", RoleArn=role_arn, RoleSessionName="ci", ExternalId="x-1")

    assert checks_of(plan) == [("sts:AssumeRole", role_arn, PROD)]
    assert plan.checks[0].context == {"sts:RoleSessionName": "ci", "sts:ExternalId": "x-1"}


def test_assume_role_without_external_id_has_no_external_id_key(session: boto3.session.Session) -> None:
    plan = plan_of(session, "sts", "assume_role", RoleArn=f"arn:aws:iam::{PROD}:role/r", RoleSessionName="ci")

    assert "sts:ExternalId" not in plan.checks[0].context


def test_get_caller_identity_is_on_star(session: boto3.session.Session) -> None:
    assert checks_of(plan_of(session, "sts", "get_caller_identity")) == [("sts:GetCallerIdentity", "*", DEV)]


@pytest.mark.parametrize(
    ("operation", "params", "resource"),
    [
        ("create_role", {"RoleName": "app", "Path": "/svc/", "AssumeRolePolicyDocument": "{}"},
         f"arn:aws:iam::{DEV}:role/svc/app"),
        ("get_role", {"RoleName": "app"}, f"arn:aws:iam::{DEV}:role/deploy/app"),
        ("put_role_policy", {"RoleName": "app", "PolicyName": "p", "PolicyDocument": "{}"},
         f"arn:aws:iam::{DEV}:role/deploy/app"),
        ("create_user", {"UserName": "ci"}, f"arn:aws:iam::{DEV}:user/ci"),
        ("add_user_to_group", {"UserName": "ci", "GroupName": "ops"}, f"arn:aws:iam::{DEV}:group/ops"),
        ("create_policy", {"PolicyName": "p", "PolicyDocument": "{}"}, f"arn:aws:iam::{DEV}:policy/p"),
        ("delete_policy", {"PolicyArn": f"arn:aws:iam::{DEV}:policy/p"}, f"arn:aws:iam::{DEV}:policy/p"),
        ("list_roles", {}, "*"),
    ],
)
def test_iam_resources_are_arns_in_the_callers_account(
    session: boto3.session.Session, operation: str, params: dict[str, Any], resource: str
) -> None:
    plan = plan_of(session, "iam", operation, **params)

    assert [(check.resource, check.resource_account) for check in plan.checks] == [(resource, DEV)]


def test_iam_calls_on_the_callers_own_user_are_on_that_user(session: boto3.session.Session) -> None:
    request = request_of(session, "iam", "create_access_key")
    me = f"arn:aws:iam::{DEV}:user/ci"

    plan = classify(request, service="iam", region=REGION, caller_account=DEV, directory=FakeDirectory(),
                    caller_arn=me)

    assert checks_of(plan) == [("iam:CreateAccessKey", me, DEV)]


def test_attach_role_policy_names_the_policy_in_context(session: boto3.session.Session) -> None:
    policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    plan = plan_of(session, "iam", "attach_role_policy", RoleName="app", PolicyArn=policy_arn)

    assert checks_of(plan) == [("iam:AttachRolePolicy", f"arn:aws:iam::{DEV}:role/deploy/app", DEV)]
    assert plan.checks[0].context["iam:PolicyARN"] == policy_arn


# --- JSON protocol and Lambda ------------------------------------------------------------------------------------


def test_logs_actions_are_on_the_log_group(session: boto3.session.Session) -> None:
    group = "/aws/lambda/writer"
    base = f"arn:aws:logs:{REGION}:{DEV}:log-group:{group}"

    create = plan_of(session, "logs", "create_log_group", logGroupName=group)
    put = plan_of(session, "logs", "put_log_events", logGroupName=group, logStreamName="s1",
                  logEvents=[{"timestamp": 1, "message": "m"}])

    assert checks_of(create) == [("logs:CreateLogGroup", f"{base}:log-stream:", DEV)]
    assert checks_of(put) == [("logs:PutLogEvents", f"{base}:log-stream:s1", DEV)]


def test_lambda_invoke_is_invoke_function_on_the_function(session: boto3.session.Session) -> None:
    by_name = plan_of(session, "lambda", "invoke", FunctionName="writer", Payload=b"{}")
    by_arn = plan_of(session, "lambda", "invoke", FunctionName=f"arn:aws:lambda:{REGION}:{PROD}:function:writer:live")

    assert checks_of(by_name) == [("lambda:InvokeFunction", f"arn:aws:lambda:{REGION}:{DEV}:function:writer", DEV)]
    assert checks_of(by_arn) == [
        ("lambda:InvokeFunction", f"arn:aws:lambda:{REGION}:{PROD}:function:writer:live", PROD)
    ]


def test_lambda_create_function_also_passes_the_role(session: boto3.session.Session) -> None:
    role = f"arn:aws:iam::{DEV}:role/fn"
    plan = plan_of(session, "lambda", "create_function", FunctionName="writer", Runtime="python3.12", Role=role,
                   Handler="h.handler", Code={"ZipFile": b"zip"})

    assert checks_of(plan) == [
        ("lambda:CreateFunction", f"arn:aws:lambda:{REGION}:{DEV}:function:writer", DEV),
        ("iam:PassRole", role, DEV),
    ]
    assert plan.checks[1].context == {"iam:PassedToService": "lambda.amazonaws.com"}


def test_lambda_target_reads_names_partial_arns_and_qualifiers() -> None:
    assert lambda_target("fn:prod", None, REGION, DEV).arn == f"arn:aws:lambda:{REGION}:{DEV}:function:fn:prod"
    assert lambda_target(f"{PROD}:function:fn", None, REGION, DEV).account == PROD
    assert lambda_target("fn", "3", REGION, DEV).qualifier == "3"


# --- what a request may not carry ------------------------------------------------------------------------------------


def classify_raw(service: str, method: str, path: str, query: str = "", body: bytes = b"") -> ActionPlan:
    request = HttpRequest(method, path, query, {"content-type": "application/x-www-form-urlencoded"}, body)
    return classify(request, service=service, region=REGION, caller_account=DEV, directory=FakeDirectory())


def test_an_action_the_service_does_not_have_is_unknown() -> None:
    """Common errors (CommonErrors.html): InvalidAction, "The action or operation requested is invalid"."""
    with pytest.raises(UnknownOperation):
        classify_raw("iam", "POST", "/", body=b"Action=DeleteEverything&Version=2010-05-08")


def test_a_second_resource_parameter_is_refused_not_chosen_between() -> None:
    with pytest.raises(UnexpectedParameter) as raised:
        classify_raw("iam", "POST", "/", body=b"Action=ListAttachedRolePolicies&RoleName=app&UserName=admin")
    assert (raised.value.name, raised.value.names_resource) == ("UserName", True)


def test_combined_s3_sub_resources_are_refused() -> None:
    with pytest.raises(UnexpectedParameter) as raised:
        classify_raw("s3", "POST", "/dev-bucket/key", "uploads=&restore=")
    assert raised.value.operation == "CreateMultipartUpload" and raised.value.name == "restore"


def test_sdk_requests_carry_only_what_their_operation_defines(session: boto3.session.Session) -> None:
    plan = plan_of(session, "s3", "create_multipart_upload", Bucket="dev-bucket", Key="k", Tagging="a=b")
    assert plan.operation == "CreateMultipartUpload"
    plan = plan_of(session, "iam", "list_attached_role_policies", RoleName="app", PathPrefix="/")
    assert plan.operation == "ListAttachedRolePolicies"
