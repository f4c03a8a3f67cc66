"""The deploy driver: the real program under the mock runtime, its resources created in an emulated account.

Like `pulumi up` against one account: it diffs what the program declares against what the last deploy created
(kept in <state>/state/ORGANIZATION/PROJECT/STACK.json), creates, updates in place, replaces or deletes through
boto3 (the table in resources.py), stores the stack's outputs in <state>/stacks/ORGANIZATION/PROJECT/STACK.json,
and answers StackReferences and invokes from there and from the emulated cloud. Stacks are keyed by their full
name, as Pulumi's backends key them, so two projects' `dev` stacks never touch each other.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from botocore.exceptions import ClientError
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor, MockResourceArgs, _ensure_event_loop, _resolve_callbacks
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _sync_await

from localcloud.running import CloudFile
from localcloud.server import LocalCloud, LocalCloudError
from localcloud_pulumi.credentials import CredentialsError, Keys, caller_account, check_allowed, configured_keys
from localcloud_pulumi.providers import (
    ProviderSettingError,
    assume,
    check_explicit,
    check_guards,
    check_stack_config,
    explicit_assume_role,
    stack_assume_role,
)
from localcloud_pulumi.policy_document import UnsupportedPolicyDocument, policy_document
from localcloud_pulumi.program import (
    SECRET_SIG,
    SECRET_SIG_KEY,
    ProgramConfigError,
    StackOutput,
    project_name,
    region_or_partition,
    reveal,
    run_program,
    stack_account_id,
    stack_config,
)
from localcloud_pulumi.resources import RESOURCE_TYPES, SECRET_OUTPUTS, Account, ResourceType, is_missing, normalize

PROVIDER_TYPE = "pulumi:providers:aws"
STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"


class DeployError(Exception):
    """A deploy or destroy that cannot go on; the message says what to do."""


class MissingStack(DeployError):
    """A StackReference to a stack that has no outputs (never deployed, or destroyed)."""

    def __init__(self, name: str, reference: StackName, *, same_project: bool) -> None:
        where = "" if same_project else f" -C <the directory of project {reference.project}>"
        super().__init__(f"The stack reference '{name}' ({reference}) has no outputs: {reference} is not deployed "
                         f"(python -m localcloud deploy -s {reference.stack}{where})")
        self.reference = reference


@dataclass(frozen=True)
class Target:
    """How to reach the emulated cloud: its endpoint, its accounts (name -> ID) and each account's deployer keys
    (by account ID)."""

    endpoint_url: str
    ca_bundle: str
    accounts: Mapping[str, str]
    deployers: Mapping[str, Keys]

    @classmethod
    def of(cls, cloud: LocalCloud) -> Target:
        return cls.from_file(CloudFile.of(cloud))

    @classmethod
    def running(cls, state_dir: Path) -> Target:
        """The cloud that `up` or `serve` runs from another process, for this state directory."""
        try:
            return cls.from_file(CloudFile.read(state_dir))
        except LocalCloudError as error:
            raise DeployError(str(error)) from error

    @classmethod
    def from_file(cls, cloud: CloudFile) -> Target:
        return cls(cloud.endpoint, cloud.ca_bundle, cloud.accounts, {
            account: Keys(keys["aws_access_key_id"], keys["aws_secret_access_key"], source=f"the deployer of {account}")
            for account, keys in cloud.deployers.items()})

    @property
    def client_args(self) -> dict[str, Any]:
        return {"endpoint_url": self.endpoint_url, "verify": self.ca_bundle or None}

    def account_id(self, name_or_id: str) -> str:
        """An account of the cloud, named as `up --accounts` named it, or by its ID."""
        if name_or_id in self.accounts:
            return self.accounts[name_or_id]
        if name_or_id in self.deployers:
            return name_or_id
        raise DeployError(f"localcloud has no account {name_or_id!r}; its accounts are {self._known()}")

    def _known(self) -> str:
        return ", ".join(f"{name} ({id_})" for name, id_ in self.accounts.items())

    def _deployer(self, stack: str, account_id: str) -> Keys:
        """The deployer keys of an account the stack names, which must be one of the cloud's."""
        if account_id not in self.deployers:
            raise DeployError(f"stack {stack} deploys into account {account_id} (its first aws:allowedAccountIds), "
                              f"which this localcloud does not have; its accounts are {self._known()}")
        return self.deployers[account_id]

    def stack_account(self, stack: str, config: Mapping[str, str], state_dir: Path, *,
                      environ: Mapping[str, str], account: str | None) -> Account:
        """Where a stack deploys, and as whom: see localcloud_pulumi.credentials."""
        region = config.get("aws:region") or "us-east-1"
        try:
            check_stack_config(config)
            keys = configured_keys(config, environ, state_dir, self.client_args)
            if keys is not None:
                account_id = caller_account(keys, region, self.client_args)
            else:
                account_id = self.account_id(account) if account else _first_allowed(stack, config)
                keys = self._deployer(stack, account_id)
            found = Account(keys.session(region), account_id, region, self.client_args)
            settings = stack_assume_role(config)
            if settings:
                found = assume(found, "default", settings, region)
            check_allowed(found.account_id, config, keys.source + (f" assuming {settings.get('roleArn')}"
                                                                    if settings else ""))
        except (CredentialsError, ProviderSettingError) as error:
            raise DeployError(f"stack {stack}: {error}") from error
        return found


