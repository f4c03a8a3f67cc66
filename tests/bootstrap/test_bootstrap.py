"""The bootstrap stacks, run from their committed stack files under Pulumi's mock runtime.

Who may assume each CI role (GitHub's OIDC token: audience, and a subject naming this repository and one kind of
run), what each may do (nothing outside the project's resources; no "*" or whole-service actions; PassRole only
to Lambda), that the deploy and preview roles cover every resource the project's stack of the same name declares,
and the exports the workflows read as repository variables. Every committed stack file: prod and each consumer
(dev, analytics, and any added later).
"""

from __future__ import annotations

import functools
import json
import re
import warnings
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest

from bootstrap.policies import GITHUB_OIDC_HOST, GITHUB_OIDC_URL
from bootstrap.settings import ConsumerBootstrap, variable_prefix
from components import arns
from tests.bootstrap.conftest import (
    ACCOUNTS,
    ANALYTICS_ACCOUNT,
    BOOTSTRAP_STACKS,
    CONSUMER_STACKS,
    DEV_ACCOUNT,
    PROJECT_STACKS,
    BootstrapRun,
    bootstrap_config,
    run_bootstrap,
)
from tests.project import synth

with warnings.catch_warnings():  # parliament opens its data files without closing them (ResourceWarning)
    warnings.simplefilter("ignore")
    import parliament

parliament.override_config(Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml")

STACKS = tuple(BOOTSTRAP_STACKS)
PURPOSES = ("preview", "deploy", "integration")
REPO = "OWNER/REPO"  # the committed placeholder
# Pull requests preview; each stack deploys from the environment of its own name; the live tests run in one.
SUBJECTS = {
    **{(stack, "preview"): f"repo:{REPO}:pull_request" for stack in STACKS},
    **{(stack, "deploy"): f"repo:{REPO}:environment:{stack}" for stack in STACKS},
    **{(stack, "integration"): f"repo:{REPO}:environment:integration" for stack in STACKS},
}
WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"
NS = "cross-account-s3-bootstrap:"


def consumer_names(stack: str) -> tuple[str, str, list[str]]:
    """A consumer bootstrap stack's function, execution role and users, from its stack file (or the defaults)."""
    config = bootstrap_config(stack)
    return (config.get(f"{NS}functionName", ConsumerBootstrap.function_name),
            config.get(f"{NS}executionRoleName", ConsumerBootstrap.execution_role_name),
            json.loads(config.get(f"{NS}userNames", "[]")))


def test_the_committed_stacks_are_prod_and_the_consumers():
    assert STACKS[0] == "prod" and {"dev", "analytics"} <= set(CONSUMER_STACKS)
    assert (ACCOUNTS["dev"], ACCOUNTS["analytics"]) == (DEV_ACCOUNT, ANALYTICS_ACCOUNT)
    assert consumer_names("analytics") == ("cross-account-s3-reader", "cross-account-s3-reader-lambda", ["analyst"])
    assert SUBJECTS[("analytics", "deploy")] == "repo:OWNER/REPO:environment:analytics"


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = document["Statement"]
    return found if isinstance(found, list) else [found]


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def allows(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in statements(document) if s["Effect"] == "Allow"]


def all_documents(run: BootstrapRun) -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for purpose in PURPOSES:
        docs.append((f"{purpose} trust", run.account.trust(purpose)))
        docs.append((f"{purpose} permissions", run.account.permissions(purpose)))
    return docs


# --- the OIDC provider ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_each_account_gets_githubs_oidc_provider_for_sts(runs, stack):
    provider = runs[stack].account.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "github")
    assert provider.inputs["url"] == GITHUB_OIDC_URL
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    # Optional in pulumi-aws 7; for GitHub, IAM trusts its own library of root CAs instead.
    assert not provider.inputs.get("thumbprintLists")
    assert runs[stack].export("oidcProviderArn") == \
        f"arn:aws:iam::{ACCOUNTS[stack]}:oidc-provider/{GITHUB_OIDC_HOST}"


