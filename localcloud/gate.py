"""The gate: WSGI middleware in front of moto's server that authenticates and authorizes every request like AWS.

moto's server answers for any account and checks almost nothing; the gate decides first and only lets through what
AWS would allow, in the caller's account. A request passes through ``Gate.steps`` in order; each step either lets
it continue (returns None) or answers it (returns a WSGI app: an error, a response of the gate's own, or moto's):

    block_moto_api        /moto-api/ would reset or reshape state without authorization
    read_body             the body is needed for the signature and for query-protocol parameters
    authenticate          SigV4 (localcloud.sigv4) and the access key's owner (localcloud.principals)
    strip_account_header  a client may not pick moto's account (x-moto-account-id; signed, so removed only now)
    classify              operation, IAM action(s), resource(s) (localcloud.actions)
    build_context         the request context: aws:PrincipalArn, aws:SecureTransport, aws:CurrentTime, ...
    verify_mfa            AssumeRole with SerialNumber/TokenCode: check the TOTP code
    get_session_token     answered here: moto's GetSessionToken returns a fixed example key
    session_token_limits  GetSessionToken credentials cannot call IAM without MFA, nor most of STS
    authorize             localcloud.iam.evaluate for every check; a denial never reaches moto
    validate_assume_role  DurationSeconds against MaxSessionDuration and the role-chaining limit
    check_content_md5     S3 refuses a body that does not match its Content-MD5 (BadDigest)
    dispatch              forward to moto in the caller's account, or answer (Lambda Invoke, GetCallerIdentity of
                          GetSessionToken credentials, DeleteObjects with denied keys)

To add a step (fault injection, say), insert a callable ``step(gate, exchange) -> WSGI app | None`` with
``gate.add_step(step, before="authorize")``.

Every authorization decision is logged at DEBUG on the "localcloud.gate" logger and kept in ``gate.decisions``
(the most recent ``decisions_maxlen``); ``gate.calls`` counts requests per IAM action.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import logging
import re
import threading
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from werkzeug.test import run_wsgi_app
from werkzeug.wrappers import Response

from localcloud import sigv4
from localcloud.actions import ActionPlan, Check, UnknownOperation, classify, lambda_target, preload
from localcloud.iam import AccessRequest, Decision, evaluate
from localcloud.iam.evaluation import BOUNDARY, IDENTITY, RESOURCE, SESSION, TRUST
from localcloud.principals import MotoDirectory, ResolvedPrincipal, SessionRegistry, resolve, verify_totp

if TYPE_CHECKING:  # localcloud.faults builds on the gate, so the gate names it for types only
    from localcloud.faults import FaultPlan

log = logging.getLogger("localcloud.gate")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Invoker = Callable[[str, str, str, bytes, Mapping[str, str]], tuple[int, list[tuple[str, str]], bytes]]
Step = Callable[["Gate", "Exchange"], "WSGIApp | None"]

ROLE_CHAINING_LIMIT_SECONDS = 3600
MIN_SESSION_SECONDS = 900
MAX_ROLE_SESSION_SECONDS = 43200
SESSION_TOKEN_DEFAULT_SECONDS = 43200
SESSION_TOKEN_MAX_SECONDS = 129600
MOTO_ACCOUNT_ENVIRON_KEY = "HTTP_X_MOTO_ACCOUNT_ID"

XMLNS = {
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
}
MFA_INVALID_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code. "
MFA_UNKNOWN_DEVICE = (
    "MultiFactorAuthentication failed, unable to validate MFA code.  "
    "Please verify your MFA serial number is valid and associated with this user."
)
ROLE_CHAINING_MESSAGE = (
    "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
)
MAX_SESSION_MESSAGE = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."


@dataclass(frozen=True)
class GateDecision:
    """One authorization the gate made."""

    time: datetime
    principal: str
    action: str
    resource: str
    allowed: bool
    reason: str
    operation: str = ""
    access_key_id: str | None = None


@dataclass
class Exchange:
    """One request on its way through the gate's steps."""

    environ: dict[str, Any]
    now: datetime
    request_id: str
    body: bytes = b""
    http: sigv4.HttpRequest | None = None
    signed: sigv4.SignedRequest | None = None
    principal: ResolvedPrincipal | None = None
    plan: ActionPlan | None = None
    context: dict[str, str | list[str]] = field(default_factory=dict)
    mfa_verified: bool = False
    denied_items: list[Mapping[str, str]] = field(default_factory=list)

    @property
    def secure(self) -> bool:
        return self.environ.get("wsgi.url_scheme") == "https"


# ---------------------------------------------------------------------------------------------------------------
# Error documents, per protocol
# ---------------------------------------------------------------------------------------------------------------


