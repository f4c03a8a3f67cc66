"""localcloud's IAM policy evaluator: decides requests the way AWS authorizes them.

Pure (standard library only): the gate builds an AccessRequest from its state and asks ``evaluate``, which answers
with a structured Decision (localcloud/iam/decision.py).
"""

from localcloud.evaluator.decision import (
    ALLOW,
    BOUNDARY,
    EXPLICIT_DENY,
    IDENTITY,
    IMPLICIT_DENY,
    KEY,
    POLICY_KINDS,
    RESOURCE,
    RESOURCE_SIDE_KINDS,
    SESSION,
    TRUST,
    Decision,
    StatementRef,
)
from localcloud.evaluator.evaluation import (
    ALWAYS_ALLOWED_ACTIONS,
    TRUST_POLICY_ACTIONS,
    AccessRequest,
    Caller,
    evaluate,
    is_always_allowed,
    is_trust_policy_action,
)
from localcloud.evaluator.session_keys import (
    IDENTITY_POLICY_ONLY_KEYS,
    LAMBDA_SOURCE_FUNCTION_ARN,
    principal_tag_context,
)

__all__ = [
    "ALLOW",
    "ALWAYS_ALLOWED_ACTIONS",
    "BOUNDARY",
    "EXPLICIT_DENY",
    "IDENTITY",
    "IDENTITY_POLICY_ONLY_KEYS",
    "IMPLICIT_DENY",
    "KEY",
    "LAMBDA_SOURCE_FUNCTION_ARN",
    "POLICY_KINDS",
    "RESOURCE",
    "RESOURCE_SIDE_KINDS",
    "SESSION",
    "TRUST",
    "TRUST_POLICY_ACTIONS",
    "AccessRequest",
    "Caller",
    "Decision",
    "StatementRef",
    "evaluate",
    "is_always_allowed",
    "is_trust_policy_action",
    "principal_tag_context",
]
