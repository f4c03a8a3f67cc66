"""The AWS CLI profile a consumer's user pastes into ~/.aws/config to act as their grant's role."""

from __future__ import annotations

import configparser
import io

from components import arns

MFA_SERIAL_PLACEHOLDER = "<YOUR_MFA_DEVICE_NAME>"


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
) -> str:
    """An INI section: the CLI assumes `role_arn` with the credentials of `source_profile`.

    With MFA required, `mfa_serial` names the user's device (a placeholder to fill in) and the CLI prompts
    for a code once per session.
    """
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
    parser = configparser.ConfigParser(interpolation=None)
    parser[f"profile {profile}"] = section
    out = io.StringIO()
    parser.write(out)
    return out.getvalue().strip() + "\n"
