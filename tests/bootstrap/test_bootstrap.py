"""The bootstrap stacks, run from their committed stack files under Pulumi's mock runtime.

Who may assume each CI role (GitHub's OIDC token: audience, and a subject naming this repository and one kind of
run), what each may do (nothing outside the project's resources; no "*" or whole-service actions; PassRole only
to Lambda), and the exports the workflows read as repository variables.
"""

from __future__ import annotations

import json
import re
import warnings
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest

from bootstrap.policies import GITHUB_OIDC_HOST, GITHUB_OIDC_URL
from tests.bootstrap.conftest import ACCOUNTS, BootstrapRun, bootstrap_config, run_bootstrap

with warnings.catch_warnings():  # parliament opens its data files without closing them (ResourceWarning)
    warnings.simplefilter("ignore")
    import parliament

parliament.override_config(Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml")

STACKS = ("prod", "dev")
PURPOSES = ("preview", "deploy", "integration")
REPO = "OWNER/REPO"  # the committed placeholder
SUBJECTS = {
    ("prod", "preview"): f"repo:{REPO}:pull_request",
    ("dev", "preview"): f"repo:{REPO}:pull_request",
    ("prod", "deploy"): f"repo:{REPO}:environment:prod",
    ("dev", "deploy"): f"repo:{REPO}:environment:dev",
    ("prod", "integration"): f"repo:{REPO}:environment:integration",
    ("dev", "integration"): f"repo:{REPO}:environment:integration",
}
WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"


@pytest.fixture(scope="module")
def runs(prod_bootstrap: BootstrapRun, dev_bootstrap: BootstrapRun) -> dict[str, BootstrapRun]:
    return {"prod": prod_bootstrap, "dev": dev_bootstrap}


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
    assert statement["Resource"] == f"arn:aws:iam::{ACCOUNTS['dev']}:role/cross-account-s3-writer-lambda"
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}


@pytest.mark.parametrize("stack", STACKS)
def test_preview_may_only_read(runs, stack):
    for statement in allows(runs[stack].account.permissions("preview")):
        for action in as_list(statement["Action"]):
            verb = action.split(":")[1]
            assert verb.startswith(("Get", "List", "Describe")), action
    actions = {a for s in allows(runs[stack].account.permissions("preview")) for a in as_list(s["Action"])}
    assert not {"s3:GetObject", "s3:ListBucket"} & actions  # never the data, not even its keys


@pytest.mark.parametrize("stack", STACKS)
def test_deploy_writes_only_the_projects_resources(runs, stack):
    account = ACCOUNTS[stack]
    allowed = {
        "prod": [f"arn:aws:iam::{account}:role/cross-account-s3-*", "arn:aws:s3:::data-*"],
        "dev": [f"arn:aws:iam::{account}:role/cross-account-s3-*", f"arn:aws:iam::{account}:group/cross-account-s3-*",
                f"arn:aws:iam::{account}:user/dev-user",
                f"arn:aws:iam::{account}:role/cross-account-s3-writer-lambda",
                f"arn:aws:lambda:eu-west-1:{account}:function:cross-account-s3-writer",
                f"arn:aws:lambda:eu-west-1:{account}:function:cross-account-s3-writer:*",
                f"arn:aws:logs:eu-west-1:{account}:log-group:/aws/lambda/cross-account-s3-writer",
                f"arn:aws:logs:eu-west-1:{account}:log-group:/aws/lambda/cross-account-s3-writer:*",
                f"arn:aws:logs:eu-west-1:{account}:log-group:*"],
    }[stack]
    resources = {r for s in allows(runs[stack].account.permissions("deploy")) for r in as_list(s["Resource"])}
    assert resources <= set(allowed), resources - set(allowed)


@pytest.mark.parametrize("stack", STACKS)
def test_deploy_can_neither_change_the_ci_roles_nor_assume_a_role(runs, stack):
    permissions = runs[stack].account.permissions("deploy")
    ci_roles = [runs[stack].export(f"{p}RoleArn") for p in PURPOSES]
    for statement in allows(permissions):
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
    ]


def test_dev_integration_only_invokes_the_function(runs):
    assert statements(runs["dev"].account.permissions("integration")) == [
        {"Sid": "InvokeWriterFunction", "Effect": "Allow", "Action": "lambda:InvokeFunction",
         "Resource": f"arn:aws:lambda:eu-west-1:{ACCOUNTS['dev']}:function:cross-account-s3-writer"},
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


# --- exports ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_exports_one_role_per_workflow_under_the_ci_path(runs, stack):
    for purpose in PURPOSES:
        assert runs[stack].export(f"{purpose}RoleArn") == \
            f"arn:aws:iam::{ACCOUNTS[stack]}:role/github-actions/github-cross-account-s3-{purpose}"
    assert runs[stack].export("githubVariables") == {
        f"{stack.upper()}_{purpose.upper()}_ROLE_ARN": runs[stack].export(f"{purpose}RoleArn") for purpose in PURPOSES
    }


def test_the_exported_variables_are_the_ones_the_workflows_read(runs):
    read = set()
    for workflow in WORKFLOWS.glob("*.yml"):
        read |= set(re.findall(r"vars\.([A-Z_]+_ROLE_ARN)", workflow.read_text()))
    exported = set(runs["prod"].export("githubVariables")) | set(runs["dev"].export("githubVariables"))
    assert read == exported
