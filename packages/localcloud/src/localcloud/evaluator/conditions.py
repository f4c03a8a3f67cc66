"""Condition operators and request-context keys for the IAM evaluator.

Pure functions; standard library only. Sources (IAM User Guide):
- reference_policies_elements_condition_operators.html: the operators, ``...IfExists``, ``Null``, and the rule that a
  missing key makes positive operators false and negated operators true.
- reference_policies_condition-logic-multiple-context-keys-or-values.html: operators AND, keys AND, values OR,
  values of a negated operator NOR.
- reference_policies_multi-value-conditions.html: ``ForAnyValue`` / ``ForAllValues``; an empty or missing set makes
  ``ForAllValues`` true and ``ForAnyValue`` false.
- reference_policies_variables.html: policy variables only in string and ARN operator values.

Fail-closed choice: an operator this module does not know (a typo, or one AWS added later) is reported as
``unsupported`` instead of being skipped. The evaluator then lets no Allow statement with it grant anything and
makes a Deny statement with it apply. AWS itself rejects such a policy when it is written, so no real decision
depends on the choice; failing closed keeps a typo from widening access in the emulator.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from localcloud.evaluator.matching import ContextValues, as_list, glob_match, substitute_variables

# A comparison of one request value with one policy value; ``variables`` is None unless the operator takes policy
# variables and the document's Version enables them.
Comparator = Callable[[str, str, "ContextValues | None"], bool]

_EPOCH = re.compile(r"^-?\d+(\.\d+)?$")
_ARN_PARTS = 6  # arn:partition:service:region:account:resource


# ---------------------------------------------------------------------------------------------------------------
# Request context
# ---------------------------------------------------------------------------------------------------------------


def policy_value_str(value: Any) -> str:
    """A JSON scalar from a policy or a context as IAM compares it: ``true`` -> ``"true"``, ``10`` -> ``"10"``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def normalize_context(raw: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Context keys lower-cased (key names are case-insensitive) with every value as a tuple of strings.

    An empty list means the key carries no value, so it is treated as missing.
    """
    normalized: dict[str, tuple[str, ...]] = {}
    for key, value in raw.items():
        values = tuple(policy_value_str(item) for item in as_list(value))
        if values:
            normalized[str(key).lower()] = values
    return normalized


# ---------------------------------------------------------------------------------------------------------------
# Comparators: one request value against one policy value
# ---------------------------------------------------------------------------------------------------------------


def string_equals(request: str, policy: str, variables: ContextValues | None = None) -> bool:
    """StringEquals: exact and case-sensitive."""
    return request == substitute_variables(policy, variables)


def string_equals_ignore_case(request: str, policy: str, variables: ContextValues | None = None) -> bool:
    """StringEqualsIgnoreCase: exact, ignoring case (casefold handles more than ASCII)."""
    return request.casefold() == substitute_variables(policy, variables).casefold()


def string_like(request: str, policy: str, variables: ContextValues | None = None) -> bool:
    """StringLike: case-sensitive glob with ``*`` and ``?`` anywhere."""
    return glob_match(policy, request, variables=variables)


def _split_arn(value: str) -> list[str]:
    """An ARN's six colon-separated parts (the resource part may itself hold colons), ignoring colons in ``${}``."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    index = 0
    while index < len(value):
        if value.startswith("${", index):
            depth += 1
            current.append("${")
            index += 2
            continue
        char = value[index]
        if char == "}" and depth:
            depth -= 1
        if char == ":" and not depth and len(parts) < _ARN_PARTS - 1:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    parts.append("".join(current))
    return parts


def arn_like(request: str, policy: str, variables: ContextValues | None = None) -> bool:
    """ArnLike / ArnEquals: each of the six colon-separated parts is globbed on its own, so ``*`` never crosses the
    colon between two parts. A value that is not a six-part ARN matches nothing."""
    request_parts, policy_parts = request.split(":", _ARN_PARTS - 1), _split_arn(policy)
    if len(request_parts) != _ARN_PARTS or len(policy_parts) != _ARN_PARTS:
        return False
    return all(
        glob_match(pattern, part, variables=variables)
        for pattern, part in zip(policy_parts, request_parts, strict=True)
    )


def parse_number(value: str) -> Decimal | None:
    """A numeric condition value (integer or decimal), or None when it is not a number."""
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def parse_date(value: str) -> datetime | None:
    """An ISO 8601 date/time (with or without fraction, ``Z`` or offset; naive means UTC) or epoch seconds.

    Returns None when the value is neither, so the comparison does not match.
    """
    text = value.strip()
    if _EPOCH.match(text):
        return datetime.fromtimestamp(float(text), tz=timezone.utc)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def _ordered(parse: Callable[[str], Any], compare: Callable[[Any, Any], bool]) -> Comparator:
    """A comparator that parses both sides with ``parse`` and fails (no match) when either does not parse."""

    def comparator(request: str, policy: str, variables: ContextValues | None = None) -> bool:
        left, right = parse(request), parse(policy)
        return left is not None and right is not None and compare(left, right)

    return comparator


def bool_equals(request: str, policy: str, variables: ContextValues | None = None) -> bool:
    """Bool: ``"true"``/``"false"`` (any case); anything else matches nothing."""
    request_value, policy_value = request.strip().lower(), policy.strip().lower()
    return request_value in ("true", "false") and request_value == policy_value


def binary_equals(request: str, policy: str, variables: ContextValues | None = None) -> bool:
    """BinaryEquals: both sides are base64; equal when they decode to the same bytes."""
    try:
        return base64.b64decode(request, validate=True) == base64.b64decode(policy, validate=True)
    except (binascii.Error, ValueError):
        return False


def ip_address_in(request: str, policy: str, variables: ContextValues | None = None) -> bool:
    """IpAddress: the request address lies in the policy CIDR (a bare address means /32 or /128)."""
    try:
        address = ipaddress.ip_address(request.strip())
        network = ipaddress.ip_network(policy.strip(), strict=False)
    except ValueError:
        return False
    return address.version == network.version and address in network


# ---------------------------------------------------------------------------------------------------------------
# Operators
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operator:
    """A parsed condition operator such as ``ForAllValues:StringNotLikeIfExists``."""

    name: str  # as written in the policy
    base: str  # positive form without qualifier or IfExists, e.g. "StringLike"; "Null" for the Null check
    comparator: Comparator | None  # None only for Null
    negated: bool = False
    if_exists: bool = False
    qualifier: str | None = None  # "ForAnyValue" | "ForAllValues" | None
    takes_variables: bool = False


# Positive operator name -> (comparator, takes policy variables). Variables: string and ARN operators only
# (reference_policies_variables.html).
_POSITIVE: dict[str, tuple[Comparator, bool]] = {
    "StringEquals": (string_equals, True),
    "StringEqualsIgnoreCase": (string_equals_ignore_case, True),
    "StringLike": (string_like, True),
    "ArnEquals": (arn_like, True),
    "ArnLike": (arn_like, True),
    "NumericEquals": (_ordered(parse_number, lambda a, b: a == b), False),
    "NumericLessThan": (_ordered(parse_number, lambda a, b: a < b), False),
    "NumericLessThanEquals": (_ordered(parse_number, lambda a, b: a <= b), False),
    "NumericGreaterThan": (_ordered(parse_number, lambda a, b: a > b), False),
    "NumericGreaterThanEquals": (_ordered(parse_number, lambda a, b: a >= b), False),
    "DateEquals": (_ordered(parse_date, lambda a, b: a == b), False),
    "DateLessThan": (_ordered(parse_date, lambda a, b: a < b), False),
    "DateLessThanEquals": (_ordered(parse_date, lambda a, b: a <= b), False),
    "DateGreaterThan": (_ordered(parse_date, lambda a, b: a > b), False),
    "DateGreaterThanEquals": (_ordered(parse_date, lambda a, b: a >= b), False),
    "Bool": (bool_equals, False),
    "BinaryEquals": (binary_equals, False),
    "IpAddress": (ip_address_in, False),
}

# Negated operator name -> positive operator whose result it negates (NOR over the listed values).
_NEGATED: dict[str, str] = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress",
}

