"""IAM policy documents as values.

Everything here is pure: frozen dataclasses and functions from typed values to documents, with no Pulumi
import, so each policy can be unit-tested on its own and read in a diff. Pulumi code calls ``to_json()``
inside an ``apply`` only where an input is still an Output.

Modelled on AWS CDK's aws-iam (``PolicyStatement``, ``ArnPrincipal``, ``createAssumeRolePolicy``): one
serializer (``to_dict``) with a fixed key order, principals that know their own JSON fragment, and the
conditions of the trust policy added in exactly one place (``trust_policy_for``).
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from components import arns

if TYPE_CHECKING:
    from components.settings import Access, Grant

POLICY_VERSION = "2012-10-17"

_ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9*?]+$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")


class Effect(enum.Enum):
    ALLOW = "Allow"
    DENY = "Deny"


@dataclass(frozen=True)
class AccountPrincipal:
    """A whole account: it then decides by its own identity policies who may act."""

    account_id: str

    def __post_init__(self) -> None:
        if not _ACCOUNT_ID.match(self.account_id):
            raise ValueError(f"Account ID '{self.account_id}' is invalid: an account ID is 12 digits.")

    def fragment(self) -> tuple[str, str]:
        return "AWS", arns.account_root(self.account_id)

    def __str__(self) -> str:
        return f"AccountPrincipal({self.account_id})"


@dataclass(frozen=True)
class ServicePrincipal:
    """An AWS service, such as lambda.amazonaws.com assuming an execution role."""

    service: str

    def fragment(self) -> tuple[str, str]:
        return "Service", self.service

    def __str__(self) -> str:
        return f"ServicePrincipal({self.service})"


@dataclass(frozen=True)
class AnyPrincipal:
    """Everyone. Only ever used here with Deny, in a bucket policy that must apply to every caller."""

    def fragment(self) -> tuple[str, str]:
        return "AWS", "*"

    def __str__(self) -> str:
        return "AnyPrincipal()"


@dataclass(frozen=True)
class FederatedPrincipal:
    """An identity provider, such as GitHub's OIDC provider: the principal of a web-identity trust policy."""

    provider_arn: str

    def fragment(self) -> tuple[str, str]:
        return "Federated", self.provider_arn

    def __str__(self) -> str:
        return f"FederatedPrincipal({self.provider_arn})"


Principal = AccountPrincipal | ServicePrincipal | AnyPrincipal | FederatedPrincipal


