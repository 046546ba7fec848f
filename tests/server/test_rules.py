"""The rules without HTTP: runner validation and updates, access, ids, page tokens, crypto,
the error table."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import uuid

import pytest
from connectrpc.code import Code
from hypothesis import given
from hypothesis import strategies as st
from nacl.exceptions import CryptoError

from runnerkit.server import crypto
from runnerkit.server.domain.access import Access, may_create_runners, require, runner_access
from runnerkit.server.domain.errors import (
    AlreadyExistsError,
    DomainError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    ResourceExhaustedError,
    UnavailableError,
    UnimplementedError,
)
from runnerkit.server.domain.ids import parse_uuid
from runnerkit.server.domain.runners import apply_update, normalise_window, validate_create
from runnerkit.server.errors import to_connect_error
from runnerkit.server.pagination import PageTokens, fingerprint, page_size
from runnerkit.server.storage.base import SubjectRecord
from runnerkit_proto.gitpod.v1 import identity_pb2, pagination_pb2, runner_pb2
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc_pb2

R = runner_pb2
W = R.UpdateWindow


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        (W(), None),
        (W(start_hour=0), W(start_hour=0, end_hour=2)),
        (W(start_hour=22), W(start_hour=22, end_hour=0)),
        (W(start_hour=23), W(start_hour=23, end_hour=1)),
        (W(start_hour=22, end_hour=4), W(start_hour=22, end_hour=4)),
        (W(start_hour=5, end_hour=7), W(start_hour=5, end_hour=7)),
    ],
)
def test_update_window_normalisation(window, expected):
    assert normalise_window(window, "w") == expected


@pytest.mark.parametrize(
    ("window", "field"),
    [
        (W(end_hour=3), "w.start_hour"),
        (W(start_hour=24), "w.start_hour"),
        (W(start_hour=1, end_hour=24), "w.end_hour"),
        (W(start_hour=1, end_hour=2), "w.end_hour"),
        (W(start_hour=5, end_hour=5), "w.end_hour"),
    ],
)
def test_update_window_errors(window, field):
    with pytest.raises(InvalidArgumentError) as info:
        normalise_window(window, "w")
    assert info.value.field == field


def test_validate_create_defaults_and_secret_handling():
    spec = R.RunnerSpec(
        configuration=R.RunnerConfiguration(metrics=R.MetricsConfiguration(password="pw"))
    )
    new = validate_create(
        R.CreateRunnerRequest(name="runner", provider=rc_pb2.RUNNER_PROVIDER_DEV_AGENT, spec=spec)
    )
    assert new.kind == rc_pb2.RUNNER_KIND_LOCAL
    assert new.metrics_password == "pw"
    assert not new.spec.configuration.HasField("metrics")
    assert new.spec.configuration.encrypted_honeycomb_api_key == b""
    assert new.spec.desired_phase == R.RUNNER_PHASE_ACTIVE
    assert new.spec.variant == R.RUNNER_VARIANT_STANDARD


def test_apply_update_by_presence():
    spec = R.RunnerSpec(configuration=R.RunnerConfiguration(auto_update=True, region="r"))
    request = R.UpdateRunnerRequest(
        spec=R.UpdateRunnerRequest.Spec(
            configuration=R.UpdateRunnerRequest.RunnerConfiguration(
                auto_update=False, honeycomb_api_key=""
            )
        )
    )
    update = apply_update("name", rc_pb2.RUNNER_KIND_REMOTE, spec, request)
    assert update.name == "name"
    assert update.spec.configuration.auto_update is False
    assert update.spec.configuration.region == "r"
    assert update.honeycomb_api_key == ""
    assert update.metrics_password is None
    assert spec.configuration.auto_update is True  # the input is not modified


def test_access_rules():
    group = str(uuid.uuid4())
    user = SubjectRecord(
        id="u", principal=identity_pb2.PRINCIPAL_USER, name="u", group_ids=frozenset({group})
    )
    admin = SubjectRecord(id="a", principal=identity_pb2.PRINCIPAL_USER, name="a", org_admin=True)
    runner = SubjectRecord(
        id="r", principal=identity_pb2.PRINCIPAL_RUNNER, name="r", org_admin=True
    )
    assert runner_access(admin, None, []) is Access.ADMIN
    assert runner_access(user, "u", []) is Access.ADMIN
    assert runner_access(user, "x", []) is Access.NONE
    assert runner_access(user, "x", [R.RUNNER_ROLE_USER]) is Access.USER
    assert runner_access(user, "x", [R.RUNNER_ROLE_USER, R.RUNNER_ROLE_ADMIN]) is Access.ADMIN
    require(Access.ADMIN, Access.USER, "id")
    with pytest.raises(PermissionDeniedError):
        require(Access.USER, Access.ADMIN, "id")
    assert may_create_runners(admin)
    assert not may_create_runners(user)
    assert not may_create_runners(runner)


def test_parse_uuid():
    value = str(uuid.uuid4())
    assert parse_uuid(value, "f") == value
    assert parse_uuid(value.upper(), "f") == value
    # Hyphens where uuid.UUID ignores them: still accepted, answered in canonical form.
    shifted = value[:7] + "-" + value[7] + value[9:]
    assert len(shifted) == 36
    assert parse_uuid(shifted, "f") == value
    for bad in ("", "x", value[:-1], "{" + value + "}", value.replace("-", ""), value + "\n"):
        with pytest.raises(InvalidArgumentError):
            parse_uuid(bad, "f")


@pytest.mark.parametrize(("size", "expected"), [(0, 25), (1, 1), (100, 100)])
def test_page_size(size, expected):
    # Sizes outside 0-100 never get here: the schema's rule rejects them first
    # (tests/server/test_request_rules.py).
    assert page_size(pagination_pb2.PaginationRequest(page_size=size)) == expected


def test_page_tokens_bind_rpc_filter_and_key():
    tokens = PageTokens(b"k" * 32)
    request = R.ListRunnersRequest(
        filter=R.ListRunnersRequest.Filter(kinds=[rc_pb2.RUNNER_KIND_REMOTE])
    )
    fp = fingerprint(request, "caller")
    token = tokens.encode("ListRunners", fp, [5, "id"])
    request.pagination.page_size = 7  # pagination is not part of the fingerprint
    assert fingerprint(request, "caller") == fp
    assert tokens.decode(token, "ListRunners", fp) == [5, "id"]
    assert tokens.decode("", "ListRunners", fp) is None
    assert fingerprint(request, "other") != fp
    with pytest.raises(InvalidArgumentError):
        tokens.decode(token, "ListRunnerPolicies", fp)
    with pytest.raises(InvalidArgumentError):
        tokens.decode(token, "ListRunners", fingerprint(R.ListRunnersRequest(), "caller"))
    with pytest.raises(InvalidArgumentError):
        PageTokens(b"j" * 32).decode(token, "ListRunners", fp)


def test_a_page_token_is_compact_json_and_a_truncated_hmac():
    key = b"k" * 32
    token = PageTokens(key).encode("ListRunners", "f" * 32, [1_700_000_000_123_456, "ü-id"])
    payload_b64, mac_b64 = token.split(".")
    payload = base64.urlsafe_b64decode(payload_b64 + "=" * (-len(payload_b64) % 4))
    assert payload == (
        b'{"v":1,"m":"ListRunners","f":"' + b"f" * 32 + b'","p":[1700000000123456,"\\u00fc-id"]}'
    )
    mac = base64.urlsafe_b64decode(mac_b64 + "=" * (-len(mac_b64) % 4))
    assert mac == hmac.new(key, payload, hashlib.sha256).digest()[:16]


def test_a_page_token_minted_with_an_hmac_object_is_still_accepted():
    """Tokens are byte-identical whichever HMAC call makes the MAC (``hmac.digest`` now)."""
    key = b"k" * 32
    payload = b'{"v":1,"m":"ListRunners","f":"' + b"f" * 32 + b'","p":[7,"id"]}'
    mac = hmac.new(key, payload, hashlib.sha256).digest()[:16]

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    token = b64(payload) + "." + b64(mac)
    tokens = PageTokens(key)
    assert tokens.decode(token, "ListRunners", "f" * 32) == [7, "id"]
    assert tokens.encode("ListRunners", "f" * 32, [7, "id"]) == token
    assert crypto.hmac_sha256(key, payload) == hmac.new(key, payload, hashlib.sha256).digest()


@given(st.text(max_size=200))
def test_garbage_page_tokens_are_invalid_argument_never_a_crash(garbage: str) -> None:
    tokens = PageTokens(b"k" * 32)
    with contextlib.suppress(InvalidArgumentError):
        tokens.decode(garbage, "ListRunners", "f")


def test_tokens_and_hashes():
    token = crypto.new_token(crypto.API_TOKEN_PREFIX)
    assert token.startswith("rk_")
    assert len(token) == 3 + 43
    assert crypto.hash_token(token) != token
    assert len(crypto.hash_token(token)) == 64
    assert crypto.new_token("x") != crypto.new_token("x")


def test_master_key_wraps_runner_keys_and_file_is_private(tmp_path):
    key_file = tmp_path / "k"
    master = crypto.load_master_key(key_file, environ={})
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert crypto.load_master_key(key_file, environ={}) == master
    pair = crypto.new_runner_key_pair(master)
    assert len(pair.public_key) == 32
    sealed = crypto.seal(pair.public_key, b"secret")
    assert crypto.unseal(master, pair.wrapped_private_key, sealed) == b"secret"
    other = crypto.load_master_key(tmp_path / "other", environ={})
    with pytest.raises(CryptoError):
        crypto.unseal(other, pair.wrapped_private_key, sealed)
    assert "redacted" in repr(master)
    env_key = crypto.load_master_key(
        tmp_path / "unused", environ={crypto.MASTER_KEY_ENV: base64.b64encode(bytes(32)).decode()}
    )
    assert env_key.key == bytes(32)
    assert not (tmp_path / "unused").exists()
    with pytest.raises(crypto.MasterKeyError):
        crypto.load_master_key(tmp_path / "unused", environ={crypto.MASTER_KEY_ENV: "c2hvcnQ="})


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (InvalidArgumentError("f", "bad"), Code.INVALID_ARGUMENT),
        (PermissionDeniedError("no"), Code.PERMISSION_DENIED),
        (NotFoundError("gone"), Code.NOT_FOUND),
        (AlreadyExistsError("dup"), Code.ALREADY_EXISTS),
        (FailedPreconditionError("state"), Code.FAILED_PRECONDITION),
        (UnimplementedError("later"), Code.UNIMPLEMENTED),
        (ResourceExhaustedError("rate limit"), Code.RESOURCE_EXHAUSTED),
        (UnavailableError("down"), Code.UNAVAILABLE),
        (DomainError("?"), Code.INTERNAL),
    ],
)
def test_error_table(error, code):
    converted = to_connect_error(error)
    assert converted.code == code
    if code != Code.INTERNAL:
        assert converted.message == error.message
    else:
        assert converted.message == "internal error"
