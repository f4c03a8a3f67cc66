"""Synth: every resource a stack declares, as a normalized JSON document to commit and diff.

`synth(stack)` runs the project's real __main__.py for the stack under Pulumi's mock runtime (the same runner
as the unit tests and the deploy driver, localcloud_pulumi.program.run_program) against `RecordingMocks`, which record
what the program declares and answer what it reads back. The document is

    {"project", "stack", "account", "region",
     "resources": [{"type", "name", "parent", "inputs", "secretInputs"?}, ...],   # sorted by (type, name)
     "exports": {...}}

- `parent` is the parent's {"type", "name"}; null for resources declared at the top of the program (whose
  parent is the stack itself).
- `inputs` are the inputs exactly as the program declared them, normalized: keys sorted, whole floats as ints
  (the SDK hands every number over as a float), policy documents (JSON text under a key named `policy` or
  ending in `Policy`, at any depth) parsed into objects, and asset archives (Lambda code) as
  {"archive": {file name: "sha256:<hex of the file's bytes>"}}: names relative to the archive, never a path.
- Secrets never reach the document. An input the program marked secret is listed by its dotted path in
  `secretInputs`; inside it every value known to be secret reads "[secret]" and the rest stays readable (so a
  changed role ARN in a Lambda environment that also carries the external ID still shows in a diff); a secret
  input in which no known secret value is found reads "[secret]" whole. Known secret values are the secret
  outputs a StackReference answered with, the stack's secret exports and secret scalar inputs; they are also
  replaced wherever else they occur (e.g. the external ID inside prod's trust policy). Secret exports read
  "[secret]" whole.

Placeholders for what only the cloud would know (deterministic: derived from names, the stack's account and
region, never random, no timestamps, no paths):

- account: the first of the stack's `aws:allowedAccountIds`; region: `aws:region` (default eu-west-1).
- a resource's physical name and id: its `name` input; else its `bucket` input (S3 bucket sub-resources are
  identified by their bucket); else `<logical name>-<generated>`, standing for Pulumi's random auto-name
  suffix (so an auto-named bucket "data" is `data-<generated>`).
- ARNs, from that name: role, user, group `arn:aws:iam::<account>:{role,user,group}/<name>`; bucket
  `arn:aws:s3:::<name>`; log group `arn:aws:logs:<region>:<account>:log-group:<name>`; Lambda function
  `arn:aws:lambda:<region>:<account>:function:<name>`.
- invokes: getCallerIdentity is `arn:aws:iam::<account>:user/deployer` (userId `AIDAEXAMPLE`), getRegion the
  region, getPartition `aws`.
- a StackReference to another stack of this project (named in the stack's config as
  `<org>/<project>/<stack>`) answers with the outputs of synth of that stack, its secret exports as secret
  outputs: dev's document shows the role ARN, bucket name, etc. that prod's synth produces.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockMonitor

from localcloud import arns
from localcloud_pulumi.assets import archive_files, asset_bytes
from localcloud_pulumi.resources import name_input, physical_name
from localcloud_pulumi.program import (  # the SDK's secret marker, as reveal() reads it
    SECRET_SIG,
    SECRET_SIG_KEY,
    ProgramConfigError,
    StackOutput,
    known_stacks,
    plain_number,
    project_name,
    region_or_partition,
    reveal,
    run_program,
    stack_account_id,
    stack_config,
)

SECRET = "[secret]"
GENERATED = "<generated>"
STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"
ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
DEFAULT_REGION = "eu-west-1"

# Secrets at least this long are also replaced inside longer strings; shorter ones only as whole values.
_MIN_EMBEDDED_SECRET = 6


# --- the recording mocks (also the unit tests' FakeCloud) ---------------------------------------------------


@dataclass(frozen=True)
class Parent:
    type: str
    name: str


@dataclass
class Recorded:
    """One resource as the program declared it. `inputs` has secrets revealed; `raw_inputs` keeps the markers."""

    typ: str
    name: str
    inputs: dict[str, Any]
    raw_inputs: dict[str, Any] = field(default_factory=dict, repr=False)
    parent: Parent | None = None
    custom: bool | None = None

    def policy(self, key: str = "policy") -> dict[str, Any]:
        return json.loads(self.inputs[key])


@dataclass
class RecordingMocks(pulumi.runtime.Mocks):
    """Record every resource and invoke; answer with deterministic placeholders (see the module docstring).

    `stack_outputs` answers StackReferences by their full name ("org/project/stack"); `secret_outputs` names,
    per reference, the outputs that are secret. Pass `monitor=mocks.monitor()` to run_program to record
    parents too.
    """

    account_id: str
    region: str = DEFAULT_REGION
    stack_outputs: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    secret_outputs: dict[str, Collection[str]] = field(default_factory=dict)
    resources: list[Recorded] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._request = threading.local()  # the parent URN of the registration being handled on this thread
        self._lock = threading.Lock()  # the SDK registers resources from a thread pool

    def monitor(self) -> MockMonitor:
        return RecordingMonitor(self)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        raw = dict(args.inputs)
        record = Recorded(args.typ, args.name, reveal(raw), raw, _parent(getattr(self._request, "parent", "")),
                          args.custom)
        with self._lock:
            self.resources.append(record)
        if args.typ == STACK_REFERENCE_TYPE:
            return self._stack_reference(args.inputs["name"])
        outputs = dict(args.inputs)
        name = placeholder_name(args.typ, args.name, record.inputs)
        arn = self.arn(args.typ, name, record.inputs)
        if arn is not None:
            outputs.update(arn=arn, name=name)
        if args.typ == "aws:s3/bucket:Bucket":
            outputs["bucket"] = name
        if args.typ == "aws:kms/key:Key":
            # A key's ID is KMS's own (a UUID); a placeholder of that form, the same for the same logical name.
            key_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.account_id}/{args.name}"))
            outputs.update(arn=arns.kms_key(self.region, self.account_id, key_id), keyId=key_id)
            return key_id, outputs
        return name, outputs

    def arn(self, typ: str, name: str, inputs: Mapping[str, Any] | None = None) -> str | None:
        inputs = inputs or {}
        path = inputs.get("path") or "/"  # IAM ARNs carry the path
        host = str(inputs.get("url", "")).removeprefix("https://")
        return {
            "aws:iam/role:Role": arns.iam(self.account_id, "role", name, path),
            "aws:iam/user:User": arns.iam(self.account_id, "user", name, path),
            "aws:iam/group:Group": arns.iam(self.account_id, "group", name, path),
            "aws:iam/openIdConnectProvider:OpenIdConnectProvider": arns.iam_oidc_provider(self.account_id, host),
            "aws:s3/bucket:Bucket": arns.s3(name),
            "aws:cloudwatch/logGroup:LogGroup": arns.log_group(self.region, self.account_id, name),
            "aws:lambda/function:Function": arns.lambda_function(self.region, self.account_id, name),
            "aws:kms/alias:Alias": arns.kms_alias(self.region, self.account_id, str(inputs.get("name", name))),
        }.get(typ)

    def _stack_reference(self, name: str) -> tuple[str, dict]:
        if name not in self.stack_outputs:
            known = ", ".join(sorted(self.stack_outputs)) or "none"
            raise ProgramConfigError(f"unknown stack {name} (the mocks know: {known})")
        secret = sorted(self.secret_outputs.get(name, ()))
        return name, {"name": name, "outputs": dict(self.stack_outputs[name]), "secretOutputNames": secret}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list | None]:
        with self._lock:
            self.calls.append(args.token)
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": self.account_id, "arn": arns.iam(self.account_id, "user", "deployer"),
                    "userId": "AIDAEXAMPLE", "id": self.account_id}, []
        answer = region_or_partition(args.token, self.region)
        if answer is not None:
            return answer, []
        raise NotImplementedError(f"the program called an invoke the recording mocks do not answer: {args.token}")

    def of_type(self, typ: str) -> list[Recorded]:
        return [r for r in self.resources if r.typ == typ]

    def one(self, typ: str, name: str | None = None) -> Recorded:
        found = [r for r in self.of_type(typ) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {typ} {name or ''}, found {[r.name for r in found]}"
        return found[0]


class RecordingMonitor(MockMonitor):
    """The SDK's mock monitor, telling the mocks which parent each registration names (MockResourceArgs does not)."""

    def __init__(self, mocks: RecordingMocks):
        super().__init__(mocks)
        self.recording = mocks  # the SDK keeps it as self.mocks, typed as any Mocks

    def RegisterResource(self, request):  # noqa: N802 (the gRPC method name)
        return self._with_parent(request, super().RegisterResource)

    def ReadResource(self, request):  # noqa: N802
        return self._with_parent(request, super().ReadResource)

    def _with_parent(self, request: Any, handle: Any) -> Any:
        local = self.recording._request
        local.parent = request.parent
        try:
            return handle(request)
        finally:
            local.parent = ""


