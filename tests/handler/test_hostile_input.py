"""Property-based specs for the handlers' events: whatever arrives, they answer and never misbehave.

Properties, for every event hypothesis can think of:

- ``lambda_handler`` never raises (a valid configuration is in place);
- the response is exactly ``{"statusCode": int, "body": <JSON text of an object>}`` and one JSON log
  line is printed with the same status;
- an invalid event gives 400 ``InvalidEvent`` whose message names the offending field, and then
  nothing was written to the PROD bucket and AssumeRole was not called;
- a valid event gives 200 and the object lands under the prefix with exactly the body's bytes (or,
  keys being write-once, 409 with nothing written when an earlier example already used that key).

The moto world of ``conftest.py`` is built once per test function (hence the suppressed
``function_scoped_fixture`` health check). What must hold per example is re-established per example:
the handler is reset to a cold container (so a write would have to assume the role first, which the
STS watcher and moto's own record of sessions would both see), the bucket's object versions and the
AssumeRole counts are compared before and after each invocation, and the log buffer is drained.
Object versions are read from moto's backend rather than by ListObjectVersions, because moto cannot
render keys holding XML-1.0-invalid characters (e.g. U+FFFE, which S3 itself accepts) in a listing.

The reader (at the end) is held to the same shape, one log line and rejections, and for any valid key
answers 200 with the object's exact bytes or 404 NoSuchKey, and never writes.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import event as label
from hypothesis import strategies as st
from moto.s3.models import s3_backends

from lambda_handler import config, events

from .conftest import (
    BUCKET,
    FUNCTION_NAME,
    KEY_PREFIX,
    PROD_ACCOUNT,
    Accounts,
    Function,
    LambdaContext,
    Reader,
    StsCalls,
    Writer,
)

FIELDS = events.EVENT_FIELDS
MAX_KEY_BYTES = events.S3_MAX_KEY_BYTES - len(KEY_PREFIX.encode())
SMALL_LIMIT = 64  # MAX_BODY_BYTES for the size tests, so huge bodies stay cheap

# No AWS is touched for invalid events, so they can have many examples; writes get fewer.
REJECTS = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
WRITES = settings(REJECTS, max_examples=25)
MIXED = settings(REJECTS, max_examples=60)  # some examples write, most do not


# --- the contract, stated independently of the handler's code -----------------------------------


def _no_surrogates(text: str) -> bool:
    return not any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def key_is_valid(key: Any) -> bool:
    return (
        isinstance(key, str)
        and key != ""
        and not key.startswith("/")
        and "\\" not in key
        and not any(ord(c) < 0x20 or ord(c) == 0x7F for c in key)
        and ".." not in key.split("/")
        and _no_surrogates(key)
        and len(key.encode("utf-8")) <= MAX_KEY_BYTES
    )


def body_is_valid(body: Any, limit: int) -> bool:
    return isinstance(body, str) and _no_surrogates(body) and len(body.encode("utf-8")) <= limit


def content_type_is_valid(value: Any) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 255 and all(" " <= c <= "~" for c in value)


def as_json_reads_it(text: str) -> str:
    """What a string becomes after a trip through JSON: a surrogate *pair* becomes one character."""
    return json.loads(json.dumps(text))


def bad_fields(event: Any, limit: int = config.DEFAULT_MAX_BODY_BYTES) -> set[str]:
    """Every field the handler may name for this event; empty when the event is valid."""
    if not isinstance(event, dict):
        return {"event"}
    bad = {str(name) for name in event if name not in FIELDS}
    if "key" in event and not key_is_valid(event["key"]):
        bad.add("key")
    if "body" in event and not body_is_valid(event["body"], limit):
        bad.add("body")
    if "content_type" in event and not content_type_is_valid(event["content_type"]):
        bad.add("content_type")
    return bad


# --- strategies -----------------------------------------------------------------------------------

SURROGATES = st.integers(0xD800, 0xDFFF).map(chr)
CONTROLS = st.sampled_from([chr(c) for c in range(0x20)] + ["\x7f"])
# Any code point at all, lone surrogates included.
ANY_CHAR = st.one_of(st.characters(), SURROGATES, CONTROLS)
ANY_TEXT = st.text(ANY_CHAR, max_size=40)

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(ANY_CHAR, max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=10)), children, max_size=4),
    max_leaves=10,
)
NOT_A_STRING = JSON_VALUES.filter(lambda v: not isinstance(v, str))
NOT_AN_OBJECT = st.one_of(
    st.lists(JSON_VALUES, max_size=4),
    ANY_TEXT,
    st.integers(),
    st.floats(),
    st.booleans(),
    st.none(),
    st.tuples(JSON_VALUES),  # not JSON, but what a Python caller might pass
)

# Pieces of text that can never make a key invalid by themselves.
SAFE_CHAR = st.characters(exclude_categories=("Cc", "Cs"), exclude_characters="/\\")
SEGMENT = st.text(SAFE_CHAR, min_size=1, max_size=12).filter(lambda s: s != "..")
VALID_KEY = st.lists(SEGMENT, min_size=1, max_size=4).map("/".join)
# A key with at least one thing wrong, whatever surrounds it.
HOSTILE_KEY = st.one_of(
    st.just(""),
    st.builds(lambda segs, i: "/".join([*segs[:i], "..", *segs[i:]]),
              st.lists(SEGMENT, max_size=3), st.integers(0, 3)),
    st.builds("/{}".format, ANY_TEXT),
    st.builds("{}\\{}".format, ANY_TEXT, ANY_TEXT),
    st.builds("{}{}{}".format, ANY_TEXT, CONTROLS, ANY_TEXT),
    st.builds("{}{}{}".format, ANY_TEXT, SURROGATES, ANY_TEXT),
    st.builds(lambda ch, extra: ch * (MAX_KEY_BYTES // len(ch.encode()) + 1 + extra),
              st.sampled_from(["k", "é", "€", "😀"]), st.integers(0, 3000)),
)
VALID_BODY = st.text(max_size=200)
VALID_CONTENT_TYPE = st.one_of(
    st.from_regex(r"[a-z]{1,12}/[a-z0-9.+-]{1,20}(; ?charset=[a-z0-9-]{1,10})?", fullmatch=True),
    st.from_regex(r"[\x21-\x7e]([\x20-\x7e]{0,253}[\x21-\x7e])?", fullmatch=True),
)
VALID_EVENT = st.fixed_dictionaries(
    {}, optional={"key": VALID_KEY, "body": VALID_BODY, "content_type": VALID_CONTENT_TYPE}
)


# --- the world one test function runs in -----------------------------------------------------------


@dataclass
class Outcome:
    event: Any
    status: int
    body: dict[str, Any]
    log: dict[str, Any]
    before: list[tuple[str, str]]  # object versions in the bucket before the call
    after: list[tuple[str, str]]
    assumed: int  # AssumeRole calls the call made (client side and moto's own record)

    @property
    def wrote(self) -> bool:
        return self.after != self.before


@dataclass
class World:
    accounts: Accounts
    sts: StsCalls
    capsys: pytest.CaptureFixture[str]
    context: LambdaContext
    function: Function  # the function under test (conftest.Writer or conftest.Reader)

    @staticmethod
    def stored() -> list[tuple[str, str]]:
        """(key, version id) of every object version in the PROD bucket, from moto's backend."""
        bucket = s3_backends[PROD_ACCOUNT]["aws"].get_bucket(BUCKET)
        return sorted((key, v.version_id) for key, versions in bucket.keys.iterlists() for v in versions)

    def _assume_role_count(self) -> int:
        return len(self.sts.params) + Accounts.sessions_of_prod_role(self.function.role_arn)

    def invoke(self, event: Any, *, cold: bool = False) -> Outcome:
        """Call the handler; check the shape of every response and its one log line.

        ``cold``: start from a cold container, so a write would have to assume the role first.
        """
        if cold:
            self.function.module._reset_for_tests()
        before, assumed = self.stored(), self._assume_role_count()
        self.capsys.readouterr()
        response = self.function.module.lambda_handler(event, self.context)  # must never raise
        lines = self.capsys.readouterr().out.splitlines()
        assert isinstance(response, dict) and set(response) == {"statusCode", "body"}, response
        status = response["statusCode"]
        assert type(status) is int
        assert isinstance(response["body"], str)
        body = json.loads(response["body"])
        assert isinstance(body, dict)
        assert len(lines) == 1, lines
        log = json.loads(lines[0])
        assert log["status"] == status
        return Outcome(event, status, body, log, before, self.stored(), self._assume_role_count() - assumed)

    def assert_rejected(self, event: Any, fields: set[str], *, empty: bool = True) -> dict[str, Any]:
        """A 400 naming one of ``fields``; nothing written, role not assumed (bucket still empty)."""
        out = self.invoke(event, cold=True)
        assert out.status == 400, (event, out.body)
        assert_rejection(out, fields)
        if empty:
            assert out.after == [] and self.sts.params == []
        return out.body

    def assert_accepted(self, event: dict[str, Any], *, cold: bool = False) -> Outcome:
        """Valid: written under the prefix byte for byte, or 409 if the key was taken before."""
        out = self.invoke(event, cold=cold)
        self.check_accepted(out)
        return out

    def check_accepted(self, out: Outcome) -> None:
        event, body = out.event, out.body
        if "key" in event and KEY_PREFIX + event["key"] in {key for key, _ in out.before}:
            # Keys are write-once: a key an earlier example wrote is refused, untouched.
            assert (out.status, body["error"]) == (409, "ObjectAlreadyExists"), (event, body)
            assert not out.wrote
            return
        assert out.status == 200, (event, body)
        if "key" in event:
            assert body["key"] == KEY_PREFIX + event["key"]
        else:
            assert uuid.UUID(body["key"].removeprefix(KEY_PREFIX)).version == 4
        assert body["bucket"] == BUCKET
        [(key, version)] = sorted(set(out.after) - set(out.before))  # exactly one new object version
        assert key == body["key"] and key.startswith(KEY_PREFIX)
        assert body["versionId"] in (version, None)
        obj = self.accounts.prod_s3.get_object(Bucket=BUCKET, Key=key, VersionId=version)
        stored = obj["Body"].read()
        if "body" in event:
            assert stored == event["body"].encode("utf-8")
            assert obj["ContentType"] == event.get("content_type", events.TEXT_CONTENT_TYPE)
        else:
            assert json.loads(stored)["function"] == FUNCTION_NAME
            assert obj["ContentType"] == event.get("content_type", events.JSON_CONTENT_TYPE)


