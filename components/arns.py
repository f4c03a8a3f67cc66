"""The one place the programs (this one and bootstrap/) write ARNs (arns.html:
``arn:partition:service:region:account:resource``). Role and user ARNs are deterministic, which is what lets prod
name dev's principals before they exist.

The programs cannot use localcloud's builder: `pulumi up` installs only pulumi and pulumi-aws.
"""

from __future__ import annotations

PARTITION = "aws"


def account_root(account_id: str) -> str:
    return f"arn:{PARTITION}:iam::{account_id}:root"


def iam(account_id: str, kind: str, name: str, path: str = "/") -> str:
    """``arn:aws:iam::ACCOUNT:KIND/PATH/NAME`` (``path`` starts and ends with ``/``; ``name`` may end with ``*``)."""
    return f"arn:{PARTITION}:iam::{account_id}:{kind}{path}{name}"


def role(account_id: str, role_name: str, path: str = "/") -> str:
    return iam(account_id, "role", role_name, path)


def user(account_id: str, user_name: str, path: str = "/") -> str:
    return iam(account_id, "user", user_name, path)


def group(account_id: str, group_name: str, path: str = "/") -> str:
    return iam(account_id, "group", group_name, path)


def mfa_device(account_id: str, device_name: str) -> str:
    return iam(account_id, "mfa", device_name)


def oidc_provider(account_id: str, host: str) -> str:
    return iam(account_id, "oidc-provider", host, "/")


def bucket(name: str) -> str:
    return f"arn:{PARTITION}:s3:::{name}"


def objects(bucket_name: str, key_prefix: str = "") -> str:
    """Every object under ``key_prefix`` (all of them with no prefix)."""
    return f"{bucket(bucket_name)}/{key_prefix}*"


def lambda_function(region: str, account_id: str, name: str) -> str:
    return f"arn:{PARTITION}:lambda:{region}:{account_id}:function:{name}"


def log_group(region: str, account_id: str, name: str) -> str:
    return f"arn:{PARTITION}:logs:{region}:{account_id}:log-group:{name}"