def test_an_existing_provider_is_reused_not_created():
    existing = f"arn:aws:iam::{ACCOUNTS['dev']}:oidc-provider/{GITHUB_OIDC_HOST}"
    config = bootstrap_config("dev") | {"cross-account-s3-bootstrap:existingOidcProviderArn": existing}
    run = run_bootstrap("dev", config)
    assert not run.account.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    for purpose in PURPOSES:
        (statement,) = statements(run.account.trust(purpose))
        assert statement["Principal"] == {"Federated": existing}


# --- trust -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("stack", "purpose"), list(SUBJECTS))
def test_each_role_trusts_only_github_tokens_for_sts_with_its_exact_subject(runs, stack, purpose):
    (statement,) = statements(runs[stack].account.trust(purpose))
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {"Federated": runs[stack].export("oidcProviderArn")}
    # StringEquals only: no StringLike, so no wildcard can widen the subject to other branches or repositories.
    assert statement["Condition"] == {"StringEquals": {
        f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com",
        f"{GITHUB_OIDC_HOST}:sub": SUBJECTS[(stack, purpose)],
    }}


def test_the_repository_and_environments_come_from_config():
    config = bootstrap_config("prod") | {
        "cross-account-s3-bootstrap:githubRepo": "acme/infra",
        "cross-account-s3-bootstrap:deployEnvironment": "production",
        "cross-account-s3-bootstrap:integrationEnvironment": "live-tests",
    }
    run = run_bootstrap("prod", config)
    subjects = {p: statements(run.account.trust(p))[0]["Condition"]["StringEquals"][f"{GITHUB_OIDC_HOST}:sub"]
                for p in PURPOSES}
    assert subjects == {
        "preview": "repo:acme/infra:pull_request",
        "deploy": "repo:acme/infra:environment:production",
        "integration": "repo:acme/infra:environment:live-tests",
    }


# --- permissions: never wide -----------------------------------------------------------------------------------


WHOLE_SERVICE = re.compile(r"^[a-z0-9-]+:\*$")


@pytest.mark.parametrize("stack", STACKS)
def test_no_allow_has_a_wildcard_action_or_resource(runs, stack):
    for name, document in all_documents(runs[stack]):
        for statement in allows(document):
            for action in as_list(statement["Action"]):
                assert action != "*" and not WHOLE_SERVICE.match(action), f"{stack} {name}: {action}"
            if set(as_list(statement["Action"])) <= UNSCOPED_ACTIONS:
                continue  # IAM takes only "*" for these
            assert "*" not in as_list(statement.get("Resource", [])), f"{stack} {name}: Resource *"


@pytest.mark.parametrize("stack", STACKS)
def test_pass_role_only_for_the_lambda_execution_role_and_only_to_lambda(runs, stack):
    passing = [(purpose, s) for purpose in PURPOSES for s in allows(runs[stack].account.permissions(purpose))
               if any(fnmatchcase("iam:PassRole", a) for a in as_list(s["Action"]))]
    if stack == "prod":
        assert passing == []
        return
    assert [p for p, _ in passing] == ["deploy"]
    (_, statement), = passing
    assert as_list(statement["Action"]) == ["iam:PassRole"]
    _, execution_role, _ = consumer_names(stack)
    assert statement["Resource"] == f"arn:aws:iam::{ACCOUNTS[stack]}:role/{execution_role}"
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}


def test_each_consumer_passes_its_own_execution_role(runs):
    def passed(stack: str) -> str:
        (statement,) = [s for s in allows(runs[stack].account.permissions("deploy")) if s["Action"] == "iam:PassRole"]
        return statement["Resource"]

    assert passed("dev") == f"arn:aws:iam::{DEV_ACCOUNT}:role/cross-account-s3-writer-lambda"
    assert passed("analytics") == f"arn:aws:iam::{ANALYTICS_ACCOUNT}:role/cross-account-s3-reader-lambda"


@pytest.mark.parametrize("stack", STACKS)
def test_preview_may_only_read(runs, stack):
    for statement in allows(runs[stack].account.permissions("preview")):
        for action in as_list(statement["Action"]):
            verb = action.split(":")[1]
            assert verb.startswith(("Get", "List", "Describe")), action
    actions = {a for s in allows(runs[stack].account.permissions("preview")) for a in as_list(s["Action"])}
    assert not {"s3:GetObject", "s3:ListBucket"} & actions  # never the data, not even its keys


