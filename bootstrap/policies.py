"""The CI roles' policy documents, as values: who (which GitHub workflow) may assume each role, and what it may do.

Pure like components/policies.py, whose Statement/PolicyDocument and ARN helpers these build on; this module only
adds what the project's own stacks never needed: a federated (OIDC) principal, GitHub's subject claims, and the
read/deploy/integration permission sets, each scoped to the names and ARNs of this project's resources.

Two guard rails are part of every deploy policy, because a role that may write IAM roles could otherwise raise
its own privileges: an explicit Deny of any IAM change to the CI roles themselves (kept under their own IAM path,
outside the project's name pattern), and an explicit Deny of sts:AssumeRole (a role it creates and makes trust
it could otherwise be assumed through that role's trust policy alone, which inside one account needs no Allow).
"""

from __future__ import annotations

from dataclasses import dataclass

from components import arns
from components.policies import Effect, PolicyDocument, FederatedPrincipal, Statement

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
STS_AUDIENCE = "sts.amazonaws.com"
# Where Pulumi's self-managed (DIY) backend keeps state, locks, history and backups inside its bucket.
STATE_PREFIX = ".pulumi/"


def oidc_provider_arn(account_id: str) -> str:
    return arns.oidc_provider(account_id, GITHUB_OIDC_HOST)


# ---------------------------------------------------------------------------------------------------------
# Trust: GitHub's OIDC token, for one repository and one kind of run.


def pull_request_subject(repo: str) -> str:
    """The `sub` claim of a job triggered by pull_request (any branch of `repo`, no environment)."""
    return f"repo:{repo}:pull_request"


def environment_subject(repo: str, environment: str) -> str:
    """The `sub` claim of a job that runs in a GitHub environment; the environment decides branches and approvals."""
    return f"repo:{repo}:environment:{environment}"


def github_trust_policy(provider_arn: str, subject: str) -> PolicyDocument:
    """Only GitHub's OIDC tokens minted for STS, and only with exactly this subject (no wildcards)."""
    return PolicyDocument((
        Statement("GitHubActionsAssume", ("sts:AssumeRoleWithWebIdentity",), principal=FederatedPrincipal(provider_arn))
        .with_condition("StringEquals", f"{GITHUB_OIDC_HOST}:aud", STS_AUDIENCE)
        .with_condition("StringEquals", f"{GITHUB_OIDC_HOST}:sub", subject),
    ))


# ---------------------------------------------------------------------------------------------------------
# What the project's stacks own in each account, as ARNs and ARN patterns.


@dataclass(frozen=True)
class ProdScope:
    """The prod stack's resources: one IAM role per grant, each named `<prefix>-<grant>` (so all under `<prefix>-*`,
    however many grants there are), and one bucket (a name, or a pattern like data-*). `key_prefix` is where the
    integration reader may read, list and delete: the prefix of the grant dev's writer uses."""

    account_id: str
    name_prefix: str
    bucket: str
    key_prefix: str

    @property
    def roles(self) -> str:
        return arns.role(self.account_id, f"{self.name_prefix}-*")

    @property
    def bucket_arn(self) -> str:
        return arns.bucket(self.bucket)

    @property
    def objects_arn(self) -> str:
        return arns.objects(self.bucket, self.key_prefix)

    @property
    def keys(self) -> str:
        """The account's KMS keys: a key's ID is KMS's own, so the bucket's key cannot be named in advance."""
        return f"arn:aws:kms:*:{self.account_id}:key/*"

    @property
    def aliases(self) -> str:
        return f"arn:aws:kms:*:{self.account_id}:alias/{self.name_prefix}-*"


