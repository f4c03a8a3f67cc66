"""Fault injection for tests: make the gate answer a few requests the way a stressed or hostile AWS does.

    faults = install_faults(cloud.gate)                     # a gate handler, before "authorize"; idempotent
    with faults.throttle("sts:AssumeRole", times=2):        # STS: 400 Throttling "Rate exceeded"
        ...
    with faults.throttle("s3:PutObject", times=2):          # S3: 503 SlowDown
        ...
    with faults.drop_connection("s3:PutObject", when="after"):  # moto stores it, the client hears nothing
        ...
    with faults.expire_credentials(principal=role_arn):     # that role's sessions: ExpiredToken from now on
        ...
    assert faults.fired_count("drop-after") == 1

Each ``faults.<fault>(...)`` arms a ``Fault`` for the next ``times`` requests whose IAM action (``s3:PutObject``,
``sts:AssumeRole``; case-insensitive) and optional ``principal`` (caller ARN, ``aws:PrincipalArn`` such as a role
ARN, or access key id) match. A Fault is a context manager that disarms on exit, so a test cannot leak one into
the next; ``faults.clear()`` disarms everything. Every injected fault is appended to ``faults.fired``.

The handler runs after ``classify`` (so ``gate.calls`` still counts the request) and before ``authorize``:

- throttle: the service's throttling error, in its protocol (query: 400 Throttling; S3: 503 SlowDown;
  json: 400 ThrottlingException; rest-json: 429 TooManyRequestsException).
- drop-before: the request never reaches moto; drop-after: it runs through the rest of the gate (authorize,
  dispatch to moto) to completion, and then, in both cases, the TCP connection is shut down without a byte of
  response (``environ["werkzeug.socket"]``): the client sees a connection error, and after "after" the write
  has happened anyway. Only the request's own connection closes; the server thread keeps serving.
- expired-token: what the gate answers for expired session credentials (S3: 400 ExpiredToken "The provided token
  has expired."; query: 403 ExpiredToken), for requests signed with the chosen sessions, until disarmed.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from localcloud import moto_adapter
from localcloud.gate import Exchange, Gate, error_response
from localcloud.gate.errors import AuthenticationFailed

if TYPE_CHECKING:
    from types import TracebackType

THROTTLE = "throttle"
DROP_BEFORE = "drop-before"
DROP_AFTER = "drop-after"
EXPIRED_TOKEN = "expired-token"
KINDS = (THROTTLE, DROP_BEFORE, DROP_AFTER, EXPIRED_TOKEN)

# (status, code, message) a throttled request gets, per protocol. STS (query): sts API reference, "Throttling";
# S3: ErrorResponses.html, "SlowDown".
_THROTTLING = {
    "query": (400, "Throttling", "Rate exceeded"),
    "rest-xml": (503, "SlowDown", "Please reduce your request rate."),
    "json": (400, "ThrottlingException", "Rate exceeded"),
    "rest-json": (429, "TooManyRequestsException", "Rate exceeded"),
}


@dataclass(frozen=True)
class FiredFault:
    """One request a fault answered (or cut off)."""

    kind: str
    action: str
    principal: str  # the caller's ARN
    access_key_id: str
    request_id: str
    time: datetime
    status: str = ""  # drop-after: the status moto answered, which the client never saw


@dataclass(eq=False)
class Fault:
    """An armed fault. ``times`` None: until disarmed. Use as a context manager to disarm on exit."""

    plan: FaultPlan
    kind: str
    action: str | None = None  # an IAM action; None: any
    principal: str | None = None
    times: int | None = 1
    access_keys: frozenset[str] | None = None  # expired-token: only requests signed with these keys
    fired: int = 0

    def matches(self, ex: Exchange) -> bool:
        assert ex.plan is not None and ex.principal is not None
        if self.action is not None and ex.plan.action.lower() != self.action.lower():
            return False
        caller = ex.principal.caller
        if self.principal is not None and self.principal not in (
            caller.arn, caller.principal_arn, ex.principal.access_key_id
        ):
            return False
        return self.access_keys is None or ex.principal.access_key_id in self.access_keys

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def disarm(self) -> None:
        self.plan.disarm(self)

    def __enter__(self) -> Fault:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.disarm()


@dataclass(eq=False)
class FaultPlan:
    """The faults armed on one gate, and the record of those that fired."""

    gate: Gate
    armed: list[Fault] = field(default_factory=list)
    fired: list[FiredFault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # --- arming ------------------------------------------------------------------------------------------------

    def throttle(self, action: str, *, times: int = 1, principal: str | None = None) -> Fault:
        """The next ``times`` matching requests get the service's throttling error (S3: 503 SlowDown)."""
        return self._arm(Fault(self, THROTTLE, action, principal, times))

    def drop_connection(self, action: str, *, when: str = "after", times: int = 1,
                        principal: str | None = None) -> Fault:
        """Close the connection of the next ``times`` matching requests without a response, ``when`` "before"
        they reach moto or "after" moto has executed them."""
        if when not in ("before", "after"):
            raise ValueError(f"when must be 'before' or 'after', got {when!r}")
        return self._arm(Fault(self, DROP_AFTER if when == "after" else DROP_BEFORE, action, principal, times))

    def expire_credentials(self, access_key_id: str | None = None, *, principal: str | None = None,
                           action: str | None = None) -> Fault:
        """From now until disarmed, requests signed with session credentials that exist now get ExpiredToken:
        the session ``access_key_id``, or else every assumed-role session (of role ``principal``, if given).
        Sessions issued later are unaffected, as after a real expiry: a client that assumes the role again
        recovers."""
        if access_key_id is not None:
            keys = frozenset({access_key_id})
        else:
            keys = frozenset(
                key for key, role_arn in moto_adapter.assumed_role_sessions() if principal is None or principal == role_arn
            )
        return self._arm(Fault(self, EXPIRED_TOKEN, action, None, None, keys))

    def _arm(self, fault: Fault) -> Fault:
        if fault.times is not None and fault.times < 1:
            raise ValueError(f"times must be at least 1, got {fault.times}")
        with self._lock:
            self.armed.append(fault)
        return fault

    def disarm(self, fault: Fault) -> None:
        with self._lock:
            if fault in self.armed:
                self.armed.remove(fault)

    def clear(self) -> None:
        """Disarm every fault (the record of fired faults stays; ``fired.clear()`` forgets it)."""
        with self._lock:
            self.armed.clear()

    def fired_count(self, kind: str | None = None, action: str | None = None) -> int:
        with self._lock:
            return sum(
                1 for record in self.fired
                if (kind is None or record.kind == kind)
                and (action is None or record.action.lower() == action.lower())
            )

    # --- the gate handler -----------------------------------------------------------------------------------------

    def inject_faults(self, gate: Gate, ex: Exchange) -> Response | None:
        """The gate's request handler: answer the request with the first armed fault it matches, or let it through."""
        if ex.plan is None or ex.principal is None:
            return None
        with self._lock:
            fault = next((f for f in self.armed if f.matches(ex)), None)
            if fault is None:
                return None
            fault.fired += 1
            if fault.exhausted:
                self.armed.remove(fault)
        status = ""
        answer: Response | None = None
        if fault.kind == THROTTLE:
            answer = _throttling_error(ex)
        elif fault.kind != EXPIRED_TOKEN:
            if fault.kind == DROP_AFTER:
                # The rest of the chain runs to completion (moto executes); the client then hears nothing.
                status = gate.chain.handle(gate, ex, start_after=self.inject_faults).status
            answer = _drop_connection(ex)
        record = FiredFault(fault.kind, ex.plan.action, ex.principal.caller.arn, ex.principal.access_key_id,
                            ex.request_id, ex.now, status)
        with self._lock:
            self.fired.append(record)
        if answer is None:
            raise AuthenticationFailed("expired_token")  # exactly what the gate answers for an expired session
        return answer