def placeholder_name(typ: str, logical_name: str, inputs: Mapping[str, Any]) -> str:
    """The physical name (and id) synth gives a resource: the explicit one, or its auto-name with the placeholder
    suffix; see the module docstring."""
    return physical_name(logical_name, inputs, name_input(typ), suffix=GENERATED)


def _parent(urn: str) -> Parent | None:
    """Parent(type, name) from a URN "urn:pulumi:STACK::PROJECT::[ParentType$...]Type::name"; None for the stack."""
    if not urn:
        return None
    parts = urn.split("::")
    typ = parts[2].split("$")[-1]
    if typ == ROOT_STACK_TYPE:
        return None
    return Parent(typ, "::".join(parts[3:]))


# --- synth ---------------------------------------------------------------------------------------------------


def synth(stack: str, *, project_dir: Path, config: Mapping[str, str] | None = None) -> dict:
    """The normalized document of everything `stack` declares (see the module docstring).

    `config` replaces the stack file's config for `stack` (as in run_program); stacks it references are
    synthesized from their own stack files.
    """
    return _synth(stack, project_dir, config, ())


def main_synth(stack: str, project_dir: Path) -> str:
    """`python -m localcloud synth -s STACK`: the document as JSON text (this project commits it in tests/snapshots/)."""
    return json.dumps(synth(stack, project_dir=project_dir), indent=2, sort_keys=True) + "\n"