# Actions the Service Authorization Reference gives no resource type: an Allow of them names "*".
UNSCOPED_ACTIONS = {"kms:CreateKey", "kms:ListAliases"}


def allowed_deploy_resources(stack: str) -> set[str]:
    account = ACCOUNTS[stack]
    if stack == "prod":
        return {f"arn:aws:iam::{account}:role/cross-account-s3-*", "arn:aws:s3:::data-*",
                f"arn:aws:kms:*:{account}:key/*", f"arn:aws:kms:*:{account}:alias/cross-account-s3-*", "*"}
    function, execution_role, users = consumer_names(stack)
    return {f"arn:aws:iam::{account}:role/cross-account-s3-*", f"arn:aws:iam::{account}:group/cross-account-s3-*",
            *(f"arn:aws:iam::{account}:user/{user}" for user in users),
            f"arn:aws:iam::{account}:role/{execution_role}",
            f"arn:aws:lambda:eu-west-1:{account}:function:{function}",
            f"arn:aws:lambda:eu-west-1:{account}:function:{function}:*",
            f"arn:aws:logs:eu-west-1:{account}:log-group:/aws/lambda/{function}",
            f"arn:aws:logs:eu-west-1:{account}:log-group:/aws/lambda/{function}:*",
            f"arn:aws:logs:eu-west-1:{account}:log-group:*"}


@pytest.mark.parametrize("stack", STACKS)
def test_deploy_writes_only_the_projects_resources(runs, stack):
    allowed = allowed_deploy_resources(stack)
    resources = {r for s in allows(runs[stack].account.permissions("deploy")) for r in as_list(s["Resource"])}
    assert resources <= allowed, resources - allowed


def test_the_analytics_deploy_role_manages_the_reader_and_the_analysts_only(runs):
    resources = {r for s in allows(runs["analytics"].account.permissions("deploy")) for r in as_list(s["Resource"])}
    assert f"arn:aws:lambda:eu-west-1:{ANALYTICS_ACCOUNT}:function:cross-account-s3-reader" in resources
    assert f"arn:aws:iam::{ANALYTICS_ACCOUNT}:user/analyst" in resources
    assert not any("writer" in r or "dev-user" in r for r in resources), resources


@pytest.mark.parametrize("stack", STACKS)
def test_deploy_can_neither_change_the_ci_roles_nor_assume_a_role(runs, stack):
    permissions = runs[stack].account.permissions("deploy")
    ci_roles = [runs[stack].export(f"{p}RoleArn") for p in PURPOSES]
    for statement in allows(permissions):
        if set(as_list(statement["Action"])) <= UNSCOPED_ACTIONS:
            continue  # "*", but kms:CreateKey and kms:ListAliases act on no role
        for resource in as_list(statement["Resource"]):
            assert not any(fnmatchcase(role, resource) for role in ci_roles), (statement["Sid"], resource)
    denies = {s["Sid"]: s for s in statements(permissions) if s["Effect"] == "Deny"}
    assert denies["DenyChangesToCiRoles"]["Action"] == "iam:*"
    assert all(any(fnmatchcase(role, r) for r in denies["DenyChangesToCiRoles"]["Resource"]) for role in ci_roles)
    assert (denies["DenyAssumingRoles"]["Action"], denies["DenyAssumingRoles"]["Resource"]) == ("sts:AssumeRole", "*")


