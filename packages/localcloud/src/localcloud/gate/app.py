"""The gate: WSGI middleware in front of moto that authenticates and authorizes every request like AWS, and hands
moto exactly the request it authorized.

Every request runs through one ``HandlerChain`` (localcloud.gate.chain):

    block_moto_api        /moto-api/ would reset or reshape state without authorization
    read_body             the body is needed for the signature and for query-protocol parameters
    cors_preflight        an unauthenticated S3 OPTIONS, answered from the bucket's CORS configuration
    authenticate          SigV4 (localcloud.sigv4) and the access key's owner (localcloud.principals)
    read_request          the one reading: a canonical request, or a refusal of anything ambiguous (reading.py)
    classify              operation, IAM action(s), resource(s) of that reading (localcloud.actions)
    build_context         the request context: aws:PrincipalArn, aws:SecureTransport, aws:CurrentTime, ...,
                          and for a member of the cloud's organization aws:PrincipalOrgID and aws:PrincipalOrgPaths
    before_authorize      per-operation checks registered in OPERATIONS (MFA codes, session requests, regions,
                          Lambda runtimes, KMS key policies, the KMS calls S3 makes for the caller), and the
                          refusal of what is not emulated (S3,
                          Organizations, KMS)
    authorize             localcloud.evaluator.evaluate for every check; a denial never reaches moto
    after_authorize       per-operation steps that come after authorization (durations, upload IDs, MD5, AWS
                          managed policies named by an IAM request loaded into its account (iam.py), a
                          function's runtime, the state of a KMS key (kms.py, s3_kms.py), the encryption an
                          S3 object is written with (s3_kms.py))
    dispatch              the operation's answer in OPERATIONS, or moto (``forward``)

Handlers raise ``GateError``s; one exception handler renders them in the request's protocol (errors.py).
``forward`` hands moto the canonical request, records what moto executed (moto_adapter.recording) and checks it
against the plan (invariant.py). To add a handler (fault injection, say):
``gate.add_handler(handler, before="authorize")``, with ``handler(gate, exchange) -> Response | None``.

Every authorization decision is logged at DEBUG on the "localcloud.gate" logger and kept in ``gate.decisions``
(the most recent ``decisions_maxlen``); ``gate.calls`` counts requests per IAM action.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from werkzeug.test import run_wsgi_app
from werkzeug.wrappers import Response

from localcloud import moto_adapter
from localcloud.actions import Check, preload, service_protocol
from localcloud.gate import (auth, authorize, iam, invariant, kms, lambdas, logs, organizations, parse, reading, s3,
                             s3_kms, sts)
from localcloud.gate.chain import HandlerChain, RequestHandler, index_of
from localcloud.gate.errors import GateError, ReadingMismatch, error_response, render
from localcloud.gate.exchange import Exchange, GateDecision
from localcloud.evaluator import Decision
from localcloud.organizations import Organization
from localcloud.principals import MotoDirectory, SessionRegistry

if TYPE_CHECKING:  # localcloud.faults builds on the gate, so the gate names it for types only
    from localcloud.faults import FaultPlan

log = logging.getLogger("localcloud.gate")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Invoker = Callable[[str, str, str, bytes, Mapping[str, str]], tuple[int, list[tuple[str, str]], bytes]]
Answer = Callable[["Gate", Exchange], Response]


@dataclass(frozen=True)
class Operation:
    """What the gate does for one (service, operation) besides authorizing it; the default is moto."""

    before: tuple[RequestHandler, ...] = ()
    after: tuple[RequestHandler, ...] = ()
    answer: Answer | None = None


_S3_UPLOAD = Operation(after=(s3.bind_upload,))
OPERATIONS: dict[tuple[str, str], Operation] = {
    ("sts", "AssumeRole"): Operation(before=(sts.verify_mfa, sts.read_session_request),
                                     after=(sts.validate_assume_role,), answer=sts.assume_role),
    # GetSessionToken needs no permission (API_GetSessionToken.html): answered before authorization.
    ("sts", "GetSessionToken"): Operation(before=(sts.verify_mfa, sts.get_session_token)),
    ("sts", "GetCallerIdentity"): Operation(answer=sts.caller_identity),
    ("sts", "GetFederationToken"): Operation(answer=sts.get_federation_token),
    ("lambda", "CreateFunction"): Operation(before=(lambdas.unqualified_name, lambdas.requested_runtime)),
    ("lambda", "UpdateFunctionConfiguration"): Operation(before=(lambdas.requested_runtime,)),
    ("lambda", "UpdateFunctionCode"): Operation(after=(lambdas.stored_runtime,)),
    ("lambda", "Invoke"): Operation(answer=lambdas.invoke),
    ("lambda", "InvokeAsync"): Operation(answer=lambdas.not_emulated),
    ("lambda", "InvokeWithResponseStream"): Operation(answer=lambdas.not_emulated),
    # Answered from the cloud's organization, never by moto's Organizations backend (gate/organizations.py).
    ("organizations", "DescribeOrganization"): Operation(answer=organizations.describe_organization),
    ("kms", "ScheduleKeyDeletion"): Operation(answer=kms.key_deletion),
    ("kms", "CancelKeyDeletion"): Operation(answer=kms.key_deletion),
    ("kms", "ListAliases"): Operation(answer=kms.list_aliases),
    ("s3", "DeleteObjects"): Operation(answer=s3.delete_objects),
    ("s3", "GetObject"): Operation(answer=s3.read_object),
    ("s3", "HeadObject"): Operation(answer=s3.read_object),
    ("s3", "PutObject"): Operation(answer=s3_kms.write_object),
    ("s3", "CopyObject"): Operation(answer=s3_kms.write_object),
    ("s3", "CreateMultipartUpload"): Operation(answer=s3_kms.create_upload),
    **{("s3", name): _S3_UPLOAD for name in ("UploadPart", "UploadPartCopy", "AbortMultipartUpload", "ListParts")},
    ("s3", "CompleteMultipartUpload"): Operation(after=(s3.bind_upload,), answer=s3_kms.complete_upload),
}
_DEFAULT = Operation()


def _operation(ex: Exchange) -> Operation:
    assert ex.plan is not None
    return OPERATIONS.get((ex.plan.service, ex.plan.operation), _DEFAULT)


def before_authorize(gate: Gate, ex: Exchange) -> Response | None:
    assert ex.plan is not None
    if ex.plan.service == "s3":
        s3.check_emulated(gate, ex)
        s3.check_region(gate, ex)
        s3_kms.plan_encryption(gate, ex)
    if ex.plan.service == "logs":
        logs.name_the_log_group(gate, ex)
    if ex.plan.service == "iam":
        iam.refuse_ignored_inputs(gate, ex)
    if ex.plan.service == "organizations":
        organizations.check_emulated(gate, ex)
    if ex.plan.service == "kms":
        kms.check_emulated(gate, ex)
        kms.canonical_body(gate, ex)
        kms.check_policy(gate, ex)
    sts.session_token_limits(gate, ex)
    for handler in _operation(ex).before:
        answer = handler(gate, ex)
        if answer is not None:
            return answer
    return None


def after_authorize(gate: Gate, ex: Exchange) -> Response | None:
    assert ex.plan is not None
    if ex.plan.service == "s3":
        s3.check_content_md5(gate, ex)
        s3_kms.apply_encryption(gate, ex)
    if ex.plan.service == "iam":
        iam.load_named_aws_policies(gate, ex)
    if ex.plan.service == "kms":
        kms.check_key_state(gate, ex)
    for handler in _operation(ex).after:
        handler(gate, ex)
    return None


def dispatch(gate: Gate, ex: Exchange) -> Response:
    answer = _operation(ex).answer
    return answer(gate, ex) if answer is not None else gate.forward(ex)


def render_gate_error(gate: Gate, ex: Exchange, error: Exception) -> Response | None:
    if not isinstance(error, GateError):
        return None
    log.debug("refused %s %s: %s", ex.environ.get("REQUEST_METHOD"), ex.environ.get("PATH_INFO"), error)
    return render(error, gate.protocol_of(ex), request_id=ex.request_id, service=gate.service_of(ex), head=ex.head)


def render_failure(gate: Gate, ex: Exchange, error: Exception) -> Response:
    log.error("gate failed on %s %s", ex.environ.get("REQUEST_METHOD"), ex.environ.get("PATH_INFO"),
              exc_info=error)
    return render(GateError(500, "InternalFailure", f"localcloud gate error: {error!r}", sender=False),
                  gate.protocol_of(ex), request_id=ex.request_id, service=gate.service_of(ex), head=ex.head)


@dataclass
class _History:
    decisions: deque[GateDecision]
    calls: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Gate:
    """WSGI middleware: ``Gate(moto_app, invoker=..., registry=..., directory=..., clock=..., organization=...)``.

    ``organization``: the AWS Organizations organization some of the cloud's accounts are in (None: every account
    stands alone)."""

    log = log

    def __init__(
        self,
        app: WSGIApp,
        *,
        invoker: Invoker | None = None,
        registry: SessionRegistry | None = None,
        directory: MotoDirectory | None = None,
        clock: Callable[[], datetime] | None = None,
        decisions_maxlen: int = 1000,
        organization: Organization | None = None,
    ) -> None:
        self.app = app
        self.organization = organization
        self.invoker = invoker
        self.registry = registry if registry is not None else SessionRegistry()
        self.directory = directory if directory is not None else MotoDirectory()
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self._history = _History(deque(maxlen=decisions_maxlen))
        self.faults: FaultPlan | None = None  # set by localcloud.faults.install_faults
        preload()
        moto_adapter.install_recorder()
        self.chain = HandlerChain(
            request_handlers=[auth.block_moto_api, auth.read_body, s3.cors_preflight, auth.authenticate, parse.read_request,
                              parse.classify, parse.build_context, before_authorize, authorize.authorize,
                              after_authorize, dispatch],
            response_handlers=[],
            exception_handlers=[render_gate_error, render_failure],
        )

    # --- WSGI ------------------------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        exchange = Exchange(environ=environ, now=self.clock(), request_id=str(uuid.uuid4()))
        return self.chain.handle(self, exchange)(environ, start_response)

    def add_handler(self, handler: RequestHandler, *, before: str | RequestHandler) -> None:
        """Insert ``handler`` before the request handler named ``before`` (e.g. "authorize")."""
        handlers = self.chain.request_handlers
        handlers.insert(index_of(handlers, before), handler)

    @property
    def request_handlers(self) -> list[RequestHandler]:
        return self.chain.request_handlers

    # --- moto ------------------------------------------------------------------------------------------------------

    def forward(self, ex: Exchange) -> Response:
        """moto runs the canonical request in the caller's account; what it executed must be what was authorized."""
        assert ex.request is not None and ex.signed is not None and ex.principal is not None and ex.plan is not None
        environ = reading.moto_environ(ex.environ, ex.request, ex.signed, self.moto_account(ex), ex.plan.operation)
        with moto_adapter.recording() as executions:
            app_iter, status, headers = run_wsgi_app(self.app, environ)
            try:
                body = b"".join(app_iter)
            finally:
                close = getattr(app_iter, "close", None)
                if close is not None:
                    close()
        problems = invariant.violations(ex.plan, executions)
        if problems:
            self.violation(f"{ex.plan.service}:{ex.plan.operation}: " + "; ".join(problems))
        response = Response(body, status=status, headers=[(k, v) for k, v in headers.items()
                                                          if k.lower() != "content-length"])
        return response

    def violation(self, message: str) -> None:
        """moto executed something other than what was authorized: recorded, and the request fails (500)."""
        log.error("reading mismatch: %s", message)
        with self._history.lock:
            self._history.violations.append(message)
        invariant.record(message)
        raise ReadingMismatch(message)

    def moto_account(self, ex: Exchange) -> str:
        """The account moto acts in: the caller's, except that a request on an existing bucket acts in the bucket
        owner's (moto keeps object tags and other per-account state there; a cross-account caller's tags would
        otherwise land in the caller's own account), a Lambda request in the account of the function it names
        (moto would look the name up in the caller's), and a KMS request in the account of its key."""
        assert ex.plan is not None and ex.principal is not None
        if ex.plan.service == "lambda" and ex.plan.checks:
            return ex.plan.checks[0].resource_account or ex.principal.caller.account or ""
        if ex.plan.service == "kms":
            # moto looks a key up in the account it acts in; a key of another account (the classification lets
            # through only one account's keys per request) is acted on in its own.
            owners = {check.resource_account for check in ex.plan.checks if check.key_policy}
            return next(iter(owners), None) or ex.principal.caller.account or ""
        bucket = ex.plan.params.get("Bucket") if ex.plan.service == "s3" else None
        owner = self.directory.bucket_account(bucket) if bucket else None
        return owner or ex.principal.caller.account or ""

    # --- protocol --------------------------------------------------------------------------------------------------

    def set_protocol(self, ex: Exchange) -> None:
        assert ex.signed is not None
        ex.protocol = protocol_for(ex.signed.service, ex.http)

    def protocol_of(self, ex: Exchange) -> str:
        if ex.protocol is None:
            ex.protocol = protocol_for(None, ex.http)
        return ex.protocol

    @staticmethod
    def service_of(ex: Exchange) -> str | None:
        return ex.plan.service if ex.plan else (ex.signed.service if ex.signed else None)

    # --- history ---------------------------------------------------------------------------------------------------

    @property
    def decisions(self) -> deque[GateDecision]:
        return self._history.decisions

    @property
    def calls(self) -> Counter[str]:
        return self._history.calls

    @property
    def violations(self) -> list[str]:
        """Requests where moto executed something else than the gate authorized (should stay empty)."""
        return self._history.violations

    def count(self, action: str) -> None:
        with self._history.lock:
            self._history.calls[action] += 1

    def clear_history(self) -> None:
        with self._history.lock:
            self._history.decisions.clear()
            self._history.calls.clear()

    def decisions_for(self, action: str) -> list[GateDecision]:
        return [decision for decision in list(self.decisions) if decision.action.lower() == action.lower()]

    def record(self, ex: Exchange, check: Check, decision: Decision,
               context: Mapping[str, Any] | None = None) -> None:
        """Keep one decision, with the request context it was made in (``context``: as the evaluator saw it)."""
        principal = ex.principal.caller.arn if ex.principal else "anonymous"
        self._history.decisions.append(GateDecision(
            time=ex.now, principal=principal, action=check.action, resource=check.resource,
            allowed=decision.allowed, reason=decision.reason, operation=ex.plan.operation if ex.plan else "",
            access_key_id=ex.principal.access_key_id if ex.principal else None,
            context=dict(context if context is not None else {**ex.context, **check.context}),
        ))
        log.debug("decision principal=%s action=%s resource=%s allowed=%s reason=%s",
                  principal, check.action, check.resource, decision.allowed, decision.reason)


def protocol_for(service: str | None, http: Any) -> str:
    """botocore's protocol of ``service``; before the signature is read, a guess from the request's shape."""
    found = service_protocol(service) if service is not None else None
    if found is not None:
        return found
    if http is None:
        return "rest-xml"
    if http.header("x-amz-target"):
        return "json"
    if "Action" in http.query_params() or b"Action=" in http.body[:4096]:
        return "query"
    if http.raw_path.startswith("/20") and http.raw_path[5:6] == "-":
        return "rest-json"
    return "rest-xml"


__all__ = ["OPERATIONS", "Exchange", "Gate", "GateDecision", "Invoker", "Operation", "WSGIApp", "error_response"]
