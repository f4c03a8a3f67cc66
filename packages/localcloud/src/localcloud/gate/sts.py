"""STS as AWS runs it, where moto does not: MFA codes, GetSessionToken, session limits, and sessions that carry
what AssumeRole was given (managed session policies, session tags, transitive tags, the source identity).

Sources: API_AssumeRole.html, API_GetSessionToken.html, id_credentials_temp_control-access_getsessiontoken.html,
id_session-tags.html ("Chaining roles with session tags"), id_credentials_temp_control-access_monitor.html.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from werkzeug.wrappers import Response

from localcloud.actions import Check, member_list
from localcloud.gate.errors import XMLNS, AccessDenied, GateError, ValidationError
from localcloud.gate.timefmt import iso
from localcloud.evaluator import Decision
from localcloud.principals import RoleSessionInfo, verify_totp

if TYPE_CHECKING:
    from localcloud.gate.app import Gate
    from localcloud.gate.exchange import Exchange

ROLE_CHAINING_LIMIT_SECONDS = 3600
MIN_SESSION_SECONDS = 900
MAX_ROLE_SESSION_SECONDS = 43200
SESSION_TOKEN_DEFAULT_SECONDS = 43200
SESSION_TOKEN_MAX_SECONDS = 129600

MFA_INVALID_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code. "
MFA_UNKNOWN_DEVICE = (
    "MultiFactorAuthentication failed, unable to validate MFA code.  "
    "Please verify your MFA serial number is valid and associated with this user."
)
ROLE_CHAINING_MESSAGE = (
    "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
)
MAX_SESSION_MESSAGE = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."


def _duration(text: str, maximum: int) -> int:
    try:
        duration = int(text)
    except ValueError:
        raise ValidationError(f"Value '{text}' at 'durationSeconds' is not a number") from None
    if duration < MIN_SESSION_SECONDS:
        raise ValidationError(f"1 validation error detected: Value '{duration}' at 'durationSeconds' failed to "
                              f"satisfy constraint: Member must have value greater than or equal to {MIN_SESSION_SECONDS}")
    if duration > maximum:
        raise ValidationError(f"1 validation error detected: Value '{duration}' at 'durationSeconds' failed to "
                              f"satisfy constraint: Member must have value less than or equal to {maximum}")
    return duration


# --- before authorization --------------------------------------------------------------------------------------


def verify_mfa(gate: Gate, ex: Exchange) -> Response | None:
    """AssumeRole (or GetSessionToken) with SerialNumber and TokenCode: the code must be the device's."""
    assert ex.plan is not None and ex.principal is not None
    serial = ex.plan.params.get("SerialNumber")
    code = ex.plan.params.get("TokenCode")
    if not serial and not code:
        return None
    user_name = ex.principal.user_name
    caller_account = ex.principal.caller.account or ""
    seed = gate.directory.mfa_seed(caller_account, user_name, serial) if user_name and serial else None
    if seed is None or not code:
        raise AccessDenied(MFA_UNKNOWN_DEVICE)
    if not verify_totp(seed, code, ex.now):
        raise AccessDenied(MFA_INVALID_CODE)
    ex.mfa_verified = True
    ex.context["aws:MultiFactorAuthPresent"] = "true"
    ex.context["aws:MultiFactorAuthAge"] = "0"
    return None


def read_session_request(gate: Gate, ex: Exchange) -> Response | None:
    """What the new session will carry: its own tags and source identity plus what the caller's session passes
    on (transitive tags, the source identity), and the managed session policies named by PolicyArns."""
    assert ex.plan is not None and ex.principal is not None
    params = ex.plan.params
    role_check = ex.plan.checks[0]
    parent = ex.principal.session
    tags = dict(zip(member_list(params, "Tags", "Key"), member_list(params, "Tags", "Value")))
    transitive = set(member_list(params, "TransitiveTagKeys"))
    if not transitive <= set(tags):
        raise GateError(400, "InvalidParameterValue", "The TransitiveTagKeys must be keys of the session tags.")
    inherited = {key: value for key, value in (parent.tags.items() if parent else ())
                 if key in parent.transitive_tag_keys} if parent else {}
    clash = sorted(key for key in tags if key.lower() in {k.lower() for k in inherited})
    if clash:
        # A chained session cannot override a transitive tag (id_session-tags.html, "Chaining roles").
        raise GateError(400, "InvalidParameterValue", f"The session tag {clash[0]!r} is transitive from the "
                        "calling session and cannot be set again.")
    source_identity = params.get("SourceIdentity")
    if parent is not None and parent.source_identity:
        if source_identity and source_identity != parent.source_identity:
            raise AccessDenied("The source identity of a role session cannot be changed in a role chain.")
        if not source_identity:
            _carry_source_identity(ex, parent.source_identity)
            role_check = ex.plan.checks[0]
        source_identity = parent.source_identity
    policies = []
    role_account = role_check.resource_account or ex.principal.caller.account or ""
    for arn in member_list(params, "PolicyArns", "arn"):
        document = gate.directory.managed_policy(role_account, arn)
        if document is None:
            raise GateError(404, "NoSuchEntity", f"Policy {arn} does not exist or is not attachable.")
        policies.append(document)
    if inherited and not tags:
        # Transitive tags passed along still need sts:TagSession on the next role (id_session-tags.html).
        context = {**role_check.context, "aws:TagKeys": sorted(inherited),
                   **{f"aws:RequestTag/{key}": value for key, value in inherited.items()}}
        tag_check = Check("sts:TagSession", role_check.resource, role_check.resource_account, context)
        ex.plan = replace(ex.plan, checks=(*ex.plan.checks, tag_check))
    ex.session = RoleSessionInfo(
        issued_at=ex.now,
        mfa_present=False,  # set when the session is issued
        managed_session_policies=tuple(policies),
        tags={**inherited, **tags},
        transitive_tag_keys=frozenset(transitive | set(inherited)),
        source_identity=source_identity,
    )
    return None


