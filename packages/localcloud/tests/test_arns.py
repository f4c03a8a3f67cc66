"""localcloud.arns: the one ARN builder (arns.html; IAM identifiers, reference_identifiers.html)."""

from localcloud import arns


def test_iam_paths_are_normalized_to_slashes_on_both_sides() -> None:
    assert arns.iam("111111111111", "role", "writer") == "arn:aws:iam::111111111111:role/writer"
    assert arns.iam("111111111111", "role", "writer", "app") == "arn:aws:iam::111111111111:role/app/writer"
    assert arns.iam("111111111111", "user", "u", "/a/b/") == "arn:aws:iam::111111111111:user/a/b/u"


def test_s3_object_arns_give_back_their_key_for_their_bucket_only() -> None:
    assert arns.s3("data", "incoming/a") == "arn:aws:s3:::data/incoming/a"
    assert arns.s3_key(arns.s3("data", "incoming/a"), "data") == "incoming/a"
    assert arns.s3_key(arns.s3("data"), "data") is None
    assert arns.s3_key(arns.s3("data-2", "k"), "data") is None


def test_lambda_arns_carry_the_qualifier_when_given() -> None:
    assert arns.lambda_function("eu-west-1", "222222222222", "writer", "7").endswith(":function:writer:7")


def test_the_account_of_an_arn() -> None:
    assert arns.account_of("arn:aws:sts::222222222222:assumed-role/r/s") == "222222222222"
    assert arns.account_of("arn:aws:s3:::bucket") is None
    assert arns.account_of("not-an-arn") is None
