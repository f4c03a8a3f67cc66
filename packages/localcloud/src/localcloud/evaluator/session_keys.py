"""Request-context keys of a role session that depend on precedence rules, computed once so callers agree.

Pure (standard library only). Sources:

- id_session-tags.html, "Things to know about session tags": "New session tags override existing assumed role or
  federated user tags with the same tag key, regardless of case."; STS API_AssumeRole.html: "You can pass a session
  tag with the same key as a tag that is attached to the role. When you do, the session tag overrides the role tag
  with the same key."
- id_session-tags.html, "Chaining roles with session tags": transitive tags inherited from the previous session of
  a role chain apply to the next session too ("The inherited Star = 1 session tag overrides the role Star = 3 tag").
- Lambda Developer Guide, permissions-source-function-arn.html: Lambda "injects the source function ARN into the
  credentials context" of the requests made with the execution role's credentials from within the execution
  environment, as ``lambda:SourceFunctionArn``, for "IAM identity-based policies or SCPs"; "You cannot use the
  lambda:SourceFunctionArn condition key in resource-based policies." The evaluator leaves the key out of the
  context it evaluates resource-based and trust policies with (``IDENTITY_POLICY_ONLY_KEYS``), so a condition on it
  there sees a missing key: localcloud's reading of "cannot use" (the page says no more), under which such a
  condition never grants.

Condition key names are case-insensitive (reference_policies_elements_condition.html), so ``aws:PrincipalTag/Team``
and ``aws:PrincipalTag/team`` are the same key: a context holding both would leave the evaluator to pick one by
position. ``principal_tag_context`` returns each tag key once, with the value that wins.
"""

from __future__ import annotations

from collections.abc import Mapping

PRINCIPAL_TAG_PREFIX = "aws:PrincipalTag/"
LAMBDA_SOURCE_FUNCTION_ARN = "lambda:SourceFunctionArn"
# Keys that only identity-based policies (and SCPs, not emulated) can use, lower-cased as the evaluator keeps them.
IDENTITY_POLICY_ONLY_KEYS = frozenset({LAMBDA_SOURCE_FUNCTION_ARN.lower()})


def principal_tag_context(
    role_tags: Mapping[str, str],
    session_tags: Mapping[str, str] | None = None,
    inherited_transitive_tags: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """``aws:PrincipalTag/<key>`` entries for a session: role tags, overridden by the session tags passed with
    AssumeRole, overridden by the transitive tags inherited in a role chain; keys compared without case.

    The key is spelled as the winning tag spells it. (STS refuses an AssumeRole whose new session tags clash with
    inherited transitive ones; that refusal belongs to whoever handles the AssumeRole call, not to this helper.)
    """
    merged: dict[str, tuple[str, str]] = {}  # lower-cased key -> (key as spelled, value)
    for tags in (role_tags, session_tags or {}, inherited_transitive_tags or {}):
        for key, value in tags.items():
            merged[key.lower()] = (key, value)
    return {f"{PRINCIPAL_TAG_PREFIX}{key}": value for key, value in merged.values()}
