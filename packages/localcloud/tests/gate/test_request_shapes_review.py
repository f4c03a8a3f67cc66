"""Holes a second adversarial review found after the battery, each now closed: correctly signed requests that the
gate authorized as one operation while moto ran another (a default branch for an operation moto does not know,
a parameter read from a body that should have none), or that needed a permission the gate did not check.

Each test proves the denial twice: the refusal, and the state read back unchanged.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from localcloud.server import LocalCloud
from localcloud_testing.builders import REGION, Builder, allow, unique
from localcloud_testing.raw_requests import Answer, Raw, send, sign


def body_of(cloud: LocalCloud, bucket: str, key: str) -> bytes:
    return bytes(cloud.client("s3", "dev").get_object(Bucket=bucket, Key=key)["Body"].read())


def bucket_with_secret(cloud: LocalCloud, build: Builder) -> str:
    bucket = build.bucket("dev")
    cloud.client("s3", "dev").put_object(Bucket=bucket, Key="secret.txt", Body=b"TOP SECRET")
    return bucket


def only(build: Builder, actions: list[str], resource: str) -> dict[str, str]:
    _, credentials = build.user("dev", [allow(actions, resource)])
    return credentials


def assert_not_emulated(answer: Answer) -> None:
    assert (answer.status, answer.code) == (501, "NotImplemented"), answer
    assert b"TOP SECRET" not in answer.body


# --- operations moto does not know run a default branch: refused before moto -----------------------------------


@pytest.mark.parametrize(("sub_resource", "action"), [("retention", "s3:GetObjectRetention"),
                                                       ("torrent", "s3:GetObjectTorrent")])
def test_an_object_read_moto_does_not_emulate_is_not_run_as_get_object(
    cloud: LocalCloud, build: Builder, sub_resource: str, action: str
) -> None:
    bucket = bucket_with_secret(cloud, build)
    credentials = only(build, [action], f"arn:aws:s3:::{bucket}/*")
    answer = send(cloud, sign(Raw("GET", f"/{bucket}/secret.txt", query=[(sub_resource, "")]), credentials, "s3"))
    assert_not_emulated(answer)


def test_a_bucket_read_moto_does_not_emulate_is_not_run_as_list_objects(cloud: LocalCloud, build: Builder) -> None:
    bucket = bucket_with_secret(cloud, build)
    credentials = only(build, ["s3:GetBucketRequestPayment"], f"arn:aws:s3:::{bucket}")
    answer = send(cloud, sign(Raw("GET", f"/{bucket}", query=[("requestPayment", "")]), credentials, "s3"))
    assert_not_emulated(answer)
    assert b"secret.txt" not in answer.body


def test_a_bucket_delete_moto_does_not_emulate_does_not_delete_the_bucket(cloud: LocalCloud, build: Builder) -> None:
    bucket = build.bucket("dev")
    credentials = only(build, ["s3:PutMetricsConfiguration"], f"arn:aws:s3:::{bucket}")
    answer = send(cloud, sign(Raw("DELETE", f"/{bucket}", query=[("metrics", ""), ("id", "x")]), credentials, "s3"))
    assert_not_emulated(answer)
    cloud.client("s3", "dev").head_bucket(Bucket=bucket)


@pytest.mark.parametrize(("query", "action"), [([("encryption", "")], "s3:UpdateObjectEncryption"),
                                                ([("annotation", ""), ("annotationName", "n")],
                                                 "s3:PutObjectAnnotation")])
def test_an_object_write_moto_does_not_emulate_does_not_overwrite_the_object(
    cloud: LocalCloud, build: Builder, query: list[tuple[str, str]], action: str
) -> None:
    bucket = bucket_with_secret(cloud, build)
    credentials = only(build, [action], f"arn:aws:s3:::{bucket}/*")
    answer = send(cloud, sign(Raw("PUT", f"/{bucket}/secret.txt", query=query, body=b"overwritten"), credentials,
                              "s3"))
    assert (answer.status, answer.code) == (501, "NotImplemented"), answer
    assert body_of(cloud, bucket, "secret.txt") == b"TOP SECRET"


def test_rename_with_a_copy_source_does_not_copy_another_bucket(cloud: LocalCloud, build: Builder) -> None:
    victim = bucket_with_secret(cloud, build)
    own = build.bucket("dev")
    credentials = only(build, ["s3:*"], f"arn:aws:s3:::{own}*")
    raw = Raw("PUT", f"/{own}/stolen", query=[("renameObject", "")],
              headers=[("x-amz-rename-source", f"/{own}/x"), ("x-amz-copy-source", f"/{victim}/secret.txt")])
    answer = send(cloud, sign(raw, credentials, "s3"))
    assert answer.status in (400, 501), answer
    assert "Contents" not in cloud.client("s3", "dev").list_objects_v2(Bucket=own)


def test_request_payment_with_an_acl_does_not_touch_the_bucket_acl(cloud: LocalCloud, build: Builder) -> None:
    """In us-east-1 moto's default PUT branch is an idempotent CreateBucket, which applies x-amz-acl."""
    s3 = cloud.client("s3", "dev", region_name="us-east-1")
    bucket = unique("useast")
    s3.create_bucket(Bucket=bucket)
    before = s3.get_bucket_acl(Bucket=bucket)["Grants"]
    credentials = only(build, ["s3:PutBucketRequestPayment"], f"arn:aws:s3:::{bucket}")
    body = (b'<RequestPaymentConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Payer>Requester'
            b"</Payer></RequestPaymentConfiguration>")
    raw = Raw("PUT", f"/{bucket}", query=[("requestPayment", "")], headers=[("x-amz-acl", "public-read-write")],
              body=body)
    answer = send(cloud, sign(raw, credentials, "s3", region="us-east-1"))
    assert (answer.status, answer.code) == (501, "NotImplemented"), answer
    assert s3.get_bucket_acl(Bucket=bucket)["Grants"] == before


