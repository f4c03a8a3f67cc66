"""The gate's one reading (localcloud.gate.reading): what is ambiguous is refused with AWS's error; what is not is
rebuilt into the one canonical request that the gate classifies and moto executes."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from localcloud import sigv4
from localcloud.gate import reading
from localcloud.gate.errors import AmbiguousRequest


def signed_for(service: str, request: sigv4.HttpRequest) -> sigv4.SignedRequest:
    credential = sigv4.Credential("AKIDEXAMPLE", "20261202", "eu-west-1", service)
    return sigv4.SignedRequest(request, credential, ("host",), "0" * 64, "20261202T000000Z")


def read(service: str, protocol: str, method: str, path: str, query: str = "", body: bytes = b"",
         **headers: str) -> sigv4.HttpRequest:
    request = sigv4.HttpRequest(method, path, query, {"host": "127.0.0.1:4566",
                                                      **{k.replace("_", "-"): v for k, v in headers.items()}}, body)
    return reading.read(request, signed_for(service, request), protocol=protocol, secret_key="secret")


def refusal(raised: pytest.ExceptionInfo[AmbiguousRequest]) -> tuple[int, str]:
    return raised.value.status, raised.value.code


# --- S3: which bucket, which key ------------------------------------------------------------------------------------


def test_virtual_hosted_style_takes_the_bucket_from_the_host_and_the_whole_path_as_key() -> None:
    """UsingBucket.html / VirtualHosting.html: bucket.s3.region.amazonaws.com/key."""
    canonical = read("s3", "rest-xml", "GET", "/dev-bucket/report.csv", host="prod-bucket.localhost:4566")
    assert canonical.raw_path == "/prod-bucket/dev-bucket/report.csv"
    canonical = read("s3", "rest-xml", "GET", "/k", host="prod-bucket.s3.eu-west-1.amazonaws.com")
    assert canonical.raw_path == "/prod-bucket/k"


@pytest.mark.parametrize("host", ["127.0.0.1:4566", "localhost:4566", "s3.amazonaws.com", "s3.eu-west-1.amazonaws.com"])
def test_the_endpoint_host_is_path_style(host: str) -> None:
    assert read("s3", "rest-xml", "GET", "/bucket-a/key", host=host).raw_path == "/bucket-a/key"


def test_a_host_that_is_neither_the_endpoint_nor_a_bucket_of_it_is_refused() -> None:
    with pytest.raises(AmbiguousRequest) as raised:
        read("s3", "rest-xml", "GET", "/bucket-a/key", host="evil.example.com")
    assert refusal(raised) == (400, "InvalidArgument")


@pytest.mark.parametrize("path", ["/own-bucket;x/key", "/own-bucket;x", "/Own-Bucket/key", "/a/key", "//own-bucket/k",
                                  "/own..bucket/k", "/192.168.1.1/k", "/own%2Fbucket/k"])
def test_a_bucket_segment_that_is_not_a_bucket_name_is_refused(path: str) -> None:
    """bucketnamingrules.html; moto would drop ';params' and read another bucket."""
    with pytest.raises(AmbiguousRequest) as raised:
        read("s3", "rest-xml", "GET", path)
    assert refusal(raised) == (400, "InvalidBucketName")


def test_a_key_is_decoded_once_and_rebuilt_with_every_reserved_character_encoded() -> None:
    canonical = read("s3", "rest-xml", "PUT", "/own-bucket/incoming/a;b%23c%3Fd%2520")
    assert canonical.raw_path == "/own-bucket/incoming/a%3Bb%23c%3Fd%2520"


def test_a_path_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(AmbiguousRequest) as raised:
        read("s3", "rest-xml", "GET", "/own-bucket/%ff")
    assert refusal(raised) == (400, "InvalidURI")


@pytest.mark.parametrize("value", ["//own-bucket/other-bucket/key", "own-bucket", "/own-bucket/", "/Bad_Bucket/key",
                                   "/own-bucket/key?versionId=1&x=2", "/own-bucket/key?acl"])
def test_a_copy_source_that_does_not_name_one_bucket_and_key_is_refused(value: str) -> None:
    with pytest.raises(AmbiguousRequest) as raised:
        read("s3", "rest-xml", "PUT", "/own-bucket/copy", x_amz_copy_source=value)
    assert refusal(raised) == (400, "InvalidArgument")


def test_a_copy_source_is_rewritten_so_moto_reads_the_same_bucket_and_key() -> None:
    canonical = read("s3", "rest-xml", "PUT", "/own-bucket/copy", x_amz_copy_source="src-bucket/a%3Bb/c?versionId=v1")
    assert canonical.header("x-amz-copy-source") == "/src-bucket/a%3Bb/c?versionId=v1"


def test_an_s3_query_parameter_given_twice_is_refused() -> None:
    with pytest.raises(AmbiguousRequest) as raised:
        read("s3", "rest-xml", "GET", "/own-bucket", "prefix=a&prefix=b")
    assert refusal(raised) == (400, "InvalidArgument")


def test_presigned_parameters_do_not_reach_moto() -> None:
    canonical = read("s3", "rest-xml", "GET", "/own-bucket/k", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=60&"
                     "response-content-type=text%2Fplain")
    assert canonical.raw_query == "response-content-type=text%2Fplain"


# --- the operation named twice ---------------------------------------------------------------------------------------


def test_action_in_the_query_and_in_the_body_is_invalid_action() -> None:
    with pytest.raises(AmbiguousRequest) as raised:
        read("sts", "query", "POST", "/", "Action=GetCallerIdentity", b"Action=AssumeRole&Version=2011-06-15",
             content_type="application/x-www-form-urlencoded")
    assert refusal(raised) == (400, "InvalidAction")


def test_a_parameter_in_the_query_and_in_the_body_is_malformed() -> None:
    with pytest.raises(AmbiguousRequest) as raised:
        read("iam", "query", "POST", "/", "RoleName=a", b"Action=GetRole&RoleName=b")
    assert refusal(raised) == (400, "MalformedQueryString")


def test_a_parameter_twice_in_the_body_is_malformed() -> None:
    with pytest.raises(AmbiguousRequest) as raised:
        read("iam", "query", "POST", "/", "", b"Action=GetRole&RoleName=a&RoleName=b")
    assert refusal(raised) == (400, "MalformedQueryString")


def test_query_protocol_parameters_reach_moto_once_in_a_form_body() -> None:
    canonical = read("iam", "query", "GET", "/", "Action=GetRole&RoleName=a%2Bb&Version=2010-05-08")
    assert (canonical.method, canonical.raw_path, canonical.raw_query) == ("POST", "/", "")
    assert parse_qsl(canonical.body.decode()) == [("Action", "GetRole"), ("RoleName", "a+b"),
                                                  ("Version", "2010-05-08")]


def test_an_action_query_next_to_x_amz_target_is_invalid_action() -> None:
    with pytest.raises(AmbiguousRequest) as raised:
        read("logs", "json", "POST", "/", "Action=DeleteLogGroup", b"{}", x_amz_target="Logs_20140328.CreateLogGroup")
    assert refusal(raised) == (400, "InvalidAction")


def test_an_action_query_on_a_rest_route_is_invalid_action() -> None:
    with pytest.raises(AmbiguousRequest) as raised:
        read("lambda", "rest-json", "GET", "/2015-03-31/functions/", "Action=DeleteFunction")
    assert refusal(raised) == (400, "InvalidAction")


def test_a_json_body_with_a_key_twice_is_refused() -> None:
    with pytest.raises(AmbiguousRequest) as raised:
        read("logs", "json", "POST", "/", "", b'{"logGroupName": "a", "logGroupName": "b"}',
             x_amz_target="Logs_20140328.CreateLogGroup")
    assert refusal(raised) == (400, "SerializationException")


@pytest.mark.parametrize("members", [["Tags.member.2.Key=a"], ["Tags.member.1.Key=a", "Tags.member.3.Key=b"],
                                     ["Tags.member.01.Key=a"]])
def test_a_member_list_with_a_gap_is_refused(members: list[str]) -> None:
    """The gate reads Tags.member.1, .2, ... up to the first gap; moto reads every index: one list, two readings."""
    body = "&".join(["Action=TagRole", "RoleName=app", *members]).encode()
    with pytest.raises(AmbiguousRequest) as raised:
        read("iam", "query", "POST", "/", "", body)
    assert refusal(raised) == (400, "MalformedQueryString")


def test_a_member_list_numbered_from_one_is_read() -> None:
    body = b"Action=TagRole&RoleName=app&Tags.member.1.Key=a&Tags.member.1.Value=1&Tags.member.2.Key=b"
    assert b"Tags.member.2.Key=b" in read("iam", "query", "POST", "/", "", body).body
