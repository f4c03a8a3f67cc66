"""Whose credentials a deploy uses, and so which account it deploys into: as pulumi-aws chooses them.

The provider takes, in order: its own config (aws:accessKey, aws:secretKey, aws:token), the environment
(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), then a named profile (aws:profile, else
AWS_PROFILE). Offline, a profile is one of the state directory's (aws/config and aws/credentials, which `up` and
`serve` write): static keys, or role_arn with source_profile. The stack then deploys into the account those
credentials belong to, and aws:allowedAccountIds / aws:forbiddenAccountIds only guard it, as the provider does.

With none of them, the deploy uses the deployer of the account named by ``account`` (an account name of the cloud or
an account ID), else of the first of aws:allowedAccountIds. That is what `up`, `demo` and the tests use: they pass
no environment, so a developer's own AWS_PROFILE never leaks into them.
"""

from __future__ import annotations

import configparser
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from localcloud.sdk import session

ENVIRONMENT_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


class CredentialsError(Exception):
    """No credentials, unusable ones, or an account the stack may not deploy into; the message says which."""


@dataclass(frozen=True)
class Keys:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None
    source: str = ""  # where they came from, for messages: "AWS_ACCESS_KEY_ID", "profile dev-user", ...

    def session(self, region: str) -> Any:
        extra = {"aws_session_token": self.session_token} if self.session_token else {}
        return session(aws_access_key_id=self.access_key_id, aws_secret_access_key=self.secret_access_key,
                       region_name=region, **extra)


def configured_keys(config: Mapping[str, str], environ: Mapping[str, str], state_dir: Path,
                    client_args: Mapping[str, Any]) -> Keys | None:
    """The keys the provider would use, or None when neither its config, the environment nor a profile gives any."""
    if config.get("aws:accessKey") or config.get("aws:secretKey"):
        if not (config.get("aws:accessKey") and config.get("aws:secretKey")):
            raise CredentialsError("aws:accessKey and aws:secretKey must be set together")
        return Keys(config["aws:accessKey"], config["aws:secretKey"], config.get("aws:token") or None,
                    "aws:accessKey")
    if environ.get("AWS_ACCESS_KEY_ID") or environ.get("AWS_SECRET_ACCESS_KEY"):
        if not (environ.get("AWS_ACCESS_KEY_ID") and environ.get("AWS_SECRET_ACCESS_KEY")):
            raise CredentialsError("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together")
        return Keys(environ["AWS_ACCESS_KEY_ID"], environ["AWS_SECRET_ACCESS_KEY"],
                    environ.get("AWS_SESSION_TOKEN") or None, "AWS_ACCESS_KEY_ID")
    profile = config.get("aws:profile") or environ.get("AWS_PROFILE")
    if profile:
        return profile_keys(profile, state_dir, client_args, config.get("aws:region") or "us-east-1")
    return None


def profile_keys(name: str, state_dir: Path, client_args: Mapping[str, Any], region: str,
                 seen: tuple[str, ...] = ()) -> Keys:
    """A profile of the state directory: its static keys, or the role it assumes from its source_profile."""
    if name in seen:
        raise CredentialsError(f"profile {name}: source_profile loops ({' -> '.join((*seen, name))})")
    config, credentials = _read_ini(state_dir / "aws" / "config"), _read_ini(state_dir / "aws" / "credentials")
    settings = {**_section(config, f"profile {name}"), **_section(config, name), **_section(credentials, name)}
    if not settings:
        known = sorted({s.removeprefix("profile ") for s in config.sections()} | set(credentials.sections()))
        raise CredentialsError(f"no profile {name!r} in {state_dir / 'aws'} (profiles: {', '.join(known) or 'none'})")
    if "role_arn" in settings:
        if "source_profile" not in settings:
            raise CredentialsError(f"profile {name}: role_arn needs a source_profile (localcloud supports no "
                                   "credential_source)")
        if "mfa_serial" in settings:
            raise CredentialsError(f"profile {name}: mfa_serial profiles need a token code; use a profile with "
                                   "session credentials as source_profile instead")
        source = profile_keys(settings["source_profile"], state_dir, client_args, region, (*seen, name))
        params: dict[str, Any] = {"RoleArn": settings["role_arn"],
                  "RoleSessionName": settings.get("role_session_name") or f"localcloud-{name}"}
        if settings.get("external_id"):
            params["ExternalId"] = settings["external_id"]
        if settings.get("duration_seconds"):
            params["DurationSeconds"] = int(settings["duration_seconds"])
        try:
            assumed = source.session(region).client("sts", **client_args).assume_role(**params)["Credentials"]
        except ClientError as error:
            raise CredentialsError(f"profile {name} cannot assume {settings['role_arn']}: {error}") from error
        return Keys(assumed["AccessKeyId"], assumed["SecretAccessKey"], assumed["SessionToken"], f"profile {name}")
    if not (settings.get("aws_access_key_id") and settings.get("aws_secret_access_key")):
        raise CredentialsError(f"profile {name} has neither keys nor a role_arn")
    return Keys(settings["aws_access_key_id"], settings["aws_secret_access_key"],
                settings.get("aws_session_token") or None, f"profile {name}")


def check_allowed(account_id: str, config: Mapping[str, str], source: str) -> None:
    """aws:allowedAccountIds and aws:forbiddenAccountIds, as the provider checks them before any change."""
    check_account_guards(account_id, _id_list(config, "aws:allowedAccountIds"),
                         _id_list(config, "aws:forbiddenAccountIds"), source)


def check_account_guards(account_id: str, allowed: list[str], forbidden: list[str], source: str, *,
                         names: tuple[str, str] = ("aws:allowedAccountIds", "aws:forbiddenAccountIds")) -> None:
    """The account the credentials from ``source`` belong to against an allowed and a forbidden list, called
    ``names`` in the error (the stack's config keys, or an explicit provider's inputs)."""
    if allowed and account_id not in allowed:
        raise CredentialsError(f"AWS account ID not allowed: {account_id} (the credentials from {source}; "
                               f"{names[0]} is {', '.join(allowed)})")
    if account_id in forbidden:
        raise CredentialsError(f"AWS account ID not allowed: {account_id} (the credentials from {source}; it is "
                               f"in {names[1]})")


def caller_account(keys: Keys, region: str, client_args: Mapping[str, Any]) -> str:
    try:
        return keys.session(region).client("sts", **client_args).get_caller_identity()["Account"]
    except ClientError as error:
        raise CredentialsError(f"the credentials from {keys.source} are not valid in this localcloud: "
                               f"{error}") from error


def _id_list(config: Mapping[str, str], key: str) -> list[str]:
    raw = config.get(key)
    if not raw:
        return []
    try:
        ids = json.loads(raw)
    except json.JSONDecodeError as error:
        raise CredentialsError(f"{key} must be a list of account IDs, not {raw!r}") from error
    if not isinstance(ids, list):
        raise CredentialsError(f"{key} must be a list of account IDs, not {raw!r}")
    return [str(i) for i in ids]


def _read_ini(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path)
    return parser


def _section(parser: configparser.ConfigParser, name: str) -> dict[str, str]:
    return dict(parser[name]) if parser.has_section(name) else {}
