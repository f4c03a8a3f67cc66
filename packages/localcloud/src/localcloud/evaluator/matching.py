"""Action, resource and principal matching for the IAM evaluator.

Pure functions over plain policy JSON (dicts, lists, strings); standard library only.

Rules and where they come from (IAM User Guide):
- reference_policies_elements_action.html: action names are case-insensitive and take ``*`` and ``?``.
- reference_policies_elements_resource.html: resource ARNs are case-sensitive; ``*`` and ``?`` are a glob over the
  whole string, so ``*`` may span ``/`` and ``:``.
- reference_policies_elements_principal.html: ``"*"`` is everyone, an account ID equals its ``:root`` ARN and names
  every principal of the account, a role ARN names every session of the role, a session ARN names one session,
  no partial wildcards.
- reference_policies_elements_notprincipal.html: with NotPrincipal AWS may check the account, then the role, then
  the session, so each link of the caller's chain has to be listed to be left out.
- reference_policies_variables.html: ``${key}``, ``${key, 'default'}`` and the literal escapes ``${*}``, ``${?}``,
  ``${$}``; only in documents whose Version is 2012-10-17.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import IntEnum
from typing import Any, Protocol

from localcloud import arns

# The only policy-language version in which ${...} is a variable; in older documents it is literal text
# (reference_policies_variables.html).
VARIABLES_VERSION = "2012-10-17"

# Context values as the evaluator holds them: lower-cased key -> one or more string values.
ContextValues = Mapping[str, tuple[str, ...]]

_VARIABLE_BODY = re.compile(r"^\s*([^\s,']+)\s*(?:,\s*'([^']*)'\s*)?$")
_LITERAL_ESCAPES = {"*": "*", "?": "?", "$": "$"}
_ACCOUNT_ROOT_ARN = re.compile(r"^arn:[\w-]+:iam::(\d+):root$")
_ACCOUNT_ID = re.compile(r"^\d+$")


class UnresolvedVariable(Exception):
    """A policy variable has no value in the request context and no default."""

    def __init__(self, name: str) -> None:
        super().__init__(f"policy variable ${{{name}}} has no value in this request and no default")
        self.name = name


# ---------------------------------------------------------------------------------------------------------------
# Globs and policy variables
# ---------------------------------------------------------------------------------------------------------------


def _resolve_variable(body: str, variables: ContextValues) -> str:
    """Value of the text inside ``${...}``: a literal escape, a single-valued context key, or the default."""
    if body in _LITERAL_ESCAPES:
        return _LITERAL_ESCAPES[body]
    parsed = _VARIABLE_BODY.match(body)
    if parsed is None:
        raise UnresolvedVariable(body)
    name, default = parsed.group(1), parsed.group(2)
    values = variables.get(name.lower())
    # A multivalued key cannot stand in for one string, so it resolves like a missing key.
    if values is not None and len(values) == 1:
        return values[0]
    if default is not None:
        return default
    raise UnresolvedVariable(name)


def _pieces(pattern: str, variables: ContextValues | None) -> list[tuple[bool, str]]:
    """Split a policy string into (is_literal, text) pieces.

    Text that came out of a ``${...}`` variable is always literal: a ``*`` in a user name, or ``${*}``, must not
    turn into a wildcard. With ``variables`` None, ``${`` is plain text.
    """
    pieces: list[tuple[bool, str]] = []
    index = 0
    while index < len(pattern):
        if variables is not None and pattern.startswith("${", index):
            end = pattern.find("}", index + 2)
            if end != -1:
                pieces.append((True, _resolve_variable(pattern[index + 2 : end], variables)))
                index = end + 1
                continue
        pieces.append((False, pattern[index]))
        index += 1
    return pieces


def substitute_variables(value: str, variables: ContextValues | None) -> str:
    """Replace policy variables in ``value`` (for exact-match operators, where wildcards mean nothing)."""
    return "".join(text for _, text in _pieces(value, variables))


def glob_to_regex(
    pattern: str, *, ignore_case: bool = False, variables: ContextValues | None = None
) -> re.Pattern[str]:
    """Compile an IAM glob (``*`` any run of characters, ``?`` one character) into an anchored regex."""
    parts: list[str] = []
    for literal, text in _pieces(pattern, variables):
        if literal:
            parts.append(re.escape(text))
        elif text == "*":
            parts.append(".*")
        elif text == "?":
            parts.append(".")
        else:
            parts.append(re.escape(text))
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("".join(parts), flags)


def glob_match(
    pattern: str, value: str, *, ignore_case: bool = False, variables: ContextValues | None = None
) -> bool:
    """Whether ``value`` matches the whole IAM glob ``pattern``."""
    return glob_to_regex(pattern, ignore_case=ignore_case, variables=variables).fullmatch(value) is not None


def as_list(element: Any) -> list[Any]:
    """A policy element that may be one value or a list, as a list (None -> empty)."""
    if element is None:
        return []
    if isinstance(element, (list, tuple)):
        return list(element)
    return [element]


# ---------------------------------------------------------------------------------------------------------------
# Action and resource
# ---------------------------------------------------------------------------------------------------------------


def action_matches(patterns: Any, action: str) -> bool:
    """Whether ``action`` matches any pattern of an Action element; case-insensitive (e.g. ``S3:put*``)."""
    return any(glob_match(str(pattern), action, ignore_case=True) for pattern in as_list(patterns))


def resource_matches(patterns: Any, resource: str, variables: ContextValues | None = None) -> bool:
    """Whether ``resource`` matches any pattern of a Resource element; case-sensitive glob over the whole ARN.

    Raises UnresolvedVariable when a pattern uses a variable the request cannot fill; the caller treats the
    statement as not applying, as AWS does (reference_policies_variables.html).
    """
    return any(glob_match(str(pattern), resource, variables=variables) for pattern in as_list(patterns))


# ---------------------------------------------------------------------------------------------------------------
# Principal
# ---------------------------------------------------------------------------------------------------------------


class PrincipalIdentity(Protocol):
    """What principal matching needs to know about a caller (localcloud.evaluator.Caller satisfies it)."""

    @property
    def arn(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def account(self) -> str | None: ...

    @property
    def principal_arn(self) -> str: ...


class PrincipalMatch(IntEnum):
    """How a Principal element names the caller; a larger value is a more specific grant.

    The strength decides which other policies still have to allow in the same account
    (reference_policies_evaluation-logic.html, "Resource-based policies").
    """

    ACCOUNT = 1  # through its account ID or :root ARN: the account then decides by its identity policies
    ROLE = 2  # a role session through its role ARN: the boundary and session policy still limit it
    DIRECT = 3  # the caller's own ARN (user or session), its service name, or "*"


def _account_of_principal(value: str) -> str | None:
    """The account an account-wide principal value names (``"123456789012"`` or ``arn:...:root``), else None."""
    if _ACCOUNT_ID.match(value):
        return value
    root = _ACCOUNT_ROOT_ARN.match(value)
    return root.group(1) if root else None


def _match_aws_value(value: str, caller: PrincipalIdentity) -> PrincipalMatch | None:
    """Match one value of ``{"AWS": ...}``; values are compared literally (no partial wildcards)."""
    if value == "*":
        return PrincipalMatch.DIRECT
    if caller.kind == "service":
        return None  # AWS principals never name a service principal
    if value == caller.arn:
        return PrincipalMatch.DIRECT
    if caller.kind == "assumed-role" and value == caller.principal_arn:
        return PrincipalMatch.ROLE
    named_account = _account_of_principal(value)
    if named_account is not None and named_account == caller.account:
        return PrincipalMatch.ACCOUNT
    return None


def _principal_values(element: Any) -> Iterable[tuple[str, str]]:
    """(type, value) pairs of a Principal element; ``"*"`` alone is reported as ``("AWS", "*")``."""
    if element == "*":
        yield ("AWS", "*")
        return
    if not isinstance(element, Mapping):
        return
    for principal_type, values in element.items():
        for value in as_list(values):
            yield (str(principal_type), str(value))


def match_principal(element: Any, caller: PrincipalIdentity) -> PrincipalMatch | None:
    """The strongest way a Principal element names the caller, or None if it does not name it.

    ``"*"`` matches every caller, service principals included. ``{"Service": name}`` matches a service caller of
    that name. Federated and CanonicalUser principals are not emulated and match nothing.
    """
    best: PrincipalMatch | None = None
    for principal_type, value in _principal_values(element):
        found: PrincipalMatch | None = None
        if principal_type == "AWS":
            found = _match_aws_value(value, caller)
        elif principal_type == "Service" and caller.kind == "service" and value.lower() == caller.arn.lower():
            found = PrincipalMatch.DIRECT
        if found is not None and (best is None or found > best):
            best = found
    return best


def _caller_chain(caller: PrincipalIdentity) -> list[tuple[str, set[str]]]:
    """The links AWS may check for NotPrincipal, each with the listed values that cover it.

    A user is checked as its account and itself; a session as its account, its role and itself
    (reference_policies_elements_notprincipal.html).
    """
    if caller.kind == "service":
        return [("Service", {caller.arn.lower()})]
    account = caller.account or ""
    account_link = ("AWS", {account, arns.account_root(account)})
    if caller.kind == "root":
        return [account_link]
    links = [account_link]
    if caller.kind == "assumed-role":
        links.append(("AWS", {caller.principal_arn}))
    links.append(("AWS", {caller.arn}))
    return links


def not_principal_excludes(element: Any, caller: PrincipalIdentity, *, whole_chain: bool) -> bool:
    """Whether a NotPrincipal element leaves the caller out (so the statement does not apply to it).

    ``whole_chain=True`` (used for Deny) leaves the caller out only when every link of its chain is listed, the
    behaviour the NotPrincipal page warns about; ``whole_chain=False`` (used for Allow) leaves it out when any link
    is listed. Both choices fail closed: a Deny applies and an Allow does not when in doubt.
    """
    listed = list(_principal_values(element))
    if ("AWS", "*") in listed:
        return True
    normalised = {(kind, value.lower() if kind == "Service" else value) for kind, value in listed}
    covered = [any((kind, value) in normalised for value in values) for kind, values in _caller_chain(caller)]
    return all(covered) if whole_chain else any(covered)