def _protocol_for(service: str | None, http: sigv4.HttpRequest | None) -> str:
    if service == "s3":
        return "rest-xml"
    if service in ("sts", "iam"):
        return "query"
    if service == "logs":
        return "json"
    if service == "lambda":
        return "rest-json"
    if http is None:
        return "rest-xml"
    if http.header("x-amz-target"):
        return "json"
    if "Action" in http.query_params() or b"Action=" in http.body[:4096]:
        return "query"
    if re.match(r"^/20\d\d-\d\d-\d\d/", http.raw_path):
        return "rest-json"
    return "rest-xml"


def error_response(
    protocol: str,
    status: int,
    code: str,
    message: str,
    *,
    request_id: str,
    service: str | None = None,
    extra: Mapping[str, str] | None = None,
    head: bool = False,
    sender: bool = True,
) -> Response:
    """An AWS-shaped error of the given protocol."""
    if protocol == "rest-xml":
        details = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in (extra or {}).items())
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>{details}"
            f"<RequestId>{request_id}</RequestId><HostId>{request_id}</HostId></Error>"
        )
        headers = {"Content-Type": "application/xml", "x-amz-request-id": request_id, "x-amz-id-2": request_id}
        return Response(b"" if head else body.encode(), status=status, headers=headers)
    if protocol in ("query", "ec2"):
        namespace = XMLNS.get(service or "", XMLNS["sts"])
        body = (
            f'<ErrorResponse xmlns="{namespace}"><Error><Type>{"Sender" if sender else "Receiver"}</Type>'
            f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return Response(body.encode(), status=status, headers={"Content-Type": "text/xml", "x-amzn-RequestId": request_id})
    if protocol == "json":
        body = json.dumps({"__type": code, "message": message})
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": request_id,
                   "x-amzn-ErrorType": code}
        return Response(body.encode(), status=status, headers=headers)
    body = json.dumps({"Type": "User" if sender else "Service", "Message": message})
    headers = {"Content-Type": "application/json", "x-amzn-RequestId": request_id, "x-amzn-ErrorType": code}
    return Response(b"" if head else body.encode(), status=status, headers=headers)


