"""Every policy document every stack declares (prod, and each consumer: dev, analytics), linted by parliament and
cloudsplaining: zero findings. A prod with a grant of each access level (write, read, read-write) is linted too.

The documents are taken from synth (localcloud/synth.py), the same output that is committed as
tests/snapshots/, not rebuilt from components/policies.py, so what is linted is what the program declares.

- parliament (duo-labs) checks each document's grammar, actions, resource ARNs against each action's resource
  types, condition keys and operators, plus its community auditors. Identity policies and the bucket policy
  (a resource policy: it has Principal and Resource) are analyzed as they are. parliament 1.6.4 has no mode
  for trust policies (analyze_policy_string takes no policy type; duo-labs/parliament#229, still open): a
  trust statement has no Resource and is reported MALFORMED. A trust policy is the resource policy of its
  role, so it is analyzed as that: each statement with the role's ARN as its Resource.
- cloudsplaining (salesforce) checks identity policies for what makes a grant too wide: privilege
  escalation, data exfiltration, resource exposure (permissions management), infrastructure modification and
  credentials exposure without resource constraints, whole-service wildcards, and actions on "*". Its
  "write actions without constraints" is left out on purpose: s3:PutObject on one prefix is this role's job.
  parliament does not report a trust or resource policy open to everyone (Principal "*" passes its principal
  check), so for policies with a Principal, cloudsplaining's resource-policy API (ResourcePolicyDocument,
  AssumeRolePolicyDocument for trust policies) answers that: internet-accessible actions, role assumable by
  any principal. Its cross-account check is left out: trusting a consumer account is a grant role's purpose.
"""

from __future__ import annotations

import copy
import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():  # parliament opens its data files without closing them (ResourceWarning)
    warnings.simplefilter("ignore")
    import parliament
from cloudsplaining.scan.assume_role_policy_document import AssumeRolePolicyDocument
from cloudsplaining.scan.policy_document import PolicyDocument
from cloudsplaining.scan.resource_policy_document import ResourcePolicyDocument

from components.policies import KEY_ALIAS_ACTIONS
from localcloud_pulumi.synth import placeholder_name
from offline.stacks import PROJECT_DIR
from tests.program.conftest import CONSUMER_STACKS, STACKS, grants_of, synthesized, with_grants
from tests.project import stack_config, synth

# Where policy documents live in the resources we declare, and what kind each is. A document found anywhere
# else fails test_every_policy_is_classified, so a new kind cannot slip past the lint.
POLICY_KINDS = {
    ("aws:iam/role:Role", "assumeRolePolicy"): "trust",
    ("aws:s3/bucketPolicy:BucketPolicy", "policy"): "resource",
    ("aws:iam/rolePolicy:RolePolicy", "policy"): "identity",
    ("aws:iam/groupPolicy:GroupPolicy", "policy"): "identity",
    ("aws:iam/userPolicy:UserPolicy", "policy"): "identity",
    ("aws:iam/policy:Policy", "policy"): "identity",
    ("aws:kms/key:Key", "policy"): "key",
}

