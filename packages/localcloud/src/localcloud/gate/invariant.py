"""The invariant that makes denial tests mean something: moto executed exactly what the gate authorized.

After moto answers, ``violations(plan, executions)`` compares what moto's handlers did (``moto_adapter.Execution``:
its authorization hooks, the S3 and KMS backend calls, the parameters it read) with the operation and resources of
the gate's plan. Any difference is a request shape the gate reads one way and moto another; the gate then answers 500
and records it (``gate.violations``), and the test suite fails on it (tests/conftest.py).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from localcloud import arns
from localcloud.actions import RESOURCE_PARAMETERS, ActionPlan
from localcloud.moto_adapter import Execution

# S3 backend methods that change state (the operation's own is its name in snake case, PutObject: put_object).
_MUTATING = re.compile(r"^(put|create|delete|upload|complete|abort|copy|restore|set|update|rename|select)_")
# The backend calls an S3 operation makes under another name.
_S3_BACKEND_ALIASES: dict[str, set[str]] = {
    # moto sets the object's tags (from x-amz-tagging, authorized as s3:PutObjectTagging, or none) after storing it.
    "PutObject": {"put_object_tagging"},
    "CopyObject": {"put_object_tagging"},
    "CompleteMultipartUpload": {"put_object_tagging"},
}
# moto's service names that are not the IAM prefix.
_MOTO_SERVICES = {"awslambda": "lambda"}


_recorded: list[str] = []
_lock = threading.Lock()


def record(message: str) -> None:
    """Keep a violation for this process's lifetime (the test suite's autouse check reads them)."""
    with _lock:
        _recorded.append(message)


def recorded() -> list[str]:
    with _lock:
        return list(_recorded)


@contextmanager
def expected() -> Iterator[list[str]]:
    """For tests of the invariant itself: the violations made inside the block, taken out of the record."""
    with _lock:
        start = len(_recorded)
    caught: list[str] = []
    try:
        yield caught
    finally:
        with _lock:
            caught.extend(_recorded[start:])
            del _recorded[start:]


def violations(plan: ActionPlan, executions: Iterable[Execution]) -> list[str]:
    found = list(executions)
    problems: list[str] = []
    actions = [e for e in found if e.kind == "action"]
    if not actions:
        return [f"moto ran no operation for {plan.service}:{plan.operation}"]
    for execution in actions:
        if _MOTO_SERVICES.get(execution.service, execution.service) != plan.service:
            problems.append(f"moto ran a {execution.service} operation ({execution.name}); the gate authorized "
                            f"{plan.service}:{plan.operation}")
    if plan.service == "s3":
        problems += _s3_violations(plan, found)
    else:
        problems += _named_violations(plan, actions)
        names = _KMS_KEY_PARAMETERS if plan.service == "kms" else RESOURCE_PARAMETERS
        problems += _param_violations(plan, [e for e in found if e.kind == "param"], names)
    if plan.service == "kms":
        problems += _kms_violations(plan, [e for e in found if e.kind == "kms"])
    return problems


# The KMS parameters that name a key or an alias: moto must read them as the gate wrote them (key ARNs).
_KMS_KEY_PARAMETERS = frozenset({"KeyId", "TargetKeyId", "DestinationKeyId", "SourceKeyId", "AliasName"})


def _kms_violations(plan: ActionPlan, calls: list[Execution]) -> list[str]:
    """Every key moto's KMS acted on is one the gate authorized, or (ListAliases) named as a filter."""
    authorized = {check.resource for check in plan.checks if check.key_policy}
    authorized |= {str(plan.params[name]) for name in _KMS_KEY_PARAMETERS if name in plan.params}
    return [f"moto's KMS {call.name} acted on {call.key}; the gate authorized {sorted(authorized)}"
            for call in calls if call.key not in authorized]


def _named_violations(plan: ActionPlan, actions: list[Execution]) -> list[str]:
    return [f"moto ran {e.service}:{e.name}; the gate authorized {plan.service}:{plan.operation}"
            for e in actions if e.name != plan.operation]


def _param_violations(plan: ActionPlan, reads: list[Execution], names: frozenset[str]) -> list[str]:
    problems = []
    for read in reads:
        if read.name not in names:
            continue
        authorized = plan.params.get(read.name)
        if authorized is None or str(authorized) != read.value:
            problems.append(f"moto read {read.name}={read.value!r} for {plan.operation}; the gate authorized "
                            f"{read.name}={authorized!r}")
    return problems


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _s3_violations(plan: ActionPlan, found: list[Execution]) -> list[str]:
    problems = []
    expected = {_snake(plan.operation)} | _S3_BACKEND_ALIASES.get(plan.operation, set())
    for execution in found:
        if execution.kind == "s3" and execution.top and _MUTATING.match(execution.name) \
                and execution.name not in expected:
            problems.append(f"moto ran the S3 backend's {execution.name}; the gate authorized {plan.operation}")
    authorized: set[tuple[str, str | None]] = set()
    for check in plan.checks:
        if check.bucket is None:
            continue
        authorized.add((check.bucket, arns.s3_key(check.resource, check.bucket)))
    buckets = {bucket for bucket, _ in authorized if bucket is not None}
    for execution in found:
        if execution.kind not in ("action", "s3") or execution.bucket is None:
            continue
        if execution.bucket not in buckets:
            problems.append(f"moto acted on bucket {execution.bucket!r} ({execution.name}); the gate authorized "
                            f"{sorted(buckets)}")
        elif execution.key is not None and (execution.bucket, execution.key) not in authorized:
            problems.append(f"moto acted on {execution.bucket}/{execution.key} ({execution.name}); the gate "
                            f"authorized {sorted(f'{b}/{k}' for b, k in authorized if k is not None)}")
    return problems