# --- a body where the operation takes none ------------------------------------------------------------------------


def test_a_version_id_in_a_delete_body_does_not_delete_that_version(cloud: LocalCloud, build: Builder) -> None:
    s3 = cloud.client("s3", "dev")
    bucket = build.bucket("dev")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"v1")["VersionId"]
    _, credentials = build.user("dev", [allow("s3:DeleteObject", f"arn:aws:s3:::{bucket}/*"),
                                        {"Effect": "Deny", "Action": "s3:DeleteObjectVersion", "Resource": "*"}])
    raw = Raw("DELETE", f"/{bucket}/doc.txt", headers=[("Content-Type", "application/json")],
              body=json.dumps({"versionId": version}).encode())
    answer = send(cloud, sign(raw, credentials, "s3"))
    assert (answer.status, answer.code) == (400, "InvalidArgument"), answer
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [v["VersionId"] for v in versions] == [version]


# --- Object Lock: bypassing governance needs its own permission ----------------------------------------------------


def test_bypassing_governance_retention_needs_s3_bypass_governance_retention(cloud: LocalCloud, build: Builder) -> None:
    """object-lock-managing.html, "Bypassing governance mode"."""
    s3 = cloud.client("s3", "dev")
    bucket = unique("locked")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION},
                     ObjectLockEnabledForBucket=True)
    until = datetime.now(timezone.utc) + timedelta(days=1)
    version = s3.put_object(Bucket=bucket, Key="record.txt", Body=b"kept", ObjectLockMode="GOVERNANCE",
                            ObjectLockRetainUntilDate=until)["VersionId"]
    _, credentials = build.user("dev", [allow(["s3:DeleteObject", "s3:DeleteObjectVersion"], f"arn:aws:s3:::{bucket}/*")])
    raw = Raw("DELETE", f"/{bucket}/record.txt", query=[("versionId", version)],
              headers=[("x-amz-bypass-governance-retention", "true")])
    answer = send(cloud, sign(raw, credentials, "s3"))
    assert (answer.status, answer.code) == (403, "AccessDenied"), answer
    assert "s3:BypassGovernanceRetention" in answer.text
    assert [v["VersionId"] for v in s3.list_object_versions(Bucket=bucket)["Versions"]] == [version]