def test_prod_integration_reads_lists_and_deletes_under_the_prefix_only(runs):
    permissions = runs["prod"].account.permissions("integration")
    assert allows(permissions) == [
        {"Sid": "ReadAndDeleteObjectsUnderPrefix", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObject", "s3:DeleteObjectVersion"],
         "Resource": "arn:aws:s3:::data-*/incoming/*"},
        {"Sid": "ListObjectsUnderPrefix", "Effect": "Allow", "Action": ["s3:ListBucket", "s3:ListBucketVersions"],
         "Resource": "arn:aws:s3:::data-*", "Condition": {"StringLike": {"s3:prefix": "incoming/*"}}},
        {"Sid": "DecryptObjectsThroughS3", "Effect": "Allow", "Action": "kms:Decrypt",
         "Resource": "arn:aws:kms:*:111111111111:key/*",
         "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}}},
    ]


@pytest.mark.parametrize(("stack", "function"), [("dev", "cross-account-s3-writer"),
                                                  ("analytics", "cross-account-s3-reader")])
def test_consumer_integration_only_invokes_its_function(runs, stack, function):
    assert statements(runs[stack].account.permissions("integration")) == [
        {"Sid": "InvokeFunction", "Effect": "Allow", "Action": "lambda:InvokeFunction",
         "Resource": f"arn:aws:lambda:eu-west-1:{ACCOUNTS[stack]}:function:{function}"},
    ]


def test_a_configured_bucket_name_scopes_prod_to_that_bucket():
    config = {k: v for k, v in bootstrap_config("prod").items() if not k.endswith(":bucketNamePattern")}
    run = run_bootstrap("prod", config | {"cross-account-s3-bootstrap:bucketName": "acme-data-prod"})
    for purpose in PURPOSES:
        buckets = {r.split(":::")[1].split("/")[0] for s in allows(run.account.permissions(purpose))
                   for r in as_list(s["Resource"]) if r.startswith("arn:aws:s3:::")}
        assert buckets == {"acme-data-prod"}, purpose


@pytest.mark.parametrize("stack", STACKS)
def test_a_self_managed_backend_is_readable_in_previews_and_writable_in_deploys(stack):
    key = f"arn:aws:kms:eu-west-1:{ACCOUNTS[stack]}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    config = bootstrap_config(stack) | {"cross-account-s3-bootstrap:stateBucket": "acme-pulumi-state",
                                        "cross-account-s3-bootstrap:stateKmsKeyArn": key}
    run = run_bootstrap(stack, config)

    def grants(purpose: str) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for s in allows(run.account.permissions(purpose)):
            for resource in as_list(s["Resource"]):
                if "acme-pulumi-state" in resource or resource == key:
                    found.setdefault(resource, set()).update(as_list(s["Action"]))
        return found

    assert grants("preview") == {"arn:aws:s3:::acme-pulumi-state/.pulumi/*": {"s3:GetObject"},
                                 "arn:aws:s3:::acme-pulumi-state": {"s3:ListBucket"}, key: {"kms:Decrypt"}}
    assert grants("deploy") == {
        "arn:aws:s3:::acme-pulumi-state/.pulumi/*": {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"},
        "arn:aws:s3:::acme-pulumi-state": {"s3:ListBucket"},
        key: {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}}
    # The integration job reads both stacks' outputs with the prod reader's credentials.
    assert bool(grants("integration")) == (stack == "prod")


@pytest.mark.parametrize("stack", STACKS)
def test_permission_policies_fit_an_inline_role_policy(runs, stack):
    for purpose in PURPOSES:
        compact = json.dumps(runs[stack].account.permissions(purpose), separators=(",", ":"))
        assert len(compact) < 10240, (purpose, len(compact))  # IAM's limit, whitespace not counted


# Findings parliament reports that are this design, not a mistake. Everything else (unknown actions, ARNs that
# match no resource type of their action, malformed documents) fails.
INHERENT_TO_DEPLOYING = {
    # A deploy role writes IAM roles, group policies, bucket policies and function code: that is its job. The
    # guard rails are the environment's reviewers, the Denies tested above, and the resource scoping.
    "PERMISSIONS_MANAGEMENT_ACTIONS", "PRIVILEGE_ESCALATION", "RESOURCE_POLICY_PRIVILEGE_ESCALATION",
}


def _parliament(document: dict[str, Any]) -> list[Any]:
    analyzed = parliament.analyze_policy_string(json.dumps(document), include_community_auditors=True)
    return [parliament.enhance_finding(f) for f in analyzed.findings]


def _excused(finding: Any, purpose: str) -> bool:
    if purpose == "deploy" and finding.issue in INHERENT_TO_DEPLOYING:
        return True
    # parliament's database gives logs:DescribeLogGroups no resource type ("*"); the statement is scoped to the
    # account's log groups in the region, as AWS's Lambda developer guide scopes it.
    return finding.issue == "RESOURCE_MISMATCH" and \
        {d["action"] for d in finding.detail} == {"logs:DescribeLogGroups"}


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("purpose", PURPOSES)
def test_permissions_pass_parliament(runs, stack, purpose):
    findings = [f for f in _parliament(runs[stack].account.permissions(purpose)) if not _excused(f, purpose)]
    assert not findings, "\n".join(f"{f.issue} {f.severity}: {f.title} {f.detail} {f.location}" for f in findings)


# --- coverage: what the project's stack of the same name declares --------------------------------------------
#
# Each resource the project's stack declares (synthesized offline, tests/snapshots' source) needs a few actions on
# its ARN: those without which `pulumi up` could not create, update, tag and delete it (deploy), or read it back
# (preview, which `pulumi preview --refresh` does). A resource type not listed here fails the test: add it, and
# what it needs to the bootstrap's policies, when the program starts declaring it.

IGNORED_TYPES = ("pulumi:pulumi:StackReference",)  # and the project's own component types (cross-account-s3:...)
DEPLOY_NEEDS: dict[str, tuple[str, ...]] = {
    "aws:iam/role:Role": ("iam:CreateRole", "iam:GetRole", "iam:DeleteRole", "iam:UpdateAssumeRolePolicy",
                          "iam:UpdateRole", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
                          "iam:ListInstanceProfilesForRole"),
    "aws:iam/rolePolicy:RolePolicy": ("iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"),
    "aws:iam/group:Group": ("iam:CreateGroup", "iam:GetGroup", "iam:DeleteGroup"),
    "aws:iam/groupPolicy:GroupPolicy": ("iam:PutGroupPolicy", "iam:GetGroupPolicy", "iam:DeleteGroupPolicy"),
    "aws:iam/groupMembership:GroupMembership": ("iam:AddUserToGroup", "iam:RemoveUserFromGroup", "iam:GetGroup"),
    "aws:iam/user:User": ("iam:CreateUser", "iam:GetUser", "iam:DeleteUser", "iam:ListGroupsForUser"),
    "aws:lambda/function:Function": ("lambda:CreateFunction", "lambda:GetFunction", "lambda:DeleteFunction",
                                     "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration"),
    "aws:cloudwatch/logGroup:LogGroup": ("logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DescribeLogGroups"),
    "aws:s3/bucket:Bucket": ("s3:CreateBucket", "s3:DeleteBucket", "s3:ListBucket"),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": ("s3:PutBucketOwnershipControls",
                                                               "s3:GetBucketOwnershipControls"),
    "aws:s3/bucketPolicy:BucketPolicy": ("s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy"),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": ("s3:PutBucketPublicAccessBlock",
                                                               "s3:GetBucketPublicAccessBlock"),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "s3:PutEncryptionConfiguration", "s3:GetEncryptionConfiguration"),
    "aws:s3/bucketVersioning:BucketVersioning": ("s3:PutBucketVersioning", "s3:GetBucketVersioning"),
    "aws:kms/key:Key": ("kms:CreateKey", "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy",
                        "kms:EnableKeyRotation", "kms:GetKeyRotationStatus", "kms:UpdateKeyDescription",
                        "kms:ScheduleKeyDeletion"),
    # An alias is authorized on the alias and on its key (alias-access.html): both ARNs are checked.
    "aws:kms/alias:Alias": ("kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias", "kms:ListAliases"),
}
# Actions an input adds: tags are written with the service's tagging call, a boundary with its own.
INPUT_NEEDS: dict[str, dict[str, tuple[str, ...]]] = {
    "aws:iam/role:Role": {"tags": ("iam:TagRole", "iam:UntagRole", "iam:ListRoleTags"),
                          "permissionsBoundary": ("iam:PutRolePermissionsBoundary",),
                          "description": ("iam:UpdateRoleDescription",)},
    "aws:iam/user:User": {"tags": ("iam:TagUser", "iam:UntagUser", "iam:ListUserTags")},
    "aws:lambda/function:Function": {"tags": ("lambda:TagResource", "lambda:UntagResource", "lambda:ListTags")},
    "aws:cloudwatch/logGroup:LogGroup": {"tags": ("logs:TagResource", "logs:UntagResource",
                                                  "logs:ListTagsForResource"),
                                         "retentionInDays": ("logs:PutRetentionPolicy",)},
    "aws:s3/bucket:Bucket": {"tags": ("s3:PutBucketTagging", "s3:GetBucketTagging")},
    "aws:kms/key:Key": {"tags": ("kms:TagResource", "kms:UntagResource", "kms:ListResourceTags")},
}
PREVIEW_NEEDS: dict[str, tuple[str, ...]] = {
    "aws:iam/role:Role": ("iam:GetRole",),
    "aws:iam/rolePolicy:RolePolicy": ("iam:GetRolePolicy",),
    "aws:iam/group:Group": ("iam:GetGroup",),
    "aws:iam/groupPolicy:GroupPolicy": ("iam:GetGroupPolicy",),
    "aws:iam/groupMembership:GroupMembership": ("iam:GetGroup",),
    "aws:iam/user:User": ("iam:GetUser",),
    "aws:lambda/function:Function": ("lambda:GetFunction",),
    "aws:cloudwatch/logGroup:LogGroup": ("logs:DescribeLogGroups", "logs:ListTagsForResource"),
    "aws:s3/bucket:Bucket": ("s3:GetBucketTagging",),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": ("s3:GetBucketOwnershipControls",),
    "aws:s3/bucketPolicy:BucketPolicy": ("s3:GetBucketPolicy",),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": ("s3:GetBucketPublicAccessBlock",),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "s3:GetEncryptionConfiguration",),
    "aws:s3/bucketVersioning:BucketVersioning": ("s3:GetBucketVersioning",),
    "aws:kms/key:Key": ("kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"),
    "aws:kms/alias:Alias": ("kms:ListAliases",),
}


