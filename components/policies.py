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
    from components.grants import Access, Grant

POLICY_VERSION = "2012-10-17"

# A service's action, or "*" (every action: only ever in a Deny here).
_ACTION = re.compile(r"^(\*|[a-z0-9-]+:[A-Za-z0-9*?]+)$")
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


# The values of the grant's trust options, as grant_trust_policy passes them (components/grants.py SourceIdentity).
SOURCE_IDENTITY_OPTIONS = ("none", "allowed", "required")


def trust_policy_for(
    consumer_account_id: str,
    workload_principal_arns: Iterable[str],
    human_principal_arns: Iterable[str] = (),
    *,
    external_id: str | None = None,
    require_mfa_for_humans: bool = True,
    session_tag_keys: Iterable[str] | None = None,
    source_identity: str = "none",
    principal_org_id: str | None = None,
) -> PolicyDocument:
    """Who in a consumer account may assume a grant's role, and what they may bring to the session.

    IAM rejects a trust policy whose Principal names a role or user that does not exist yet, and prod is
    deployed before the consumers. So the Principal is the consumer account, and a condition on aws:PrincipalArn
    (which for a role session is the role's ARN) narrows it to the named principals. Workloads (a function's
    execution role) and humans get separate statements so MFA can be required of humans only.

    ``session_tag_keys``: None, no session tags; empty, any tag keys; else only those keys (ForAllValues: every
    key passed must be listed; id_session-tags.html, reference_policies_condition-keys.html#condition-keys-tagkeys).
    Only the workloads may pass tags: the people of a grant cannot tag their sessions. ``source_identity``: "allowed" lets the caller set one (sts:SetSourceIdentity); "required"
    also demands one: of a workload any (Null sts:SourceIdentity false), of a human their own user name
    (sts:SourceIdentity = ${aws:username}), so CloudTrail names the person behind every session
    (id_credentials_temp_control-access_monitor.html). ``principal_org_id``: the caller's account must also be
    in that organization (aws:PrincipalOrgID), a guard should an account ID in the config be mistyped.
    """
    workloads = tuple(sorted(set(workload_principal_arns)))
    humans = tuple(sorted(set(human_principal_arns)))
    if not workloads and not humans:
        raise ValueError("A trust policy must name at least one principal.")
    if source_identity not in SOURCE_IDENTITY_OPTIONS:
        raise ValueError(f"source_identity must be one of {SOURCE_IDENTITY_OPTIONS}, not {source_identity!r}")
    principal = AccountPrincipal(consumer_account_id)
    statements = []
    if workloads:
        workload = Statement("WorkloadsAssume", ("sts:AssumeRole",), principal=principal).with_condition(
            "ArnEquals", "aws:PrincipalArn", workloads)
        if source_identity == "required":
            workload = workload.with_condition("Null", "sts:SourceIdentity", "false")
        statements.append(workload)
    if humans:
        human = Statement("HumansAssume", ("sts:AssumeRole",), principal=principal).with_condition(
            "ArnEquals", "aws:PrincipalArn", humans)
        if require_mfa_for_humans:
            human = human.with_condition("Bool", "aws:MultiFactorAuthPresent", "true")
        if source_identity == "required":
            human = human.with_condition("StringEquals", "sts:SourceIdentity", "${aws:username}")
        statements.append(human)
    if external_id is not None:
        statements = [s.with_condition("StringEquals", "sts:ExternalId", external_id) for s in statements]
    # Tags and a source identity are authorized only as part of an AssumeRole (API_AssumeRole.html), whose
    # statements above check who, MFA and the external ID; their own statements carry only the keys those actions
    # know (the Service Authorization Reference lists neither sts:ExternalId nor sts:SourceIdentity for
    # sts:TagSession), and need not name everyone again, which keeps the trust policy within IAM's size.
    # Session tags are the workloads' only: a tag a person chose could pass as a function's (function=...) and
    # defeat every condition on aws:PrincipalTag; so this one statement names principals again, the workloads.
    if session_tag_keys is not None and workloads:
        tags = Statement("PassSessionTags", ("sts:TagSession",), principal=principal).with_condition(
            "ArnEquals", "aws:PrincipalArn", workloads)
        if tuple(session_tag_keys):
            tags = tags.with_condition("ForAllValues:StringEquals", "aws:TagKeys", tuple(session_tag_keys))
        statements.append(tags)
    if source_identity != "none":
        statements.append(Statement("SetSourceIdentity", ("sts:SetSourceIdentity",), principal=principal))
    if principal_org_id is not None:
        statements = [s.with_condition("StringEquals", "aws:PrincipalOrgID", principal_org_id) for s in statements]
    return PolicyDocument(tuple(statements))