@dataclass(frozen=True)
class Statement:
    """One policy statement. Conditions map an operator to {context key: value or values}."""

    sid: str
    actions: tuple[str, ...]
    effect: Effect = Effect.ALLOW
    resources: tuple[str, ...] = ()
    principal: Principal | None = None
    conditions: Mapping[str, Mapping[str, str | tuple[str, ...]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.actions:
            raise ValueError(f"Statement '{self.sid}' has no actions.")
        for action in self.actions:
            if not _ACTION.match(action):
                raise ValueError(
                    f"Action '{action}' is invalid. An action string consists of a service namespace, "
                    "a colon, and the name of an action."
                )

    def with_condition(self, operator: str, key: str, value: str | Iterable[str]) -> Statement:
        """A copy of this statement with one more condition; values for one key are ORed by IAM."""
        values = value if isinstance(value, str) else tuple(value)
        merged = {op: dict(keys) for op, keys in self.conditions.items()}
        merged.setdefault(operator, {})[key] = values
        return Statement(self.sid, self.actions, self.effect, self.resources, self.principal, merged)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Sid": self.sid, "Effect": self.effect.value}
        if self.principal is not None:
            kind, value = self.principal.fragment()
            out["Principal"] = {kind: value}
        out["Action"] = _one_or_list(self.actions)
        if self.resources:
            out["Resource"] = _one_or_list(self.resources)
        if self.conditions:
            out["Condition"] = {
                op: {key: _one_or_list(v) if isinstance(v, tuple) else v for key, v in sorted(keys.items())}
                for op, keys in sorted(self.conditions.items())
            }
        return out


@dataclass(frozen=True)
class PolicyDocument:
    statements: tuple[Statement, ...]

    def __post_init__(self) -> None:
        sids = [s.sid for s in self.statements]
        if len(set(sids)) != len(sids):
            raise ValueError(f"Statement ids must be unique within a policy, got {sids}.")

    def to_dict(self) -> dict[str, Any]:
        return {"Version": POLICY_VERSION, "Statement": [s.to_dict() for s in self.statements]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def _one_or_list(values: tuple[str, ...]) -> str | list[str]:
    return values[0] if len(values) == 1 else list(values)


# ---------------------------------------------------------------------------------------------------------
# The prod side.


def trust_policy_for(
    consumer_account_id: str,
    workload_principal_arns: Iterable[str],
    human_principal_arns: Iterable[str] = (),
    *,
    external_id: str | None = None,
    require_mfa_for_humans: bool = True,
) -> PolicyDocument:
    """Who in a consumer account may assume a grant's role.

    IAM rejects a trust policy whose Principal names a role or user that does not exist yet, and prod is
    deployed before the consumers. So the Principal is the consumer account, and a condition on aws:PrincipalArn
    (which for a role session is the role's ARN) narrows it to the named principals. Workloads (a function's
    execution role) and humans get separate statements so MFA can be required of humans only.
    """
    workloads = tuple(sorted(set(workload_principal_arns)))
    humans = tuple(sorted(set(human_principal_arns)))
    if not workloads and not humans:
        raise ValueError("A trust policy must name at least one principal.")
    base_statements = []
    if workloads:
        base_statements.append(
            Statement("WorkloadsAssume", ("sts:AssumeRole",), principal=AccountPrincipal(consumer_account_id))
            .with_condition("ArnEquals", "aws:PrincipalArn", workloads)
        )
    if humans:
        human = Statement(
            "HumansAssume", ("sts:AssumeRole",), principal=AccountPrincipal(consumer_account_id)
        ).with_condition("ArnEquals", "aws:PrincipalArn", humans)
        if require_mfa_for_humans:
            human = human.with_condition("Bool", "aws:MultiFactorAuthPresent", "true")
        base_statements.append(human)
    if external_id is not None:
        base_statements = [s.with_condition("StringEquals", "sts:ExternalId", external_id) for s in base_statements]
    return PolicyDocument(tuple(base_statements))


def grant_trust_policy(grant: Grant) -> PolicyDocument:
    """A grant's trust policy: its named principals of its account, MFA for its humans, its external ID."""
    return trust_policy_for(
        grant.account_id,
        (arns.role(grant.account_id, name) for name in grant.role_names),
        (arns.user(grant.account_id, name) for name in grant.user_names),
        external_id=grant.external_id,
        require_mfa_for_humans=grant.require_mfa,
    )


def bucket_access_policy(bucket: str, key_prefix: str, access: Access) -> PolicyDocument:
    """What a grant's role may do: write and/or read objects under one prefix of one bucket, and list that prefix.

    Never deletes, ACLs or policy changes. Listing is granted on the bucket ARN but only for requests whose s3:prefix
    is under the key prefix; a ListBucket without a prefix has no s3:prefix key, so StringLike does not match and
    it is denied.
    """
    objects = (arns.objects(bucket, key_prefix),)
    statements = []
    if access.writes:
        statements.append(Statement("WriteObjectsUnderPrefix", ("s3:PutObject",), resources=objects))
    if access.reads:
        statements.append(Statement("ReadObjectsUnderPrefix", ("s3:GetObject",), resources=objects))
    statements.append(
        Statement("ListObjectsUnderPrefix", ("s3:ListBucket",), resources=(arns.bucket(bucket),))
        .with_condition("StringLike", "s3:prefix", (f"{key_prefix}*",))
    )
    return PolicyDocument(tuple(statements))


def tls_only_bucket_policy(bucket: str) -> PolicyDocument:
    """Deny every request to the bucket that does not arrive over TLS (a Deny, so s3:* is right here)."""
    return PolicyDocument((
        Statement(
            "DenyInsecureTransport",
            ("s3:*",),
            effect=Effect.DENY,
            principal=AnyPrincipal(),
            resources=(arns.bucket(bucket), f"{arns.bucket(bucket)}/*"),
        ).with_condition("Bool", "aws:SecureTransport", "false"),
    ))


# ---------------------------------------------------------------------------------------------------------
# The consumer side.


def assume_role_policy(target_role_arn: str, *, require_mfa: bool = False) -> PolicyDocument:
    """An identity policy allowing sts:AssumeRole on exactly one role, and nothing else."""
    statement = Statement("AssumeGrantRole", ("sts:AssumeRole",), resources=(target_role_arn,))
    if require_mfa:
        statement = statement.with_condition("Bool", "aws:MultiFactorAuthPresent", "true")
    return PolicyDocument((statement,))


def service_trust_policy(service: str) -> PolicyDocument:
    """The trust policy of a role that an AWS service (here Lambda) assumes on our behalf."""
    return PolicyDocument((
        Statement("ServiceAssume", ("sts:AssumeRole",), principal=ServicePrincipal(service)),
    ))


def log_writing_policy(log_group_arn: str) -> PolicyDocument:
    """Write to one log group: the least a Lambda needs, instead of AWSLambdaBasicExecutionRole's logs:* on *."""
    return PolicyDocument((
        Statement(
            "WriteOwnLogs",
            ("logs:CreateLogStream", "logs:PutLogEvents"),
            resources=(f"{log_group_arn}:*",),
        ),
    ))
