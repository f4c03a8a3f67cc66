"""S3 with SSE-KMS through the gate: the KMS calls S3 makes for the caller, authorized as the caller, after the s3:
checks, recorded like every other decision, and objects stored with the key that was authorized.

Pages (Amazon S3 User Guide unless said otherwise): UsingKMSEncryption.html (kms:GenerateDataKey to upload,
kms:Decrypt to download, the encryption context), mpuoverview.html and the S3 API Reference's CreateMultipartUpload,
UploadPart and HeadObject "Permissions" (as botocore's s3 model carries them), bucket-key.html and
configuring-bucket-key-object.html (S3 Bucket Keys), bucket-encryption.html (cross-account), API_PutObject.html
(SSEKMSKeyId), KMS Developer Guide conditions-kms.html and key-state.html. Accounts: prod owns buckets and keys.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud.server import LocalCloud
from localcloud_testing.builders import DEV, PROD, REGION, Builder, allow, unique
from localcloud_testing.kms import DEFAULT_STATEMENT, DEV_ROOT

VIA_S3 = f"s3.{REGION}.amazonaws.com"


pytestmark = pytest.mark.usefixtures("no_reading_mismatch")


def error_of(raised: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    error = raised.value.response["Error"]
    return raised.value.response["ResponseMetadata"]["HTTPStatusCode"], str(error["Code"]), str(error.get("Message"))


def s3_of(cloud: LocalCloud, credentials: Mapping[str, str] | None = None, account: str = "prod") -> Any:
    return cloud.client("s3", account, credentials=credentials)


def kms_bucket(build: Builder, key: str, *, bucket_key: bool = False) -> str:
    """A prod bucket whose default encryption is SSE-KMS with ``key``."""
    bucket = build.bucket("prod")
    s3_of(build.cloud).put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key},
        "BucketKeyEnabled": bucket_key}]})
    return bucket


def let_dev_write(cloud: LocalCloud, bucket: str) -> None:
    """A bucket policy letting dev's principals put objects (reference_policies_evaluation-logic-cross-account.html:
    the bucket's account must allow them)."""
    s3_of(cloud).put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": DEV_ROOT}, "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{bucket}/*"}]}))


def objects_of(cloud: LocalCloud, bucket: str) -> list[str]:
    return [item["Key"] for item in s3_of(cloud).list_objects_v2(Bucket=bucket).get("Contents", [])]


def decision(cloud: LocalCloud, action: str) -> Any:
    assert cloud.gate is not None
    return cloud.gate.decisions_for(action)[-1]


def user_arn(account: str, name: str) -> str:
    return f"arn:aws:iam::{account}:user/{name}"


# --- Writes need kms:GenerateDataKey, reads kms:Decrypt (UsingKMSEncryption.html, "Permissions") -----------------


def test_put_object_with_the_bucket_default_key(cloud: LocalCloud, build: Builder) -> None:
    """The bucket's default SSE-KMS key encrypts the object; the writer needs kms:GenerateDataKey on it, asked as
    S3 asks: through S3 (kms:ViaService), from the writer's account, for the object's ARN; S3 answers with the key's
    ARN."""
    key = build.key("prod")
    bucket = kms_bucket(build, key)
    _, writer = build.user("prod", [allow("s3:PutObject", f"arn:aws:s3:::{bucket}/*"), allow("kms:GenerateDataKey", key)])
    answer = s3_of(cloud, writer).put_object(Bucket=bucket, Key="a.csv", Body=b"data")
    assert (answer["ServerSideEncryption"], answer["SSEKMSKeyId"]) == ("aws:kms", key)
    made = decision(cloud, "kms:GenerateDataKey")
    assert (made.resource, made.allowed, made.operation) == (key, True, "PutObject")
    assert made.context["kms:ViaService"] == VIA_S3 and made.context["kms:CallerAccount"] == PROD
    assert made.context["kms:EncryptionContext:aws:s3:arn"] == f"arn:aws:s3:::{bucket}/a.csv"
    assert made.context["aws:ViaAWSService"] == "true" and "s3:signatureversion" not in made.context
    head = s3_of(cloud).head_object(Bucket=bucket, Key="a.csv")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key)


def test_put_object_without_generate_data_key_writes_nothing(cloud: LocalCloud, build: Builder) -> None:
    """Without kms:GenerateDataKey the upload is S3's 403 AccessDenied with KMS's message, and nothing is written."""
    key = build.key("prod")
    bucket = kms_bucket(build, key)
    name, writer = build.user("prod", [allow("s3:PutObject", f"arn:aws:s3:::{bucket}/*")])
    with pytest.raises(ClientError) as raised:
        s3_of(cloud, writer).put_object(Bucket=bucket, Key="a.csv", Body=b"data")
    assert error_of(raised) == (403, "AccessDenied", f"User: {user_arn(PROD, name)} is not authorized to perform: "
                                f"kms:GenerateDataKey on resource: {key} because no identity-based policy allows the "
                                "kms:GenerateDataKey action")
    assert objects_of(cloud, bucket) == []
    assert decision(cloud, "s3:PutObject").allowed  # the s3: check came first, and allowed


def test_get_object_needs_decrypt_and_head_object_does_not(cloud: LocalCloud, build: Builder) -> None:
    """UsingKMSEncryption.html: "To download an object encrypted with an AWS KMS key, you need kms:Decrypt"; the
    HeadObject API reference asks only s3:GetObject of a general purpose bucket."""
    key = build.key("prod")
    bucket = kms_bucket(build, key)
    s3_of(cloud).put_object(Bucket=bucket, Key="a.csv", Body=b"data")
    name, reader = build.user("prod", [allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*")])
    assert s3_of(cloud, reader).head_object(Bucket=bucket, Key="a.csv")["SSEKMSKeyId"] == key
    with pytest.raises(ClientError) as raised:
        s3_of(cloud, reader).get_object(Bucket=bucket, Key="a.csv")
    assert error_of(raised)[2] == (f"User: {user_arn(PROD, name)} is not authorized to perform: kms:Decrypt on "
                                   f"resource: {key} because no identity-based policy allows the kms:Decrypt action")
    _, decrypter = build.user("prod", [allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*"), allow("kms:Decrypt", key)])
    assert s3_of(cloud, decrypter).get_object(Bucket=bucket, Key="a.csv")["Body"].read() == b"data"
    assert decision(cloud, "kms:Decrypt").context["kms:EncryptionContext:aws:s3:arn"] == f"arn:aws:s3:::{bucket}/a.csv"


def test_a_read_the_key_policy_refuses_names_no_key(cloud: LocalCloud, build: Builder) -> None:
    """A key policy that leaves the reader out: S3 passes on KMS's answer for the data key it decrypts, "on the
    resource associated with this ciphertext" (KMS's wording as callers report it)."""
    name, reader = build.user("prod", [allow(["s3:GetObject", "kms:*"], "*")])
    key = build.key("prod", [DEFAULT_STATEMENT, {"Effect": "Deny", "Principal": {"AWS": user_arn(PROD, name)},
                                                 "Action": "kms:Decrypt", "Resource": "*"}])
    bucket = kms_bucket(build, key)
    s3_of(cloud).put_object(Bucket=bucket, Key="a.csv", Body=b"data")
    with pytest.raises(ClientError) as raised:
        s3_of(cloud, reader).get_object(Bucket=bucket, Key="a.csv")
    assert "kms:Decrypt on the resource associated with this ciphertext because" in error_of(raised)[2]


def test_copy_object_needs_decrypt_on_the_source_and_generate_data_key_on_the_destination(
        cloud: LocalCloud, build: Builder) -> None:
    """CopyObject reads the source (kms:Decrypt on its key) and writes the destination (kms:GenerateDataKey on the
    destination bucket's default key: API_CopyObject.html, ServerSideEncryption)."""
    source_key, destination_key = build.key("prod"), build.key("prod")
    source, destination = kms_bucket(build, source_key), kms_bucket(build, destination_key)
    s3_of(cloud).put_object(Bucket=source, Key="a.csv", Body=b"data")
    s3_allowed = allow(["s3:GetObject", "s3:PutObject"], "*")
    _, no_decrypt = build.user("prod", [s3_allowed, allow("kms:GenerateDataKey", destination_key)])
    _, both = build.user("prod", [s3_allowed, allow("kms:GenerateDataKey", destination_key),
                                  allow("kms:Decrypt", source_key)])
    copy = {"Bucket": destination, "Key": "b.csv", "CopySource": {"Bucket": source, "Key": "a.csv"}}
    with pytest.raises(ClientError) as raised:
        s3_of(cloud, no_decrypt).copy_object(**copy)
    assert f"kms:Decrypt on resource: {source_key}" in error_of(raised)[2]
    assert objects_of(cloud, destination) == []
    s3_of(cloud, both).copy_object(**copy)
    assert s3_of(cloud).head_object(Bucket=destination, Key="b.csv")["SSEKMSKeyId"] == destination_key


def test_multipart_uploads_need_generate_data_key_then_decrypt(cloud: LocalCloud, build: Builder) -> None:
    """CreateMultipartUpload API reference: "The requester must also have permissions for the kms:GenerateDataKey
    action for the CreateMultipartUpload API. Then, the requester needs permissions for the kms:Decrypt action on
    the UploadPart and UploadPartCopy APIs" (mpuoverview.html: both, for a multipart upload with a KMS key)."""
    key = build.key("prod")
    bucket = kms_bucket(build, key, bucket_key=True)
    _, generate_only = build.user("prod", [allow("s3:PutObject", "*"), allow("kms:GenerateDataKey", key)])
    _, both = build.user("prod", [allow("s3:PutObject", "*"), allow(["kms:GenerateDataKey", "kms:Decrypt"], key)])
    upload = s3_of(cloud, generate_only).create_multipart_upload(Bucket=bucket, Key="big.bin")
    assert (upload["SSEKMSKeyId"], upload["BucketKeyEnabled"]) == (key, True)
    with pytest.raises(ClientError) as raised:
        s3_of(cloud, generate_only).upload_part(Bucket=bucket, Key="big.bin", UploadId=upload["UploadId"],
                                                PartNumber=1, Body=b"x" * 10)
    assert "kms:Decrypt" in error_of(raised)[2]
    part = s3_of(cloud, both).upload_part(Bucket=bucket, Key="big.bin", UploadId=upload["UploadId"], PartNumber=1,
                                         Body=b"x" * 10)
    assert decision(cloud, "kms:Decrypt").context["kms:EncryptionContext:aws:s3:arn"] == f"arn:aws:s3:::{bucket}"
    done = s3_of(cloud, both).complete_multipart_upload(
        Bucket=bucket, Key="big.bin", UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]})
    assert (done["SSEKMSKeyId"], done["BucketKeyEnabled"]) == (key, True)


def test_upload_part_copy_needs_decrypt_on_the_source_and_the_upload(cloud: LocalCloud, build: Builder) -> None:
    """UploadPartCopy API reference: kms:Decrypt on the upload's key ("the requester needs permissions for the
    kms:Decrypt action on the UploadPart and UploadPartCopy APIs") and, as any copy, on the source object's key."""
    source_key, upload_key = build.key("prod"), build.key("prod")
    source, bucket = kms_bucket(build, source_key), kms_bucket(build, upload_key)
    s3_of(cloud).put_object(Bucket=source, Key="a", Body=b"data")
    s3_allowed = allow(["s3:GetObject", "s3:PutObject"], "*")
    _, upload_only = build.user("prod", [s3_allowed, allow(["kms:GenerateDataKey", "kms:Decrypt"], upload_key)])
    upload = s3_of(cloud, upload_only).create_multipart_upload(Bucket=bucket, Key="m")
    with pytest.raises(ClientError) as raised:
        s3_of(cloud, upload_only).upload_part_copy(Bucket=bucket, Key="m", UploadId=upload["UploadId"], PartNumber=1,
                                                   CopySource={"Bucket": source, "Key": "a"})
    assert f"kms:Decrypt on resource: {source_key}" in error_of(raised)[2]
    s3_of(cloud).upload_part_copy(Bucket=bucket, Key="m", UploadId=upload["UploadId"], PartNumber=1,
                                  CopySource={"Bucket": source, "Key": "a"})
    assert cloud.gate is not None
    assert {d.resource for d in cloud.gate.decisions
            if d.operation == "UploadPartCopy" and d.action == "kms:Decrypt"} == {source_key, upload_key}


# --- Another account (bucket-encryption.html, key-policy-modifying-external-accounts.html) -----------------------


def test_a_cross_account_writer_needs_the_key_policy_and_its_identity_policy(cloud: LocalCloud,
                                                                             build: Builder) -> None:
    """A dev user writing into prod's bucket encrypted with prod's key: the bucket policy, the key policy naming
    dev, and dev's own identity policy for both s3:PutObject and kms:GenerateDataKey."""
    shared = build.key("prod", [DEFAULT_STATEMENT, {"Effect": "Allow", "Principal": {"AWS": DEV_ROOT},
                                                    "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*"}])
    private = build.key("prod")
    bucket = kms_bucket(build, shared)
    let_dev_write(cloud, bucket)
    _, allowed = build.user("dev", [allow("s3:PutObject", "*"), allow("kms:GenerateDataKey", [shared, private])])
    name, without_kms = build.user("dev", [allow("s3:PutObject", "*")])
    s3_of(cloud, allowed, "dev").put_object(Bucket=bucket, Key="a.csv", Body=b"x")
    assert decision(cloud, "kms:GenerateDataKey").context["kms:CallerAccount"] == DEV
    with pytest.raises(ClientError) as raised:
        s3_of(cloud, without_kms, "dev").put_object(Bucket=bucket, Key="b.csv", Body=b"x")
    assert "because no identity-based policy allows the kms:GenerateDataKey action" in error_of(raised)[2]
    with pytest.raises(ClientError) as raised:
        s3_of(cloud, allowed, "dev").put_object(Bucket=bucket, Key="c.csv", Body=b"x", ServerSideEncryption="aws:kms",
                                                SSEKMSKeyId=private)
    assert error_of(raised)[2].endswith("kms:GenerateDataKey on this resource because the resource does not exist "
                                        "in this Region, no resource-based policies allow access, or a resource-based "
                                        "policy explicitly denies access")
    assert objects_of(cloud, bucket) == ["a.csv"]


def test_a_key_id_or_alias_name_resolves_in_the_requesters_account(cloud: LocalCloud, build: Builder) -> None:
    """API_PutBucketEncryption.html, KMSMasterKeyID: "If you use a KMS key alias instead, then KMS resolves the key
    within the requester's account": dev writing into a bucket whose default names prod's alias by name finds no
    such alias in dev (S3 passes KMS's NotFoundException on), after the s3: checks allowed."""
    alias = unique("data")
    build.key("prod", alias=alias)
    bucket = kms_bucket(build, f"alias/{alias}")
    let_dev_write(cloud, bucket)
    with pytest.raises(ClientError) as raised:
        s3_of(cloud, account="dev").put_object(Bucket=bucket, Key="a.csv", Body=b"x")
    assert error_of(raised) == (400, "KMS.NotFoundException",
                                f"Alias arn:aws:kms:{REGION}:{DEV}:alias/{alias} is not found.")
    s3_of(cloud).put_object(Bucket=bucket, Key="a.csv", Body=b"x")  # prod's own writer finds prod's alias


# --- Which key (API_PutObject.html, SSEKMSKeyId; configuring-bucket-key-object.html) ----------------------------


def test_the_request_header_key_and_the_aws_managed_key(cloud: LocalCloud, build: Builder) -> None:
    """x-amz-server-side-encryption-aws-kms-key-id names the key (here by alias); aws:kms without it is the AWS
    managed key aws/s3, which any principal of the account may use through S3."""
    alias = unique("header")
    key = build.key("prod", alias=alias)
    bucket = build.bucket("prod")
    s3 = s3_of(cloud)
    named = s3.put_object(Bucket=bucket, Key="a", Body=b"x", ServerSideEncryption="aws:kms",
                          SSEKMSKeyId=f"alias/{alias}")
    assert named["SSEKMSKeyId"] == key
    _, writer = build.user("prod", [allow("s3:PutObject", "*")])
    managed = s3_of(cloud, writer).put_object(Bucket=bucket, Key="b", Body=b"x", ServerSideEncryption="aws:kms")
    aws_s3 = cloud.client("kms", "prod").describe_key(KeyId="alias/aws/s3")["KeyMetadata"]["Arn"]
    assert managed["SSEKMSKeyId"] == aws_s3
    assert decision(cloud, "kms:GenerateDataKey").resource == aws_s3


def test_the_aws_managed_key_of_another_account_is_refused(cloud: LocalCloud, build: Builder) -> None:
    """bucket-encryption.html documents aws/s3 for principals of the key's own account only; which account's key
    another account's writer would get is not documented, so localcloud refuses rather than guess."""
    bucket = build.bucket("prod")
    let_dev_write(cloud, bucket)
    with pytest.raises(ClientError) as raised:
        s3_of(cloud, account="dev").put_object(Bucket=bucket, Key="a", Body=b"x", ServerSideEncryption="aws:kms")
    assert error_of(raised)[1] == "NotImplemented"


def test_s3_bucket_keys_make_the_bucket_arn_the_context(cloud: LocalCloud, build: Builder) -> None:
    """bucket-key.html: "S3 Bucket Keys use the bucket ARN as encryption context"; a request header turns the Bucket
    Key off for its object (configuring-bucket-key-object.html), which then has the object ARN."""
    key = build.key("prod")
    bucket = kms_bucket(build, key, bucket_key=True)
    s3 = s3_of(cloud)
    assert s3.put_object(Bucket=bucket, Key="a", Body=b"x")["BucketKeyEnabled"] is True
    assert decision(cloud, "kms:GenerateDataKey").context["kms:EncryptionContext:aws:s3:arn"] == f"arn:aws:s3:::{bucket}"
    s3.put_object(Bucket=bucket, Key="b", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=key,
                  BucketKeyEnabled=False)
    assert decision(cloud, "kms:GenerateDataKey").context["kms:EncryptionContext:aws:s3:arn"] == \
        f"arn:aws:s3:::{bucket}/b"
    s3.get_object(Bucket=bucket, Key="a")
    assert decision(cloud, "kms:Decrypt").context["kms:EncryptionContext:aws:s3:arn"] == f"arn:aws:s3:::{bucket}"


def test_the_requests_encryption_context_is_kept_for_reads(cloud: LocalCloud, build: Builder) -> None:
    """API_PutObject.html, SSEKMSEncryptionContext: "This value is stored as object metadata and automatically gets
    passed on to AWS KMS for future GetObject operations on this object"; S3 adds aws:s3:arn to it."""
    key = build.key("prod")
    bucket = build.bucket("prod")
    context = base64.b64encode(json.dumps({"Project": "lake"}).encode()).decode()
    s3 = s3_of(cloud)
    s3.put_object(Bucket=bucket, Key="a", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=key,
                  SSEKMSEncryptionContext=context)
    assert decision(cloud, "kms:GenerateDataKey").context["kms:EncryptionContextKeys"] == ["Project", "aws:s3:arn"]
    s3.get_object(Bucket=bucket, Key="a")
    assert decision(cloud, "kms:Decrypt").context["kms:EncryptionContext:Project"] == "lake"


def test_a_key_policy_can_allow_only_through_s3(cloud: LocalCloud, build: Builder) -> None:
    """conditions-kms.html, kms:ViaService: a user the key policy allows only via S3 may upload, but not call
    GenerateDataKey directly."""
    name, user = build.user("prod", [allow("s3:PutObject", "*")])
    key = build.key("prod", [DEFAULT_STATEMENT, {"Effect": "Allow", "Principal": {"AWS": user_arn(PROD, name)},
                                                 "Action": "kms:GenerateDataKey", "Resource": "*",
                                                 "Condition": {"StringEquals": {"kms:ViaService": VIA_S3}}}])
    bucket = kms_bucket(build, key)
    s3_of(cloud, user).put_object(Bucket=bucket, Key="a", Body=b"x")
    with pytest.raises(ClientError):
        cloud.client("kms", "prod", credentials=user).generate_data_key(KeyId=key, KeySpec="AES_256")


# --- KMS's refusals, passed on by S3 (key-state.html) ------------------------------------------------------------


def test_a_disabled_key_and_a_key_pending_deletion_write_nothing(cloud: LocalCloud, build: Builder) -> None:
    """key-state.html: GenerateDataKey fails on a disabled key ("<key ARN> is disabled.") and on one pending
    deletion ("<key ARN> is pending deletion."); S3 answers KMS.DisabledException and KMS.KMSInvalidStateException."""
    key = build.key("prod")
    bucket = kms_bucket(build, key)
    s3_of(cloud).put_object(Bucket=bucket, Key="before", Body=b"x")
    kms = cloud.client("kms", "prod")
    kms.disable_key(KeyId=key)
    with pytest.raises(ClientError) as raised:
        s3_of(cloud).put_object(Bucket=bucket, Key="a", Body=b"x")
    assert error_of(raised) == (400, "KMS.DisabledException", f"{key} is disabled.")
    kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    with pytest.raises(ClientError) as raised:
        s3_of(cloud).get_object(Bucket=bucket, Key="before")
    assert error_of(raised) == (400, "KMS.KMSInvalidStateException", f"{key} is pending deletion.")
    assert objects_of(cloud, bucket) == ["before"]


def test_a_key_that_does_not_exist_or_is_of_another_region(cloud: LocalCloud, build: Builder) -> None:
    """UsingKMSEncryption.html: "the AWS KMS keys must be in the same Region as the bucket"; a default naming no key
    fails as KMS fails (KMS.NotFoundException)."""
    key = build.key("prod")
    bucket = build.bucket("prod")
    s3 = s3_of(cloud)
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=bucket, Key="a", Body=b"x", ServerSideEncryption="aws:kms",
                      SSEKMSKeyId=key.replace(REGION, "us-east-1"))
    assert error_of(raised) == (400, "KMS.NotFoundException", "Invalid arn us-east-1")
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=bucket, Key="a", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId="aws/s3")
    assert error_of(raised) == (400, "KMS.NotFoundException", "Invalid keyId aws/s3")
    assert objects_of(cloud, bucket) == []


def test_encryption_headers_on_a_read_are_refused(cloud: LocalCloud, build: Builder) -> None:
    """UsingKMSEncryption.html: "don't send encryption request headers for GET requests and HEAD requests.
    Otherwise, you'll get an HTTP 400 Bad Request error"."""
    key = build.key("prod")
    bucket = kms_bucket(build, key)
    s3 = s3_of(cloud)
    s3.put_object(Bucket=bucket, Key="a", Body=b"x")

    def add_header(request: Any, **_: Any) -> None:
        request.headers["x-amz-server-side-encryption"] = "aws:kms"

    s3.meta.events.register("before-sign.s3.GetObject", add_header)
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="a")
    assert error_of(raised)[:2] == (400, "InvalidArgument")


def test_a_key_id_header_without_aws_kms_is_refused(cloud: LocalCloud, build: Builder) -> None:
    """A KMS key for an object that SSE-S3 encrypts means nothing; S3 refuses it (localcloud words it as S3 does:
    "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption :
    aws:kms")."""
    with pytest.raises(ClientError) as raised:
        s3_of(cloud).put_object(Bucket=build.bucket("prod"), Key="a", Body=b"x", ServerSideEncryption="AES256",
                                SSEKMSKeyId=build.key("prod"))
    assert error_of(raised)[:2] == (400, "InvalidArgument")
