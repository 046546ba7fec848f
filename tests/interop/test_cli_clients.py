"""grpcurl, buf curl and curl against the real server: reflection, health, h2c, TLS, upgrade."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest

from tests.interop.serve_process import serve_process

if TYPE_CHECKING:
    from tests.interop.conftest import Server

BIN = Path(sys.executable).parent
GRPCURL = str(BIN / "grpcurl")
BUF = str(BIN / "buf")
SERVICES = {
    "gitpod.v1.RunnerService",
    "gitpod.v1.RunnerConfigurationService",
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
}


def run(*command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BUF_CACHE_DIR": os.environ.get("BUF_CACHE_DIR", ".cache/buf")}
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env, check=check)


def auth(server: Server) -> str:
    return f"Authorization: Bearer {server.token}"


# --- grpcurl (reflection v1alpha) -------------------------------------------------------------


def test_grpcurl_lists_describes_and_calls(interop_server: Server):
    address = interop_server.address
    listed = run(GRPCURL, "-plaintext", address, "list").stdout.split()
    assert set(listed) == SERVICES
    described = run(GRPCURL, "-plaintext", address, "describe", "gitpod.v1.RunnerService").stdout
    assert "rpc CreateRunner ( .gitpod.v1.CreateRunnerRequest )" in described
    message = run(GRPCURL, "-plaintext", address, "describe", "gitpod.v1.Runner").stdout
    assert "runner_id" in message
    created = run(
        GRPCURL, "-plaintext", "-H", auth(interop_server),
        "-d", '{"name": "via grpcurl", "provider": "RUNNER_PROVIDER_AWS_EC2"}',
        address, "gitpod.v1.RunnerService/CreateRunner",
    )  # fmt: skip
    runner = json.loads(created.stdout)["runner"]
    assert runner["name"] == "via grpcurl"
    got = run(
        GRPCURL, "-plaintext", "-H", auth(interop_server),
        "-d", json.dumps({"runnerId": runner["runnerId"]}),
        address, "gitpod.v1.RunnerService/GetRunner",
    )  # fmt: skip
    assert json.loads(got.stdout)["runner"]["runnerId"] == runner["runnerId"]


def test_grpcurl_errors_and_health(interop_server: Server):
    address = interop_server.address
    failed = run(
        GRPCURL, "-plaintext", "-d", '{"runnerId": "x"}',
        address, "gitpod.v1.RunnerService/GetRunner", check=False,
    )  # fmt: skip
    assert failed.returncode != 0
    assert "Code: Unauthenticated" in failed.stderr
    assert "Message: missing or invalid bearer token" in failed.stderr
    invalid = run(
        GRPCURL, "-plaintext", "-H", auth(interop_server), "-d", '{"runnerId": "x"}',
        address, "gitpod.v1.RunnerService/GetRunner", check=False,
    )  # fmt: skip
    assert "Code: InvalidArgument" in invalid.stderr
    health = run(GRPCURL, "-plaintext", "-d", "{}", address, "grpc.health.v1.Health/Check")
    assert json.loads(health.stdout) == {"status": "SERVING"}
    service = json.dumps({"service": "gitpod.v1.RunnerService"})
    one = run(GRPCURL, "-plaintext", "-d", service, address, "grpc.health.v1.Health/Check")
    assert json.loads(one.stdout) == {"status": "SERVING"}
    unknown = run(
        GRPCURL, "-plaintext", "-d", '{"service": "no.such.Service"}',
        address, "grpc.health.v1.Health/Check", check=False,
    )  # fmt: skip
    assert "Code: NotFound" in unknown.stderr


# --- buf curl (reflection v1 and v1alpha, gRPC, Connect and gRPC-Web) ----------------------


def test_buf_curl_grpc_through_reflection(interop_server: Server):
    url = interop_server.base_url
    for protocol in ("grpc-v1", "grpc-v1alpha"):
        services = run(
            BUF, "curl", "--protocol", "grpc", "--http2-prior-knowledge",
            "--reflect-protocol", protocol, "--list-services", url,
        ).stdout.split()  # fmt: skip
        assert set(services) == SERVICES
    methods = run(
        BUF, "curl", "--protocol", "grpc", "--http2-prior-knowledge", "--list-methods", url
    ).stdout.split()
    assert len([m for m in methods if m.startswith("gitpod.v1.")]) == 32
    created = run(
        BUF, "curl", "--protocol", "grpc", "--http2-prior-knowledge", "-H", auth(interop_server),
        "-d", '{"name": "via buf", "provider": "RUNNER_PROVIDER_GCP"}',
        f"{url}/gitpod.v1.RunnerService/CreateRunner",
    )  # fmt: skip
    runner_id = json.loads(created.stdout)["runner"]["runnerId"]
    listed = run(
        BUF, "curl", "--protocol", "grpc", "--http2-prior-knowledge", "-H", auth(interop_server),
        "-d", '{"filter": {"providers": ["RUNNER_PROVIDER_GCP"]}}',
        f"{url}/gitpod.v1.RunnerService/ListRunners",
    )  # fmt: skip
    assert [r["runnerId"] for r in json.loads(listed.stdout)["runners"]] == [runner_id]
    failed = run(
        BUF, "curl", "--protocol", "grpc", "--http2-prior-knowledge", "-d", "{}",
        f"{url}/gitpod.v1.RunnerService/ListRunners", check=False,
    )  # fmt: skip
    assert failed.returncode != 0
    assert json.loads(failed.stderr)["code"] == "unauthenticated"
    health = run(
        BUF, "curl", "--protocol", "grpc", "--http2-prior-knowledge", "-d", "{}",
        f"{url}/grpc.health.v1.Health/Check",
    )  # fmt: skip
    assert json.loads(health.stdout) == {"status": "SERVING"}


@pytest.mark.parametrize(
    "flags",
    [
        ("--protocol", "connect"),
        ("--protocol", "connect", "--http2-prior-knowledge"),
        ("--protocol", "grpcweb"),
        ("--protocol", "grpcweb", "--http2-prior-knowledge"),
    ],
)
def test_buf_curl_connect_and_grpc_web_over_both_versions(interop_server: Server, flags):
    url = interop_server.base_url
    for n in (1, 2):  # at least two runners, so that a page of one has a next page
        created = run(
            BUF, "curl", *flags, "-H", auth(interop_server),
            "-d", f'{{"name": "buf curl {n}", "provider": "RUNNER_PROVIDER_GCP"}}',
            f"{url}/gitpod.v1.RunnerService/CreateRunner",
        )  # fmt: skip
        assert json.loads(created.stdout)["runner"]["name"] == f"buf curl {n}"
    answer = run(
        BUF, "curl", *flags, "-H", auth(interop_server), "-d", '{"pagination": {"pageSize": 1}}',
        f"{url}/gitpod.v1.RunnerService/ListRunners",
    )  # fmt: skip
    page = json.loads(answer.stdout)
    assert len(page["runners"]) == 1
    assert page["pagination"]["nextToken"]


# --- curl: HTTP/1.1, h2c prior knowledge, the h2c upgrade, Connect GET ----------------------


def curl(*args: str) -> tuple[int, str, str]:
    """curl; (status, HTTP version, body)."""
    out = run("curl", "-sS", "-w", "\n%{http_code} %{http_version}", *args).stdout
    body, _, trailer = out.rpartition("\n")
    status, version = trailer.split()
    return int(status), version, body


def list_gcp(server: Server, *flags: str) -> tuple[int, str, list[str]]:
    status, version, body = curl(
        *flags, "-X", "POST", "-H", auth(server), "-H", "Content-Type: application/json",
        "-d", '{"filter": {"providers": ["RUNNER_PROVIDER_GCP"]}}',
        f"{server.base_url}/gitpod.v1.RunnerService/ListRunners",
    )  # fmt: skip
    return status, version, [r["name"] for r in json.loads(body).get("runners", [])]


def test_curl_h2c_upgrade_request_is_served_on_its_body(interop_server: Server):
    """`curl --http2 http://` sends HTTP/1.1 + `Upgrade: h2c`: the filter in the body counts."""
    token = ["-H", auth(interop_server), "-H", "Content-Type: application/json"]
    base = f"{interop_server.base_url}/gitpod.v1.RunnerService"
    for name, provider in (("aws", "RUNNER_PROVIDER_AWS_EC2"), ("gcp", "RUNNER_PROVIDER_GCP")):
        body = json.dumps({"name": name, "provider": provider})
        assert curl("-X", "POST", *token, "-d", body, f"{base}/CreateRunner")[0] == 200
    plain = list_gcp(interop_server)
    assert plain[0] == 200
    assert "aws" not in plain[2]
    assert "gcp" in plain[2]
    upgraded = list_gcp(interop_server, "--http2")
    assert upgraded == (200, "1.1", plain[2])  # the upgrade is declined, the body is read
    prior = list_gcp(interop_server, "--http2-prior-knowledge")
    assert prior == (200, "2", plain[2])


def test_curl_connect_get_over_both_versions(interop_server: Server):
    message = quote(json.dumps({"pagination": {"pageSize": 1}}))
    url = (
        f"{interop_server.base_url}/gitpod.v1.RunnerService/ListRunners"
        f"?connect=v1&encoding=json&message={message}"
    )
    for flag, version in (("--http1.1", "1.1"), ("--http2-prior-knowledge", "2")):
        status, got, body = curl(flag, "-H", auth(interop_server), url)
        assert (status, got) == (200, version)
        assert "runners" in json.loads(body) or json.loads(body) == {}


def test_readyz_and_healthz(interop_server: Server):
    assert curl(f"{interop_server.base_url}/healthz")[0] == 200
    status, _, body = curl("--http2-prior-knowledge", f"{interop_server.base_url}/readyz")
    assert (status, json.loads(body)) == (200, {"status": "ready"})


# --- TLS with ALPN ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:  # pragma: no cover - openssl is on our machines
        pytest.skip("openssl is needed to make a test certificate")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    run(
        "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
    )  # fmt: skip
    return cert, key


def test_tls_offers_h2_and_http11(tmp_path, tls_files):
    cert, key = tls_files
    with serve_process(tmp_path, "--tls-cert", str(cert), "--tls-key", str(key)) as (url, token):
        assert url.startswith("https://127.0.0.1:")
        for flag, version in (("--http2", "2"), ("--http1.1", "1.1")):
            status, got, body = curl("--cacert", str(cert), flag, f"{url}/readyz")
            assert (status, got, json.loads(body)) == (200, version, {"status": "ready"})
        address = url.removeprefix("https://")
        assert (
            "gitpod.v1.RunnerService" in run(GRPCURL, "-cacert", str(cert), address, "list").stdout
        )
        listed = run(
            BUF, "curl", "--cacert", str(cert), "--protocol", "grpc",
            "-H", f"Authorization: Bearer {token}", "-d", "{}",
            f"{url}/gitpod.v1.RunnerService/ListRunners",
        )  # fmt: skip
        assert json.loads(listed.stdout) == {}


def test_tls_options_go_together(tmp_path, tls_files):
    cert, _ = tls_files
    result = run(
        sys.executable, "-m", "runnerkit.server", "--db", str(tmp_path / "x.db"),
        "--port", "0", "--tls-cert", str(cert), check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--tls-cert and --tls-key go together" in result.stderr
    assert not (tmp_path / "x.db").exists()


def test_a_bad_certificate_is_a_usage_error(tmp_path, tls_files):
    cert, _ = tls_files
    result = run(
        sys.executable, "-m", "runnerkit.server", "--db", str(tmp_path / "x.db"),
        "--port", "0", "--tls-cert", str(cert), "--tls-key", str(cert), check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--tls-cert/--tls-key: not a PEM certificate and its private key" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.db").exists()