def grant_trust_policy(grant: Grant) -> PolicyDocument:
    """A grant's trust policy: its named principals of its account, MFA for its humans, and its trust options."""
    return trust_policy_for(
        grant.account_id,
        (arns.role(grant.account_id, name) for name in grant.role_names),
        (arns.user(grant.account_id, name) for name in grant.user_names),
        external_id=grant.external_id,
        require_mfa_for_humans=grant.require_mfa,
        session_tag_keys=None if grant.session_tags is None else grant.session_tags.keys,
        source_identity=grant.source_identity.value,
        principal_org_id=grant.principal_org_id,
    )


def revoke_older_sessions_policy(issued_before: str) -> PolicyDocument:
    """Deny everything to sessions issued before ``issued_before``: what IAM's "Revoke active sessions" writes
    (id_roles_use_revoke-sessions.html). A session's permissions are evaluated at each request, so this stops
    sessions already issued; new ones (issued after the time) work as before."""
    return PolicyDocument((
        Statement("RevokeOlderSessions", ("*",), effect=Effect.DENY, resources=("*",))
        .with_condition("DateLessThan", "aws:TokenIssueTime", issued_before),
    ))


def suspended_grant_policy() -> PolicyDocument:
    """Deny everything to every session of the role, issued or to come: an explicit Deny beats every Allow
    (reference_policies_evaluation-logic.html). Nothing else of the grant changes, so resuming is removing it."""
    return PolicyDocument((
        Statement("GrantSuspended", ("*",), effect=Effect.DENY, resources=("*",)),
    ))


def bucket_access_policy(bucket: str, key_prefix: str, access: Access, *, kms_key_arn: str | None = None,
                         region: str | None = None) -> PolicyDocument:
    """What a grant's role may do: write and/or read objects under one prefix of one bucket, and list that prefix;
    with the bucket's KMS key, use it through S3 in the bucket's region (``kms_key_arn`` and ``region``).

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
    if kms_key_arn is not None:
        if region is None:
            raise ValueError("The bucket's region is needed with its KMS key (kms:ViaService).")
        statements.append(
            Statement("UseBucketKeyThroughS3", kms_actions(access), resources=(kms_key_arn,))
            .with_condition("StringEquals", "kms:ViaService", s3_service(region))
        )
    return PolicyDocument(tuple(statements))


def kms_actions(access: Access) -> tuple[str, ...]:
    """The KMS actions S3 calls as the requester (UsingKMSEncryption.html, mpuoverview.html): reading decrypts
    the object's data key; writing generates one, and a multipart upload also decrypts it to encrypt each part.
    With S3 Bucket Keys the same actions apply to the bucket-level key (bucket-key.html)."""
    return ("kms:GenerateDataKey", "kms:Decrypt") if access.writes else ("kms:Decrypt",)


def s3_service(region: str) -> str:
    """kms:ViaService of a KMS call S3 makes on a requester's behalf (conditions-kms.html#conditions-kms-via-service)."""
    return f"s3.{region}.amazonaws.com"


@dataclass(frozen=True)
class KeyUse:
    """Principals of the key's account that may use it through S3 only, for the bucket (or part of it) only."""

    sid: str
    principal_arns: tuple[str, ...]
    actions: tuple[str, ...]
    key_prefix: str | None = None  # None: anywhere in the bucket


