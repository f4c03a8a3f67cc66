"""One request on its way through the gate, and the record of each authorization decision."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from localcloud import sigv4
from localcloud.actions import ActionPlan
from localcloud.principals import ResolvedPrincipal


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
    context: Mapping[str, Any] = field(default_factory=dict)  # the request context the decision was made in


@dataclass
class Exchange:
    """One request: what arrived (``http``, as received), who signed it, and the gate's one reading of it
    (``request``: the canonical request that both classification and moto see; ``plan``: its operation and
    checks)."""

    environ: dict[str, Any]
    now: datetime
    request_id: str
    body: bytes = b""
    http: sigv4.HttpRequest | None = None
    signed: sigv4.SignedRequest | None = None
    principal: ResolvedPrincipal | None = None
    request: sigv4.HttpRequest | None = None  # the one reading, rebuilt
    protocol: str | None = None
    plan: ActionPlan | None = None
    context: dict[str, str | list[str]] = field(default_factory=dict)
    mfa_verified: bool = False
    denied_items: list[Mapping[str, str]] = field(default_factory=list)
    session: Any = None  # AssumeRole: what the new session carries (localcloud.gate.sts.SessionRequest)
    sse: Any = None  # S3 with SSE-KMS: what the object is encrypted with (localcloud.gate.s3_kms.Encryption)

    @property
    def secure(self) -> bool:
        return self.environ.get("wsgi.url_scheme") == "https"

    @property
    def head(self) -> bool:
        return self.environ.get("REQUEST_METHOD") == "HEAD"