@dataclass(frozen=True)
class ConsumerScope:
    """A consumer stack's resources (dev, analytics, ...): IAM roles and groups named `<prefix>-*`, named users, one
    function (the writer or the reader), its log group."""

    account_id: str
    region: str
    name_prefix: str
    function_name: str
    execution_role_name: str
    user_names: tuple[str, ...] = ()

    @property
    def roles(self) -> str:
        return arns.role(self.account_id, f"{self.name_prefix}-*")

    @property
    def groups(self) -> str:
        return arns.group(self.account_id, f"{self.name_prefix}-*")

    @property
    def users(self) -> tuple[str, ...]:
        return tuple(arns.user(self.account_id, name) for name in self.user_names)

    @property
    def execution_role_arn(self) -> str:
        return arns.role(self.account_id, self.execution_role_name)

    @property
    def function_arn(self) -> str:
        return arns.lambda_function(self.region, self.account_id, self.function_name)

    @property
    def log_group_arn(self) -> str:
        # The name GrantFunction gives the function's log group.
        return arns.log_group(self.region, self.account_id, f"/aws/lambda/{self.function_name}")

    @property
    def all_log_groups(self) -> str:
        return arns.log_group(self.region, self.account_id, "*")


@dataclass(frozen=True)
class StateBackend:
    """A self-managed Pulumi backend (s3://bucket) and, optionally, the KMS key of an awskms:// secrets provider."""

    bucket: str
    kms_key_arn: str | None = None

    def statements(self, *, write: bool) -> tuple[Statement, ...]:
        object_actions = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject") if write else ("s3:GetObject",)
        statements = [
            Statement("StateObjects", object_actions, resources=(arns.objects(self.bucket, STATE_PREFIX),)),
            Statement("StateList", ("s3:ListBucket",), resources=(arns.bucket(self.bucket),))
            .with_condition("StringLike", "s3:prefix", (f"{STATE_PREFIX}*",)),
        ]
        if self.kms_key_arn:
            kms_actions = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey") if write else ("kms:Decrypt",)
            statements.append(Statement("StateSecrets", kms_actions, resources=(self.kms_key_arn,)))
        return tuple(statements)


def _with_state(statements: list[Statement], state: StateBackend | None, *, write: bool) -> PolicyDocument:
    if state is not None:
        statements.extend(state.statements(write=write))
    return PolicyDocument(tuple(statements))


# ---------------------------------------------------------------------------------------------------------
# Read-only actions, shared by the preview and deploy roles.

ROLE_READ = ("iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
             "iam:ListRoleTags", "iam:ListInstanceProfilesForRole")
GROUP_READ = ("iam:GetGroup", "iam:GetGroupPolicy", "iam:ListGroupPolicies", "iam:ListAttachedGroupPolicies")
USER_READ = ("iam:GetUser", "iam:ListUserTags", "iam:ListGroupsForUser", "iam:ListUserPolicies",
             "iam:ListAttachedUserPolicies")
# The bucket's KMS key (encryption: kms) and its alias, as `pulumi preview --refresh` reads them.
KEY_READ = ("kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags")
BUCKET_READ = (
    "s3:GetBucket*",  # GetBucketPolicy, -Versioning, -Tagging, -Acl, -OwnershipControls, -PublicAccessBlock, ...
    "s3:GetEncryptionConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:GetReplicationConfiguration",
    "s3:GetAccelerateConfiguration",
)
FUNCTION_READ = (
    "lambda:GetFunction*",
    "lambda:GetRuntimeManagementConfig",
    "lambda:GetPolicy",
    "lambda:ListTags",
    "lambda:ListVersionsByFunction",
)
LOG_GROUP_READ = ("logs:ListTagsForResource", "logs:ListTagsLogGroup")


def _guards(account_id: str, ci_role_path: str) -> list[Statement]:
    return [
        Statement(
            "DenyChangesToCiRoles", ("iam:*",), effect=Effect.DENY,
            resources=(arns.role(account_id, "*", ci_role_path), oidc_provider_arn(account_id)),
        ),
        Statement("DenyAssumingRoles", ("sts:AssumeRole",), effect=Effect.DENY, resources=("*",)),
    ]


