"""`make revoke GRANT=name` (`python -m ops.revoke --grant NAME`): revoke every session of a grant's role issued
until now, as configuration. It sets the grant's ``revokeSessionsIssuedBefore`` in the prod stack file to the
current time (UTC, rounded up to the second); `pulumi up -s prod` then adds the grant role's revoke-older-sessions
policy (a Deny on aws:TokenIssueTime, id_roles_use_revoke-sessions.html), and the preview shows exactly that.

The file is edited as text, one line, so its comments and layout stay; the result is read back as YAML and must
differ from the original in that one value only, and the prod settings must still parse. Otherwise nothing is
written, and the error says why.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from components.config_reader import ConfigError
from components.grants import revocation_stamp
from components.settings import parse_prod

PROJECT_DIR = Path(__file__).resolve().parent.parent
STACK_FILE = PROJECT_DIR / "Pulumi.prod.yaml"
GRANTS_KEY = "cross-account-s3:grants"
KEY = "revokeSessionsIssuedBefore"


class RevokeError(Exception):
    """The revocation cannot be written; the stack file is untouched."""


def revoked_text(text: str, grant: str, when: datetime) -> str:
    """The stack file ``text`` with grant ``grant``'s revokeSessionsIssuedBefore set to ``when`` (its existing one
    replaced, or one added as the grant's last key)."""
    lines = text.splitlines(keepends=True)
    start, end, indent = _grant_lines(lines, grant, _names(text))
    line = f'{indent}{KEY}: "{revocation_stamp(when)}"\n'
    for index in range(start, end):
        if re.match(rf"\s*{KEY}\s*:", lines[index]):
            lines[index] = line
            break
    else:
        last = end
        # After its last key: blank lines and comments at its end belong to what follows.
        while last > start + 1 and (not lines[last - 1].strip() or lines[last - 1].strip().startswith("#")):
            last -= 1
        if not lines[last - 1].endswith("\n"):
            lines[last - 1] += "\n"
        lines.insert(last, line)
    return "".join(lines)


def _names(text: str) -> list[str]:
    try:
        config = (yaml.safe_load(text) or {}).get("config") or {}
    except yaml.YAMLError as exc:
        raise RevokeError(f"the stack file is not valid YAML: {exc}") from None
    grants = config.get(GRANTS_KEY)
    if not isinstance(grants, list):
        raise RevokeError(f"the stack file has no {GRANTS_KEY} list")
    return [str(g.get("name")) for g in grants if isinstance(g, dict)]


def _grant_lines(lines: list[str], grant: str, names: list[str]) -> tuple[int, int, str]:
    """The lines of the grant's list item (from its "- " line to before the next item or key) and the indent of
    its keys. Only the block style the committed stack file uses is edited; anything else is refused."""
    if grant not in names:
        raise RevokeError(f"no grant {grant!r} in {GRANTS_KEY}; its grants are {', '.join(names) or 'none'}")
    header = next((i for i, line in enumerate(lines) if re.match(rf"\s*{re.escape(GRANTS_KEY)}\s*:\s*$", line)),
                  None)
    if header is None:
        raise RevokeError(f"{GRANTS_KEY} is not written as a block list; set {KEY} by hand")
    items: list[tuple[int, str]] = []  # (line, the item's "- " indent)
    end = len(lines)
    parent = len(lines[header]) - len(lines[header].lstrip())
    for index in range(header + 1, len(lines)):
        stripped = lines[index].strip()
        if not stripped or stripped.startswith("#"):
            continue
        depth = len(lines[index]) - len(lines[index].lstrip())
        if depth <= parent and not stripped.startswith("- "):
            end = index
            break
        if stripped.startswith("- ") and (not items or depth == len(items[0][1])):
            items.append((index, lines[index][:depth]))
    for position, (index, dash_indent) in enumerate(items):
        match = re.fullmatch(r"-\s+name\s*:\s*[\"']?([a-z0-9-]+)[\"']?\s*(#.*)?", lines[index].strip())
        if match and match.group(1) == grant:
            stop = items[position + 1][0] if position + 1 < len(items) else end
            key_indent = dash_indent + " " * (len(lines[index].lstrip()) - len(lines[index].lstrip()[1:].lstrip()))
            return index, stop, key_indent
    raise RevokeError(f"grant {grant!r} does not start with '- name: {grant}'; set {KEY} by hand")


def check(before: str, after: str, grant: str, when: datetime) -> None:
    """``after`` differs from ``before`` in the grant's revocation time only, and prod's settings still parse."""
    old, new = yaml.safe_load(before)["config"], yaml.safe_load(after)["config"]
    expected = json.loads(json.dumps(old))
    for item in expected[GRANTS_KEY]:
        if isinstance(item, dict) and item.get("name") == grant:
            item[KEY] = revocation_stamp(when)
    if json.loads(json.dumps(new)) != expected:
        raise RevokeError("the edit would change more than the grant's revocation time; set it by hand")
    raw = {key.split(":", 1)[1]: _as_text(value) for key, value in new.items() if key.startswith("cross-account-s3:")}
    try:
        parse_prod(raw, new.get("aws:region"))  # as the preview will: a time in the future is refused
    except ConfigError as exc:
        raise RevokeError(f"prod's configuration would not be valid:\n{exc}") from None


def _as_text(value: Any) -> str:
    """A config value as Pulumi hands it to the program: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def revoke(stack_file: Path, grant: str, when: datetime) -> str:
    """Write the revocation; returns the line written. Nothing is written when anything is wrong."""
    before = stack_file.read_text()
    after = revoked_text(before, grant, when)
    check(before, after, grant, when)
    with tempfile.NamedTemporaryFile("w", dir=stack_file.parent, delete=False, prefix=f".{stack_file.name}.") as tmp:
        tmp.write(after)
    os.replace(tmp.name, stack_file)
    return f'{KEY}: "{revocation_stamp(when)}"'


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.revoke", description=__doc__.split("\n\n")[0])
    parser.add_argument("--grant", required=True, help="the grant whose sessions to revoke")
    parser.add_argument("--stack-file", type=Path, default=STACK_FILE, help="default: %(default)s")
    parser.add_argument("--at", type=datetime.fromisoformat, default=None,
                        help="revoke sessions issued before this ISO 8601 time with a zone (default: now)")
    args = parser.parse_args(argv)
    when = args.at or datetime.now(UTC)
    if when.tzinfo is None:
        parser.error("--at needs a time zone, e.g. 2026-12-03T10:00:00Z")
    try:
        line = revoke(args.stack_file, args.grant, when)
    except (RevokeError, OSError) as exc:
        print(f"revoke: {exc}", file=sys.stderr)
        return 1
    print(f"{args.stack_file.name}: grant {args.grant}: {line}\n"
          f"next: pulumi preview -s prod (one change: {args.grant}-revoke-older-sessions), then pulumi up -s prod")
    return 0


if __name__ == "__main__":
    sys.exit(main())