def _synth(stack: str, project_dir: Path, config: Mapping[str, str] | None, seen: tuple[str, ...]) -> dict:
    mocks, exports = _run(stack, project_dir, config, seen)
    known = set(_secret_strings(mocks, exports))
    resources = [_resource(r, known, project_dir) for r in mocks.resources]
    resources.sort(key=lambda r: (r["type"], r["name"]))
    return {
        "project": project_name(project_dir),
        "stack": stack,
        "account": mocks.account_id,
        "region": mocks.region,
        "resources": resources,
        "exports": {name: SECRET if out.secret else _scrub(_Normalizer(known, project_dir).value(out.value, name), known)
                    for name, out in sorted(exports.items())},
    }


def _run(stack: str, project_dir: Path, config: Mapping[str, str] | None,
         seen: tuple[str, ...]) -> tuple[RecordingMocks, dict[str, StackOutput]]:
    values = dict(stack_config(stack, project_dir) if config is None else config)
    mocks = RecordingMocks(stack_account_id(stack, values), values.get("aws:region") or DEFAULT_REGION)
    for reference, other in _referenced_stacks(stack, values, project_dir):
        if other in seen:
            raise ProgramConfigError(f"stack references form a cycle: {' -> '.join((*seen, stack, other))}")
        _, outputs = _run(other, project_dir, None, (*seen, stack))
        mocks.stack_outputs[reference] = {name: out.value for name, out in outputs.items()}
        mocks.secret_outputs[reference] = [name for name, out in outputs.items() if out.secret]
    exports = run_program(stack, mocks, config=values, project_dir=project_dir, monitor=mocks.monitor())
    return mocks, exports