def _first_allowed(stack: str, config: Mapping[str, str]) -> str:
    try:
        return stack_account_id(stack, config)
    except ProgramConfigError as error:
        raise CredentialsError("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or AWS_PROFILE (one "
                               "of the state directory's profiles), pass --account, or list the account in "
                               "aws:allowedAccountIds") from error


@dataclass
class Created:
    type: str
    name: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    provider: str = ""

    @property
    def key(self) -> str:
        return f"{self.type}::{self.name}"


DEFAULT_ORGANIZATION = "organization"  # Pulumi's organization for a stack name without one (self-managed backends)


@dataclass(frozen=True)
class StackName:
    """``organization/project/stack``, as a StackReference names a stack."""

    organization: str
    project: str
    stack: str

    @classmethod
    def parse(cls, name: str, project: str) -> StackName:
        """``stack``, ``project/stack`` or ``organization/project/stack``; missing parts are this project's and
        Pulumi's default organization."""
        parts = name.split("/")
        if len(parts) > 3 or not all(parts):
            raise DeployError(f"The stack name {name!r} is not [organization/][project/]stack")
        *prefix, stack = parts
        return cls(prefix[-2] if len(prefix) == 2 else DEFAULT_ORGANIZATION, prefix[-1] if prefix else project, stack)

    def __str__(self) -> str:
        return f"{self.organization}/{self.project}/{self.stack}"


def state_paths(state_dir: Path, name: StackName) -> tuple[Path, Path]:
    relative = Path(name.organization) / name.project / f"{name.stack}.json"
    return state_dir / "state" / relative, state_dir / "stacks" / relative


def _stored_outputs(old: Created, inputs: dict[str, Any]) -> dict[str, Any]:
    """A resource's stored outputs, with its inputs as the program gives them now: state keeps inputs normalized
    (a Lambda's code as the digest of its zip), and the SDK expects each input back as its own type."""
    return {**old.outputs, **inputs}


def load_outputs(state_dir: Path, name: StackName) -> dict[str, Any] | None:
    path = state_paths(state_dir, name)[1]
    return json.loads(path.read_text()) if path.exists() else None


def load_resources(state_dir: Path, name: StackName) -> list[Created]:
    """What the stack's last deploy left in the cloud (providers included), oldest first; [] if nothing."""
    return _load_state(state_paths(state_dir, name)[0])


