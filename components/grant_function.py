"""A consumer's Lambda: it assumes its grant's role in the data account and writes (the writer) or reads (the
reader) objects under the grant's prefix. Both handlers live in the one lambda_handler package."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import json

import pulumi
import pulumi_aws as aws

from components.policies import assume_role_policy, log_writing_policy, service_trust_policy
from components.settings import Workload

RUNTIME = "python3.12"
# The zip holds the lambda_handler package (so its modules import each other the same way in tests).
HANDLERS = {
    Workload.WRITER: "lambda_handler.handler.lambda_handler",
    Workload.READER: "lambda_handler.reader_handler.lambda_handler",
}
# The session tag a function puts on its grant's role session when the grant allows session tags (and this key):
# its own name, for conditions on aws:PrincipalTag/function and for CloudTrail.
FUNCTION_SESSION_TAG = "function"


@dataclass(frozen=True)
class GrantFunctionArgs:
    workload: Workload  # WRITER or READER
    function_name: str
    execution_role_name: str  # fixed, because prod's trust policy names this role before it exists
    code_dir: Path
    target_role_arn: pulumi.Input[str]
    target_bucket: pulumi.Input[str]
    target_key_prefix: pulumi.Input[str]
    target_region: pulumi.Input[str]
    account_id: pulumi.Input[str]  # the consumer account: the only one Lambda may assume the role on behalf of
    external_id: pulumi.Input[str | None] = None
    # The grant's session options (components/grant_reference.py): None, no session tags; [] any keys.
    session_tag_keys: pulumi.Input[list[str] | None] = None
    source_identity: pulumi.Input[str] = "none"  # none, allowed or required
    timeout_seconds: int = 30
    memory_mb: int = 256
    log_retention_days: int = 14
    max_body_bytes: int = 262144  # the writer's largest body
    max_object_bytes: int = 262144  # the reader's largest object
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.workload not in HANDLERS:
            raise ValueError(f"GrantFunction runs a writer or a reader, not {self.workload}")


def handler_archive(code_dir: Path) -> pulumi.AssetArchive:
    """The handler package's Python files under its own name, and nothing else: caches and editor files never
    change the deployed code hash."""
    files = sorted(p for p in code_dir.glob("*.py"))
    if not files:
        raise pulumi.RunError(f"No handler code found in {code_dir}")
    return pulumi.AssetArchive({f"{code_dir.name}/{p.name}": pulumi.FileAsset(str(p)) for p in files})


@dataclass(frozen=True)
class SessionOptions:
    """What the function brings to its grant's role session, as its grant allows."""

    tags: Mapping[str, str] = field(default_factory=dict)
    source_identity: str | None = None

    @classmethod
    def for_function(cls, function_name: str, tag_keys: list[str] | None, source_identity: str) -> SessionOptions:
        tagged = tag_keys is not None and (not tag_keys or FUNCTION_SESSION_TAG in tag_keys)
        return cls({FUNCTION_SESSION_TAG: function_name} if tagged else {},
                   function_name if source_identity != "none" else None)


def handler_environment(
    workload: Workload, role_arn: str, bucket: str, key_prefix: str, region: str, external_id: str | None,
    size_limit: int, session: SessionOptions = SessionOptions(),
) -> dict[str, str]:
    """The handler's whole configuration; names match lambda_handler/config.py."""
    env = {
        "TARGET_ROLE_ARN": role_arn,
        "TARGET_BUCKET": bucket,
        "TARGET_KEY_PREFIX": key_prefix,
        "TARGET_REGION": region,
        ("MAX_BODY_BYTES" if workload is Workload.WRITER else "MAX_OBJECT_BYTES"): str(size_limit),
    }
    if external_id:
        env["EXTERNAL_ID"] = external_id
    if session.tags:
        env["SESSION_TAGS"] = json.dumps(dict(session.tags), sort_keys=True)
    if session.source_identity:
        env["SOURCE_IDENTITY"] = session.source_identity
    return env


class GrantFunction(pulumi.ComponentResource):
    function_name: pulumi.Output[str]
    function_arn: pulumi.Output[str]
    execution_role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: GrantFunctionArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("cross-account-s3:compute:GrantFunction", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags) or None

        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/lambda/{args.function_name}",
            retention_in_days=args.log_retention_days,
            tags=tags,
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-execution-role",
            name=args.execution_role_name,
            description=f"Execution role of {args.function_name}: may assume its grant's role, nothing else",
            assume_role_policy=pulumi.Output.from_input(args.account_id).apply(
                lambda account: service_trust_policy("lambda.amazonaws.com", source_account=account).to_json()),
            tags=tags,
            opts=child,
        )
        session = pulumi.Output.all(args.session_tag_keys, args.source_identity).apply(
            lambda v: SessionOptions.for_function(args.function_name, v[0], v[1]))
        # With an external ID this policy is a secret as a whole in previews (the ID is one): the price of the
        # ID being required on both sides.
        assume = aws.iam.RolePolicy(
            f"{name}-assume-grant-role",
            name="assume-grant-role",
            role=role.id,
            policy=pulumi.Output.all(args.target_role_arn, args.external_id, session).apply(
                lambda v: assume_role_policy(v[0], external_id=v[1], tag_session=bool(v[2].tags),
                                             set_source_identity=v[2].source_identity is not None).to_json()
            ),
            opts=child,
        )
        logs = aws.iam.RolePolicy(
            f"{name}-write-logs",
            name="write-own-logs",
            role=role.id,
            policy=log_group.arn.apply(lambda arn: log_writing_policy(arn).to_json()),
            opts=child,
        )
        size_limit = args.max_body_bytes if args.workload is Workload.WRITER else args.max_object_bytes
        environment = pulumi.Output.all(
            args.target_role_arn, args.target_bucket, args.target_key_prefix, args.target_region, args.external_id,
            session,
        ).apply(lambda v: handler_environment(args.workload, v[0], v[1], v[2], v[3], v[4], size_limit, v[5]))
        function = aws.lambda_.Function(
            f"{name}-function",
            name=args.function_name,
            runtime=RUNTIME,
            handler=HANDLERS[args.workload],
            code=handler_archive(args.code_dir),
            role=role.arn,
            timeout=args.timeout_seconds,
            memory_size=args.memory_mb,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=environment),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=log_group.name),
            tags=tags,
            # The function must not run before it may assume the role and write its logs.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[assume, logs, log_group]),
        )

        self.function_name = function.name
        self.function_arn = function.arn
        self.execution_role_arn = role.arn
        self.register_outputs({
            "function_name": self.function_name,
            "function_arn": self.function_arn,
            "execution_role_arn": self.execution_role_arn,
        })