# Operator names are matched without regard to case, as AWS does for condition types.
_BY_LOWER: dict[str, str] = {name.lower(): name for name in (*_POSITIVE, *_NEGATED, "Null")}
_QUALIFIERS = ("ForAnyValue", "ForAllValues")


class UnsupportedOperator(ValueError):
    """A condition operator that this evaluator does not implement (or that AWS does not define)."""


def parse_operator(name: str) -> Operator:
    """Parse ``[ForAnyValue:|ForAllValues:]Operator[IfExists]``; raises UnsupportedOperator for anything else."""
    qualifier: str | None = None
    rest = name
    if ":" in name:
        prefix, rest = name.split(":", 1)
        qualifier = next((q for q in _QUALIFIERS if q.lower() == prefix.lower()), None)
        if qualifier is None:
            raise UnsupportedOperator(f"condition operator {name!r} has an unknown set qualifier {prefix!r}")
    if_exists = rest.lower().endswith("ifexists")
    base_lower = rest[: -len("IfExists")].lower() if if_exists else rest.lower()
    canonical = _BY_LOWER.get(base_lower)
    if canonical is None:
        raise UnsupportedOperator(f"condition operator {name!r} is not supported")
    if canonical == "Null":
        if if_exists or qualifier:
            raise UnsupportedOperator(f"condition operator {name!r}: Null takes neither IfExists nor a set qualifier")
        return Operator(name=name, base="Null", comparator=None)
    negated = canonical in _NEGATED
    positive = _NEGATED.get(canonical, canonical)
    comparator, takes_variables = _POSITIVE[positive]
    return Operator(
        name=name,
        base=positive,
        comparator=comparator,
        negated=negated,
        if_exists=if_exists,
        qualifier=qualifier,
        takes_variables=takes_variables,
    )