# parliament's community auditors need their finding definitions (title, severity) as its CLI loads them.
parliament.override_config(Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml")

ONE_ROLE_ARN = re.compile(r"arn:aws:iam::\d{12}:role/[\w+=,.@/-]+")


@dataclass(frozen=True)
class DeclaredPolicy:
    stack: str
    account: str
    typ: str
    name: str
    key: str
    kind: str | None
    document: dict[str, Any]
    role_arn: str | None = None  # a trust policy's role: the resource it governs

    @property
    def id(self) -> str:
        return f"{self.stack}/{self.typ}/{self.name}/{self.key}"


def declared_policies(document: dict[str, Any]) -> list[DeclaredPolicy]:
    """Each policy document (an object with a Statement) among the inputs of a synth document's resources."""
    found = []
    for resource in document["resources"]:
        for key, value in _documents(resource["inputs"], ""):
            kind = POLICY_KINDS.get((resource["type"], key))
            role_arn = None
            if kind == "trust":
                inputs = resource["inputs"]
                role_arn = (f"arn:aws:iam::{document['account']}:role{inputs.get('path', '/')}"
                            f"{placeholder_name(resource['type'], resource['name'], inputs)}")
            found.append(DeclaredPolicy(document["stack"], document["account"], resource["type"], resource["name"], key, kind, value,
                                        role_arn))
    return found


def _documents(value: Any, path: str):
    if isinstance(value, dict):
        if "Statement" in value:
            yield path, value
            return
        for key, item in value.items():
            yield from _documents(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _documents(item, f"{path}[{index}]")


# --- the linters ---------------------------------------------------------------------------------------------


def lint(policy: DeclaredPolicy) -> list[str]:
    """Every finding of both tools, one line each; empty when the policy passes."""
    return parliament_findings(policy) + cloudsplaining_findings(policy)


def parliament_findings(policy: DeclaredPolicy) -> list[str]:
    document = policy.document
    if policy.kind == "trust":
        document = copy.deepcopy(document)
        for statement in _statements(document):
            if "Resource" not in statement and "NotResource" not in statement:
                statement["Resource"] = policy.role_arn
    if policy.kind == "key":
        # In a key policy "Resource": "*" means this key (key-policies.html): analyzed with the key's ARN.
        document = copy.deepcopy(document)
        for statement in _statements(document):
            if statement.get("Resource") == "*":
                statement["Resource"] = f"arn:aws:kms:eu-west-1:{policy.account}:key/{policy.name}"
    analyzed = parliament.analyze_policy_string(json.dumps(document), filepath=policy.id,
                                                include_community_auditors=True)
    findings = [parliament.enhance_finding(f) for f in analyzed.findings]
    return [f"parliament {f.issue} ({f.severity}): {f.title}; {_sorted(f.detail) or ''} {_location(f.location)}".rstrip()
            for f in findings if not _excused(f, analyzed, policy.kind, document)]


KMS_KEY_ID_HEADER = "s3:x-amz-server-side-encryption-aws-kms-key-id"


def _arn_valued_string_keys(document: dict[str, Any]) -> set[str]:
    """The condition keys compared by a String operator with an ARN."""
    found = set()
    for statement in _statements(document):
        for operator, keys in statement.get("Condition", {}).items():
            if "String" in operator:
                for key, values in keys.items():
                    if any(str(v).startswith("arn:") for v in (values if isinstance(values, list) else [values])):
                        found.add(key)
    return found


def _excused(finding: Any, analyzed: Any, kind: str | None = None, document: dict[str, Any] | None = None) -> bool:
    # The community auditor CREDENTIALS_EXPOSURE lists sts:AssumeRole wherever a policy allows it, whatever the
    # resource; this project's whole point is sts:AssumeRole on exactly one role (a consumer's identity policies
    # grant it on its grant's role ARN; a trust policy allows it on its own role by definition). Excused only
    # when sts:AssumeRole is the one action reported and every resource it is allowed on is one role's ARN,
    # without wildcards; cloudsplaining's credentials-exposure check, which does weigh the resource, still
    # runs on every identity policy and catches sts:AssumeRole on "*".
    if finding.issue == "CREDENTIALS_EXPOSURE" and finding.location.get("actions") == ["sts:assumerole"]:
        resources = analyzed.get_allowed_resources("sts", "AssumeRole")
        return bool(resources) and all(ONE_ROLE_ARN.fullmatch(r) for r in resources)
    # A key policy must let its account change it, or the key becomes unmanageable (key-policy-default.html):
    # kms:PutKeyPolicy, on the key itself, is the one permissions-management action excused, and only there.
    if kind == "key" and finding.issue == "PERMISSIONS_MANAGEMENT_ACTIONS":
        return finding.detail == ["kms:putkeypolicy"] or finding.location.get("actions") == ["kms:putkeypolicy"]
    # The alias actions are authorized on the alias (by IAM) and on its key (by the key policy, alias-access.html);
    # parliament expects the alias's ARN, which a key policy cannot name ("*" is the key itself).
    if kind == "key" and finding.issue == "RESOURCE_MISMATCH":
        return {d.get("action") for d in finding.detail} <= set(KEY_ALIAS_ACTIONS)
    # The key ID header is a string (the Service Authorization Reference) that S3 compares as given, and a write may
    # name the key by its ARN: StringNotEquals with the ARN is what the S3 User Guide writes; only this key.
    if finding.issue == "MISMATCHED_TYPE_BUT_USABLE" and document is not None:
        return _arn_valued_string_keys(document) == {KMS_KEY_ID_HEADER}
    return False


def _location(location: dict[str, Any]) -> str:
    return json.dumps({k: _sorted(v) for k, v in location.items() if k != "filepath"}, sort_keys=True, default=str)


def _sorted(value: Any) -> Any:
    """Lists the tools build from sets, in a stable order for the message."""
    return sorted(value, key=lambda v: json.dumps(v, sort_keys=True)) if isinstance(value, list) else value


IDENTITY_CHECKS = {
    "privilege escalation": lambda d: d.allows_privilege_escalation,
    "data exfiltration": lambda d: d.allows_data_exfiltration_actions,
    "resource exposure": lambda d: d.permissions_management_without_constraints,
    "infrastructure modification": lambda d: d.infrastructure_modification,
    "credentials exposure": lambda d: d.credentials_exposure,
    "service wildcard": lambda d: d.service_wildcard,
    "actions on * resources": lambda d: d.all_allowed_unrestricted_actions,
}


def cloudsplaining_findings(policy: DeclaredPolicy) -> list[str]:
    document: Any
    if policy.kind == "identity":
        # flag_conditional_statements: a condition does not make an action on "*" narrow enough for us.
        document = PolicyDocument(policy.document, flag_conditional_statements=True)
        checks = IDENTITY_CHECKS
    elif policy.kind == "trust":
        document = AssumeRolePolicyDocument(policy.document, current_account_id=policy.account)
        checks = {
            "role assumable by any principal": lambda d: d.role_assumable_by_any_principal,
            "internet accessible": lambda d: d.internet_accessible_actions,
        }
    else:
        document = ResourcePolicyDocument(policy.document)
        checks = {"internet accessible": lambda d: d.internet_accessible_actions}
    return [f"cloudsplaining {name}: {json.dumps(_sorted(found), sort_keys=True)}"
            for name, check in checks.items() if (found := check(document))]


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]


# --- the declared policies -----------------------------------------------------------------------------------

# The policies are parametrized from the committed snapshots: reading JSON files is cheap at collection, where
# running every program is not (every pytest-xdist worker collects every module). Each test then lints the
# document synth produces now, and test_linted_policies_are_the_declared_ones fails if the two lists differ (or a
# stack has no snapshot yet).
SNAPSHOTS = PROJECT_DIR / "tests" / "snapshots"
SNAPSHOT_POLICY_IDS = [p.id for stack in STACKS if (SNAPSHOTS / f"{stack}.json").exists()
                       for p in declared_policies(json.loads((SNAPSHOTS / f"{stack}.json").read_text()))]


def declared_now() -> dict[str, DeclaredPolicy]:
    """Every policy every stack declares today (synth runs once per worker), by id."""
    return {p.id: p for stack in STACKS for p in declared_policies(synthesized(stack))}


@pytest.mark.parametrize("policy_id", SNAPSHOT_POLICY_IDS)
def test_policy_has_no_findings(policy_id: str):
    policy = declared_now()[policy_id]
    findings = lint(policy)
    assert not findings, f"{policy.id}:\n  " + "\n  ".join(findings) + \
        f"\n{json.dumps(policy.document, indent=2, sort_keys=True)}"


def test_linted_policies_are_the_declared_ones():
    assert sorted(declared_now()) == sorted(SNAPSHOT_POLICY_IDS), "run `make snapshots` and review the diff"


def test_every_policy_is_classified():
    policies = declared_now().values()
    unclassified = [p.id for p in policies if p.kind is None]
    assert not unclassified, f"add these (resource type, input key) to POLICY_KINDS: {unclassified}"
    # Not vacuous: every stack declares policies of each kind it has (prod: one trust and identity per grant).
    assert {(p.stack, p.kind) for p in policies} == {("prod", "trust"), ("prod", "identity"), ("prod", "resource"),
                                                     ("prod", "key")} | {
        (stack, kind) for stack in CONSUMER_STACKS for kind in ("trust", "identity")}
    grants = {g["name"] for g in grants_of(stack_config("prod"))}
    assert {p.name for p in policies if p.stack == "prod" and p.kind == "trust"} == {f"{g}-role" for g in grants}


def every_access_prod() -> dict[str, Any]:
    """prod's synth document with one more grant of each access level, so read-write is linted as declared too."""
    config = stack_config("prod")
    base = grants_of(config)[0]
    extra = [base | {"name": f"lint-{access}", "access": access} for access in ("write", "read", "read-write")]
    return synth("prod", config=with_grants(config, grants_of(config) + extra))


def test_every_access_levels_grant_role_has_no_findings():
    policies = [p for p in declared_policies(every_access_prod()) if p.name.startswith("lint-")]
    assert {p.name for p in policies} == {f"lint-{a}-{suffix}" for a in ("write", "read", "read-write")
                                          for suffix in ("role", "bucket-access")}
    findings = {p.id: found for p in policies if (found := lint(p))}
    assert not findings, findings


# --- the lint catches what it is there for -------------------------------------------------------------------


def widened_prod() -> dict[str, Any]:
    """prod's synth document with the dev-writer grant's role opened up: trusted by anyone, and s3:* on "*"."""
    document = synthesized("prod")
    for resource in document["resources"]:
        if resource["name"] == "dev-writer-role":
            resource["inputs"]["assumeRolePolicy"]["Statement"] = [
                {"Sid": "Anyone", "Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}]
        if resource["name"] == "dev-writer-bucket-access":
            resource["inputs"]["policy"]["Statement"] = [
                {"Sid": "Everything", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}]
    return document


def test_widened_policies_are_caught_and_nothing_else():
    findings = {p.id: lint(p) for p in declared_policies(widened_prod())}
    flagged = {policy_id for policy_id, found in findings.items() if found}
    assert flagged == {"prod/aws:iam/role:Role/dev-writer-role/assumeRolePolicy",
                       "prod/aws:iam/rolePolicy:RolePolicy/dev-writer-bucket-access/policy"}, findings


def test_a_grant_role_widened_to_delete_is_caught():
    document = synthesized("prod")
    (access,) = [r for r in document["resources"] if r["name"] == "analytics-reader-bucket-access"]
    access["inputs"]["policy"]["Statement"].append(
        {"Sid": "Delete", "Effect": "Allow", "Action": ["s3:DeleteObject", "s3:PutObjectAcl"], "Resource": "*"})
    (policy,) = [p for p in declared_policies(document) if p.name == "analytics-reader-bucket-access"]
    assert lint(policy), policy.document


def test_s3_star_on_star_identity_policy_is_caught_by_both_tools():
    policy = DeclaredPolicy("test", "222222222222", "aws:iam/rolePolicy:RolePolicy", "wide", "policy", "identity", {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    })
    found = lint(policy)
    assert any(f.startswith("parliament RESOURCE_STAR") for f in found), found
    for check in ("data exfiltration", "resource exposure", "infrastructure modification", "service wildcard",
                  "actions on * resources"):
        assert any(f.startswith(f"cloudsplaining {check}:") for f in found), (check, found)


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}], ids=["Principal *", "Principal AWS *"])
def test_trust_policy_open_to_anyone_without_condition_is_caught(principal):
    policy = DeclaredPolicy("test", "111111111111", "aws:iam/role:Role", "open", "assumeRolePolicy", "trust", {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
    }, role_arn="arn:aws:iam::111111111111:role/open")
    found = lint(policy)
    assert any(f.startswith("cloudsplaining role assumable by any principal:") for f in found), found
    assert any(f.startswith("cloudsplaining internet accessible:") for f in found), found


