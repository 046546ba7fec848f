"""The input rules without HTTP: query-string page sizes, header values, gRPC-Web frames, NUL,
unpaired surrogates, echoing input."""

from __future__ import annotations

import json

import pytest
from connectrpc._compression import _default_compressions, negotiate_compression
from google.protobuf import struct_pb2

from runnerkit.server.domain.errors import InvalidArgumentError
from runnerkit.server.http_input import (
    accepts_gzip,
    compressed_frame_without_encoding,
    grpc_without_trailers,
    is_binary_grpc,
    parse_page_size,
    read_headers,
    utf8_header_values,
)
from runnerkit.server.text_rules import nul_field, printable, surrogate_path
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc_pb2
from runnerkit_proto.gitpod.v1 import runner_pb2

R = runner_pb2


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("5", 5),
        ("007", 7),
        ("-1", -1),
        ("2147483647", 2**31 - 1),
        ("-2147483648", -(2**31)),
    ],
)
def test_page_size_accepts_plain_int32(text: str, value: int) -> None:
    assert parse_page_size(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "",
        "²",
        "٣",
        "--1",
        "+1",
        " 1",
        "1 ",
        "1.0",
        "0x10",
        "1e3",
        "2147483648",
        "-2147483649",
        "9" * 5000,
        "-",
        "1_000",
    ],
)
def test_page_size_refuses_anything_else(text: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        parse_page_size(text)
    assert info.value.field == "pagination.page_size"


def test_printable_escapes_surrogates_and_bounds_length() -> None:
    assert printable("a\ud800b") == "a\\ud800b"
    printable("x\udfff" * 500).encode("utf-8")  # never raises
    assert len(printable("y" * 10_000)) <= 201
    assert printable("héllo 😀") == "héllo 😀"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ('{"filter":{"kinds":"\\ud800"}}', "filter.kinds"),
        ('{"scopes":["ok","\\udc00"]}', "scopes[1]"),
        ('{"a":{"\\ud800":1}}', "a.\\ud800"),
        ('{"name":"pair \\ud83d\\ude00 ok"}', None),
        ('{"name":"plain"}', None),
    ],
)
def test_surrogate_path(body: str, path: str | None) -> None:
    assert surrogate_path(json.loads(body)) == path


def test_nul_field_names_the_field_at_any_depth() -> None:
    assert nul_field(R.CreateRunnerRequest(name="a\x00b")) == "name"
    spec = R.RunnerSpec(configuration=R.RunnerConfiguration(region="eu\x00"))
    assert nul_field(R.CreateRunnerRequest(name="ok", spec=spec)) == "spec.configuration.region"
    listing = R.ListRunnersRequest(filter=R.ListRunnersRequest.Filter(creator_ids=["a", "\x00"]))
    assert nul_field(listing) == "filter.creator_ids[1]"
    assert nul_field(R.CreateRunnerRequest(name="ok", provider=rc_pb2.RUNNER_PROVIDER_GCP)) is None


def test_nul_field_in_maps() -> None:
    struct = struct_pb2.Struct()
    struct.update({"k": {"inner": ["x", "y\x00"]}})
    assert (
        nul_field(struct)
        == 'fields["k"].struct_value.fields["inner"].list_value.values[1].string_value'
    )
    keyed = struct_pb2.Struct()
    keyed.update({"a\x00": 1})
    assert nul_field(keyed) == 'fields["a\\u0000"]'
    assert nul_field(struct_pb2.Struct(fields={"k": struct_pb2.Value(number_value=1)})) is None