@functools.cache
def project_document(stack: str) -> dict[str, Any]:
    return synth(stack)


def declared(stack: str) -> list[dict[str, Any]]:
    return [r for r in project_document(stack)["resources"]
            if r["type"] not in IGNORED_TYPES and not r["type"].startswith("cross-account-s3:")]


def resource_arn(resource: dict[str, Any], account: str, region: str) -> str:
    """The ARN IAM evaluates the resource's calls against, from synth's placeholders (names as declared;
    `<logical name>-<generated>` for a generated one, e.g. the bucket data-<generated>)."""
    kind, inputs = resource["type"], resource["inputs"]
    name = inputs.get("name") or inputs.get("bucket") or f"{resource['name']}-<generated>"
    if kind == "aws:iam/role:Role":
        return arns.role(account, name)
    if kind == "aws:iam/rolePolicy:RolePolicy":
        return arns.role(account, inputs["role"])
    if kind == "aws:iam/group:Group":
        return arns.group(account, name)
    if kind in ("aws:iam/groupPolicy:GroupPolicy", "aws:iam/groupMembership:GroupMembership"):
        return arns.group(account, inputs["group"])
    if kind == "aws:iam/user:User":
        return arns.user(account, name)
    if kind == "aws:lambda/function:Function":
        return arns.lambda_function(region, account, name)
    if kind == "aws:cloudwatch/logGroup:LogGroup":
        return arns.log_group(region, account, name)
    if kind.startswith("aws:s3/bucket"):
        return arns.bucket(name)
    if kind == "aws:kms/key:Key":  # its ID is KMS's, known after creation
        return f"arn:aws:kms:{region}:{account}:key/<generated>"
    if kind == "aws:kms/alias:Alias":
        return f"arn:aws:kms:{region}:{account}:{name}"
    raise AssertionError(f"no ARN for {kind}")