# ---------------------------------------------------------------------------------------------------------
# prod


def prod_preview_policy(scope: ProdScope, state: StateBackend | None = None) -> PolicyDocument:
    """`pulumi preview` of prod: read the grants' roles and the bucket's configuration; never objects."""
    return _with_state([
        Statement("ReadProjectRoles", ROLE_READ, resources=(scope.roles,)),
        Statement("ReadBucketConfiguration", BUCKET_READ, resources=(scope.bucket_arn,)),
        Statement("ReadBucketKey", KEY_READ, resources=(scope.keys,)),
        Statement("ListKeyAliases", ("kms:ListAliases",), resources=("*",)),  # not resource-scoped
    ], state, write=False)


def prod_deploy_policy(scope: ProdScope, ci_role_path: str, state: StateBackend | None = None) -> PolicyDocument:
    """`pulumi up` of prod: the grants' roles (tagged, each with its inline policy), the bucket and its settings.
    No object access."""
    return _with_state([
        Statement("ManageProjectRoles", (
            "iam:CreateRole", "iam:DeleteRole", "iam:UpdateRole", "iam:UpdateRoleDescription",
            "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
            *ROLE_READ,
            # Attaching a boundary, never removing one (that needs an administrator).
            "iam:PutRolePermissionsBoundary",
        ), resources=(scope.roles,)),
        Statement("ManageBucket", (
            "s3:CreateBucket", "s3:DeleteBucket",
            "s3:ListBucket",  # HeadBucket, which every read of the bucket starts with
            *BUCKET_READ,
            "s3:PutBucketTagging", "s3:PutBucketPublicAccessBlock", "s3:PutBucketOwnershipControls",
            "s3:PutEncryptionConfiguration", "s3:PutBucketVersioning", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy",
        ), resources=(scope.bucket_arn,)),
        # The bucket's KMS key: created (kms:CreateKey names no resource), administered through its key policy's
        # KeyAdministration statement, which delegates exactly these to the account's IAM; never used.
        Statement("CreateBucketKey", ("kms:CreateKey",), resources=("*",)),
        Statement("ManageBucketKey", (
            *KEY_READ, "kms:PutKeyPolicy", "kms:EnableKeyRotation", "kms:UpdateKeyDescription", "kms:TagResource",
            "kms:UntagResource", "kms:ScheduleKeyDeletion",
        ), resources=(scope.keys,)),
        # An alias action is authorized on the alias and on its key (alias-access.html).
        Statement("ManageBucketKeyAlias", ("kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"),
                  resources=(scope.aliases, scope.keys)),
        Statement("ListKeyAliases", ("kms:ListAliases",), resources=("*",)),
        *_guards(scope.account_id, ci_role_path),
    ], state, write=True)


def integration_reader_policy(scope: ProdScope, state: StateBackend | None = None) -> PolicyDocument:
    """The live tests in prod: check, list and clean up what dev's writer wrote (and a reader reads), under the
    prefix and nowhere else."""
    return _with_state([
        # The bucket is versioned: removing what a test wrote means deleting that version, not adding a marker.
        Statement("ReadAndDeleteObjectsUnderPrefix",
                  ("s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObject", "s3:DeleteObjectVersion"),
                  resources=(scope.objects_arn,)),
        Statement("ListObjectsUnderPrefix", ("s3:ListBucket", "s3:ListBucketVersions"), resources=(scope.bucket_arn,))
        .with_condition("StringLike", "s3:prefix", (f"{scope.key_prefix}*",)),
        # With encryption: kms, reading what the writer wrote decrypts through S3; the key policy must name this
        # role too (prod's kmsKeyUsers: docs/ci.md).
        Statement("DecryptObjectsThroughS3", ("kms:Decrypt",), resources=(scope.keys,))
        .with_condition("StringLike", "kms:ViaService", ("s3.*.amazonaws.com",)),
    ], state, write=False)


