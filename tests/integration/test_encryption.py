"""SSE-KMS across accounts (README "Encryption"): the committed prod bucket encrypts with a key of its own, that only
the grants' roles (for what their access needs) and the key users may use, through S3 only. Each refusal is
checked twice: the request is refused, and nothing was written.

AWS's pages: UsingKMSEncryption.html (the KMS calls S3 makes as the requester: GenerateDataKey for a write, Decrypt
for a read), key-policies.html (a key policy must allow every use; the account principal delegates to IAM),
key-policy-modifying-external-accounts.html (another account needs both the key policy and its own identity
policy), bucket-key.html (the encryption context is the bucket's ARN with S3 Bucket Keys), API_PutObject.html (the
encryption headers a write may send).
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Generator
from typing import Any

import pytest

from localcloud_pulumi.workspace import Workspace
from offline.stacks import DATA_STACK
from tests.integration.conftest import (
    READER_STACK,
    WRITER_STACK,
    DeployedGrant,
    assert_denied,
    invoke_consumer,
    recycle_workers,
)

pytestmark = pytest.mark.integration


def key_arn(workspace: Workspace) -> str:
    return workspace.output(DATA_STACK, "kmsKeyArn")


def writer_event() -> dict[str, str]:
    return {"key": f"tests/{uuid.uuid4()}.txt", "body": "encrypted with the bucket's key"}


@contextlib.contextmanager
def role_policy_without(workspace: Workspace, grant: DeployedGrant, sid: str) -> Generator[None]:
    """The grant role's bucket-access policy without statement ``sid``, for the block; then as deployed."""
    iam = workspace.cloud.client("iam", DATA_STACK)
    name = "bucket-access"
    saved = iam.get_role_policy(RoleName=grant.role_name, PolicyName=name)["PolicyDocument"]
    document = json.loads(saved) if isinstance(saved, str) else saved
    narrowed = {**document, "Statement": [s for s in document["Statement"] if s.get("Sid") != sid]}
    assert narrowed["Statement"] != document["Statement"], f"no statement {sid}"
    iam.put_role_policy(RoleName=grant.role_name, PolicyName=name, PolicyDocument=json.dumps(narrowed))
    try:
        yield
    finally:
        iam.put_role_policy(RoleName=grant.role_name, PolicyName=name, PolicyDocument=json.dumps(document))


@contextlib.contextmanager
def key_policy_without(workspace: Workspace, sid: str) -> Generator[None]:
    """The bucket key's policy without statement ``sid``, for the block (the prod account administers the key
    through IAM: its KeyAdministration statement); then as deployed."""
    kms = workspace.cloud.client("kms", DATA_STACK)
    saved = json.loads(kms.get_key_policy(KeyId=key_arn(workspace), PolicyName="default")["Policy"])
    narrowed = {**saved, "Statement": [s for s in saved["Statement"] if s.get("Sid") != sid]}
    assert narrowed["Statement"] != saved["Statement"], f"no statement {sid}"
    kms.put_key_policy(KeyId=key_arn(workspace), PolicyName="default", Policy=json.dumps(narrowed))
    try:
        yield
    finally:
        kms.put_key_policy(KeyId=key_arn(workspace), PolicyName="default", Policy=json.dumps(saved))


def test_the_writer_writes_with_the_bucket_key_and_the_reader_decrypts_it(workspace, prod_s3, bucket, dev_writer):
    status, written = invoke_consumer(workspace, WRITER_STACK, writer_event())
    assert status == 200, written
    head = prod_s3.head_object(Bucket=bucket, Key=written["key"])
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"], head["BucketKeyEnabled"]) == (
        "aws:kms", key_arn(workspace), True)
    status, read = invoke_consumer(workspace, READER_STACK, {"key": written["key"][len(dev_writer.key_prefix):]})
    assert (status, read["body"]) == (200, "encrypted with the bucket's key"), read


@pytest.mark.parametrize("consumer, grant_name", [(WRITER_STACK, "dev-writer"), (READER_STACK, "analytics-reader")])
def test_a_grant_role_without_its_kms_permission_is_refused_and_nothing_is_written(
        workspace, grant, prod_s3, bucket, bucket_unchanged, consumer, grant_name):
    deployed = grant(grant_name)
    event = writer_event() if deployed.writes else {"key": readable(prod_s3, bucket, deployed)}
    with role_policy_without(workspace, deployed, "UseBucketKeyThroughS3"), bucket_unchanged():
        recycle_workers(workspace, consumer)
        status, body = invoke_consumer(workspace, consumer, event)
    assert (status, body["error"]) == (403, "AccessDenied"), body
    # The S3 call was allowed; the KMS call S3 makes as the role was not.
    action = "kms:GenerateDataKey" if deployed.writes else "kms:Decrypt"
    assert workspace.cloud.gate.decisions_for(action)[-1].allowed is False
    recycle_workers(workspace, consumer)
    assert invoke_consumer(workspace, consumer, writer_event() if deployed.writes else event)[0] == 200