def _referenced_stacks(stack: str, config: Mapping[str, str], project_dir: Path) -> list[tuple[str, str]]:
    """(reference, stack) for each config value naming another stack of this project as org/project/stack."""
    project, stacks = project_name(project_dir), set(known_stacks(project_dir)) - {stack}
    found = set()
    for value in config.values():
        parts = value.split("/")
        if len(parts) == 3 and parts[1] == project and parts[2] in stacks:
            found.add((value, parts[2]))
    return sorted(found)


def _secret_strings(mocks: RecordingMocks, exports: Mapping[str, StackOutput]) -> Iterator[str]:
    for reference, names in mocks.secret_outputs.items():
        for name in names:
            yield from _strings(mocks.stack_outputs[reference].get(name))
    for out in exports.values():
        if out.secret:
            yield from _strings(out.value)
    for record in mocks.resources:
        for _, value in _secret_values(record.raw_inputs, ""):
            if isinstance(value, str):
                yield value


def _strings(value: Any) -> Iterator[str]:
    """Every string of a secret value, however nested: a secret map (external IDs by grant) hides each of them."""
    if isinstance(value, str) and value:
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def _secret_values(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(dotted path, revealed value) of each secret-marked value inside `value`."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG_KEY) == SECRET_SIG:
            yield path, reveal(value.get("value"))
            return
        for key, item in value.items():
            yield from _secret_values(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _secret_values(item, f"{path}[{index}]")


def _resource(record: Recorded, known: set[str], base: Path) -> dict[str, Any]:
    normalizer = _Normalizer(known, base)
    out: dict[str, Any] = {
        "type": record.typ,
        "name": record.name,
        "parent": None if record.parent is None else {"type": record.parent.type, "name": record.parent.name},
        "inputs": _scrub(normalizer.value(record.raw_inputs, ""), known),
    }
    if normalizer.secret_paths:
        out["secretInputs"] = sorted(normalizer.secret_paths)
    return out


class _Normalizer:
    """Normalizes one resource's inputs (or one export), noting the paths of secret-marked values."""

    def __init__(self, known: set[str], base: Path):
        self.known = known
        self.base = base  # the project directory: relative asset paths are relative to it, as under `pulumi`
        self.secret_paths: list[str] = []

    def value(self, value: Any, path: str, key: str = "") -> Any:
        if isinstance(value, dict):
            if value.get(SECRET_SIG_KEY) == SECRET_SIG:
                self.secret_paths.append(path)
                inner = self.value(value.get("value"), path, key)
                scrubbed = _scrub(inner, self.known)
                # Fail closed: a secret with nothing known to be secret inside it is hidden whole.
                return scrubbed if scrubbed != inner else SECRET
            return {str(k): self.value(v, f"{path}.{k}" if path else str(k), str(k))
                    for k, v in sorted(value.items())}
        if isinstance(value, (list, tuple)):
            return [self.value(v, f"{path}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, bool) or value is None or isinstance(value, int):
            return value
        if isinstance(value, float):
            return plain_number(value)
        if isinstance(value, str):
            if key == "policy" or key.endswith("Policy"):
                document = _json_object(value)
                if document is not None:
                    return self.value(document, path)
            return value
        if isinstance(value, pulumi.Archive):
            # The name inside the archive and the digest of its bytes: never a path on this machine.
            return {"archive": {name: _digest(data) for name, data in sorted(archive_files(value, self.base).items())}}
        if isinstance(value, pulumi.Asset):
            return {"asset": _digest(asset_bytes(value, self.base))}
        raise TypeError(f"synth cannot normalize the input at {path or '(top)'}: {type(value).__name__}")

def _json_object(text: str) -> dict | None:
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _scrub(value: Any, known: set[str]) -> Any:
    """`value` with every known secret value replaced by "[secret]"."""
    if not known:
        return value
    if isinstance(value, dict):
        return {k: _scrub(v, known) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, known) for v in value]
    if isinstance(value, str):
        if value in known:
            return SECRET
        for secret in sorted(known, key=lambda s: (-len(s), s)):
            if len(secret) >= _MIN_EMBEDDED_SECRET and secret in value:
                value = value.replace(secret, SECRET)
        return value
    return value


def _digest(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"
