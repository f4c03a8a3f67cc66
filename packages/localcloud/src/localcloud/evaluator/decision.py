"""The evaluator's answer as data, in the spirit of Cedar's authorization response.

Cedar (docs.cedarpolicy.com, "Authorization"; cedar_policy::Response) answers with a decision plus diagnostics: the
policies that determined the decision and the policies that errored. ``Decision`` carries the same, in AWS terms:

- ``effect``: ``ALLOW``, ``EXPLICIT_DENY`` (a Deny statement applied) or ``IMPLICIT_DENY`` (nothing that had to allow
  did), the three outcomes of reference_policies_evaluation-logic_AccessPolicyLanguage_Interplay.html;
- ``missing_allow``: for an implicit deny, the policy kind that did not allow, which is what AWS's access-denied
  message names ("because no identity-based policy allows ...", "... no permissions boundary allows ...", "... no
  session policy allows ...", "... no resource-based policy allows ..." (KMS says the same of a key policy);
  troubleshoot_access-denied.html); None when the denial is not about a policy kind (the root user assuming a role,
  or a decision the gate makes itself);
- ``determining``: the statements that decided: for an allow the allowing statements of every policy kind that had
  to allow, for an explicit deny every applicable Deny statement;
- ``errors``: statements that could not be evaluated (an unsupported condition operator, a policy variable without
  a value), which Cedar reports as errored policies instead of skipping them silently.

Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass

# Policy kinds, as named in Decision.reason, Decision.deciding_policy, Decision.missing_allow and StatementRef.kind.
IDENTITY = "identity-based policy"
BOUNDARY = "permissions boundary"
SESSION = "session policy"
RESOURCE = "resource policy"
TRUST = "role trust policy"
KEY = "key policy"  # a KMS key's resource policy, which must always allow (key-policies.html)
POLICY_KINDS = (IDENTITY, BOUNDARY, SESSION, RESOURCE, TRUST, KEY)
# The kinds whose statements name principals: they apply to the resource side of a request.
RESOURCE_SIDE_KINDS = (RESOURCE, TRUST, KEY)

# Decision effects.
ALLOW = "allow"
EXPLICIT_DENY = "explicit-deny"
IMPLICIT_DENY = "implicit-deny"
EFFECTS = (ALLOW, EXPLICIT_DENY, IMPLICIT_DENY)


@dataclass(frozen=True)
class StatementRef:
    """Where a statement lives: its policy kind, which policy of that kind, and the statement's Sid or ``#n``.

    ``policy`` is the 0-based position of the document among the policies of its kind as the Caller or AccessRequest
    lists them (identity policies in ``Caller.identity_policies`` order; session policies in
    ``Caller.all_session_policies`` order; 0 for the boundary, the resource, trust and key policy). The
    evaluator gets bare documents, so it knows no policy names; the caller can map the position back to one.
    """

    kind: str
    policy: int | str
    statement: str  # Sid, or "#n" (1-based) for a statement without one

    def __str__(self) -> str:
        return f"{self.kind} {self.policy} (statement {self.statement})"


@dataclass(frozen=True)
class Decision:
    """The answer: allowed or not, a short reason in prose, and the same facts as data.

    ``Decision(allowed, reason)`` stays valid for answers made outside the evaluator: ``effect`` is then derived
    (allowed -> ALLOW, otherwise IMPLICIT_DENY) and the other structured fields are empty.
    """

    allowed: bool
    reason: str
    deciding_policy: str | None = None  # one of the policy kinds above, when a single policy decided
    deciding_statement: str | None = None  # Sid, or "#n" (1-based) for a statement without one
    effect: str = ""  # ALLOW | EXPLICIT_DENY | IMPLICIT_DENY; "" means derive from ``allowed``
    missing_allow: str | None = None  # implicit deny: the policy kind that did not allow
    determining: tuple[StatementRef, ...] = ()
    errors: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.effect:
            object.__setattr__(self, "effect", ALLOW if self.allowed else IMPLICIT_DENY)
        if self.effect not in EFFECTS:
            raise ValueError(f"Decision effect {self.effect!r} is invalid. An effect is one of {', '.join(EFFECTS)}.")
        if self.allowed != (self.effect == ALLOW):
            raise ValueError(f"Decision(allowed={self.allowed}) cannot have effect {self.effect!r}.")
        if self.missing_allow is not None:
            if self.effect != IMPLICIT_DENY:
                raise ValueError(f"missing_allow is for an implicit deny only, not for effect {self.effect!r}.")
            if self.missing_allow not in POLICY_KINDS:
                kinds = ", ".join(POLICY_KINDS)
                raise ValueError(f"missing_allow {self.missing_allow!r} is not a policy kind. It is one of {kinds}.")
        object.__setattr__(self, "determining", tuple(self.determining))
        object.__setattr__(self, "errors", tuple(self.errors))

    @property
    def explicit_deny(self) -> bool:
        return self.effect == EXPLICIT_DENY

    @property
    def implicit_deny(self) -> bool:
        return self.effect == IMPLICIT_DENY