def assert_rejection(out: Outcome, fields: set[str]) -> None:
    assert out.body["error"] == "InvalidEvent"
    # A field name goes through JSON in the response and the log (a surrogate pair comes back joined).
    assert out.log["field"] in {as_json_reads_it(f) for f in fields}, (out.log["field"], fields)
    assert out.log["field"] in out.body["message"], out.body
    assert not out.wrote, "a rejected event wrote something"
    assert out.assumed == 0, "a rejected event assumed the role"


@pytest.fixture
def world(
    lambda_env: Accounts, sts_calls: StsCalls, capsys: pytest.CaptureFixture[str], context: LambdaContext
) -> World:
    return World(lambda_env, sts_calls, capsys, context, Writer(lambda_env))


@pytest.fixture
def small_limit(lambda_env: Accounts, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("MAX_BODY_BYTES", str(SMALL_LIMIT))
    return SMALL_LIMIT


# --- properties ---------------------------------------------------------------------------------


@settings(REJECTS, max_examples=150)
@given(event=st.one_of(JSON_VALUES, st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES)))
def test_any_json_value_gets_a_well_formed_answer_and_only_valid_ones_write(
    world: World, event: Any
) -> None:
    out = world.invoke(event, cold=True)

    bad = bad_fields(event)
    label(f"status {out.status}")
    if bad:
        assert out.status == 400, (event, out.body)
        assert_rejection(out, bad)
    else:
        world.check_accepted(out)