class DeployMocks(pulumi.runtime.Mocks):
    """Answers the program's resource registrations and invokes from the emulated cloud."""

    def __init__(self, target: Target, default: Account, previous: list[Created], state_dir: Path,
                 *, project: str, preview: bool = False):
        self.preview = preview  # check everything, create nothing (like `pulumi preview`)
        self.target = target
        self.default = default
        self.previous = {c.key: c for c in previous}
        self.state_dir = state_dir
        self.project = project  # a StackReference without a project names one of this project's stacks
        self.created: list[Created] = []
        self.providers: dict[str, Account] = {}
        self.changes: list[str] = []
        self.failure: Exception | None = None
        self.lock = threading.Lock()  # the SDK registers resources from a thread pool

    # --- resources ------------------------------------------------------------------------------------------

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        inputs = reveal(dict(args.inputs))
        if args.custom is False:
            return f"{args.name}", inputs  # a component: nothing in the cloud
        with self.lock:
            try:
                if args.typ == STACK_REFERENCE_TYPE:
                    return self._stack_reference(inputs["name"])
                if args.custom is None:  # the SDK reads (Resource.get) with custom unset
                    raise DeployError(f"localcloud cannot read existing resources: {args.typ} '{args.name}'")
                if args.typ == PROVIDER_TYPE:
                    return self._provider(args.name, inputs)
                return self._apply(args.typ, args.name, inputs, args.provider or "")
            except Exception as error:
                # The SDK may surface a later symptom (an Output of the failed resource); keep the cause.
                self.failure = self.failure or error
                raise

    def _apply(self, typ: str, name: str, inputs: dict[str, Any], provider_ref: str) -> tuple[str, dict]:
        kind = RESOURCE_TYPES.get(typ)
        if kind is None:
            raise DeployError(f"localcloud cannot deploy {typ} (resource '{name}'): it supports "
                              + ", ".join(sorted(RESOURCE_TYPES)))
        unsupported = kind.unsupported(inputs)
        if unsupported:
            raise DeployError(f"{typ} '{name}': input {', '.join(unsupported)} is not supported by localcloud "
                              f"(it applies {', '.join(sorted(kind.inputs))}); nothing was deployed for it")
        problems = kind.problems(inputs)
        if problems:
            raise DeployError(f"{typ} '{name}': {'; '.join(problems)}; nothing was deployed for it")
        account = self._account_for(provider_ref)
        try:
            stored = normalize(inputs)
        except (TypeError, ValueError, OSError) as error:  # Lambda code or an asset that cannot be read
            raise DeployError(f"{typ} '{name}': {error}") from error
        old = self.previous.pop(f"{typ}::{name}", None)
        step = _step(kind, old, stored)
        if step:
            self.changes.append(f"{step} {typ} {name}")
        if self.preview:
            # Unknown until created: the SDK treats outputs missing in a preview as unknown.
            return (old.id, _stored_outputs(old, inputs)) if old else ("", dict(inputs))
        try:
            if old is None:
                id_, outputs = kind.create(account, name, inputs)
            elif not step:
                id_, outputs = old.id, _stored_outputs(old, inputs)
            elif step == REPLACE:
                kind.delete(account, old.id, old.inputs)
                id_, outputs = kind.create(account, name, inputs)
            else:
                # Outputs an update does not recompute stay as stored (an access key's secret is never readable again).
                assert kind.update is not None  # _step chose UPDATE
                outputs = {**old.outputs, **kind.update(account, old.id, old.inputs, inputs)}
                id_ = old.id
        except ClientError as error:
            verb = {CREATE: "creating", UPDATE: "updating", REPLACE: "replacing"}.get(step, "reading")
            raise DeployError(f"{verb} {typ} '{name}' failed: {error}") from error
        except (TypeError, ValueError, KeyError, OSError) as error:
            # The resource and the cause, not a traceback; what was created so far stays in the state.
            raise DeployError(f"deploying {typ} '{name}' failed: {error!r}") from error
        self.created.append(Created(typ, name, id_, stored, normalize(outputs), provider_ref))
        return id_, outputs

    def _stack_reference(self, name: str) -> tuple[str, dict]:
        reference = StackName.parse(name, self.project)
        outputs = load_outputs(self.state_dir, reference)
        if outputs is None:
            raise MissingStack(name, reference, same_project=reference.project == self.project)
        return name, {"name": name, "outputs": outputs["outputs"], "secretOutputNames": outputs["secretOutputNames"]}

    def _provider(self, name: str, inputs: Mapping[str, Any]) -> tuple[str, dict]:
        """An explicit aws provider: its region, its assume_role into another role (even another account), and
        its account guards (localcloud_pulumi.providers)."""
        region = inputs.get("region") or self.default.region
        account = self.default.in_region(region)
        try:
            check_explicit(name, inputs)
            settings = explicit_assume_role(inputs)
            if settings and not self.preview:
                account = assume(account, name, settings, region)
            if not (settings and self.preview):  # a preview does not assume, so it cannot know the final account
                check_guards(name, account.account_id, inputs)
        except ProviderSettingError as error:
            raise DeployError(str(error)) from error
        provider_id = f"{name}-provider"
        self.providers[provider_id] = account
        self.previous.pop(f"{PROVIDER_TYPE}::{name}", None)
        self.created.append(Created(PROVIDER_TYPE, name, provider_id, normalize(dict(inputs)), {}))
        return provider_id, dict(inputs)

    def _account_for(self, provider_ref: str) -> Account:
        # A provider reference is "<urn>::<id>"; the default provider is not registered under mocks.
        provider_id = provider_ref.rsplit("::", 1)[-1] if provider_ref else ""
        return self.providers.get(provider_id, self.default)

    # --- invokes --------------------------------------------------------------------------------------------

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list]:
        account = self._account_for(args.provider or "")
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            identity = account.caller_identity()
            return {"accountId": identity["Account"], "arn": identity["Arn"], "userId": identity["UserId"],
                    "id": identity["Account"]}, []
        if args.token == "aws:iam/getPolicyDocument:getPolicyDocument":
            try:
                return policy_document(reveal(dict(args.args))), []
            except UnsupportedPolicyDocument as error:
                raise DeployError(str(error)) from error
        answer = region_or_partition(args.token, account.region)
        if answer is not None:
            return answer, []
        raise DeployError(f"localcloud cannot answer the invoke {args.token}; it answers getCallerIdentity, "
                          "getRegion, getPartition and iam.getPolicyDocument")


