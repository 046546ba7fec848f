"""The compatibility contracts of docs/server.md, over plain HTTP on a real socket (urllib, no Connect
client): no Connect-Protocol-Version, query-string token/pageSize, unknown fields, error bodies
and statuses, x-should-retry, gzip, the 4 MiB limit, /healthz, Connect GET."""

from __future__ import annotations

import gzip
import http.client as http_client
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING

import pytest

from runnerkit.server.codecs import JSONCodec
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2, runner_connect, runner_pb2
from tests.support.server import running_server

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


class Http:
    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.token = token

    def post(self, rpc, body, *, query="", headers=None, token=None, raw=None):
        data = raw if raw is not None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.base_url}/gitpod.v1.RunnerService/{rpc}{query}",
            data=data,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {token or self.token}",
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, dict(response.headers), json.loads(response.read())
        except urllib.error.HTTPError as err:
            with err:
                body = err.read()
            return err.code, dict(err.headers), json.loads(body) if body else None


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Http]:
    directory: Path = tmp_path_factory.mktemp("http")
    with running_server(directory) as (base_url, token):
        yield Http(base_url, token)


def test_json_without_connect_protocol_version_and_unknown_fields(http):
    status, headers, body = http.post(
        "CreateRunner",
        {"name": "plain", "provider": "RUNNER_PROVIDER_AWS_EC2", "someFutureField": {"x": 1}},
    )
    assert status == 200, body
    assert headers["content-type"] == "application/json"
    assert body["runner"]["name"] == "plain"
    assert body["runner"]["kind"] == "RUNNER_KIND_REMOTE"
    assert body["exchangeToken"].startswith("rkx_")


def test_query_string_token_and_page_size_override_the_body(http):
    for i in range(3):
        http.post("CreateRunner", {"name": f"query{i}", "provider": "RUNNER_PROVIDER_GCP"})
    filt = {"filter": {"providers": ["RUNNER_PROVIDER_GCP"]}}
    status, _, first = http.post(
        "ListRunners", {**filt, "pagination": {"pageSize": 50}}, query="?pageSize=2"
    )
    assert status == 200
    assert len(first["runners"]) == 2
    token = first["pagination"]["nextToken"]
    _, _, second = http.post(
        "ListRunners",
        {**filt, "pagination": {"token": "bogus"}},
        query=f"?token={token}&pageSize=2",
    )
    assert len(second["runners"]) == 1
    assert second["runners"][0]["name"] == "query2"
    status, _, body = http.post("ListRunners", filt, query="?pageSize=abc")
    assert (status, body["code"]) == (400, "invalid_argument")


def test_error_body_status_mapping_and_should_retry(http):
    cases = [
        ("GetRunner", {"runnerId": "nope"}, None, 400, "invalid_argument"),
        ("GetRunner", {"runnerId": "00000000-0000-4000-8000-000000000000"}, None, 404, "not_found"),
        ("ListRunners", {}, "rk_wrong-token", 401, "unauthenticated"),
        (
            "CheckRepositoryAccess",
            {
                "runnerId": "00000000-0000-4000-8000-000000000000",
                "repositoryUrl": "https://github.com/org/repo",
            },
            None,
            404,
            "not_found",
        ),
    ]
    for rpc, body, token, status, code in cases:
        got_status, headers, error = http.post(rpc, body, token=token)
        assert (got_status, error["code"]) == (status, code)
        assert set(error) <= {"code", "message", "details"}
        assert error["message"]
        assert headers.get("x-should-retry") == "false"
    _, _, created = http.post(
        "CreateRunner", {"name": "xyz", "kind": "RUNNER_KIND_LOCAL_CONFIGURATION"}
    )
    status, headers, error = http.post(
        "CreateRunner", {"name": "xyz", "kind": "RUNNER_KIND_LOCAL_CONFIGURATION"}
    )
    assert (status, error["code"], headers.get("x-should-retry")) == (
        409,
        "already_exists",
        "false",
    )
    rid = created["runner"]["runnerId"]
    status, headers, error = http.post(
        "SearchRepositories", {"runnerId": rid, "scmHost": "github.com"}
    )
    assert (status, error["code"]) == (400, "failed_precondition")
    assert error["message"] == "missing authentication token for github.com"


def test_oversized_body_is_resource_exhausted_and_retryable(http):
    status, headers, error = http.post(
        "CreateRunner", None, raw=b"{" + b" " * (4 * 1024 * 1024) + b"}"
    )
    assert (status, error["code"]) == (429, "resource_exhausted")
    assert "x-should-retry" not in headers


def test_gzip_request_with_query_override(http):
    raw = gzip.compress(json.dumps({"pagination": {"pageSize": 9}}).encode())
    status, _, body = http.post(
        "ListRunners", None, raw=raw, headers={"Content-Encoding": "gzip"}, query="?pageSize=1"
    )
    assert status == 200
    assert len(body["runners"]) == 1


def test_malformed_json_is_invalid_argument(http):
    status, headers, error = http.post("ListRunners", None, raw=b"{not json")
    assert (status, error["code"], headers.get("x-should-retry")) == (
        400,
        "invalid_argument",
        "false",
    )


def test_healthz_and_unknown_path(http):
    with urllib.request.urlopen(f"{http.base_url}/healthz", timeout=10) as response:
        assert json.loads(response.read()) == {"status": "ok"}
    request = urllib.request.Request(f"{http.base_url}/nope", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=10)
    info.value.close()
    assert info.value.code == 404


