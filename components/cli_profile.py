"""The AWS CLI profile a consumer's user pastes into ~/.aws/config to act as their grant's role."""

from __future__ import annotations

import configparser
import io
import shlex

from components import arns

MFA_SERIAL_PLACEHOLDER = "<YOUR_MFA_DEVICE_NAME>"
USER_NAME_PLACEHOLDER = "<YOUR_IAM_USER_NAME>"
# What credential_process must print (cli-configure-sourcing-external.html), from `aws sts assume-role`'s answer.
CREDENTIAL_PROCESS_QUERY = ("Credentials.{Version: `1`, AccessKeyId: AccessKeyId, SecretAccessKey: SecretAccessKey, "
                            "SessionToken: SessionToken, Expiration: Expiration}")


def cli_profile_snippet(
    role_arn: str,
    *,
    consumer_account_id: str,
    profile: str,
    source_profile: str,
    external_id: str | None = None,
    require_mfa: bool = False,
    duration_seconds: int = 3600,
    region: str | None = None,
    source_identity: str = "none",
) -> str:
    """An INI section: the CLI assumes `role_arn` with the credentials of `source_profile`.

    With MFA required, `mfa_serial` names the user's device (a placeholder to fill in) and the CLI prompts
    for a code once per session.

    With a source identity required (the grant's trust demands the user's own name), the profile cannot be a role
    profile: the CLI's config has no setting for a source identity (boto/botocore#2486). It runs `aws sts
    assume-role --source-identity` as a credential_process instead, which cannot prompt for an MFA code: with MFA
    required too, `source_profile` must then hold MFA session credentials (`aws sts get-session-token`).
    """
    if source_identity == "required":
        return _section(profile, {"credential_process": credential_process_command(
            role_arn, source_profile=source_profile, session_name=f"{USER_NAME_PLACEHOLDER}-cli",
            source_identity=USER_NAME_PLACEHOLDER, external_id=external_id, duration_seconds=duration_seconds),
            **({"region": region} if region else {})})
    section: dict[str, str] = {
        "role_arn": role_arn,
        "source_profile": source_profile,
        "role_session_name": f"{profile}-cli",
        "duration_seconds": str(duration_seconds),
    }
    if external_id:
        section["external_id"] = external_id
    if require_mfa:
        section["mfa_serial"] = arns.mfa_device(consumer_account_id, MFA_SERIAL_PLACEHOLDER)
    if region:
        section["region"] = region
    return _section(profile, section)


def credential_process_command(
    role_arn: str, *, source_profile: str, session_name: str, source_identity: str, external_id: str | None,
    duration_seconds: int,
) -> str:
    """`aws sts assume-role` with a source identity, printing what a credential_process prints."""
    words = ["aws", "sts", "assume-role", "--profile", source_profile, "--role-arn", role_arn,
             "--role-session-name", session_name, "--source-identity", source_identity,
             "--duration-seconds", str(duration_seconds)]
    if external_id:
        words += ["--external-id", external_id]
    words += ["--output", "json", "--query", CREDENTIAL_PROCESS_QUERY]
    return shlex.join(words)


def _section(profile: str, section: dict[str, str]) -> str:
    parser = configparser.ConfigParser(interpolation=None)
    parser[f"profile {profile}"] = section
    out = io.StringIO()
    parser.write(out)
    return out.getvalue().strip() + "\n"