def install_faults(gate: Gate) -> FaultPlan:
    """The gate's FaultPlan (``gate.faults``), installing it as a request handler before "authorize" the first time."""
    plan = gate.faults
    if plan is None:
        plan = FaultPlan(gate)
        gate.add_handler(plan.inject_faults, before="authorize")
        gate.faults = plan
    return plan


# --- helpers ---------------------------------------------------------------------------------------------------


def _throttling_error(ex: Exchange) -> Response:
    assert ex.plan is not None
    status, code, message = _THROTTLING.get(ex.plan.protocol, _THROTTLING["query"])
    return error_response(ex.plan.protocol, status, code, message, request_id=ex.request_id,
                          service=ex.plan.service, head=ex.environ.get("REQUEST_METHOD") == "HEAD")


def _drop_connection(ex: Exchange) -> Response:
    """Shut the request's connection down in both directions. The answer returned is never heard: werkzeug's
    write fails with BrokenPipeError, which it treats as a dropped connection, and the server carries on."""
    connection = ex.environ.get("werkzeug.socket")
    if connection is None:
        raise RuntimeError("drop_connection needs werkzeug's dev server (environ['werkzeug.socket'])")
    try:
        connection.shutdown(socket.SHUT_RDWR)  # for TLS: SSLSocket.shutdown, no close_notify
    except OSError:
        pass  # the client has gone already
    return Response(b"", status=500)
