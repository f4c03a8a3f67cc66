"""The bootstrap stacks' configuration: read once, validated as a whole, typed (as components/settings.py does).

``parse_prod`` and ``parse_consumer`` are pure: raw values as Pulumi hands them to a program (strings; lists and maps
as JSON text) in, frozen settings out, or a ``BootstrapConfigError`` listing every problem by key. ``load`` is the
thin Pulumi-facing wrapper. Stacks are named after the project stack of the account they bootstrap, as in the main
program: the stack named prod is the data account's, every other stack (dev, analytics, ...) a consumer account's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from components.settings import (
    ACCOUNT_ID,
    BUCKET_NAME,
    FUNCTION_NAME,
    IAM_NAME,
    KEY_PREFIX,
    REGION,
    ConfigError,
    ConfigReader,
    ConsumerSettings,
    parse_json,
    raw_config,
)

PROJECT = "cross-account-s3-bootstrap"

GITHUB_REPO = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$", re.ASCII)
NAME_PREFIX = re.compile(r"^[\w+=,.@-]{1,40}$", re.ASCII)
# A non-root IAM path, so that the deploy roles' Deny on it never covers the project's roles (which live at /).
CI_ROLE_PATH = re.compile(r"^/([\w+=,.@-]+/)+$", re.ASCII)
ENVIRONMENT = re.compile(r"^[A-Za-z0-9._-]{1,255}$", re.ASCII)
OIDC_PROVIDER_ARN = re.compile(
    r"^arn:aws[a-z-]*:iam::(\d{12}):oidc-provider/token\.actions\.githubusercontent\.com$", re.ASCII)
KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/[\w/+=,.@-]+$", re.ASCII)
BUCKET_PATTERN = re.compile(r"^[a-z0-9][a-z0-9.-]{0,61}\*?$", re.ASCII)
# A stack's repository variables are <STACK>_{PREVIEW,DEPLOY,INTEGRATION}_ROLE_ARN: GitHub allows [A-Za-z0-9_] in a
# variable's name, not a leading digit, and reserves the GITHUB_ prefix. Other characters of the stack's name
# (- and .) become _.
VARIABLE_NAME = re.compile(r"^(?!GITHUB_)[A-Z_][A-Z0-9_]*$", re.ASCII)


class BootstrapConfigError(ConfigError):
    """A bootstrap stack's configuration is invalid (reported like the main project's)."""


def variable_prefix(stack: str) -> str:
    """The prefix of a stack's repository variables: dev -> DEV (DEV_PREVIEW_ROLE_ARN), data-eu -> DATA_EU."""
    return re.sub(r"[^A-Za-z0-9]", "_", stack).upper()


@dataclass(frozen=True)
class CiSettings:
    """What every account's bootstrap stack shares."""

    stack: str
    account_id: str
    region: str
    github_repo: str
    name_prefix: str = "cross-account-s3"
    ci_role_path: str = "/github-actions/"
    deploy_environment: str = ""  # default: the stack name (prod, dev, analytics, ...)
    integration_environment: str = "integration"
    existing_oidc_provider_arn: str | None = None
    state_bucket: str | None = None
    state_kms_key_arn: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def ci_role_name(self, purpose: str) -> str:
        return f"github-{self.name_prefix}-{purpose}"

    @property
    def variable_prefix(self) -> str:
        return variable_prefix(self.stack)

    def variable(self, purpose: str) -> str:
        """The repository variable a workflow reads this stack's role from, e.g. ANALYTICS_DEPLOY_ROLE_ARN."""
        return f"{self.variable_prefix}_{purpose.upper()}_ROLE_ARN"


@dataclass(frozen=True)
class ProdBootstrap:
    """The data account. Its deploy and preview roles cover every grant's role (all named <namePrefix>-<grant>);
    its integration reader reads, lists and deletes under ``key_prefix``: where the live tests check what dev's
    writer wrote (the keyPrefix of dev's grant, tests/bootstrap checks it)."""

    ci: CiSettings
    bucket: str  # the bucket's name, or a pattern such as data-* while the name is generated
    key_prefix: str = "incoming/"