def readable(prod_s3: Any, bucket: str, grant: DeployedGrant) -> str:
    """A key relative to the grant's prefix that the prod deployer (a key user) put there, for a reader."""
    relative = f"tests/{uuid.uuid4()}.txt"
    prod_s3.put_object(Bucket=bucket, Key=grant.key_prefix + relative, Body=b"to decrypt")
    return relative


def test_a_key_policy_without_the_grants_role_refuses_it_though_its_own_policy_allows(
        workspace, dev_writer, bucket_unchanged):
    # The key policy delegates no use to IAM: without GrantDevWriter, the role's identity policy alone is not enough.
    with key_policy_without(workspace, "GrantDevWriter"), bucket_unchanged():
        recycle_workers(workspace, WRITER_STACK)
        status, body = invoke_consumer(workspace, WRITER_STACK, writer_event())
    assert (status, body["error"]) == (403, "AccessDenied"), body
    recycle_workers(workspace, WRITER_STACK)
    assert invoke_consumer(workspace, WRITER_STACK, writer_event())[0] == 200


def test_the_dev_deployer_cannot_use_the_key_directly(workspace):
    kms = workspace.cloud.client("kms", WRITER_STACK)
    assert_denied(lambda: kms.generate_data_key(KeyId=key_arn(workspace), KeySpec="AES_256"),
                  "AccessDeniedException")
    assert_denied(lambda: kms.encrypt(KeyId=key_arn(workspace), Plaintext=b"x"), "AccessDeniedException")


def test_not_even_a_prod_administrator_outside_the_key_users_can_read_an_object(workspace, prod_s3, bucket,
                                                                                dev_writer):
    key = dev_writer.key()
    prod_s3.put_object(Bucket=bucket, Key=key, Body=b"for the grants and key users only")
    iam = workspace.cloud.client("iam", DATA_STACK)
    name = f"admin-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="everything", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*", "kms:*"], "Resource": "*"}]}))
    access = iam.create_access_key(UserName=name)["AccessKey"]
    admin = workspace.cloud.client("s3", credentials={"aws_access_key_id": access["AccessKeyId"],
                                                      "aws_secret_access_key": access["SecretAccessKey"]})
    try:
        assert admin.list_objects_v2(Bucket=bucket, Prefix=dev_writer.key_prefix)["KeyCount"] >= 1  # S3 allows it
        denied = assert_denied(lambda: admin.get_object(Bucket=bucket, Key=key))
        assert "kms:Decrypt" in denied.response["Error"]["Message"]
    finally:
        iam.delete_access_key(UserName=name, AccessKeyId=access["AccessKeyId"])
        iam.delete_user_policy(UserName=name, PolicyName="everything")
        iam.delete_user(UserName=name)


@pytest.mark.parametrize("encryption", [
    pytest.param({"ServerSideEncryption": "AES256"}, id="sse-s3"),
    pytest.param({"ServerSideEncryption": "aws:kms"}, id="aws-managed-key"),
    pytest.param({"ServerSideEncryption": "aws:kms",
                  "SSEKMSKeyId": "arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-4000-8000-000000000000"},
                 id="another-key"),
])
def test_a_write_asking_for_another_encryption_is_refused_by_the_bucket_policy(
        role_session, dev_writer, bucket, bucket_unchanged, encryption):
    s3 = role_session(dev_writer)
    with bucket_unchanged():
        assert_denied(lambda: s3.put_object(Bucket=bucket, Key=dev_writer.key(), Body=b"x", **encryption))


@pytest.mark.parametrize("encryption", [
    pytest.param({}, id="the-default"),
    pytest.param({"ServerSideEncryption": "aws:kms"}, id="kms-and-the-key", marks=()),
])
def test_a_write_relying_on_the_default_or_naming_the_bucket_key_passes(workspace, role_session, dev_writer,
                                                                        prod_s3, bucket, encryption):
    if encryption:
        encryption = encryption | {"SSEKMSKeyId": key_arn(workspace)}
    key = dev_writer.key()
    role_session(dev_writer).put_object(Bucket=bucket, Key=key, Body=b"x", **encryption)
    assert prod_s3.head_object(Bucket=bucket, Key=key)["SSEKMSKeyId"] == key_arn(workspace)