def _null_check(request_values: tuple[str, ...] | None, policy_values: list[str]) -> bool:
    """Null: ``"true"`` holds when the key is missing, ``"false"`` when it is present (values OR)."""
    missing = request_values is None
    return any(value.strip().lower() == ("true" if missing else "false") for value in policy_values)


def evaluate_key(
    operator: Operator,
    request_values: tuple[str, ...] | None,
    policy_values: list[str],
    variables: ContextValues | None = None,
) -> bool:
    """One key under one operator: does the request satisfy it?

    ``request_values`` is None when the key is missing from the request. Without a set qualifier a multivalued
    key behaves like ForAnyValue for positive operators and like "no value matches" for negated ones.
    """
    if operator.comparator is None:
        return _null_check(request_values, policy_values)
    if request_values is None:
        if operator.if_exists or operator.qualifier == "ForAllValues":
            return True
        if operator.qualifier == "ForAnyValue":
            return False
        return operator.negated
    usable_variables = variables if operator.takes_variables else None
    comparator = operator.comparator

    def value_satisfies(request_value: str) -> bool:
        hit = any(comparator(request_value, policy_value, usable_variables) for policy_value in policy_values)
        return not hit if operator.negated else hit

    results = [value_satisfies(value) for value in request_values]
    if operator.qualifier == "ForAllValues":
        return all(results)
    if operator.qualifier == "ForAnyValue":
        return any(results)
    return all(results) if operator.negated else any(results)


@dataclass(frozen=True)
class ConditionOutcome:
    """Result of a whole Condition block."""

    matched: bool
    detail: str | None = None  # which operator/key failed, or why the block is unsupported
    unsupported: bool = False  # an operator could not be evaluated (see the module docstring)


def evaluate_condition_block(
    block: Mapping[str, Any] | None,
    context: ContextValues,
    variables: ContextValues | None = None,
) -> ConditionOutcome:
    """Evaluate a statement's Condition element against the normalized request context.

    Operators AND, keys AND, values OR (NOR for negated operators). ``variables`` is the context to fill policy
    variables from, or None when the document's Version does not enable them. UnresolvedVariable propagates: the
    evaluator then treats the statement as not applying.
    """
    if not block:
        return ConditionOutcome(matched=True)
    unsupported: str | None = None
    for operator_name, keys in block.items():
        try:
            operator = parse_operator(str(operator_name))
        except UnsupportedOperator as error:
            unsupported = unsupported or str(error)
            continue
        if not isinstance(keys, Mapping):
            unsupported = unsupported or f"condition operator {operator_name!r} must map keys to values"
            continue
        for key, raw_values in keys.items():
            policy_values = [policy_value_str(value) for value in as_list(raw_values)]
            if not evaluate_key(operator, context.get(str(key).lower()), policy_values, variables):
                # A false operator makes the whole block false, whatever the unsupported ones would say.
                return ConditionOutcome(matched=False, detail=f"{operator_name} on {key} is not met")
    if unsupported is not None:
        return ConditionOutcome(matched=False, detail=unsupported, unsupported=True)
    return ConditionOutcome(matched=True)