@dataclass(frozen=True)
class ConsumerBootstrap:
    """A consumer account (dev, analytics, ...): its function, the function's execution role, its group's users.

    The defaults are the main program's (components/settings.py ConsumerSettings), so a stack that leaves a name
    at its default in both stack files agrees."""

    ci: CiSettings
    function_name: str = ConsumerSettings.function_name
    execution_role_name: str = ConsumerSettings.execution_role_name
    user_names: tuple[str, ...] = ()


COMMON_KEYS = ("githubRepo", "namePrefix", "ciRolePath", "deployEnvironment", "integrationEnvironment",
               "existingOidcProviderArn", "stateBucket", "stateKmsKeyArn", "tags")
PROD_KEYS = COMMON_KEYS + ("bucketName", "bucketNamePattern", "keyPrefix")
CONSUMER_KEYS = COMMON_KEYS + ("functionName", "executionRoleName", "userNames")
CI_PURPOSES = ("preview", "deploy", "integration")


def _account(r: ConfigReader, allowed_account_ids: str | None) -> str:
    expected = 'exactly one 12-digit account ID, e.g. ["111111111111"]: the account this stack bootstraps'
    parsed = parse_json(allowed_account_ids) if allowed_account_ids else None
    if parsed is None:
        r.problems.append(f"aws:allowedAccountIds: required, {expected}")
        return ""
    if not (isinstance(parsed, list) and len(parsed) == 1 and isinstance(parsed[0], str)
            and ACCOUNT_ID.fullmatch(parsed[0])):
        r.fail("aws:allowedAccountIds", expected, allowed_account_ids)
        return ""
    return parsed[0]


def _common(r: ConfigReader, stack: str, region: str | None, allowed_account_ids: str | None) -> CiSettings:
    if not VARIABLE_NAME.fullmatch(f"{variable_prefix(stack)}_DEPLOY_ROLE_ARN"):
        r.problems.append(f"stack name: {stack!r} would name its repository variables "
                          f"{variable_prefix(stack)}_*_ROLE_ARN, which GitHub does not allow; name the stack with a "
                          "leading letter, not github")
    account_id = _account(r, allowed_account_ids)
    if not region:
        r.problems.append("aws:region: required, an AWS region such as eu-west-1")
    elif not REGION.fullmatch(region):
        r.fail("aws:region", "an AWS region such as eu-west-1", region)
    environment = "a GitHub environment name (1-255 of [A-Za-z0-9._-])"
    ci = CiSettings(
        stack=stack,
        account_id=account_id,
        region=region or "",
        github_repo=r.text("githubRepo", GITHUB_REPO, "the GitHub repository as OWNER/REPO", "", required=True)
        or "",
        name_prefix=r.text("namePrefix", NAME_PREFIX, "1-40 of [A-Za-z0-9+=,.@_-]", CiSettings.name_prefix)
        or CiSettings.name_prefix,
        ci_role_path=r.text("ciRolePath", CI_ROLE_PATH, "an IAM path other than /, such as /github-actions/",
                            CiSettings.ci_role_path) or CiSettings.ci_role_path,
        deploy_environment=r.text("deployEnvironment", ENVIRONMENT, environment, stack) or stack,
        integration_environment=r.text("integrationEnvironment", ENVIRONMENT, environment,
                                       CiSettings.integration_environment) or CiSettings.integration_environment,
        existing_oidc_provider_arn=r.text(
            "existingOidcProviderArn", OIDC_PROVIDER_ARN,
            "the ARN of this account's IAM OIDC provider for token.actions.githubusercontent.com"),
        state_bucket=r.text("stateBucket", BUCKET_NAME, "the bucket of a self-managed Pulumi backend (s3://BUCKET)"),
        state_kms_key_arn=r.text("stateKmsKeyArn", KMS_KEY_ARN, "a KMS key (or alias) ARN"),
        tags=r.tags(),
    )
    if ci.existing_oidc_provider_arn and account_id:
        provider = OIDC_PROVIDER_ARN.fullmatch(ci.existing_oidc_provider_arn)  # matched when it was read
        if provider is not None and provider.group(1) != account_id:
            r.fail("existingOidcProviderArn", f"a provider in account {account_id}", ci.existing_oidc_provider_arn)
    if ci.state_kms_key_arn and not ci.state_bucket:
        r.problems.append(f"{r.qualified('stateKmsKeyArn')}: only with {r.qualified('stateBucket')} "
                          "(the key encrypts a self-managed backend's secrets)")
    # The deploy roles may write IAM roles named <prefix>-*; the CI roles must never be among them.
    if any(ci.ci_role_name(p).startswith(f"{ci.name_prefix}-") for p in CI_PURPOSES):
        r.fail("namePrefix", f"a prefix the CI role names ({ci.ci_role_name('deploy')}) do not start with",
               ci.name_prefix)
    return ci


