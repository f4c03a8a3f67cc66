"""The AWS provider's settings, as localcloud applies them: an explicit provider's inputs and the default
provider's ``aws:`` stack config, each setting applied or refused by name, never ignored.

Applied: the region, assume_role(s) (role_arn, session_name, external_id, duration, policy, policy_arns, tags,
transitive_tag_keys, source_identity), allowed/forbidden account IDs (checked against the account the final
credentials belong to, after any assume_role, as the provider checks them), and for the default provider the
credentials settings (access key, profile; localcloud_pulumi.credentials). The skip_* switches change nothing
here: they skip calls to AWS that localcloud answers anyway. Everything else (default_tags, endpoints,
ignore_tags, ...) would change what the provider does, so a program that sets it is refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from localcloud.sdk import session
from localcloud_pulumi.credentials import CredentialsError, check_account_guards
from localcloud_pulumi.resources import Account

# The provider's no-op switches: the SDK sends two of them with defaults on every explicit provider.
_HARMLESS = frozenset({"skipCredentialsValidation", "skipRegionValidation", "skipMetadataApiCheck",
                       "skipRequestingAccountId", "version"})
_GUARDS = frozenset({"allowedAccountIds", "forbiddenAccountIds"})
EXPLICIT_SETTINGS = frozenset({"region", "assumeRole", "assumeRoles"}) | _GUARDS | _HARMLESS
# The default provider's, from stack config (aws:KEY): the credentials settings too (credentials.configured_keys).
STACK_SETTINGS = EXPLICIT_SETTINGS | {"accessKey", "secretKey", "token", "profile"}


class ProviderSettingError(ValueError):
    """A provider setting localcloud does not apply; the message names it."""


def check_explicit(name: str, inputs: Mapping[str, Any]) -> None:
    unknown = sorted(set(inputs) - EXPLICIT_SETTINGS)
    if unknown:
        raise ProviderSettingError(f"provider '{name}': localcloud does not apply the aws provider input(s) "
                                   f"{', '.join(unknown)}; it applies {', '.join(sorted(EXPLICIT_SETTINGS - _HARMLESS))}")


def check_stack_config(config: Mapping[str, str]) -> None:
    unknown = sorted(key for key in config if key.startswith("aws:") and key[4:] not in STACK_SETTINGS)
    if unknown:
        raise ProviderSettingError(f"localcloud does not apply the config key(s) {', '.join(unknown)} of the "
                                   "default aws provider")


def stack_assume_role(config: Mapping[str, str]) -> Any:
    """The default provider's aws:assumeRoles (its first) or aws:assumeRole, as a mapping, or None."""
    return _first(structured(config.get("aws:assumeRoles"))) or structured(config.get("aws:assumeRole"))


def explicit_assume_role(inputs: Mapping[str, Any]) -> Any:
    return _first(structured(inputs.get("assumeRoles"))) or structured(inputs.get("assumeRole"))


def assume(account: Account, name: str, settings: Mapping[str, Any], region: str) -> Account:
    """The account ``settings`` (one assume_role block) leads to from ``account``'s credentials."""
    params = assume_role_params(name, settings)
    try:
        credentials = account.client("sts").assume_role(**params)["Credentials"]
    except ClientError as error:
        raise ProviderSettingError(f"provider '{name}' cannot assume {params['RoleArn']}: {error}") from error
    assumed = session(aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretAccessKey"],
                      aws_session_token=credentials["SessionToken"], region_name=region)
    return Account(assumed, params["RoleArn"].split(":")[4], region, account.client_args)


def check_guards(name: str, account_id: str, settings: Mapping[str, Any]) -> None:
    """allowed_account_ids and forbidden_account_ids of an explicit provider, against its final account."""
    def ids(key: str) -> list[str]:
        return [str(i) for i in structured(settings.get(key)) or []]

    try:
        check_account_guards(account_id, ids("allowedAccountIds"), ids("forbiddenAccountIds"), f"provider '{name}'",
                             names=("allowed_account_ids", "forbidden_account_ids"))
    except CredentialsError as error:
        raise ProviderSettingError(str(error)) from error


def structured(value: Any) -> Any:
    """Provider inputs reach the provider as strings, with lists and objects as JSON text."""
    if isinstance(value, str) and value[:1] in "[{":
        return json.loads(value)
    return value


def _field(settings: Mapping[str, Any], camel: str) -> Any:
    """A provider setting given camelCase (typed args, as the SDK sends them) or snake_case (a plain dict, which
    pulumi-aws also accepts)."""
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()
    return settings.get(camel, settings.get(snake))


def _go_duration_seconds(text: str) -> int:
    """The provider's assume_role duration ("1h", "15m", "1h30m", "900s") in seconds."""
    parts = re.findall(r"(\d+)([hms])", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ProviderSettingError(f"assume_role duration {text!r} is not a duration such as 15m or 1h")
    return sum(int(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in parts)


def assume_role_params(provider: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """sts:AssumeRole's parameters for a provider's assume_role(s) block (pulumi-aws ProviderAssumeRole)."""
    role_arn = _field(settings, "roleArn")
    if not role_arn:
        raise ProviderSettingError(f"provider '{provider}': assume_role needs a role_arn")
    params: dict[str, Any] = {"RoleArn": role_arn,
                              "RoleSessionName": _field(settings, "sessionName") or f"localcloud-{provider}"}
    duration = _field(settings, "duration")
    optional = {
        "ExternalId": _field(settings, "externalId"),
        "Policy": _field(settings, "policy"),
        "SourceIdentity": _field(settings, "sourceIdentity"),
        "DurationSeconds": _go_duration_seconds(duration) if duration else None,
        "PolicyArns": [{"arn": arn} for arn in _field(settings, "policyArns") or []] or None,
        "Tags": [{"Key": k, "Value": v} for k, v in sorted((_field(settings, "tags") or {}).items())] or None,
        "TransitiveTagKeys": list(_field(settings, "transitiveTagKeys") or []) or None,
    }
    params.update({key: value for key, value in optional.items() if value is not None})
    return params


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else None