def _carry_source_identity(ex: Exchange, source_identity: str) -> None:
    """A chained AssumeRole from a session that has a source identity, without SourceIdentity: the identity
    persists, "both the aws:SourceIdentity and sts:SourceIdentity keys are present in the request context", and
    sts:SetSourceIdentity is needed in the caller's policy and the next role's trust as when it is passed
    (id_credentials_temp_control-access_monitor.html, "Role chaining and cross-account requirements" and
    "Permissions required to set source identity"). aws:SourceIdentity comes from the calling session itself."""
    assert ex.plan is not None
    checks = tuple(replace(check, context={**check.context, "sts:SourceIdentity": source_identity})
                   for check in ex.plan.checks)
    role_check = checks[0]
    setting = Check("sts:SetSourceIdentity", role_check.resource, role_check.resource_account, role_check.context)
    ex.plan = replace(ex.plan, checks=(*checks, setting))


def session_token_limits(gate: Gate, ex: Exchange) -> Response | None:
    """GetSessionToken credentials: no IAM without MFA, and of STS only AssumeRole and GetCallerIdentity
    (id_credentials_temp_control-access_getsessiontoken.html)."""
    assert ex.plan is not None and ex.principal is not None
    if not ex.principal.registry_session:
        return None
    check = ex.plan.checks[0] if ex.plan.checks else Check(ex.plan.action, "*", None)
    if ex.principal.federated and (ex.plan.service == "iam" or (ex.plan.service == "sts"
                                                                 and ex.plan.operation != "GetCallerIdentity")):
        # id_credentials_temp_control-access_getfederationtoken.html
        gate.record(ex, check, Decision(False, "federated users can call no IAM operation and of STS only "
                                               "GetCallerIdentity"))
        raise AccessDenied(f"Cannot call {ex.plan.operation} with session credentials")
    if ex.plan.service == "iam" and not ex.principal.mfa_present:
        gate.record(ex, check, Decision(False, "GetSessionToken credentials without MFA cannot call IAM"))
        raise AccessDenied("You cannot call any IAM API operations unless MFA authentication information is "
                           "included in the request.")
    if ex.plan.service == "sts" and ex.plan.operation not in ("AssumeRole", "GetCallerIdentity"):
        gate.record(ex, check, Decision(False, "GetSessionToken credentials can call only AssumeRole and "
                                                "GetCallerIdentity of STS"))
        raise AccessDenied(f"Cannot call {ex.plan.operation} with session credentials")
    return None


# --- after authorization ---------------------------------------------------------------------------------------


def validate_assume_role(gate: Gate, ex: Exchange) -> Response | None:
    """DurationSeconds against the API's range, the role-chaining limit and the role's MaxSessionDuration."""
    assert ex.plan is not None and ex.principal is not None
    duration_text = ex.plan.params.get("DurationSeconds")
    if not duration_text:
        return None
    duration = _duration(duration_text, MAX_ROLE_SESSION_SECONDS)
    if ex.principal.temporary and duration > ROLE_CHAINING_LIMIT_SECONDS:
        raise ValidationError(ROLE_CHAINING_MESSAGE)
    role = gate.directory.role(ex.plan.checks[0].resource)
    if role is not None and duration > role.max_session_duration:
        raise ValidationError(MAX_SESSION_MESSAGE)
    return None


# --- answers ---------------------------------------------------------------------------------------------------


def _credentials_xml(credentials: Any) -> str:
    return (
        f"<Credentials><AccessKeyId>{credentials.access_key_id}</AccessKeyId>"
        f"<SecretAccessKey>{escape(credentials.secret_access_key)}</SecretAccessKey>"
        f"<SessionToken>{escape(credentials.session_token)}</SessionToken>"
        f"<Expiration>{iso(credentials.expiration, millis=True)}</Expiration></Credentials>"
    )