# Key administration: what key-policy-default.html's "Allows key administrators" covers, spelled out (its wildcards
# would also take in actions on other resources), without grants (a grant is a use of the key given to someone:
# kms:CreateGrant is left out, and with it kms:RevokeGrant). kms:PutKeyPolicy stays, so the account can always
# change this policy and the key never becomes unmanageable. The alias actions are authorized on the key too
# (alias-access.html), so the key's alias can be created and moved.
KEY_ADMINISTRATION_ACTIONS = (
    "kms:DescribeKey", "kms:GetKeyPolicy", "kms:ListKeyPolicies", "kms:PutKeyPolicy", "kms:GetKeyRotationStatus",
    "kms:EnableKeyRotation", "kms:DisableKeyRotation", "kms:ListKeyRotations", "kms:RotateKeyOnDemand",
    "kms:EnableKey", "kms:DisableKey", "kms:UpdateKeyDescription", "kms:ListResourceTags", "kms:TagResource",
    "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:UpdateAlias",
    "kms:DeleteAlias",
)
# The actions of KEY_ADMINISTRATION_ACTIONS that act on an alias as well as on the key.
KEY_ALIAS_ACTIONS = ("kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias")


def data_key_uses(grants: Iterable[Grant], account_id: str, key_users: Iterable[str] = ()) -> list[KeyUse]:
    """Who may use the bucket's key: each grant's role, for what its access needs, under its prefix; and the
    prod account's key users (``kmsKeyUsers``), to read and write anywhere in the bucket."""
    users = tuple(key_users)
    extra = [KeyUse("KeyUsers", users, ("kms:GenerateDataKey", "kms:Decrypt"))] if users else []
    return grant_key_uses(grants, account_id) + extra


def grant_key_uses(grants: Iterable[Grant], account_id: str) -> list[KeyUse]:
    """Each grant's use of the bucket key: its role, what its access needs, under its prefix."""
    uses, sids = [], set()
    for grant in grants:
        sid = "Grant" + "".join(part.capitalize() for part in grant.name.split("-"))
        while sid in sids:  # "a-1" and "a1" would both be GrantA1
            sid += "X"
        sids.add(sid)
        uses.append(KeyUse(sid, (arns.role(account_id, grant.role_name),), kms_actions(grant.access), grant.key_prefix))
    return uses


def bucket_key_policy(account_id: str, region: str, bucket: str, uses: Iterable[KeyUse]) -> PolicyDocument:
    """The bucket key's policy. The account keeps the key administered through IAM (it can always change this
    policy, so the key cannot become unmanageable), but no principal may encrypt or decrypt with it unless named
    here: a key policy must allow every use (key-policies.html), and this one delegates none of them.

    Each use is for its principals (aws:PrincipalArn: the account principal, narrowed as the grants' trust is, so
    each also needs its identity policy), through S3 in the bucket's region only (kms:ViaService), for objects of
    this bucket only (kms:EncryptionContext:aws:s3:arn: the bucket's ARN with S3 Bucket Keys, an object's ARN
    without them, bucket-key.html), under its prefix where it has one.
    """
    account = AccountPrincipal(account_id)
    statements = [Statement("KeyAdministration", KEY_ADMINISTRATION_ACTIONS, resources=("*",), principal=account)]
    for use in uses:
        objects = arns.objects(bucket, use.key_prefix or "")
        statements.append(
            Statement(use.sid, use.actions, resources=("*",), principal=account)
            .with_condition("ArnEquals", "aws:PrincipalArn", use.principal_arns)
            .with_condition("StringEquals", "kms:ViaService", s3_service(region))
            .with_condition("StringLike", "kms:EncryptionContext:aws:s3:arn", (arns.bucket(bucket), objects))
        )
    return PolicyDocument(tuple(statements))


def tls_only_bucket_policy(bucket: str, *, kms_key_arn: str | None = None) -> PolicyDocument:
    """Deny every request to the bucket that does not arrive over TLS (a Deny, so s3:* is right here); with a KMS
    key, also deny writes that ask for any other encryption (encryption_deny_statements)."""
    statements = [
        Statement(
            "DenyInsecureTransport",
            ("s3:*",),
            effect=Effect.DENY,
            principal=AnyPrincipal(),
            resources=(arns.bucket(bucket), f"{arns.bucket(bucket)}/*"),
        ).with_condition("Bool", "aws:SecureTransport", "false"),
    ]
    if kms_key_arn is not None:
        statements += encryption_deny_statements(bucket, kms_key_arn)
    return PolicyDocument(tuple(statements))