# ---------------------------------------------------------------------------------------------------------
# consumers (dev, analytics, ...)


def consumer_preview_policy(scope: ConsumerScope, state: StateBackend | None = None) -> PolicyDocument:
    """`pulumi preview` of a consumer: read the roles, group, users, function and log group."""
    return _with_state([
        Statement("ReadProjectRoles", ROLE_READ, resources=(scope.roles,)),
        Statement("ReadProjectGroups", GROUP_READ, resources=(scope.groups,)),
        *([Statement("ReadProjectUsers", USER_READ, resources=scope.users)] if scope.users else []),
        Statement("ReadFunction", FUNCTION_READ, resources=(scope.function_arn, f"{scope.function_arn}:*")),
        Statement("ReadLogGroup", LOG_GROUP_READ, resources=(scope.log_group_arn, f"{scope.log_group_arn}:*")),
        # Listing, so not narrower than the account's log groups in the region (AWS's Lambda guide scopes it so).
        Statement("DescribeLogGroups", ("logs:DescribeLogGroups",), resources=(scope.all_log_groups,)),
    ], state, write=False)


def consumer_deploy_policy(scope: ConsumerScope, ci_role_path: str,
                           state: StateBackend | None = None) -> PolicyDocument:
    """`pulumi up` of a consumer: the execution role, the function and its log group, the group and its users."""
    statements = [
        Statement("ManageProjectRoles", (
            "iam:CreateRole", "iam:DeleteRole", "iam:UpdateRole", "iam:UpdateRoleDescription",
            "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
            *ROLE_READ,
        ), resources=(scope.roles,)),
        Statement("PassExecutionRoleToLambda", ("iam:PassRole",), resources=(scope.execution_role_arn,))
        .with_condition("StringEquals", "iam:PassedToService", "lambda.amazonaws.com"),
        Statement("ManageFunction", (
            "lambda:CreateFunction", "lambda:DeleteFunction", "lambda:UpdateFunctionCode",
            "lambda:UpdateFunctionConfiguration", "lambda:TagResource", "lambda:UntagResource", *FUNCTION_READ,
        ), resources=(scope.function_arn, f"{scope.function_arn}:*")),
        Statement("ManageLogGroup", (
            "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy",
            "logs:TagResource", "logs:UntagResource", "logs:TagLogGroup", "logs:UntagLogGroup", *LOG_GROUP_READ,
        ), resources=(scope.log_group_arn, f"{scope.log_group_arn}:*")),
        # Listing, so not narrower than the account's log groups in the region (AWS's Lambda guide scopes it so).
        Statement("DescribeLogGroups", ("logs:DescribeLogGroups",), resources=(scope.all_log_groups,)),
        Statement("ManageProjectGroups", (
            "iam:CreateGroup", "iam:DeleteGroup", "iam:PutGroupPolicy", "iam:DeleteGroupPolicy",
            "iam:AddUserToGroup", "iam:RemoveUserFromGroup", *GROUP_READ,
        ), resources=(scope.groups,)),
    ]
    if scope.users:
        # Users without credentials: no access keys, passwords or MFA devices are created here.
        statements.append(Statement("ManageProjectUsers", (
            "iam:CreateUser", "iam:DeleteUser", "iam:TagUser", "iam:UntagUser", *USER_READ,
        ), resources=scope.users))
    statements.extend(_guards(scope.account_id, ci_role_path))
    return _with_state(statements, state, write=True)


def integration_invoker_policy(scope: ConsumerScope) -> PolicyDocument:
    """The live tests in a consumer account: invoke its function (dev's writer, analytics' reader). Nothing else,
    not even reading its configuration.

    (The workflow reads the stacks' outputs with the prod reader's credentials, so no state access here.)
    """
    return PolicyDocument((
        Statement("InvokeFunction", ("lambda:InvokeFunction",), resources=(scope.function_arn,)),
    ))
