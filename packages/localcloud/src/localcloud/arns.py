"""The one place localcloud writes and reads ARNs (arns.html: ``arn:partition:service:region:account:resource``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

PARTITION = "aws"

# How Lambda's API names a function (API_Invoke.html, FunctionName): name | name:qualifier |
# 123456789012:function:name[:qualifier] | arn:aws:lambda:region:123456789012:function:name[:qualifier]
_FUNCTION_NAME = re.compile(
    r"^(?:arn:[\w-]+:lambda:(?P<region>[a-z0-9-]+):)?(?:(?P<account>\d{12}):function:)?"
    r"(?P<name>[A-Za-z0-9_-]{1,64})(?::(?P<qualifier>\$LATEST|[A-Za-z0-9_-]{1,128}))?$"
)


@dataclass(frozen=True)
class FunctionName:
    """A FunctionName parameter read: the parts it gives (region and account only in an ARN or partial ARN)."""

    name: str
    account: str | None = None
    region: str | None = None
    qualifier: str | None = None


def parse_function_name(text: str) -> FunctionName | None:
    """The one reader of Lambda function names; None when ``text`` is no function name Lambda accepts."""
    match = _FUNCTION_NAME.match(text)
    if match is None:
        return None
    return FunctionName(match["name"], match["account"], match["region"], match["qualifier"])


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


def organization(management_account: str, organization_id: str) -> str:
    """An organization's ARN: it names the management account (API_Organization.html, Arn)."""
    return f"arn:{PARTITION}:organizations::{management_account}:organization/{organization_id}"


def organization_account(management_account: str, organization_id: str, account: str) -> str:
    """A member account's ARN in AWS Organizations (API_Account.html, Arn)."""
    return f"arn:{PARTITION}:organizations::{management_account}:account/{organization_id}/{account}"


def log_group(region: str, account: str, group: str) -> str:
    return f"arn:{PARTITION}:logs:{region}:{account}:log-group:{group}"


def lambda_function(region: str, account: str, name: str, qualifier: str | None = None) -> str:
    base = f"arn:{PARTITION}:lambda:{region}:{account}:function:{name}"
    return f"{base}:{qualifier}" if qualifier else base


def kms_key(region: str, account: str, key_id: str) -> str:
    return f"arn:{PARTITION}:kms:{region}:{account}:key/{key_id}"


def kms_alias(region: str, account: str, alias_name: str) -> str:
    """``alias_name`` as KMS spells it, with its "alias/" prefix."""
    return f"arn:{PARTITION}:kms:{region}:{account}:{alias_name}"


def lambda_invoke(region: str, function_arn: str) -> str:
    """API Gateway's invoke ARN of a function (Pulumi's ``invokeArn`` output)."""
    return f"arn:{PARTITION}:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"


def account_of(arn: str) -> str | None:
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 and parts[4] else None