def test_header_values_become_utf8_only_when_needed() -> None:
    plain = [(b"authorization", b"Bearer rk_abc"), (b"x", "é".encode())]
    assert utf8_header_values(plain) is None
    assert utf8_header_values([(b"x", "é".encode()), (b"a", b"Bearer \xff")]) == [
        (b"x", "é".encode()),
        (b"a", "Bearer ÿ".encode()),
    ]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([], (None, "", "", "")),
        (
            [(b"content-type", b"application/json"), (b"content-length", b"12")],
            (None, "12", "application/json", ""),
        ),
        (
            [(b"Accept-Encoding", b"gzip, br"), (b"accept-encoding", b"identity")],
            (None, "", "", "gzip, br"),
        ),
        (  # the first of each; content-type in any case, content-length as ASGI sends it
            [
                (b"Content-Length", b"1"),
                (b"Content-Type", b"a/b"),
                (b"content-length", b"2"),
                (b"content-length", b"3"),
                (b"content-type", b"c/d"),
            ],
            (None, "2", "a/b", ""),
        ),
        (  # valid UTF-8: unchanged, values read as ISO-8859-1 as before
            [(b"x", "é".encode()), (b"content-type", "é".encode())],
            (None, "", "é".encode().decode("latin-1"), ""),
        ),
        (  # not UTF-8: fixed, and the values read from the fixed headers
            [(b"content-type", b"\xf5"), (b"content-length", b"5"), (b"accept-encoding", b"gzip")],
            (
                [
                    (b"content-type", "õ".encode()),
                    (b"content-length", b"5"),
                    (b"accept-encoding", b"gzip"),
                ],
                "5",
                "Ã\xb5",
                "gzip",
            ),
        ),
    ],
)
def test_read_headers_in_one_pass(
    headers: list[tuple[bytes, bytes]], expected: tuple[object, str, str, str]
) -> None:
    assert tuple(read_headers(headers)) == expected
    fixed = utf8_header_values(headers)
    assert read_headers(headers).fixed == fixed


@pytest.mark.parametrize(
    ("value", "gzip"),
    [
        ("", False),
        ("gzip", True),
        ("gzip, identity", True),
        ("br, zstd, gzip", True),  # the first one supported wins
        (",, gzip", True),
        ("identity, gzip", False),
        ("identity", False),
        ("gzip;q=0.5", False),  # q-values are not weighed: not the name "gzip"
        ("GZIP", False),  # names are compared as sent, as connectrpc does
        ("*", False),
        ("x-gzip, deflate", False),
    ],
)
def test_accepts_gzip_as_connectrpc_negotiates(value: str, gzip: bool) -> None:
    assert accepts_gzip(value) is gzip
    # One rule with the library the service apps use (its private helper, read in tests only).
    assert (negotiate_compression(value, _default_compressions).name() == "gzip") is gzip


def _frame(flag: int, payload: bytes) -> bytes:
    return bytes([flag]) + len(payload).to_bytes(4, "big") + payload


@pytest.mark.parametrize(
    ("content_type", "encoding", "body", "refused"),
    [
        ("application/grpc-web", "", _frame(1, b"x"), True),
        ("application/grpc-web+proto", "identity", _frame(0, b"ab") + _frame(1, b""), True),
        ("application/grpc-web+json; charset=utf-8", "", _frame(0x81, b""), True),
        ("application/grpc-web", "gzip", _frame(1, b"x"), False),
        ("application/grpc-web", "", _frame(0, b"x") + _frame(0x80, b""), False),
        ("application/grpc-web", "", b"\x01\x00", False),  # too short: connectrpc says so
        ("application/grpc-web-text", "", _frame(1, b"x"), False),
        ("application/proto", "", _frame(1, b"x"), False),
    ],
)
def test_compressed_frame_without_encoding(
    content_type: str, encoding: str, body: bytes, refused: bool
) -> None:
    assert compressed_frame_without_encoding(content_type, encoding, body) is refused


@pytest.mark.parametrize(
    ("content_type", "te", "refused"),
    [
        ("application/grpc", "", True),
        ("application/grpc+proto", "gzip", True),
        ("application/grpc+json", "trailers", False),
        ("application/grpc", "gzip, Trailers", False),
        ("application/grpc-web", "", False),
        ("application/json", "", False),
    ],
)
def test_grpc_without_trailers(content_type: str, te: str, refused: bool) -> None:
    assert grpc_without_trailers(content_type, te) is refused
    assert is_binary_grpc(content_type) is content_type.startswith("application/grpc")