def encryption_deny_statements(bucket: str, kms_key_arn: str) -> list[Statement]:
    """PutObject (and CreateMultipartUpload and CopyObject, which are s3:PutObject too) may ask for no encryption
    but the bucket key's: a write naming another encryption, another key, or aws:kms without a key (which S3 answers
    with the AWS managed key aws/s3, API_PutObject.html) is denied. A write naming none relies on the bucket's
    default encryption and passes: each Deny requires the header it compares to be present (Null false), because a
    negated operator on a missing key is true (reference_policies_elements_condition_operators.html)."""
    objects = (f"{arns.bucket(bucket)}/*",)
    sse, key_id = "s3:x-amz-server-side-encryption", "s3:x-amz-server-side-encryption-aws-kms-key-id"

    def deny(sid: str) -> Statement:
        return Statement(sid, ("s3:PutObject",), effect=Effect.DENY, principal=AnyPrincipal(), resources=objects)

    return [
        deny("DenyOtherEncryption").with_condition("Null", sse, "false")
        .with_condition("StringNotEquals", sse, "aws:kms"),
        deny("DenyOtherKmsKey").with_condition("Null", key_id, "false")
        .with_condition("StringNotEquals", key_id, kms_key_arn),
        deny("DenyAwsManagedKey").with_condition("StringEquals", sse, "aws:kms")
        .with_condition("Null", key_id, "true"),
    ]


# ---------------------------------------------------------------------------------------------------------
# The consumer side.


def assume_role_policy(
    target_role_arn: str,
    *,
    require_mfa: bool = False,
    external_id: str | None = None,
    tag_session: bool = False,
    set_source_identity: bool = False,
) -> PolicyDocument:
    """An identity policy allowing sts:AssumeRole on exactly one role, and nothing else; with ``external_id``
    only when the caller passes it, so a principal cannot be pointed at the role without the grant's ID. Across
    accounts, passing session tags or a source identity needs sts:TagSession or sts:SetSourceIdentity here too
    (id_session-tags.html, id_credentials_temp_control-access_monitor.html)."""
    statement = Statement("AssumeGrantRole", ("sts:AssumeRole",), resources=(target_role_arn,))
    if require_mfa:
        statement = statement.with_condition("Bool", "aws:MultiFactorAuthPresent", "true")
    if external_id is not None:
        statement = statement.with_condition("StringEquals", "sts:ExternalId", external_id)
    statements = [statement]
    extras = (("sts:TagSession",) if tag_session else ()) + (("sts:SetSourceIdentity",) if set_source_identity else ())
    if extras:
        # Only ever with an AssumeRole of the statement above: on their own they give nothing.
        statements.append(Statement("TagOrIdentifyGrantSession", extras, resources=(target_role_arn,)))
    return PolicyDocument(tuple(statements))


def service_trust_policy(service: str, *, source_account: str | None = None) -> PolicyDocument:
    """The trust policy of a role that an AWS service (here Lambda) assumes on our behalf; with
    ``source_account``, only on behalf of that account's resources (aws:SourceAccount, confused-deputy.html).

    Not aws:SourceArn: Lambda's documentation (lambda-intro-execution-role.html) names no condition key for the
    AssumeRole of an execution role, and AWS's own sample trust policies for Lambda pin aws:SourceAccount only; a
    pinned aws:SourceArn that Lambda did not send would make the function unable to run."""
    statement = Statement("ServiceAssume", ("sts:AssumeRole",), principal=ServicePrincipal(service))
    if source_account is not None:
        statement = statement.with_condition("StringEquals", "aws:SourceAccount", source_account)
    return PolicyDocument((statement,))


def log_writing_policy(log_group_arn: str) -> PolicyDocument:
    """Write to one log group: the least a Lambda needs, instead of AWSLambdaBasicExecutionRole's logs:* on *."""
    return PolicyDocument((
        Statement(
            "WriteOwnLogs",
            ("logs:CreateLogStream", "logs:PutLogEvents"),
            resources=(f"{log_group_arn}:*",),
        ),
    ))