@REJECTS
@given(event=NOT_AN_OBJECT)
def test_an_event_that_is_not_an_object_is_rejected(world: World, event: Any) -> None:
    body = world.assert_rejected(event, {"event"})
    assert "JSON object" in body["message"]


@REJECTS
@given(
    wrong=st.sampled_from(FIELDS),
    value=NOT_A_STRING,
    others=VALID_EVENT,
)
def test_a_known_field_of_the_wrong_type_is_rejected_naming_it(
    world: World, wrong: str, value: Any, others: dict[str, str]
) -> None:
    body = world.assert_rejected(others | {wrong: value}, {wrong})
    assert f"'{wrong}' must be a string" in body["message"]


@REJECTS
@given(
    valid=VALID_EVENT,
    unknown=st.dictionaries(st.text(ANY_CHAR, max_size=20).filter(lambda k: k not in FIELDS),
                            JSON_VALUES, min_size=1, max_size=3),
)
def test_unknown_fields_are_rejected_naming_each(
    world: World, valid: dict[str, str], unknown: dict[str, Any]
) -> None:
    body = world.assert_rejected(valid | unknown, set(unknown))
    for name in unknown:
        assert f"'{as_json_reads_it(name)}'" in body["message"]


@REJECTS
@given(key=HOSTILE_KEY, rest=st.fixed_dictionaries({}, optional={"body": VALID_BODY,
                                                                  "content_type": VALID_CONTENT_TYPE}))