def permits(document: dict[str, Any], action: str, resource: str) -> bool:
    """An Allow names the action and the resource (IAM's wildcards; actions case-insensitively) and no Deny does.
    Conditions are not evaluated here (the Deny on the CI roles and on sts:AssumeRole have none)."""
    def names(statement: dict[str, Any]) -> bool:
        return any(fnmatchcase(action.lower(), a.lower()) for a in as_list(statement["Action"])) and \
            any(fnmatchcase(resource, r) for r in as_list(statement["Resource"]))
    found = statements(document)
    return any(names(s) for s in found if s["Effect"] == "Allow") and \
        not any(names(s) for s in found if s["Effect"] == "Deny")


def missing(run: BootstrapRun, purpose: str, stack: str) -> list[str]:
    document, account, region = run.account.permissions(purpose), project_document(stack)["account"], \
        project_document(stack)["region"]
    gaps = []
    for resource in declared(stack):
        kind = resource["type"]
        table = DEPLOY_NEEDS if purpose == "deploy" else PREVIEW_NEEDS
        assert kind in table, f"{stack} declares {kind} ({resource['name']}), which {purpose} was never checked for"
        needs = list(table[kind])
        if purpose == "deploy":
            for key, actions in INPUT_NEEDS.get(kind, {}).items():
                if resource["inputs"].get(key):
                    needs.extend(actions)
        arn = resource_arn(resource, account, region)
        if kind == "aws:cloudwatch/logGroup:LogGroup":
            arn = f"{arn}:*"  # logs actions name the log group's ARN with its trailing :*
        gaps += [f"{action} on {arn} ({resource['name']})" for action in needs if not permits(document, action, arn)]
        if kind == "aws:kms/alias:Alias" and purpose == "deploy":  # the alias's key, too
            key = f"arn:aws:kms:{region}:{account}:key/<generated>"
            gaps += [f"{action} on {key} ({resource['name']})" for action in needs[:3]
                     if not permits(document, action, key)]
    return gaps


