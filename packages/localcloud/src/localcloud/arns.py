"""The one place localcloud writes and reads ARNs (arns.html: ``arn:partition:service:region:account:resource``)."""

from __future__ import annotations

PARTITION = "aws"


def s3(bucket: str, key: str | None = None) -> str:
    return f"arn:{PARTITION}:s3:::{bucket}" if key is None else f"arn:{PARTITION}:s3:::{bucket}/{key}"


def s3_key(arn: str, bucket: str) -> str | None:
    """The key of an object ARN in ``bucket``; None for the bucket's own ARN or another bucket's."""
    prefix = s3(bucket) + "/"
    return arn[len(prefix):] if arn.startswith(prefix) else None


def iam(account: str, kind: str, name: str, path: str | None = None) -> str:
    """``arn:aws:iam::ACCOUNT:KIND/PATH/NAME``; the path normalized to start and end with ``/``."""
    path = path or "/"
    if not path.startswith("/"):
        path = "/" + path
    if not path.endswith("/"):
        path += "/"
    return f"arn:{PARTITION}:iam::{account}:{kind}{path}{name}"


def account_root(account: str) -> str:
    """The account as a principal (``Principal: {"AWS": "123456789012"}`` means this)."""
    return f"arn:{PARTITION}:iam::{account}:root"


def iam_oidc_provider(account: str, host: str) -> str:
    return f"arn:{PARTITION}:iam::{account}:oidc-provider/{host}"


def assumed_role(account: str, role_name: str, session_name: str) -> str:
    return f"arn:{PARTITION}:sts::{account}:assumed-role/{role_name}/{session_name}"


def federated_user(account: str, name: str) -> str:
    return f"arn:{PARTITION}:sts::{account}:federated-user/{name}"


def log_group(region: str, account: str, group: str) -> str:
    return f"arn:{PARTITION}:logs:{region}:{account}:log-group:{group}"


def lambda_function(region: str, account: str, name: str, qualifier: str | None = None) -> str:
    base = f"arn:{PARTITION}:lambda:{region}:{account}:function:{name}"
    return f"{base}:{qualifier}" if qualifier else base


def lambda_invoke(region: str, function_arn: str) -> str:
    """API Gateway's invoke ARN of a function (Pulumi's ``invokeArn`` output)."""
    return f"arn:{PARTITION}:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"


def account_of(arn: str) -> str | None:
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 and parts[4] else None