def _sts_response(ex: Exchange, operation: str, result: str) -> Response:
    body = (
        f'<{operation}Response xmlns="{XMLNS["sts"]}"><{operation}Result>{result}</{operation}Result>'
        f"<ResponseMetadata><RequestId>{ex.request_id}</RequestId></ResponseMetadata></{operation}Response>"
    )
    return Response(body.encode(), status=200, headers={"Content-Type": "text/xml"})


def get_session_token(gate: Gate, ex: Exchange) -> Response:
    """sts:GetSessionToken needs no permission; localcloud issues the credentials and remembers the MFA (moto's
    own returns a fixed example key)."""
    assert ex.plan is not None and ex.principal is not None
    principal = ex.principal
    check = ex.plan.checks[0]
    if principal.temporary or principal.caller.kind != "user" or not principal.user_name:
        gate.record(ex, check, Decision(False, "GetSessionToken must be called with the long-term credentials of "
                                               "an IAM user"))
        raise AccessDenied("Cannot call GetSessionToken with session credentials")
    duration_text = ex.plan.params.get("DurationSeconds")
    duration = _duration(duration_text, SESSION_TOKEN_MAX_SECONDS) if duration_text else SESSION_TOKEN_DEFAULT_SECONDS
    session = gate.registry.issue_session_token(
        account=principal.caller.account or "",
        user_name=principal.user_name,
        duration_seconds=duration,
        mfa_present=ex.mfa_verified,
        now=ex.now,
    )
    gate.record(ex, check, Decision(True, "sts:GetSessionToken needs no permission"))
    return _sts_response(ex, "GetSessionToken", _credentials_xml(session.credentials))


def get_federation_token(gate: Gate, ex: Exchange) -> Response:
    """A federated user session for the calling IAM user (API_GetFederationToken.html): its permissions are the
    user's intersected with the Policy and PolicyArns passed; with neither it has none."""
    from localcloud.principals import parse_policy

    assert ex.plan is not None and ex.principal is not None
    principal, params = ex.principal, ex.plan.params
    if principal.temporary or principal.caller.kind != "user" or not principal.user_name:
        raise AccessDenied("Cannot call GetFederationToken with session credentials")
    account = principal.caller.account or ""
    policies = []
    if params.get("Policy"):
        document = parse_policy(params["Policy"])
        if document is None:
            raise GateError(400, "MalformedPolicyDocument", "The policy is not in the valid JSON format.")
        policies.append(document)
    for arn in member_list(params, "PolicyArns", "arn"):
        managed = gate.directory.managed_policy(account, arn)
        if managed is None:
            raise GateError(404, "NoSuchEntity", f"Policy {arn} does not exist or is not attachable.")
        policies.append(managed)
    duration_text = params.get("DurationSeconds")
    duration = _duration(duration_text, SESSION_TOKEN_MAX_SECONDS) if duration_text else SESSION_TOKEN_DEFAULT_SECONDS
    name = str(params.get("Name", ""))
    session = gate.registry.issue_session_token(account=account, user_name=principal.user_name,
                                                duration_seconds=duration, mfa_present=False, now=ex.now,
                                                federated_name=name, session_policies=tuple(policies))
    federated_user = (f"<FederatedUser><FederatedUserId>{account}:{escape(name)}</FederatedUserId>"
                      f"<Arn>{escape(ex.plan.checks[0].resource)}</Arn></FederatedUser>"
                      "<PackedPolicySize>1</PackedPolicySize>")
    return _sts_response(ex, "GetFederationToken", _credentials_xml(session.credentials) + federated_user)


def caller_identity(gate: Gate, ex: Exchange) -> Response:
    """GetCallerIdentity of GetSessionToken credentials (moto does not know them); others go to moto."""
    assert ex.principal is not None
    if not ex.principal.registry_session:
        return gate.forward(ex)
    caller = ex.principal.caller
    return _sts_response(ex, "GetCallerIdentity", f"<Arn>{escape(caller.arn)}</Arn>"
                         f"<UserId>{escape(ex.principal.user_id)}</UserId><Account>{caller.account}</Account>")


def assume_role(gate: Gate, ex: Exchange) -> Response:
    """moto issues the session; localcloud remembers what it carries (moto keeps only the inline policy)."""
    assert ex.principal is not None and ex.session is not None
    response = gate.forward(ex)
    if response.status_code == 200:
        found = re.search(rb"<AccessKeyId>([^<]+)</AccessKeyId>", response.get_data())
        if found:
            role = gate.directory.role(ex.plan.checks[0].resource) if ex.plan is not None else None
            info = replace(ex.session, issued_at=ex.now, mfa_present=ex.mfa_verified or ex.principal.mfa_present,
                           role_id=role.role_id if role is not None else None)
            gate.registry.record_role_session(found.group(1).decode(), info)
    return response