def test_hostile_keys_are_rejected_naming_the_key(world: World, key: str, rest: dict[str, str]) -> None:
    assert not key_is_valid(key)
    body = world.assert_rejected(rest | {"key": key}, {"key"})
    assert "'key'" in body["message"]


@MIXED
@given(key=st.one_of(st.text(), st.text(ANY_CHAR, max_size=30)))
def test_any_unicode_key_is_written_if_and_only_if_it_is_valid(world: World, key: str) -> None:
    event = {"key": key, "body": "k"}
    label(f"valid key: {key_is_valid(key)}")
    if key_is_valid(key):
        world.assert_accepted(event)
    else:
        world.assert_rejected(event, {"key"}, empty=False)


@WRITES
@given(ch=st.sampled_from(["k", "é", "€", "😀"]), slack=st.integers(-3, 3))
@example(ch="k", slack=0).via("the limit exactly")
@example(ch="k", slack=1).via("one byte over")
@example(ch="€", slack=1).via("one character, three bytes, over")
def test_keys_around_the_length_limit(world: World, ch: str, slack: int) -> None:
    n = MAX_KEY_BYTES // len(ch.encode()) + slack
    event = {"key": ch * n, "body": ""}
    if len(event["key"].encode()) <= MAX_KEY_BYTES:
        world.assert_accepted(event)
    else:
        body = world.assert_rejected(event, {"key"}, empty=False)
        assert f"at most {MAX_KEY_BYTES}" in body["message"]