CREATE, UPDATE, REPLACE, DELETE = "+ create", "~ update", "+- replace", "- delete"


def _step(kind: ResourceType, old: Created | None, stored: Mapping[str, Any]) -> str:
    """What `pulumi up` does to a resource: create, update in place, replace, or nothing (""). An input unset and
    the same input set to the provider's default are the same (ResourceType.defaults)."""
    if old is None:
        return CREATE
    before, after = kind.effective(old.inputs), kind.effective(stored)
    if before == after:
        return ""
    if kind.update is None or any(before.get(k) != after.get(k) for k in kind.replace_on):
        return REPLACE
    return UPDATE


def deploy(stack: str, target: Target, state_dir: Path, *, project_dir: Path,
           config: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None,
           account: str | None = None) -> tuple[dict[str, StackOutput], list[str]]:
    """`pulumi up` for one stack: returns its outputs and the changes made. ``environ`` (none by default) and
    ``account``: whose credentials, see Target.stack_account."""
    config = dict(stack_config(stack, project_dir) if config is None else config)
    name = StackName(DEFAULT_ORGANIZATION, project_name(project_dir), stack)
    state_file, outputs_file = state_paths(state_dir, name)
    previous = _load_state(state_file)
    default = target.stack_account(stack, config, state_dir, environ=environ or {}, account=account)
    # A preview first, as `pulumi up` does: bad config, a missing stack reference or an unsupported
    # resource type fails here, before anything is written.
    _preview(stack, target, default, previous, state_dir, project_dir, name, config)
    mocks = DeployMocks(target, default, previous, state_dir, project=name.project)
    try:
        exports = _run(stack, mocks, config, project_dir)
        # What the program no longer declares is deleted, newest first.
        for gone in reversed([c for c in previous if c.key in mocks.previous]):
            _delete(mocks, gone)
            mocks.previous.pop(gone.key)
            mocks.changes.append(f"{DELETE} {gone.type} {gone.name}")
    finally:
        # Whatever happened, remember every resource that exists, so nothing is orphaned.
        untouched = [c for c in previous if c.key in mocks.previous]
        _save_state(state_file, untouched + mocks.created)
    outputs_file.parent.mkdir(parents=True, exist_ok=True)
    outputs_file.write_text(json.dumps({
        "outputs": {name: out.value for name, out in exports.items()},
        "secretOutputNames": sorted(name for name, out in exports.items() if out.secret),
    }, indent=2))
    return exports, mocks.changes


def preview(stack: str, target: Target, state_dir: Path, *, project_dir: Path,
            config: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None,
            account: str | None = None) -> list[str]:
    """`pulumi preview`: the changes a deploy would make, checked as a deploy checks them; nothing is written."""
    config = dict(stack_config(stack, project_dir) if config is None else config)
    name = StackName(DEFAULT_ORGANIZATION, project_name(project_dir), stack)
    previous = _load_state(state_paths(state_dir, name)[0])
    default = target.stack_account(stack, config, state_dir, environ=environ or {}, account=account)
    return _preview(stack, target, default, previous, state_dir, project_dir, name, config)


def _preview(stack: str, target: Target, default: Account, previous: list[Created], state_dir: Path,
             project_dir: Path, name: StackName, config: Mapping[str, str]) -> list[str]:
    mocks = DeployMocks(target, default, previous, state_dir, project=name.project, preview=True)
    _run(stack, mocks, config, project_dir, preview=True)
    gone = [c for c in previous if c.key in mocks.previous and c.type != PROVIDER_TYPE]
    return mocks.changes + [f"{DELETE} {c.type} {c.name}" for c in reversed(gone)]