def parse_prod(raw: Mapping[str, str | None], region: str | None, allowed_account_ids: str | None,
               stack: str = "prod") -> ProdBootstrap:
    r = ConfigReader(raw, PROJECT)
    r.unknown(PROD_KEYS)
    ci = _common(r, stack, region, allowed_account_ids)
    name = r.text("bucketName", BUCKET_NAME, "an S3 bucket name: the prod stack's cross-account-s3:bucketName")
    pattern = r.text("bucketNamePattern", BUCKET_PATTERN,
                     "a bucket name with an optional trailing *, e.g. data-* (the prefix of generated names)")
    if name and pattern:
        r.problems.append(f"{r.qualified('bucketNamePattern')}: set either it or {r.qualified('bucketName')}, not both")
    settings = ProdBootstrap(
        ci=ci,
        bucket=name or pattern or "data-*",
        key_prefix=r.text("keyPrefix", KEY_PREFIX, "the keyPrefix of the grant dev's writer uses, e.g. incoming/",
                          ProdBootstrap.key_prefix) or ProdBootstrap.key_prefix,
    )
    if r.problems:
        raise BootstrapConfigError(stack, r.problems)
    return settings


def parse_consumer(raw: Mapping[str, str | None], region: str | None, allowed_account_ids: str | None,
                   stack: str = "dev") -> ConsumerBootstrap:
    """A consumer account's bootstrap stack (any stack not named prod), e.g. dev or analytics."""
    r = ConfigReader(raw, PROJECT)
    r.unknown(CONSUMER_KEYS)
    ci = _common(r, stack, region, allowed_account_ids)
    settings = ConsumerBootstrap(
        ci=ci,
        function_name=r.text("functionName", FUNCTION_NAME, f"the {stack} stack's functionName",
                             ConsumerBootstrap.function_name) or ConsumerBootstrap.function_name,
        execution_role_name=r.text("executionRoleName", IAM_NAME, f"the {stack} stack's executionRoleName",
                                   ConsumerBootstrap.execution_role_name) or ConsumerBootstrap.execution_role_name,
        user_names=r.names("userNames", IAM_NAME, f"IAM user names: the {stack} stack's groupUsers"),
    )
    if not settings.execution_role_name.startswith(f"{ci.name_prefix}-"):
        r.fail("executionRoleName", f"a role name starting with {ci.name_prefix}- (namePrefix), which the deploy "
               "role may manage", settings.execution_role_name)
    if r.problems:
        raise BootstrapConfigError(stack, r.problems)
    return settings


def load() -> ProdBootstrap | ConsumerBootstrap:
    """The current stack's settings: the stack named prod bootstraps the data account, every other stack a consumer
    account (as components/settings.py reads the main program's stacks)."""
    stack = pulumi.get_stack()
    aws = pulumi.Config("aws")
    region, accounts = aws.get("region"), aws.get("allowedAccountIds")
    if stack == "prod":
        return parse_prod(raw_config(PROD_KEYS, PROJECT), region, accounts, stack)
    return parse_consumer(raw_config(CONSUMER_KEYS, PROJECT), region, accounts, stack)