# (protocol family) -> (status, code, message) for each authentication failure. "s3" is rest-xml.
_AUTH_ERRORS: dict[str, dict[str, tuple[int, str, str]]] = {
    "missing": {
        "rest-xml": (403, "AccessDenied", "Access Denied"),
        "query": (403, "MissingAuthenticationToken", "Request is missing Authentication Token"),
        "json": (400, "MissingAuthenticationTokenException", "Missing Authentication Token"),
        "rest-json": (403, "MissingAuthenticationTokenException", "Missing Authentication Token"),
    },
    "unknown_key": {
        "rest-xml": (403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."),
        "query": (403, "InvalidClientTokenId", "The security token included in the request is invalid."),
        "json": (400, "UnrecognizedClientException", "The security token included in the request is invalid."),
        "rest-json": (403, "UnrecognizedClientException", "The security token included in the request is invalid."),
    },
    "bad_token": {
        "rest-xml": (400, "InvalidToken", "The provided token is malformed or otherwise invalid."),
        "query": (403, "InvalidClientTokenId", "The security token included in the request is invalid."),
        "json": (400, "UnrecognizedClientException", "The security token included in the request is invalid."),
        "rest-json": (403, "UnrecognizedClientException", "The security token included in the request is invalid."),
    },
    "expired_token": {
        "rest-xml": (400, "ExpiredToken", "The provided token has expired."),
        "query": (403, "ExpiredToken", "The security token included in the request is expired"),
        "json": (400, "ExpiredTokenException", "The security token included in the request is expired"),
        "rest-json": (403, "ExpiredTokenException", "The security token included in the request is expired"),
    },
    "mismatch": {
        "rest-xml": (
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
        ),
        "query": (
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
            "Access Key and signing method. Consult the service documentation for details.",
        ),
        "json": (
            400,
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
            "Access Key and signing method. Consult the service documentation for details.",
        ),
        "rest-json": (
            403,
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
            "Access Key and signing method. Consult the service documentation for details.",
        ),
    },
    "malformed": {
        "rest-xml": (400, "AuthorizationHeaderMalformed", ""),
        "query": (400, "IncompleteSignature", ""),
        "json": (400, "IncompleteSignatureException", ""),
        "rest-json": (403, "IncompleteSignatureException", ""),
    },
}

_SKEW_CODES = {
    "query": (403, "SignatureDoesNotMatch"),
    "json": (400, "InvalidSignatureException"),
    "rest-json": (403, "InvalidSignatureException"),
}


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _iso(moment: datetime, *, millis: bool = False) -> str:
    moment = moment.astimezone(timezone.utc)
    if millis:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


_POLICY_PHRASES = {
    IDENTITY: "an identity-based policy",
    RESOURCE: "a resource-based policy",
    BOUNDARY: "a permissions boundary",
    SESSION: "a session policy",
    TRUST: "a resource-based policy",
}


def denial_clause(decision: Decision, action: str) -> str:
    """The tail AWS adds to an access-denied message: which kind of policy denied, or which did not allow."""
    reason = decision.reason
    if reason.startswith("explicit deny") and decision.deciding_policy in _POLICY_PHRASES:
        return f" with an explicit deny in {_POLICY_PHRASES[decision.deciding_policy]}"
    for kind, phrase in (
        (BOUNDARY, "permissions boundary"),
        (SESSION, "session policy"),
        (IDENTITY, "identity-based policy"),
    ):
        if reason.startswith(f"no {kind} allows") or reason.startswith(f"{kind} does not allow"):
            return f" because no {phrase} allows the {action} action"
    if RESOURCE in reason:
        return f" because no resource-based policy allows the {action} action"
    return ""


def denial_message(caller_arn: str, check: Check, decision: Decision, protocol: str) -> str:
    """``User: ARN is not authorized to perform: ACTION on resource: RESOURCE because ...`` as each service says it."""
    resource = f'"{check.resource}"' if protocol == "rest-xml" else check.resource
    message = f"User: {caller_arn} is not authorized to perform: {check.action} on resource: {resource}"
    if check.action.lower().startswith("sts:assumerole"):
        return message  # STS names no reason for AssumeRole denials
    return message + denial_clause(decision, check.action)


# ---------------------------------------------------------------------------------------------------------------
# The gate
# ---------------------------------------------------------------------------------------------------------------


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _aws_chunked_payload(body: bytes) -> bytes:
    """The data of an aws-chunked body ("<hex size>[;chunk-signature=...]\\r\\n<data>\\r\\n"..., trailers last)."""
    payload, rest = [], body
    while rest:
        header, _, rest = rest.partition(b"\r\n")
        size = int(header.split(b";", 1)[0] or b"0", 16)
        if size == 0:
            break
        payload.append(rest[:size])
        rest = rest[size + 2:]
    return b"".join(payload)


class Gate:
    """WSGI middleware: ``Gate(moto_app, invoker=..., registry=..., directory=..., clock=...)``."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        invoker: Invoker | None = None,
        registry: SessionRegistry | None = None,
        directory: MotoDirectory | None = None,
        clock: Callable[[], datetime] = _utcnow,
        decisions_maxlen: int = 1000,
    ) -> None:
        self.app = app
        self.invoker = invoker
        self.registry = registry if registry is not None else SessionRegistry()
        self.directory = directory if directory is not None else MotoDirectory()
        self.clock = clock
        self.decisions: deque[GateDecision] = deque(maxlen=decisions_maxlen)
        self.calls: Counter[str] = Counter()
        self.faults: FaultPlan | None = None  # set by localcloud.faults.install_faults
        self._lock = threading.Lock()
        preload()
        self.steps: list[Step] = [
            Gate.block_moto_api,
            Gate.read_body,
            Gate.authenticate,
            Gate.strip_account_header,
            Gate.classify,
            Gate.build_context,
            Gate.verify_mfa,
            Gate.get_session_token,
            Gate.session_token_limits,
            Gate.authorize,
            Gate.validate_assume_role,
            Gate.check_content_md5,
            Gate.dispatch,
        ]

    # --- plumbing --------------------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        exchange = Exchange(environ=environ, now=self.clock(), request_id=str(uuid.uuid4()))
        try:
            for step in list(self.steps):
                answer = step(self, exchange)
                if answer is not None:
                    break
            else:
                raise RuntimeError("the gate's last step must answer every request")
        except Exception as error:  # noqa: BLE001 - a bug in a step is the service's failure, never a pass
            log.exception("gate failed on %s %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
            answer = self._error(exchange, 500, "InternalFailure", f"localcloud gate error: {error!r}", sender=False)
        return answer(environ, start_response)

    def add_step(self, step: Step, *, before: str | Step) -> None:
        """Insert ``step`` before the step named ``before`` (a name like "authorize", or the step itself)."""
        names = [getattr(existing, "__name__", "") for existing in self.steps]
        index = self.steps.index(before) if callable(before) else names.index(before)
        self.steps.insert(index, step)

    def clear_history(self) -> None:
        with self._lock:
            self.decisions.clear()
            self.calls.clear()

    def decisions_for(self, action: str) -> list[GateDecision]:
        return [decision for decision in list(self.decisions) if decision.action.lower() == action.lower()]

    def _record(self, ex: Exchange, check: Check, decision: Decision) -> None:
        principal = ex.principal.caller.arn if ex.principal else "anonymous"
        record = GateDecision(
            time=ex.now,
            principal=principal,
            action=check.action,
            resource=check.resource,
            allowed=decision.allowed,
            reason=decision.reason,
            operation=ex.plan.operation if ex.plan else "",
            access_key_id=ex.principal.access_key_id if ex.principal else None,
        )
        self.decisions.append(record)
        log.debug(
            "decision principal=%s action=%s resource=%s allowed=%s reason=%s",
            principal, check.action, check.resource, decision.allowed, decision.reason,
        )

    def _protocol(self, ex: Exchange) -> str:
        if ex.plan is not None:
            return ex.plan.protocol
        return _protocol_for(ex.signed.service if ex.signed else None, ex.http)

    def _error(self, ex: Exchange, status: int, code: str, message: str, **kwargs: Any) -> Response:
        service = ex.plan.service if ex.plan else (ex.signed.service if ex.signed else None)
        return error_response(
            self._protocol(ex), status, code, message, request_id=ex.request_id, service=service,
            head=ex.environ.get("REQUEST_METHOD") == "HEAD", **kwargs,
        )

    def _auth_error(self, ex: Exchange, kind: str, message: str | None = None, **kwargs: Any) -> Response:
        protocol = self._protocol(ex)
        family = protocol if protocol in ("rest-xml", "json", "rest-json") else "query"
        status, code, default = _AUTH_ERRORS[kind][family]
        log.debug("authentication failed: %s (%s)", kind, message or default)
        return self._error(ex, status, code, message or default, **kwargs)

    def _access_denied(self, ex: Exchange, message: str) -> Response:
        protocol = self._protocol(ex)
        status = 400 if protocol == "json" else 403
        code = "AccessDeniedException" if protocol in ("json", "rest-json") else "AccessDenied"
        return self._error(ex, status, code, message)

    def _validation_error(self, ex: Exchange, message: str) -> Response:
        return self._error(ex, 400, "ValidationError", message)

    # --- steps -----------------------------------------------------------------------------------------------------

    def strip_account_header(self, ex: Exchange) -> WSGIApp | None:
        """Only the gate says which account moto acts in."""
        ex.environ.pop(MOTO_ACCOUNT_ENVIRON_KEY, None)
        return None

    def block_moto_api(self, ex: Exchange) -> WSGIApp | None:
        path = str(ex.environ.get("PATH_INFO", ""))
        if path.startswith("/moto-api") or path == "/favicon.ico":
            return error_response(
                "rest-xml", 403, "AccessDenied",
                "localcloud: moto's /moto-api/ is not reachable through the gate (it would bypass authorization)",
                request_id=ex.request_id,
            )
        return None

    def read_body(self, ex: Exchange) -> WSGIApp | None:
        environ = ex.environ
        stream = environ.get("wsgi.input")
        length_text = environ.get("CONTENT_LENGTH") or ""
        body = b""
        if stream is not None:
            if length_text.isdigit():
                body = stream.read(int(length_text)) if int(length_text) else b""
            elif environ.get("wsgi.input_terminated"):
                body = stream.read()
        ex.body = body
        ex.http = sigv4.HttpRequest.from_environ(environ, body)
        environ["wsgi.input"] = io.BytesIO(body)
        if body or length_text:
            environ["CONTENT_LENGTH"] = str(len(body))
        return None

    def authenticate(self, ex: Exchange) -> WSGIApp | None:
        assert ex.http is not None
        try:
            ex.signed = sigv4.parse(ex.http)
        except sigv4.MissingAuthentication:
            return self._auth_error(ex, "missing")
        except sigv4.MalformedAuthorization as error:
            if self._protocol(ex) == "rest-xml" and "X-Amz-Algorithm" in ex.http.query_params():
                return self._error(ex, 400, "AuthorizationQueryParametersError", str(error))
            if self._protocol(ex) == "rest-xml" and "AWS4-HMAC-SHA256" not in (ex.http.header("authorization") or ""):
                return self._error(
                    ex, 400, "InvalidRequest",
                    "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
                )
            return self._auth_error(ex, "malformed", str(error))
        signed = ex.signed
        principal = resolve(signed.access_key_id, self.registry, ex.now)
        if principal is None:
            return self._auth_error(ex, "unknown_key", extra={"AWSAccessKeyId": signed.access_key_id})
        if principal.session_token is None and signed.security_token:
            return self._auth_error(ex, "bad_token")
        if principal.session_token is not None and signed.security_token != principal.session_token:
            return self._auth_error(ex, "bad_token")
        try:
            sigv4.check_time(signed, ex.now)
        except sigv4.RequestTimeTooSkewed as error:
            return self._skew_error(ex, error)
        except sigv4.RequestExpired as error:
            if self._protocol(ex) == "rest-xml":
                return self._error(ex, 403, "AccessDenied", "Request has expired", extra={
                    "X-Amz-Expires": str(error.expires_seconds),
                    "Expires": _iso(error.expires_at),
                    "ServerTime": _iso(error.server_time),
                })
            return self._auth_error(ex, "mismatch", "Signature expired")
        try:
            sigv4.check_signature(signed, principal.secret_access_key)
        except sigv4.SignatureMismatch as error:
            return self._auth_error(ex, "mismatch", extra={
                "AWSAccessKeyId": signed.access_key_id,
                "StringToSign": error.string_to_sign,
                "SignatureProvided": error.signature_provided,
                "CanonicalRequest": error.canonical_request,
            } if self._protocol(ex) == "rest-xml" else None)
        if principal.expiration is not None and ex.now >= principal.expiration:
            return self._auth_error(ex, "expired_token")
        if signed.service in sigv4.S3_SERVICES and sigv4.declared_payload_mismatch(signed):
            return self._error(
                ex, 400, "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            )
        ex.principal = principal
        return None

    def _skew_error(self, ex: Exchange, error: sigv4.RequestTimeTooSkewed) -> Response:
        protocol = self._protocol(ex)
        if protocol == "rest-xml":
            return self._error(
                ex, 403, "RequestTimeTooSkewed",
                "The difference between the request time and the current time is too large.",
                extra={
                    "RequestTime": _timestamp(error.request_time),
                    "ServerTime": _iso(error.server_time),
                    "MaxAllowedSkewMilliseconds": str(int(sigv4.MAX_SKEW.total_seconds() * 1000)),
                },
            )
        if error.request_time < error.server_time:
            message = (
                f"Signature expired: {_timestamp(error.request_time)} is now earlier than "
                f"{_timestamp(error.server_time - sigv4.MAX_SKEW)} ({_timestamp(error.server_time)} - 15 min.)"
            )
        else:
            message = (
                f"Signature not yet current: {_timestamp(error.request_time)} is still later than "
                f"{_timestamp(error.server_time + sigv4.MAX_SKEW)} ({_timestamp(error.server_time)} + 15 min.)"
            )
        status, code = _SKEW_CODES[protocol if protocol in _SKEW_CODES else "query"]
        return self._error(ex, status, code, message)

    def classify(self, ex: Exchange) -> WSGIApp | None:
        assert ex.http is not None and ex.signed is not None and ex.principal is not None
        account = ex.principal.caller.account or ""
        try:
            ex.plan = classify(
                ex.http, service=ex.signed.service, region=ex.signed.region, caller_account=account,
                directory=self.directory, caller_arn=ex.principal.caller.arn,
            )
        except UnknownOperation as error:
            log.debug("unclassified request: %s", error)
            return self._error(ex, 400, "InvalidAction", f"localcloud cannot tell which operation this is: {error}")
        with self._lock:
            self.calls[ex.plan.action] += 1
        return None

    def build_context(self, ex: Exchange) -> WSGIApp | None:
        assert ex.principal is not None and ex.signed is not None and ex.plan is not None
        caller = ex.principal.caller
        context: dict[str, str | list[str]] = {
            "aws:PrincipalArn": caller.principal_arn,
            "aws:PrincipalAccount": caller.account or "",
            "aws:SecureTransport": "true" if ex.secure else "false",
            "aws:CurrentTime": _iso(ex.now),
            "aws:EpochTime": str(int(ex.now.timestamp())),
            "aws:RequestedRegion": ex.signed.region,
        }
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

    def verify_mfa(self, ex: Exchange) -> WSGIApp | None:
        """AssumeRole (or GetSessionToken) with SerialNumber and TokenCode: the code must be the device's."""
        assert ex.plan is not None and ex.principal is not None
        if ex.plan.service != "sts" or ex.plan.operation not in ("AssumeRole", "GetSessionToken"):
            return None
        serial = ex.plan.params.get("SerialNumber")
        code = ex.plan.params.get("TokenCode")
        if not serial and not code:
            return None
        user_name = ex.principal.user_name
        caller_account = ex.principal.caller.account or ""
        seed = self.directory.mfa_seed(caller_account, user_name, serial) if user_name and serial else None
        if seed is None or not code:
            return self._access_denied(ex, MFA_UNKNOWN_DEVICE)
        if not verify_totp(seed, code, ex.now):
            return self._access_denied(ex, MFA_INVALID_CODE)
        ex.mfa_verified = True
        ex.context["aws:MultiFactorAuthPresent"] = "true"
        ex.context["aws:MultiFactorAuthAge"] = "0"
        return None

    def get_session_token(self, ex: Exchange) -> WSGIApp | None:
        """sts:GetSessionToken needs no permission; localcloud issues the credentials and remembers the MFA."""
        assert ex.plan is not None and ex.principal is not None
        if ex.plan.service != "sts" or ex.plan.operation != "GetSessionToken":
            return None
        principal = ex.principal
        check = ex.plan.checks[0]
        if principal.temporary or principal.caller.kind != "user" or not principal.user_name:
            decision = Decision(False, "GetSessionToken must be called with the long-term credentials of an IAM user")
            self._record(ex, check, decision)
            return self._access_denied(ex, "Cannot call GetSessionToken with session credentials")
        duration_text = ex.plan.params.get("DurationSeconds")
        duration = SESSION_TOKEN_DEFAULT_SECONDS
        if duration_text:
            try:
                duration = int(duration_text)
            except ValueError:
                return self._validation_error(ex, f"Value '{duration_text}' at 'durationSeconds' is not a number")
            if duration < MIN_SESSION_SECONDS:
                return self._validation_error(
                    ex, f"1 validation error detected: Value '{duration}' at 'durationSeconds' failed to satisfy "
                    f"constraint: Member must have value greater than or equal to {MIN_SESSION_SECONDS}",
                )
            if duration > SESSION_TOKEN_MAX_SECONDS:
                return self._validation_error(
                    ex, f"1 validation error detected: Value '{duration}' at 'durationSeconds' failed to satisfy "
                    f"constraint: Member must have value less than or equal to {SESSION_TOKEN_MAX_SECONDS}",
                )
        session = self.registry.issue_session_token(
            account=principal.caller.account or "",
            user_name=principal.user_name,
            duration_seconds=duration,
            mfa_present=ex.mfa_verified,
            now=ex.now,
        )
        self._record(ex, check, Decision(True, "sts:GetSessionToken needs no permission"))
        credentials = session.credentials
        body = (
            f'<GetSessionTokenResponse xmlns="{XMLNS["sts"]}"><GetSessionTokenResult><Credentials>'
            f"<AccessKeyId>{credentials.access_key_id}</AccessKeyId>"
            f"<SecretAccessKey>{escape(credentials.secret_access_key)}</SecretAccessKey>"
            f"<SessionToken>{escape(credentials.session_token)}</SessionToken>"
            f"<Expiration>{_iso(credentials.expiration, millis=True)}</Expiration>"
            f"</Credentials></GetSessionTokenResult><ResponseMetadata><RequestId>{ex.request_id}</RequestId>"
            f"</ResponseMetadata></GetSessionTokenResponse>"
        )
        return Response(body.encode(), status=200, headers={"Content-Type": "text/xml"})

    def session_token_limits(self, ex: Exchange) -> WSGIApp | None:
        """GetSessionToken credentials: no IAM without MFA, and of STS only AssumeRole and GetCallerIdentity
        (id_credentials_temp_control-access_getsessiontoken.html)."""
        assert ex.plan is not None and ex.principal is not None
        if not ex.principal.registry_session:
            return None
        check = ex.plan.checks[0] if ex.plan.checks else Check(ex.plan.action, "*", None)
        if ex.plan.service == "iam" and not ex.principal.mfa_present:
            self._record(ex, check, Decision(False, "GetSessionToken credentials without MFA cannot call IAM"))
            return self._access_denied(
                ex, "You cannot call any IAM API operations unless MFA authentication information is included "
                "in the request.",
            )
        if ex.plan.service == "sts" and ex.plan.operation not in ("AssumeRole", "GetCallerIdentity"):
            self._record(ex, check, Decision(False, "GetSessionToken credentials can call only AssumeRole and "
                                                     "GetCallerIdentity of STS"))
            return self._access_denied(
                ex, f"Cannot call {ex.plan.operation} with session credentials"
            )
        return None

    def authorize(self, ex: Exchange) -> WSGIApp | None:
        assert ex.plan is not None and ex.principal is not None
        caller = ex.principal.caller
        for check in ex.plan.checks:
            decision = self._decide(ex, check)
            self._record(ex, check, decision)
            if decision.allowed:
                continue
            if ex.plan.per_item and check.item is not None:
                ex.denied_items.append(check.item)
                continue
            return self._access_denied(ex, denial_message(caller.arn, check, decision, ex.plan.protocol))
        return None

    def _decide(self, ex: Exchange, check: Check) -> Decision:
        assert ex.principal is not None
        if check.action.lower() == "sts:getcalleridentity":
            return Decision(True, "sts:GetCallerIdentity is always allowed")
        resource_policy: Mapping[str, Any] | None = None
        if check.action.lower() in ("sts:assumerole", "sts:tagsession", "sts:setsourceidentity"):
            role = self.directory.role(check.resource)
            if role is None:
                return Decision(False, f"no role {check.resource} exists")
            resource_policy = role.trust_policy
        elif check.bucket is not None:
            resource_policy = self.directory.bucket_policy(check.bucket)
        context = {**ex.context, **check.context}
        if check.resource_account:
            context.setdefault("aws:ResourceAccount", check.resource_account)
        request = AccessRequest(
            caller=ex.principal.caller,
            action=check.action,
            resource=check.resource,
            resource_account=check.resource_account,
            context=context,
            resource_policy=resource_policy,
        )
        try:
            return evaluate(request)
        except Exception as error:  # noqa: BLE001 - an evaluator failure must deny, never let a request through
            log.exception("evaluator failed on %s %s", check.action, check.resource)
            return Decision(False, f"evaluator error: {error!r}")

    def validate_assume_role(self, ex: Exchange) -> WSGIApp | None:
        assert ex.plan is not None and ex.principal is not None
        if ex.plan.service != "sts" or ex.plan.operation != "AssumeRole":
            return None
        duration_text = ex.plan.params.get("DurationSeconds")
        if not duration_text:
            return None
        try:
            duration = int(duration_text)
        except ValueError:
            return self._validation_error(ex, f"Value '{duration_text}' at 'durationSeconds' is not a number")
        if duration < MIN_SESSION_SECONDS:
            return self._validation_error(
                ex, f"1 validation error detected: Value '{duration}' at 'durationSeconds' failed to satisfy "
                f"constraint: Member must have value greater than or equal to {MIN_SESSION_SECONDS}",
            )
        if duration > MAX_ROLE_SESSION_SECONDS:
            return self._validation_error(
                ex, f"1 validation error detected: Value '{duration}' at 'durationSeconds' failed to satisfy "
                f"constraint: Member must have value less than or equal to {MAX_ROLE_SESSION_SECONDS}",
            )
        if ex.principal.temporary and duration > ROLE_CHAINING_LIMIT_SECONDS:
            return self._validation_error(ex, ROLE_CHAINING_MESSAGE)
        role = self.directory.role(ex.plan.checks[0].resource)
        if role is not None and duration > role.max_session_duration:
            return self._validation_error(ex, MAX_SESSION_MESSAGE)
        return None

    def check_content_md5(self, ex: Exchange) -> WSGIApp | None:
        """S3 refuses a body whose Content-MD5 does not match, so a damaged upload is never stored (moto does not
        check it)."""
        declared = ex.environ.get("HTTP_CONTENT_MD5")
        if ex.plan is None or ex.plan.service != "s3" or not declared:
            return None
        try:
            expected = base64.b64decode(declared, validate=True)
        except (binascii.Error, ValueError):
            expected = b""
        if len(expected) != 16:
            return self._error(ex, 400, "InvalidDigest", "The Content-MD5 you specified was not valid.")
        payload = _aws_chunked_payload(ex.body) if "aws-chunked" in ex.environ.get("HTTP_CONTENT_ENCODING", "") \
            else ex.body
        if hashlib.md5(payload).digest() != expected:  # noqa: S324 - S3's integrity check, not security
            return self._error(ex, 400, "BadDigest", "The Content-MD5 you specified did not match what we received.")
        return None

    def dispatch(self, ex: Exchange) -> WSGIApp:
        assert ex.plan is not None and ex.principal is not None
        ex.environ[MOTO_ACCOUNT_ENVIRON_KEY] = ex.principal.caller.account or ""
        plan = ex.plan
        if plan.service == "sts" and plan.operation == "GetCallerIdentity" and ex.principal.registry_session:
            return self._caller_identity(ex)
        if plan.service == "lambda" and plan.operation == "Invoke":
            return self._invoke(ex)
        if plan.service == "lambda" and plan.operation in ("InvokeAsync", "InvokeWithResponseStream"):
            # moto would start Docker for these; localcloud's invoker runs Invoke only.
            return self._error(
                ex, 501, "ServiceException",
                f"localcloud does not emulate Lambda {plan.operation}; call Invoke (InvocationType Event for async)",
                sender=False,
            )
        if plan.service == "sts" and plan.operation == "AssumeRole":
            return self._assume_role(ex)
        if plan.per_item:
            return self._delete_objects(ex)
        return self.app

    # --- answers of the gate's own ---------------------------------------------------------------------------------

    def _caller_identity(self, ex: Exchange) -> WSGIApp:
        assert ex.principal is not None
        caller = ex.principal.caller
        body = (
            f'<GetCallerIdentityResponse xmlns="{XMLNS["sts"]}"><GetCallerIdentityResult>'
            f"<Arn>{escape(caller.arn)}</Arn><UserId>{escape(ex.principal.user_id)}</UserId>"
            f"<Account>{caller.account}</Account></GetCallerIdentityResult>"
            f"<ResponseMetadata><RequestId>{ex.request_id}</RequestId></ResponseMetadata>"
            f"</GetCallerIdentityResponse>"
        )
        return Response(body.encode(), status=200, headers={"Content-Type": "text/xml"})

    def _invoke(self, ex: Exchange) -> WSGIApp:
        assert ex.plan is not None and ex.signed is not None and ex.principal is not None and ex.http is not None
        params = ex.plan.params
        target = lambda_target(
            str(params.get("FunctionName", "")), params.get("Qualifier"), ex.signed.region,
            ex.principal.caller.account or "",
        )
        if not self.directory.lambda_function_exists(target.account, target.region, target.name, target.qualifier):
            return self._error(ex, 404, "ResourceNotFoundException", f"Function not found: {target.arn}")
        if self.invoker is None:
            return self._error(
                ex, 501, "ServiceException",
                "localcloud has no Lambda invoker: pass invoker=... to Gate (or LocalCloud) to run functions; "
                "moto's own Invoke needs Docker",
                sender=False,
            )
        headers = {name: value for name, value in ex.http.headers.items()}
        if target.qualifier:
            headers.setdefault("x-localcloud-qualifier", target.qualifier)
        try:
            status, response_headers, body = self.invoker(target.account, target.region, target.name, ex.body, headers)
        except Exception as error:  # noqa: BLE001 - the invoker's failure is the service's failure
            log.exception("Lambda invoker failed for %s", target.arn)
            return self._error(ex, 500, "ServiceException", f"localcloud Lambda invoker failed: {error}", sender=False)
        response = Response(body, status=status, headers=list(response_headers))
        response.headers.setdefault("x-amzn-RequestId", ex.request_id)
        return response

    def _captured(self, ex: Exchange) -> tuple[str, list[tuple[str, str]], bytes]:
        app_iter, status, headers = run_wsgi_app(self.app, ex.environ)
        try:
            body = b"".join(app_iter)
        finally:
            close = getattr(app_iter, "close", None)
            if close is not None:
                close()
        return status, list(headers.items()), body

    def _assume_role(self, ex: Exchange) -> WSGIApp:
        """Forward to moto, then remember the new session's issue time and MFA state (moto keeps neither)."""
        assert ex.principal is not None
        status, headers, body = self._captured(ex)
        if status.startswith("200"):
            found = re.search(rb"<AccessKeyId>([^<]+)</AccessKeyId>", body)
            if found:
                self.registry.record_role_session(
                    found.group(1).decode(),
                    issued_at=ex.now,
                    mfa_present=ex.mfa_verified or ex.principal.mfa_present,
                )
        return _replay(status, headers, body)

    def _delete_objects(self, ex: Exchange) -> WSGIApp:
        """DeleteObjects with some keys denied: those come back as per-key AccessDenied errors, like S3 does."""
        if not ex.denied_items:
            return self.app
        assert ex.plan is not None
        denied = {(item.get("Key"), item.get("VersionId")) for item in ex.denied_items}
        allowed = [
            check.item for check in ex.plan.checks
            if check.item is not None and (check.item.get("Key"), check.item.get("VersionId")) not in denied
        ]
        errors = "".join(
            f"<Error><Key>{escape(item.get('Key', ''))}</Key>"
            + (f"<VersionId>{escape(item['VersionId'])}</VersionId>" if item.get("VersionId") else "")
            + "<Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
            for item in ex.denied_items
        )
        if not allowed:
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{errors}</DeleteResult>'
            )
            return Response(body.encode(), status=200, headers={"Content-Type": "application/xml",
                                                                "x-amz-request-id": ex.request_id})
        quiet = b"<Quiet>true</Quiet>" in ex.body
        objects = "".join(
            f"<Object><Key>{escape(item['Key'])}</Key>"
            + (f"<VersionId>{escape(item['VersionId'])}</VersionId>" if item.get("VersionId") else "")
            + "</Object>"
            for item in allowed
        )
        new_body = (
            f'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{objects}'
            f"{'<Quiet>true</Quiet>' if quiet else ''}</Delete>"
        ).encode()
        environ = ex.environ
        for key in [k for k in environ if k.startswith("HTTP_X_AMZ_CHECKSUM_")] + [
            "HTTP_CONTENT_MD5", "HTTP_X_AMZ_SDK_CHECKSUM_ALGORITHM", "HTTP_X_AMZ_TRAILER",
            "HTTP_X_AMZ_DECODED_CONTENT_LENGTH", "HTTP_CONTENT_ENCODING",
        ]:
            environ.pop(key, None)
        environ["HTTP_X_AMZ_CONTENT_SHA256"] = "UNSIGNED-PAYLOAD"
        environ["wsgi.input"] = io.BytesIO(new_body)
        environ["CONTENT_LENGTH"] = str(len(new_body))
        status, headers, body = self._captured(ex)
        if status.startswith("200"):
            body = re.sub(rb"</DeleteResult>\s*$", errors.encode() + b"</DeleteResult>", body)
            headers = [(name, value) for name, value in headers if name.lower() != "content-length"]
        return _replay(status, headers, body)


def _replay(status: str, headers: list[tuple[str, str]], body: bytes) -> WSGIApp:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        out = [(name, value) for name, value in headers if name.lower() != "content-length"]
        out.append(("Content-Length", str(len(body))))
        start_response(status, out)
        return [body]

    return app