def test_trust_policy_conditions_and_principals_are_checked_by_parliament():
    def trust(statement: dict[str, Any]) -> DeclaredPolicy:
        return DeclaredPolicy("test", "111111111111", "aws:iam/role:Role", "r", "assumeRolePolicy", "trust", {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                           "Principal": {"AWS": "arn:aws:iam::222222222222:root"}} | statement],
        }, role_arn="arn:aws:iam::111111111111:role/r")

    typo = lint(trust({"Condition": {"Bool": {"aws:MultiFactorAuthPresnt": "true"}}}))
    assert any(f.startswith("parliament UNKNOWN_CONDITION_FOR_ACTION") for f in typo), typo
    not_an_arn = lint(trust({"Condition": {"ArnEquals": {"aws:PrincipalArn": "dev-user"}}}))
    assert any(f.startswith("parliament MISMATCHED_TYPE") for f in not_an_arn), not_an_arn
    bad_principal = lint(trust({"Principal": {"AWS": "dev-user"}}))
    assert any(f.startswith("parliament UNKNOWN_PRINCIPAL") for f in bad_principal), bad_principal


def test_sts_assume_role_on_any_role_is_not_excused():
    policy = DeclaredPolicy("test", "222222222222", "aws:iam/rolePolicy:RolePolicy", "any-role", "policy", "identity", {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/*"}],
    })
    found = lint(policy)
    assert any(f.startswith("parliament CREDENTIALS_EXPOSURE") for f in found), found