def test_configuration_service_is_mounted_and_authenticated(http):
    url = f"{http.base_url}/gitpod.v1.RunnerConfigurationService/GetRunnerConfigurationSchema"
    # mounted and authenticated: a wrong token is 401; the admin gets past auth (whatever the
    # service answers to an empty request)
    for token, expected in ((http.token, None), ("wrong", 401)):
        request = urllib.request.Request(
            url,
            data=b"{}",
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status = response.status
        except urllib.error.HTTPError as err:
            err.close()
            status = err.code
        if expected is None:
            assert status not in (401, 404)
        else:
            assert status == expected


def test_connect_get_for_side_effect_free_rpcs(http):
    _, _, created = http.post("CreateRunner", {"name": "gamma", "kind": "RUNNER_KIND_REMOTE"})
    message = json.dumps({"runnerId": created["runner"]["runnerId"]})
    url = f"{http.base_url}/gitpod.v1.RunnerService/GetRunner?encoding=json&message={urllib.parse.quote(message)}"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {http.token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["runner"]["name"] == "gamma"


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-03-01T10:00:00Z",
        "2026-03-01T10:00:00+00:00",
        "2026-03-01T10:00:00",
        "2026-03-01T12:00:00+02:00",
    ],
)
def test_timestamps_with_or_without_offset_read_as_utc(stamp):
    body = json.dumps({"token": "t", "expiresAt": stamp, "unknownField": 1}).encode()
    message = JSONCodec().decode(
        body, runner_configuration_pb2.CreateHostAuthenticationTokenRequest
    )
    assert message.expires_at.ToJsonString() == "2026-03-01T10:00:00Z"


def test_json_codec_output_is_compact_camel_case():
    encoded = JSONCodec().encode(runner_pb2.GetRunnerRequest(runner_id="x"))
    assert encoded == b'{"runnerId":"x"}'


def test_gzip_bomb_with_query_override_is_resource_exhausted(http):
    raw = gzip.compress(b'{"pagination": {}, "x": "' + b"a" * (5 * 1024 * 1024) + b'"}')
    assert len(raw) < 64 * 1024
    status, _, error = http.post(
        "ListRunners", None, raw=raw, headers={"Content-Encoding": "gzip"}, query="?pageSize=1"
    )
    assert (status, error["code"]) == (429, "resource_exhausted")
    status, _, error = http.post(
        "ListRunners",
        None,
        raw=b"not gzip",
        headers={"Content-Encoding": "gzip"},
        query="?pageSize=1",
    )
    assert (status, error["code"]) == (400, "invalid_argument")


def test_unary_answers_carry_their_length_not_chunks(http):
    """Over HTTP/1.1 a unary answer (success or error) has ``content-length``, never chunks."""
    url = urllib.parse.urlsplit(http.base_url)
    connection = http_client.HTTPConnection(url.hostname, url.port, timeout=10)
    auth = {"Authorization": f"Bearer {http.token}"}
    calls = [
        ("ListRunners", b"{}", "application/json", 200),
        ("ListRunners", b"", "application/proto", 200),
        ("GetRunner", b'{"runnerId": "nope"}', "application/json", 400),
    ]
    try:
        for rpc, body, content_type, status in calls:
            connection.request(
                "POST",
                f"/gitpod.v1.RunnerService/{rpc}",
                body=body,
                headers={**auth, "Content-Type": content_type},
            )
            response = connection.getresponse()
            payload = response.read()
            assert response.status == status
            assert response.getheader("transfer-encoding") is None
            assert response.getheader("content-length") == str(len(payload))
    finally:
        connection.close()


def test_large_answers_gzipped_small_ones_not(http):
    """Clients taking gzip get it from 1 KiB up; below, identity (cheaper on both sides)."""
    for i in range(8):
        http.post("CreateRunner", {"name": f"gzip runner {i}", "provider": "RUNNER_PROVIDER_GCP"})
    url = urllib.parse.urlsplit(http.base_url)
    connection = http_client.HTTPConnection(url.hostname, url.port, timeout=10)

    def post(rpc: str, body: bytes, accept: str) -> tuple[str | None, bytes]:
        connection.request(
            "POST",
            f"/gitpod.v1.RunnerService/{rpc}",
            body=body,
            headers={
                "Authorization": f"Bearer {http.token}",
                "Content-Type": "application/json",
                "Accept-Encoding": accept,
            },
        )
        response = connection.getresponse()
        assert response.status == 200
        return response.getheader("content-encoding"), response.read()

    try:
        encoding, zipped = post("ListRunners", b"{}", "gzip, identity")
        assert encoding == "gzip"
        assert post("ListRunners", b"{}", "identity") == ("identity", gzip.decompress(zipped))
        assert len(json.loads(gzip.decompress(zipped))["runners"]) >= 8
        encoding, small = post("ListRunners", b'{"pagination": {"pageSize": 1}}', "gzip")
        assert encoding == "identity"
        assert len(small) < 1024
        assert len(json.loads(small)["runners"]) == 1
    finally:
        connection.close()
    # connectrpc's own client (gzip accepted by default) reads both kinds.
    client = runner_connect.RunnerServiceClientSync(http.base_url)
    auth = {"authorization": f"Bearer {http.token}"}
    try:
        page = client.list_runners(runner_pb2.ListRunnersRequest(), headers=auth)
        first = runner_pb2.ListRunnersRequest()
        first.pagination.page_size = 1
        one = client.list_runners(first, headers=auth)
    finally:
        client.close()
    assert len(page.runners) >= 8
    assert [r.runner_id for r in one.runners] == [page.runners[0].runner_id]