class DeployMonitor(MockMonitor):
    """The SDK's mock monitor, registering resources as Pulumi's engine does for pulumi-aws:
    - no resource references: a resource given as an input arrives as its ID (``role=my_role`` would otherwise
      reach boto3 as the Role object);
    - secrets kept: an output is secret when the input of its name was, when the resource lists it in
      additional_secret_outputs, or when the provider marks it (resources.SECRET_OUTPUTS);
    - remote (multi-language) components refused by name: their provider plugin would build them."""

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method's name
        if request.type == "pulumi:pulumi:Stack":
            return super().RegisterResource(request)
        mocks = self.mocks
        assert isinstance(mocks, DeployMocks)
        if request.remote:
            error = DeployError(f"localcloud cannot deploy the remote (multi-language) component {request.type} "
                                f"'{request.name}': its provider plugin would build it, and localcloud runs none")
            mocks.failure = mocks.failure or error
            raise error
        urn = self.make_urn(request.parent, request.type, request.name)
        _ensure_event_loop()
        inputs = rpc.deserialize_properties(request.object)
        args = MockResourceArgs(typ=request.type, name=request.name, inputs=inputs, provider=request.provider,
                                resource_id=request.importId, custom=request.custom or False,
                                transforms=_resolve_callbacks(request.transforms))
        found_id, state = mocks.new_resource(args)
        id_ = found_id or ""  # DeployMocks always gives an ID ("" in a preview, where it is not known yet)
        secret = {name for name, value in inputs.items() if _is_secret(value)}
        secret |= set(request.additionalSecretOutputs) | SECRET_OUTPUTS.get(request.type, frozenset())
        state = {name: pulumi.Output.secret(value) if name in secret else value for name, value in state.items()}
        obj_proto = _sync_await(rpc.serialize_properties(state, {}))
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, id_, state)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=obj_proto)

    def SupportsFeature(self, request: Any) -> Any:  # noqa: N802 - the gRPC method's name
        if request.id == "resourceReferences":
            return type("SupportsFeatureResponse", (object,), {"hasSupport": False})
        return super().SupportsFeature(request)

    def GetDeploymentInfo(self, request: Any) -> Any:  # noqa: N802 - the gRPC method's name
        info = super().GetDeploymentInfo(request)
        features = [f for f in info.supportedFeatures if f != resource_pb2.RESOURCE_MONITOR_FEATURE_RESOURCE_REFERENCES]
        return resource_pb2.DeploymentInfo(supportedFeatures=features)


def _is_secret(value: Any) -> bool:
    """A value that is, or contains, a secret (the SDK's secret wrapper, as the program's inputs carry it)."""
    if isinstance(value, dict):
        return value.get(SECRET_SIG_KEY) == SECRET_SIG or any(_is_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_is_secret(v) for v in value)
    return False


def _run(stack: str, mocks: DeployMocks, config: Mapping[str, str], project_dir: Path,
         preview: bool = False) -> dict[str, StackOutput]:
    try:
        return run_program(stack, mocks, config=config, project_dir=project_dir, preview=preview,
                           monitor=DeployMonitor(mocks))
    except Exception as error:
        if mocks.failure is not None and mocks.failure is not error:
            raise mocks.failure from error
        raise


def destroy(stack: str, target: Target, state_dir: Path, *, project_dir: Path,
            config: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None,
            account: str | None = None) -> list[str]:
    """`pulumi destroy`: deletes the stack's resources, newest first, and forgets its outputs."""
    config = dict(stack_config(stack, project_dir) if config is None else config)
    name = StackName(DEFAULT_ORGANIZATION, project_name(project_dir), stack)
    state_file, outputs_file = state_paths(state_dir, name)
    resources = _load_state(state_file)
    default = target.stack_account(stack, config, state_dir, environ=environ or {}, account=account)
    mocks = DeployMocks(target, default, [], state_dir, project=name.project)
    for provider in (r for r in resources if r.type == PROVIDER_TYPE):
        mocks._provider(provider.name, provider.inputs)
    changes = []
    try:
        while resources:
            _delete(mocks, resources[-1])
            gone = resources.pop()
            changes.append(f"{DELETE} {gone.type} {gone.name}")
    finally:
        _save_state(state_file, resources)
    outputs_file.unlink(missing_ok=True)
    if not resources:
        state_file.unlink(missing_ok=True)
    return changes


def _delete(mocks: DeployMocks, resource: Created) -> None:
    if resource.type == PROVIDER_TYPE:
        return  # a provider is configuration, nothing in the cloud
    account = mocks._account_for(resource.provider)
    try:
        RESOURCE_TYPES[resource.type].delete(account, resource.id, resource.outputs)
    except ClientError as error:
        if not is_missing(error):
            raise DeployError(f"deleting {resource.type} '{resource.name}' failed: {error}") from error


def _load_state(path: Path) -> list[Created]:
    if not path.exists():
        return []
    return [Created(**item) for item in json.loads(path.read_text())["resources"]]


def _save_state(path: Path, resources: list[Created]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"resources": [r.__dict__ for r in resources]}, indent=2, default=str))