# --- CloudWatch Logs: logGroupIdentifier ----------------------------------------------------------------------------


def test_a_log_group_identifier_reads_that_group_and_no_other(cloud: LocalCloud, build: Builder) -> None:
    logs = cloud.client("logs", "dev")
    own, victim = unique("own-group"), unique("victim-group")
    for group, message in ((own, "mine"), (victim, "VICTIM SECRET")):  # the victim's group is created last
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="s")
        logs.put_log_events(logGroupName=group, logStreamName="s",
                            logEvents=[{"timestamp": int(datetime.now().timestamp() * 1000), "message": message}])
    credentials = only(build, ["logs:GetLogEvents"], f"arn:aws:logs:{REGION}:*:log-group:{own}:*")
    reader = cloud.client("logs", credentials=credentials)

    events = reader.get_log_events(logGroupIdentifier=own, logStreamName="s")["events"]

    assert [event["message"] for event in events] == ["mine"]


# --- Lambda: a query member given in the body --------------------------------------------------------------------


def test_a_qualifier_in_the_body_does_not_delete_another_version(cloud: LocalCloud, build: Builder) -> None:
    lam = cloud.client("lambda", "dev")
    role = build.role("dev", [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                               "Action": "sts:AssumeRole"}])
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    name = unique("fn")
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="handler.handler",
                        Code={"ZipFile": code.getvalue()})
    lam.publish_version(FunctionName=name)
    lam.update_function_code(FunctionName=name, ZipFile=code.getvalue())
    lam.publish_version(FunctionName=name)
    function_arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    credentials = only(build, ["lambda:DeleteFunction"], f"{function_arn}:2")
    raw = Raw("DELETE", f"/2015-03-31/functions/{name}", query=[("Qualifier", "1")],
              headers=[("Content-Type", "application/json")], body=json.dumps({"Qualifier": "2"}).encode())

    answer = send(cloud, sign(raw, credentials, "lambda"))

    assert answer.status == 400, answer
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]]
    assert {"1", "2"} <= set(versions)
    with pytest.raises(ClientError):
        cloud.client("lambda", credentials=credentials).delete_function(FunctionName=name, Qualifier="1")


def test_create_function_with_a_qualified_name_is_refused(cloud: LocalCloud, build: Builder) -> None:
    """The gate would authorize function ``a`` (version ``b``); moto would create a function called ``a:b``."""
    lam = cloud.client("lambda", "dev")
    role = build.role("dev", [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                               "Action": "sts:AssumeRole"}])
    name = unique("fn")
    raw = Raw("POST", "/2015-03-31/functions", headers=[("Content-Type", "application/json")], body=json.dumps({
        "FunctionName": f"{name}:7", "Runtime": "python3.12", "Role": role, "Handler": "h.h",
        "Code": {"ZipFile": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}}).encode())
    answer = send(cloud, sign(raw, cloud.deployer_credentials("dev"), "lambda"))
    assert (answer.status, answer.code) == (400, "InvalidParameterValueException"), answer
    assert not [f for f in lam.list_functions()["Functions"] if f["FunctionName"].startswith(name)]


# --- one endpoint for every region -------------------------------------------------------------------------------


def test_an_s3_request_signed_for_another_region_than_the_bucket_s_names_the_bucket_s(
    cloud: LocalCloud, build: Builder
) -> None:
    """S3 answers AuthorizationHeaderMalformed with the expected region (UsingBucket.html, "Making requests");
    the credential scope's region is otherwise the region the request is served in."""
    bucket = build.bucket("dev")
    raw = Raw("PUT", f"/{bucket}/elsewhere.txt", body=b"x")
    answer = send(cloud, sign(raw, cloud.deployer_credentials("dev"), "s3", region="us-west-2"))
    assert (answer.status, answer.code) == (400, "AuthorizationHeaderMalformed"), answer
    assert "<Region>eu-west-1</Region>" in answer.text
    assert "Contents" not in cloud.client("s3", "dev").list_objects_v2(Bucket=bucket)
    assert send(cloud, sign(raw, cloud.deployer_credentials("dev"), "s3")).status == 200
