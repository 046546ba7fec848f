"""Regression tests of issue 11 items 1-3 over a real socket, on SQLite and PostgreSQL.

1. Query-string pagination the middleware could not parse was a plain-text HTTP 500.
2. Unpaired surrogates echoed into error messages could not be encoded (HTTP 500), and an enum
   given as one leaked internal text.
3. NUL characters were stored by SQLite but an ``internal`` error on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from typing import TYPE_CHECKING
from urllib.parse import unquote

import httpx
import pytest
import sqlalchemy as sa

from runnerkit.server.app import create_app
from runnerkit.server.bootstrap import bootstrap_admin, build_services
from runnerkit.server.crypto import MasterKey
from runnerkit.server.storage import open_store
from runnerkit.testing.serving import serve_in_thread
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc_pb2
from runnerkit_proto.gitpod.v1 import runner_pb2
from tests.server.fuzz_grpc import h2_call
from tests.support.server import running_server

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

RUNNERS = "/gitpod.v1.RunnerService/"
CONFIG = "/gitpod.v1.RunnerConfigurationService/"
LIST = RUNNERS + "ListRunners"
CREATE = RUNNERS + "CreateRunner"


@pytest.fixture(scope="module")
def sqlite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    with (
        running_server(tmp_path_factory.mktemp("hostile")) as (url, token),
        httpx.Client(base_url=url, headers={"authorization": f"Bearer {token}"}) as client,
    ):
        yield client


@contextlib.contextmanager
def _postgres_server(postgres_url: str) -> Iterator[httpx.Client]:
    base = sa.make_url(postgres_url)
    name = f"rk_{uuid.uuid4().hex}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    store = open_store(base.set(database=name).render_as_string(hide_password=False))
    services = build_services(store, MasterKey(bytes(range(32))))
    try:
        token = bootstrap_admin(store)
        assert token is not None
        with (
            serve_in_thread(create_app(services)) as url,
            httpx.Client(base_url=url, headers={"authorization": f"Bearer {token}"}) as client,
        ):
            yield client
    finally:
        services.scm.close()
        store.close()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[httpx.Client]:
    """A live server on a fresh store of either backend, with an admin-authenticated client."""
    if request.param == "sqlite":
        with (
            running_server(tmp_path) as (url, token),
            httpx.Client(base_url=url, headers={"authorization": f"Bearer {token}"}) as client,
        ):
            yield client
        return
    with _postgres_server(request.getfixturevalue("postgres_url")) as client:
        yield client


def _json(client: httpx.Client, path: str, body: str | bytes) -> httpx.Response:
    return client.post(path, content=body, headers={"content-type": "application/json"})


def _error(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["code"], body["message"]


# --- item 1: query-string pagination --------------------------------------------------------


@pytest.mark.parametrize("size", ["²", "--1", "9" * 5000, "%2B1", "1.5", "2147483648", "%00"])
def test_bad_page_size_in_query_is_invalid_argument(sqlite_server: httpx.Client, size: str):
    response = _json(sqlite_server, f"{LIST}?pageSize={size}", b"{}")
    status, code, message = _error(response)
    assert (status, code) == (400, "invalid_argument")
    assert message.startswith("pagination.page_size: must be a")


def test_good_page_size_in_query_still_overrides_the_body(sqlite_server: httpx.Client):
    for i in range(3):
        _json(sqlite_server, CREATE, f'{{"name":"query-{i}","provider":"RUNNER_PROVIDER_GCP"}}')
    response = _json(sqlite_server, f"{LIST}?pageSize=2", b'{"pagination":{"pageSize":50}}')
    assert response.status_code == 200
    assert len(response.json()["runners"]) == 2
    status, code, message = _error(_json(sqlite_server, f"{LIST}?pageSize=-1", b"{}"))
    assert (status, code) == (400, "invalid_argument")
    assert message.startswith("pagination.page_size: must be greater than or equal to 0")


@pytest.mark.parametrize("query", ["?pageSize=5", "?token=abc", ""])
def test_deeply_nested_body_is_invalid_argument(sqlite_server: httpx.Client, query: str):
    deep = b'{"filter":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = _json(sqlite_server, LIST + query, deep)
    assert _error(response) == (400, "invalid_argument", "request body is nested too deeply")


# --- items 2 and 3: surrogates and NUL, the same answers on both stores ------------------------

_NUL = "must not contain NUL characters"
_SURROGATE = "not valid text (unpaired UTF-16 surrogate)"
CASES = [
    (CREATE, '{"name":"a\\u0000b","provider":"RUNNER_PROVIDER_GCP"}', f"name: {_NUL}"),
    (
        CREATE,
        '{"name":"r","provider":"RUNNER_PROVIDER_GCP","spec":{"configuration":{"region":"e\\u0000"}}}',
        f"spec.configuration.region: {_NUL}",
    ),
    (LIST, '{"filter":{"creatorIds":["\\u0000"]}}', f"filter.creator_ids[0]: {_NUL}"),
    (LIST, '{"filter":{"kinds":"\\ud800"}}', f"filter.kinds: {_SURROGATE}"),
    (
        CONFIG + "CreateHostAuthenticationToken",
        '{"scopes":"\\ud800"}',
        f"scopes: {_SURROGATE}",
    ),
    (CREATE, '{"name":"r","provider":"\\ud800"}', f"provider: {_SURROGATE}"),
    (CREATE, '{"name":"\\udfff x","provider":"RUNNER_PROVIDER_GCP"}', f"name: {_SURROGATE}"),
    (CREATE, '{"\\ud800":1,"name":"r"}', f"\\ud800: {_SURROGATE}"),
]


def _count_runners(client: httpx.Client) -> int:
    response = _json(client, LIST, b'{"pagination":{"pageSize":100}}')
    assert response.status_code == 200
    return len(response.json().get("runners", []))


def test_nul_and_surrogates_get_the_same_answer_on_both_stores(
    server: httpx.Client, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.WARNING)
    before = _count_runners(server)
    answers = [_error(_json(server, path, body)) for path, body, _ in CASES]
    assert answers == [(400, "invalid_argument", message) for _, _, message in CASES]
    assert _count_runners(server) == before  # nothing stored
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_nul_over_binary_protobuf_is_refused_alike(server: httpx.Client):
    request = runner_pb2.CreateRunnerRequest(name="a\x00b", provider=rc_pb2.RUNNER_PROVIDER_GCP)
    response = server.post(
        CREATE,
        content=request.SerializeToString(),
        headers={"content-type": "application/proto"},
    )
    assert _error(response) == (400, "invalid_argument", f"name: {_NUL}")


def test_valid_surrogate_pairs_and_other_controls_are_stored_alike(server: httpx.Client):
    body = '{"name":"emoji \\ud83d\\ude00 tab\\t bell\\u0007","provider":"RUNNER_PROVIDER_GCP"}'
    created = _json(server, CREATE, body)
    assert created.status_code == 200
    runner_id = created.json()["runner"]["runnerId"]
    got = _json(server, RUNNERS + "GetRunner", f'{{"runnerId":"{runner_id}"}}')
    assert got.json()["runner"]["name"] == "emoji 😀 tab\t bell\x07"


def test_enum_errors_never_leak_internal_text(sqlite_server: httpx.Client):
    for value in ['"\\ud800"', '"NO_SUCH_PROVIDER"', "1e99", "[1]", '{"a":1}']:
        response = _json(sqlite_server, CREATE, f'{{"name":"r","provider":{value}}}')
        status, code, message = _error(response)
        assert (status, code) == (400, "invalid_argument"), message
        assert "<method" not in message
        assert "_ByNameMap" not in message
        assert "exception set" not in message


# --- found by the fuzzer ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "value", "expected"),
    [
        ("authorization", b"Bearer \xff\xfe", (401, "unauthenticated")),
        ("connect-timeout-ms", b"1\xb5", (400, "invalid_argument")),
    ],
)
def test_header_values_that_are_not_utf8_get_a_clean_answer(
    sqlite_server: httpx.Client,
    caplog: pytest.LogCaptureFixture,
    header: str,
    value: bytes,
    expected: tuple[int, str],
):
    caplog.set_level(logging.WARNING)
    response = sqlite_server.post(
        LIST,
        content=b"{}",
        headers=[(b"content-type", b"application/json"), (header.encode(), value)],
    )
    assert (response.status_code, response.json()["code"]) == expected
    odd_type = sqlite_server.post(LIST, content=b"{}", headers=[(b"content-type", b"\xf5x")])
    assert odd_type.status_code == 415
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_grpc_web_compressed_frame_without_encoding_is_invalid_argument(
    sqlite_server: httpx.Client,
):
    response = sqlite_server.post(
        LIST,
        content=b"\x01\x00\x00\x00\x00",
        headers={"content-type": "application/grpc-web+proto"},
    )
    assert response.status_code == 200
    assert response.headers["grpc-status"] == "3"
    assert "grpc-encoding" in response.headers["grpc-message"]
    fine = sqlite_server.post(
        LIST,
        content=b"\x00\x00\x00\x00\x00",
        headers={"content-type": "application/grpc-web+proto"},
    )
    assert fine.content.endswith(b"grpc-status: 0\r\n")


@pytest.mark.parametrize(
    ("headers", "body", "message"),
    [
        ([], b"\x00\x00\x00\x00\x00", "gRPC requests must carry te: trailers"),
        (
            [(b"te", b"trailers")],
            b"\x01\x00\x00\x00\x00",
            "compressed message without grpc-encoding",
        ),
    ],
)
def test_grpc_requests_the_server_could_not_answer_get_a_status(
    sqlite_server: httpx.Client, headers: list[tuple[bytes, bytes]], body: bytes, message: str
):
    token = sqlite_server.headers["authorization"].encode()
    answer = h2_call(
        str(sqlite_server.base_url),
        LIST,
        [(b"content-type", b"application/grpc"), (b"authorization", token), *headers],
        body,
    )
    assert answer.status_code == 200
    assert answer.headers["grpc-status"] == "3"
    assert unquote(answer.headers["grpc-message"]) == message
    fine = h2_call(
        str(sqlite_server.base_url),
        LIST,
        [(b"content-type", b"application/grpc"), (b"authorization", token), (b"te", b"trailers")],
        b"\x00\x00\x00\x00\x00",
    )
    assert fine.trailers["grpc-status"] == "0"