@pytest.mark.parametrize("stack", PROJECT_STACKS)
def test_the_deploy_role_may_manage_everything_the_project_stack_declares(runs, stack):
    assert not missing(runs[stack], "deploy", stack)


@pytest.mark.parametrize("stack", PROJECT_STACKS)
def test_the_preview_role_may_read_everything_the_project_stack_declares(runs, stack):
    assert not missing(runs[stack], "preview", stack)


def test_prod_declares_one_tagged_role_per_grant_under_the_prefix():
    roles = [r for r in declared("prod") if r["type"] == "aws:iam/role:Role"]
    assert {r["inputs"]["name"] for r in roles} == {"cross-account-s3-dev-writer", "cross-account-s3-analytics-reader"}
    assert all(r["inputs"]["tags"]["grant"] for r in roles)


def functions(stack: str) -> list[dict[str, Any]]:
    """The stack's function: one, or none for a consumer with `workload: none`."""
    return [r for r in declared(stack) if r["type"] == "aws:lambda/function:Function"]


@pytest.mark.parametrize("stack", CONSUMER_STACKS)
def test_the_deploy_role_may_pass_the_execution_role_the_function_names(runs, stack):
    (passing,) = [s for s in allows(runs[stack].account.permissions("deploy")) if s["Action"] == "iam:PassRole"]
    for function in functions(stack):
        assert passing["Resource"] == function["inputs"]["role"]


@pytest.mark.parametrize("stack", CONSUMER_STACKS)
def test_the_integration_role_may_invoke_the_function_the_project_stack_declares(runs, stack):
    for function in functions(stack):
        arn = resource_arn(function, ACCOUNTS[stack], project_document(stack)["region"])
        assert permits(runs[stack].account.permissions("integration"), "lambda:InvokeFunction", arn)


def test_dev_and_analytics_each_declare_their_function():
    assert [f["inputs"]["name"] for f in functions("dev")] == ["cross-account-s3-writer"]
    assert [f["inputs"]["name"] for f in functions("analytics")] == ["cross-account-s3-reader"]


# --- exports ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_exports_one_role_per_workflow_under_the_ci_path(runs, stack):
    for purpose in PURPOSES:
        assert runs[stack].export(f"{purpose}RoleArn") == \
            f"arn:aws:iam::{ACCOUNTS[stack]}:role/github-actions/github-cross-account-s3-{purpose}"
    assert runs[stack].export("githubVariables") == {
        f"{variable_prefix(stack)}_{purpose.upper()}_ROLE_ARN": runs[stack].export(f"{purpose}RoleArn")
        for purpose in PURPOSES
    }


def test_the_exported_variables_are_the_ones_the_workflows_read(runs):
    read = set()
    for workflow in WORKFLOWS.glob("*.yml"):
        read |= set(re.findall(r"vars\.([A-Z0-9_]+_ROLE_ARN)", workflow.read_text()))
    exported = {name for run in runs.values() for name in run.export("githubVariables")}
    assert read == exported
    assert {"ANALYTICS_PREVIEW_ROLE_ARN", "ANALYTICS_DEPLOY_ROLE_ARN", "ANALYTICS_INTEGRATION_ROLE_ARN"} <= read
