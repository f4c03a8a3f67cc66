"""Request handlers that read the request once (``localcloud.gate.reading``), classify that reading into one
operation and its checks (``localcloud.actions``), and build the request context the evaluator sees."""

from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from localcloud import actions, kms_actions, sigv4
from localcloud.gate import reading
from localcloud.gate.errors import AmbiguousRequest, AuthenticationFailed, GateError
from localcloud.gate.timefmt import iso

if TYPE_CHECKING:
    from localcloud.gate.app import Gate
    from localcloud.gate.exchange import Exchange


def read_request(gate: Gate, ex: Exchange) -> Response | None:
    assert ex.http is not None and ex.signed is not None and ex.principal is not None and ex.protocol is not None
    try:
        ex.request = reading.read(ex.http, ex.signed, protocol=ex.protocol,
                                  secret_key=ex.principal.secret_access_key)
    except sigv4.SignatureMismatch:
        raise AuthenticationFailed("mismatch") from None  # a chunk or trailer signature of a streamed body
    except sigv4.MalformedChunkedBody as error:
        raise GateError(400, "IncompleteBody", str(error)) from None
    return None


def classify(gate: Gate, ex: Exchange) -> Response | None:
    assert ex.request is not None and ex.signed is not None and ex.principal is not None
    account = ex.principal.caller.account or ""
    try:
        ex.plan = actions.classify(
            ex.request, service=ex.signed.service, region=ex.signed.region, caller_account=account,
            directory=gate.directory, caller_arn=ex.principal.caller.arn,
        )
    except actions.UnexpectedParameter as error:
        raise _unexpected(ex, error) from None
    except actions.UnknownOperation as error:
        raise GateError(400, "InvalidAction", f"localcloud cannot tell which operation this is: {error}") from None
    except kms_actions.KmsRequestError as error:  # KMS answers it without authorizing: no such key, alias, ...
        raise GateError(error.status, error.code, error.message) from None
    gate.count(ex.plan.action)
    return None


def _unexpected(ex: Exchange, error: actions.UnexpectedParameter) -> AmbiguousRequest:
    if error.name == actions.BODY:
        return AmbiguousRequest(400, "InvalidArgument" if ex.protocol == "rest-xml" else "SerializationException",
                                f"{error.operation} takes no request body; one was sent (moto would read "
                                "parameters from it).")
    if ex.protocol == "rest-json":
        return AmbiguousRequest(400, "SerializationException", f"{error.operation} does not take {error.name!r} "
                                "there (a query or path member given in the body, or no member at all).")
    if ex.protocol == "rest-xml":
        return AmbiguousRequest(400, "InvalidArgument", f"{error.operation} does not take the query parameter "
                                f"{error.name!r}; combined sub-resources name more than one operation.",
                                extra={"ArgumentName": error.name})
    if error.names_resource:
        return AmbiguousRequest(400, "InvalidParameterCombination", f"{error.operation} does not take "
                                f"{error.name!r}: a second resource parameter would name another resource.")
    return AmbiguousRequest(400, "InvalidQueryParameter", f"{error.operation} does not take the parameter "
                            f"{error.name!r}.")


def build_context(gate: Gate, ex: Exchange) -> Response | None:
    """The global condition keys of the request (reference_policies_condition-keys.html) and S3's own."""
    assert ex.principal is not None and ex.signed is not None and ex.plan is not None
    caller = ex.principal.caller
    context: dict[str, str | list[str]] = {
        "aws:PrincipalArn": caller.principal_arn,
        "aws:PrincipalAccount": caller.account or "",
        "aws:SecureTransport": "true" if ex.secure else "false",
        "aws:CurrentTime": iso(ex.now),
        "aws:EpochTime": str(int(ex.now.timestamp())),
        "aws:RequestedRegion": ex.signed.region,
        # "always included": false when the principal calls directly (reference_policies_condition-keys.html);
        # true only in a request a service makes for the principal (authorize.context_for).
        "aws:ViaAWSService": "false",
    }
    # The one place a principal gets aws:PrincipalOrgID and aws:PrincipalOrgPaths: only principals of member
    # accounts have them (users, role sessions, federated users alike). A service principal belongs to no account
    # of the organization; Lambda assuming an execution role never comes through here (lambda_runtime).
    if gate.organization is not None and caller.kind != "service":
        context.update(gate.organization.principal_context(caller.account))
    remote = ex.environ.get("REMOTE_ADDR")
    if remote:
        context["aws:SourceIp"] = str(remote)
    agent = ex.http.header("user-agent") if ex.http else None
    if agent:
        context["aws:UserAgent"] = agent
    context.update(ex.principal.context)
    if ex.plan.service == "s3":
        context["s3:signatureversion"] = "AWS4-HMAC-SHA256"
        context["s3:authType"] = "REST-QUERY-STRING" if ex.signed.presigned else "REST-HEADER"
        if ex.secure:
            context["s3:TlsVersion"] = "1.2"
    ex.context = context
    return None
