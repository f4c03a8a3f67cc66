"""`make revoke GRANT=name` (ops/revoke.py): one line of the prod stack file changes, the rest stays as written
(comments included), and anything it cannot do safely leaves the file untouched, saying why."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from components.grants import Grant
from components.settings import parse_prod
from ops.revoke import RevokeError, main, revoke, revoked_text
from offline.stacks import PROJECT_DIR
from tests.project import synth

COMMITTED = (PROJECT_DIR / "Pulumi.prod.yaml").read_text()
WHEN = datetime(2026, 12, 1, 9, 30, 15, tzinfo=UTC)


@pytest.fixture
def stack_file(tmp_path: Path) -> Path:
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(COMMITTED)
    return path


def grants_of(text: str) -> dict[str, Grant]:
    config = yaml.safe_load(text)["config"]
    raw = {k.split(":", 1)[1]: v if isinstance(v, str) else json.dumps(v)
           for k, v in config.items() if k.startswith("cross-account-s3:")}
    return {g.name: g for g in parse_prod(raw, config["aws:region"]).grants}


@pytest.mark.parametrize("grant", ["dev-writer", "analytics-reader"])
def test_revoking_a_grant_sets_its_time_and_changes_no_other_line(stack_file, grant):
    revoke(stack_file, grant, WHEN)
    after = stack_file.read_text()
    added = [line for line in after.splitlines() if line not in COMMITTED.splitlines()]
    assert [line.strip() for line in added] == ['revokeSessionsIssuedBefore: "2026-12-01T09:30:15Z"']
    assert [line for line in COMMITTED.splitlines() if line not in after.splitlines()] == []
    grants = grants_of(after)
    assert grants[grant].revoke_sessions_issued_before == "2026-12-01T09:30:15Z"
    assert all(g.revoke_sessions_issued_before is None for name, g in grants.items() if name != grant)


def test_revoking_again_replaces_the_time(stack_file):
    revoke(stack_file, "dev-writer", WHEN)
    revoke(stack_file, "dev-writer", WHEN + timedelta(hours=1))
    text = stack_file.read_text()
    assert text.count("revokeSessionsIssuedBefore") == 1
    assert grants_of(text)["dev-writer"].revoke_sessions_issued_before == "2026-12-01T10:30:15Z"


def test_a_time_in_another_zone_is_written_in_utc():
    text = revoked_text(COMMITTED, "dev-writer", datetime(2026, 12, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))))
    assert 'revokeSessionsIssuedBefore: "2026-12-01T12:00:00Z"' in text


def test_a_time_within_a_second_is_rounded_up_so_sessions_issued_earlier_in_that_second_are_revoked(stack_file):
    # aws:TokenIssueTime has whole seconds: a session issued at 09:30:15.2 has 09:30:15, which DateLessThan
    # 09:30:15 would not revoke.
    assert revoke(stack_file, "dev-writer", WHEN + timedelta(milliseconds=700)) == \
        'revokeSessionsIssuedBefore: "2026-12-01T09:30:16Z"'
    assert grants_of(stack_file.read_text())["dev-writer"].revoke_sessions_issued_before == "2026-12-01T09:30:16Z"


def test_an_unknown_grant_is_refused_naming_the_grants_and_nothing_is_written(stack_file):
    with pytest.raises(RevokeError, match="no grant 'nope'.*dev-writer, analytics-reader"):
        revoke(stack_file, "nope", WHEN)
    assert stack_file.read_text() == COMMITTED


def test_a_future_time_is_refused_as_the_preview_would_and_nothing_is_written(stack_file):
    with pytest.raises(RevokeError, match="in the future"):
        revoke(stack_file, "dev-writer", datetime.now(UTC) + timedelta(days=1))
    assert stack_file.read_text() == COMMITTED


def test_a_grants_list_not_in_block_style_is_refused(tmp_path):
    path = tmp_path / "Pulumi.prod.yaml"
    config = yaml.safe_load(COMMITTED)
    path.write_text(yaml.safe_dump(config, default_flow_style=True))
    before = path.read_text()
    with pytest.raises(RevokeError, match="by hand"):
        revoke(path, "dev-writer", WHEN)
    assert path.read_text() == before


def test_the_command_reports_failure_with_exit_status_one(stack_file, capsys):
    assert main(["--grant", "nope", "--stack-file", str(stack_file)]) == 1
    assert "revoke: no grant 'nope'" in capsys.readouterr().err


def test_make_revoke_without_a_grant_says_how_to_call_it():
    done = subprocess.run(["make", "-s", "revoke"], cwd=PROJECT_DIR, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable})
    assert done.returncode == 2
    assert "usage: make revoke GRANT=<grant name>" in done.stderr


def test_the_revocation_shows_in_the_preview_as_one_new_role_policy(stack_file):
    # What a reviewer sees in the pull request: the snapshot diff (synth) gains exactly the revocation policy.
    revoke(stack_file, "dev-writer", WHEN)
    config = yaml.safe_load(stack_file.read_text())["config"]
    raw = {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    before, after = synth("prod")["resources"], synth("prod", raw)["resources"]
    added = [r for r in after if r not in before]
    assert [r for r in before if r not in after] == []
    assert [(r["type"], r["name"]) for r in added] == [("aws:iam/rolePolicy:RolePolicy",
                                                        "dev-writer-revoke-older-sessions")]
    assert added[0]["inputs"]["policy"]["Statement"] == [{
        "Sid": "RevokeOlderSessions", "Effect": "Deny", "Action": "*", "Resource": "*",
        "Condition": {"DateLessThan": {"aws:TokenIssueTime": "2026-12-01T09:30:15Z"}}}]