@MIXED
@given(
    ch=st.sampled_from(["x", "é", "€", "😀"]),
    slack=st.one_of(st.integers(-3, 3), st.integers(-SMALL_LIMIT, 200_000)),
)
@example(ch="x", slack=0).via("the limit exactly")
@example(ch="x", slack=1).via("one byte over")
@example(ch="😀", slack=1).via("one character, four bytes, over")
def test_bodies_over_max_body_bytes_are_rejected_and_up_to_it_written(
    world: World, small_limit: int, ch: str, slack: int
) -> None:
    n = max(0, small_limit // len(ch.encode()) + slack)  # characters; the limit is in UTF-8 bytes
    event = {"body": ch * n}  # no key: a fresh one each time, since keys are write-once
    label(f"within the limit: {len(event['body'].encode()) <= small_limit}")
    if len(event["body"].encode()) <= small_limit:
        world.assert_accepted(event)
    else:
        body = world.assert_rejected(event, {"body"}, empty=False)
        assert f"limit is {small_limit} bytes (MAX_BODY_BYTES)" in body["message"]


@REJECTS
@given(
    key=VALID_KEY,
    body=st.builds("{}{}{}".format, st.text(max_size=10), SURROGATES, st.text(max_size=10)),
)
def test_a_body_with_a_lone_surrogate_is_rejected(world: World, key: str, body: str) -> None:
    response = world.assert_rejected({"key": key, "body": body}, {"body"})
    assert "lone surrogates" in response["message"]


@REJECTS
@given(
    content_type=st.one_of(
        st.just(""),
        st.text(st.characters(max_codepoint=0x7E), min_size=256, max_size=400),
        st.builds("{}{}{}".format, st.text(max_size=10), ANY_CHAR.filter(lambda c: not " " <= c <= "~"),
                  st.text(max_size=10)),
    ),
    body=st.none() | VALID_BODY,
)
def test_an_invalid_content_type_is_rejected(world: World, content_type: str, body: str | None) -> None:
    event = {"content_type": content_type} | ({} if body is None else {"body": body})
    world.assert_rejected(event, {"content_type"})


@WRITES
@given(event=VALID_EVENT, again=st.booleans())
def test_valid_events_are_written_under_the_prefix_byte_for_byte(
    world: World, event: dict[str, str], again: bool
) -> None:
    first = world.assert_accepted(event)  # a warm container: the writer is reused across examples

    if again and "key" in event and first.status == 200:
        # Keys are write-once: the same key again is refused and the first object stays as it was.
        world.assert_accepted(event | {"body": "something else"})


# --- the reader -----------------------------------------------------------------------------------

READ_FIELDS = events.READ_EVENT_FIELDS
# What the PROD bucket holds under the prefix for the reader to find: text, bytes that are not UTF-8, nothing.
READABLE = {"a.txt": "some text, café".encode(), "bin/blob": b"\xff\xfe\x00", "empty": b""}


def read_bad_fields(event: Any) -> set[str]:
    """Every field the reader may name for this event; empty when the event is valid."""
    if not isinstance(event, dict):
        return {"event"}
    bad = {str(name) for name in event if name not in READ_FIELDS}
    if not key_is_valid(event.get("key")):  # missing, not a string, or not a key
        bad.add("key")
    return bad


READ_EVENTS = st.one_of(
    JSON_VALUES,
    st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES),
    st.fixed_dictionaries(
        {"key": st.one_of(st.sampled_from(sorted(READABLE)), VALID_KEY, HOSTILE_KEY, ANY_TEXT)},
        optional={"body": JSON_VALUES},
    ),
    # Valid events, so that reads (found or not) are as well explored as rejections.
    st.fixed_dictionaries({"key": st.one_of(st.sampled_from(sorted(READABLE)), VALID_KEY)}),
)


@pytest.fixture
def reader_world(
    reader_env: Accounts, sts_calls: StsCalls, capsys: pytest.CaptureFixture[str], context: LambdaContext
) -> World:
    for key, data in READABLE.items():
        reader_env.put(key, data)
    return World(reader_env, sts_calls, capsys, context, Reader(reader_env))


@settings(REJECTS, max_examples=150)
@given(event=READ_EVENTS)
@example(event={"key": "a.txt"}).via("text")
@example(event={"key": "bin/blob"}).via("bytes that are not UTF-8")
@example(event={"key": "a.txt", "body": "x"}).via("a writer's field")
@example(event={"key": "no-such\ufffe"}).via("a missing key S3 accepts but an XML error document cannot hold")
def test_the_reader_answers_any_json_value_well_formed_reads_only_valid_keys_and_never_writes(
    reader_world: World, event: Any
) -> None:
    out = reader_world.invoke(event, cold=True)

    label(f"status {out.status}")
    assert not out.wrote, "the reader wrote something"
    bad = read_bad_fields(event)
    if bad:
        assert out.status == 400, (event, out.body)
        assert_rejection(out, bad)
        return
    key = KEY_PREFIX + event["key"]
    assert out.log["key"] == key
    if event["key"] not in READABLE:
        assert (out.status, out.body["error"]) == (404, "NoSuchKey"), (event, out.body)
        assert key in out.body["message"]
        return
    assert out.status == 200, (event, out.body)
    data = READABLE[event["key"]]
    assert (out.body["bucket"], out.body["key"], out.body["size"]) == (BUCKET, key, len(data))
    if out.body["encoding"] == "utf-8":
        assert out.body["body"].encode("utf-8") == data
    else:
        assert out.body["encoding"] == "base64"
        assert base64.b64decode(out.body["body"], validate=True) == data
