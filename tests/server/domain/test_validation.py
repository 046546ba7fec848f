"""Table-driven tests of the environment-class and SCM-integration validators."""

from __future__ import annotations

import pytest

from runnerkit.server.domain.config_schema import schema_for
from runnerkit.server.domain.validation import (
    check_host,
    validate_environment_class,
    validate_scm_integration,
)
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc

Schema = rc.RunnerConfigurationSchema
Field = Schema.Field


def make_schema() -> rc.RunnerConfigurationSchema:
    """A hand-made schema with one field of every type, independent of the packaged data."""
    enum = Schema.EnumField(
        possible_values=[
            Schema.EnumField.Value(title="small"),
            Schema.EnumField.Value(title="large"),
        ]
    )
    return Schema(
        version="test",
        environment_classes=[
            Field(id="size", name="Size", required=True, enum=enum),
            Field(id="cpu", name="CPU", int=Schema.IntField(min=1, max=64, default=2)),
            Field(id="count", name="Count", int=Schema.IntField()),
            Field(id="gpu", name="GPU", bool=Schema.BoolField()),
            Field(id="image", name="Image", string=Schema.StringField(pattern="ami-[0-9a-f]{8}")),
            Field(id="note", name="Note", string=Schema.StringField()),
            Field(
                id="token", name="Token", secret=True, required=True, string=Schema.StringField()
            ),
            Field(id="info", name="Info", display=Schema.DisplayField(default="read me")),
            Field(id="legacy", name="Legacy", enum=Schema.EnumField(values=["a", "b"])),
            Field(id="broken", name="Broken", string=Schema.StringField(pattern="(")),
        ],
        scm=[
            Schema.SCMConfigSchema(
                scm_id="github",
                name="GitHub",
                default_hosts=["github.com"],
                oauth=Schema.OAuth(callback_url="https://cb"),
                pat=Schema.PersonalAccessToken(description="d"),
            ),
            Schema.SCMConfigSchema(scm_id="gitlab", name="GitLab", default_hosts=["gitlab.com"]),
            Schema.SCMConfigSchema(
                scm_id="azuredevops",
                name="Azure DevOps",
                default_hosts=["dev.azure.com"],
                oauth=Schema.OAuth(callback_url="https://cb"),
                pat=Schema.PersonalAccessToken(description="d"),
            ),
        ],
    )


SCHEMA = make_schema()
REQUIRED = [("size", "small"), ("token", "s3cret")]


def ec(
    pairs: list[tuple[str, str]],
    *,
    display_name: str = "Large",
    description: str = "A large class",
    schema: rc.RunnerConfigurationSchema = SCHEMA,
) -> rc.EnvironmentClassValidationResult:
    return validate_environment_class(
        schema,
        display_name=display_name,
        description=description,
        configuration=[rc.FieldValue(key=k, value=v) for k, v in pairs],
    )


def errors(result: rc.EnvironmentClassValidationResult) -> list[tuple[str, str]]:
    return [(e.key, e.error) for e in result.configuration_errors]


def test_valid_environment_class():
    result = ec([*REQUIRED, ("cpu", "64"), ("gpu", "true"), ("image", "ami-0123abcd")])
    assert result == rc.EnvironmentClassValidationResult(valid=True)


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        # keys
        ([("", "x")], [("", "configuration key is required")]),
        ([("nope", "1")], [("nope", "unknown configuration key")]),
        ([("cpu", "2"), ("cpu", "3")], [("cpu", "duplicate configuration key")]),
        ([("cpu", "2"), ("cpu", "x")], [("cpu", "duplicate configuration key")]),
        # int
        ([("cpu", "1")], []),
        ([("cpu", "64")], []),
        ([("cpu", "0")], [("cpu", "must be at least 1")]),
        ([("cpu", "65")], [("cpu", "must be at most 64")]),
        ([("cpu", "-3")], [("cpu", "must be at least 1")]),
        ([("cpu", "8.5")], [("cpu", "must be an integer")]),
        ([("cpu", " 8")], [("cpu", "must be an integer")]),
        ([("cpu", "+8")], [("cpu", "must be an integer")]),
        ([("cpu", "")], [("cpu", "must be an integer")]),
        ([("cpu", "1" * 13)], [("cpu", "must be an integer")]),
        ([("count", "-2147483648")], []),
        ([("count", "2147483647")], []),
        ([("count", "2147483648")], [("count", "must be at most 2147483647")]),
        ([("count", "-2147483649")], [("count", "must be at least -2147483648")]),
        # bool
        ([("gpu", "false")], []),
        ([("gpu", "True")], [("gpu", 'must be "true" or "false"')]),
        ([("gpu", "1")], [("gpu", 'must be "true" or "false"')]),
        # enum
        ([("size", "large"), ("token", "t")], []),
        ([("size", "Large"), ("token", "t")], [("size", "must be one of: small, large")]),
        ([("legacy", "b")], []),
        ([("legacy", "c")], [("legacy", "must be one of: a, b")]),
        # string
        ([("image", "ami-deadbeef")], []),
        ([("image", "ami-deadbeef0")], [("image", "must match the pattern ami-[0-9a-f]{8}")]),
        ([("image", "xami-deadbeef")], [("image", "must match the pattern ami-[0-9a-f]{8}")]),
        ([("note", "")], []),
        ([("note", "n" * 4096)], []),
        ([("note", "n" * 4097)], [("note", "value must be at most 4096 characters")]),
        ([("broken", "x")], [("broken", "cannot be checked: the schema's pattern is invalid")]),
        # display
        ([("info", "read me")], []),  # the displayed text, as a form sends it back
        (
            [("info", "read me!")],
            [("info", "display fields are read-only: send their text or omit them")],
        ),
        ([("info", "")], [("info", "display fields are read-only: send their text or omit them")]),
        # required
        ([("token", "")], [("token", "value is required")]),
        ([("size", "")], [("size", "value is required")]),
    ],
)
def test_configuration_rules(pairs, expected):
    present = {k for k, _ in pairs}
    extra = [(k, v) for k, v in REQUIRED if k not in present]
    result = ec([*pairs, *extra])
    assert errors(result) == expected
    assert result.valid == (not expected)


def test_missing_required_fields_come_last_in_schema_order():
    result = ec([("cpu", "0")])
    assert errors(result) == [
        ("cpu", "must be at least 1"),
        ("size", "required field is missing"),
        ("token", "required field is missing"),
    ]
    assert not result.valid


def test_errors_never_echo_secret_values():
    result = ec([("size", "small"), ("token", "s3cret"), ("token", "s3cret-again")])
    assert "s3cret" not in str(result)


@pytest.mark.parametrize(
    ("display_name", "description", "name_error", "description_error"),
    [
        # The schema's rules on EnvironmentClass (3-127 and 3-200 characters), as Create's.
        ("Large", "Big", None, None),
        ("x" * 127, "d" * 200, None, None),
        ("", "Big", "display_name must be at least 3 characters", None),
        ("ab", "Big", "display_name must be at least 3 characters", None),
        ("x" * 128, "Big", "display_name must be at most 127 characters", None),
        ("Large", "", None, "description must be at least 3 characters"),
        ("Large", "d" * 201, None, "description must be at most 200 characters"),
        (
            "",
            "d" * 201,
            "display_name must be at least 3 characters",
            "description must be at most 200 characters",
        ),
    ],
)
def test_display_name_and_description(display_name, description, name_error, description_error):
    result = ec(REQUIRED, display_name=display_name, description=description)
    assert (result.display_name_error if result.HasField("display_name_error") else None) == (
        name_error
    )
    assert (
        result.description_error if result.HasField("description_error") else None
    ) == description_error
    assert result.valid == (name_error is None and description_error is None)
    assert not result.configuration_errors


def test_empty_schema_accepts_only_an_empty_configuration():
    assert ec([], schema=Schema()).valid
    assert errors(ec([("cpu", "1")], schema=Schema())) == [("cpu", "unknown configuration key")]


def test_packaged_aws_schema():
    aws = schema_for(rc.RunnerProvider.RUNNER_PROVIDER_AWS_EC2)
    ok = [("instance_type", "m6i.2xlarge"), ("disk_size_gb", "100"), ("spot", "false")]
    assert ec(ok, schema=aws).valid
    bad = [("instance_type", "t2.nano"), ("disk_size_gb", "10"), ("billing", "free")]
    assert [k for k, _ in errors(ec(bad, schema=aws))] == [
        "instance_type",
        "disk_size_gb",
        "billing",
    ]


# --- SCM integrations ------------------------------------------------------------------------


def scm(**overrides: object) -> rc.SCMIntegrationValidationResult:
    kwargs = {
        "scm_id": "github",
        "host": "github.com",
        "oauth_client_id": None,
        "oauth_client_secret_set": False,
        "pat": True,
        "issuer_url": None,
        "virtual_directory": None,
    } | overrides
    return validate_scm_integration(SCHEMA, **kwargs)  # type: ignore[arg-type]


def scm_errors(result: rc.SCMIntegrationValidationResult) -> dict[str, str]:
    return {
        name: getattr(result, name)
        for name in ("scm_id_error", "host_error", "oauth_error", "pat_error")
        if result.HasField(name)
    }


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, {}),
        ({"pat": False}, {}),  # neither OAuth nor PAT: still valid
        ({"oauth_client_id": "cid", "oauth_client_secret_set": True}, {}),
        (
            {
                "oauth_client_id": "cid",
                "oauth_client_secret_set": True,
                "issuer_url": "https://x.io",
            },
            {},
        ),
        ({"host": "ghe.example.com"}, {}),
        ({"host": "GHE.Example.com:8443"}, {}),
        ({"host": "GitHub.com"}, {}),
        ({"issuer_url": "", "virtual_directory": "", "oauth_client_id": ""}, {}),
        # scm_id
        ({"scm_id": ""}, {"scm_id_error": "scm_id is required"}),
        (
            {"scm_id": "gitea"},
            {
                "scm_id_error": "unsupported scm_id 'gitea'; expected one of: github, gitlab, azuredevops"
            },
        ),
        # host
        ({"host": ""}, {"host_error": "host is required"}),
        (
            {"host": "https://github.com"},
            {
                "host_error": "host must be a host name without scheme, path or user, e.g. github.com"
            },
        ),
        (
            {"host": "github.com/org"},
            {
                "host_error": "host must be a host name without scheme, path or user, e.g. github.com"
            },
        ),
        (
            {"host": "user@ghe.example.com"},
            {
                "host_error": "host must be a host name without scheme, path or user, e.g. github.com"
            },
        ),
        ({"host": "ghe.example.com:0"}, {"host_error": "host port must be between 1 and 65535"}),
        (
            {"host": "ghe.example.com:70000"},
            {"host_error": "host port must be between 1 and 65535"},
        ),
        ({"scm_id": "gitlab", "host": "gitlab.com", "pat": False}, {}),
        (
            {"scm_id": "gitlab", "host": "github.com", "pat": False},
            {"host_error": "host github.com is served by scm_id 'github'"},
        ),
        (
            {"scm_id": "github", "host": "org.visualstudio.com"},
            {"host_error": "host org.visualstudio.com is served by scm_id 'azuredevops'"},
        ),
        # virtual_directory
        ({"scm_id": "azuredevops", "host": "tfs.example.com", "virtual_directory": "/tfs"}, {}),
        ({"scm_id": "azuredevops", "host": "tfs.example.com", "virtual_directory": "/a/b/"}, {}),
        (
            {"virtual_directory": "/tfs"},
            {"host_error": "virtual_directory is only supported for azuredevops"},
        ),
        (
            {"scm_id": "azuredevops", "host": "tfs.example.com", "virtual_directory": "tfs"},
            {"host_error": "virtual_directory must be a path starting with /, e.g. /tfs"},
        ),
        (
            {"scm_id": "azuredevops", "host": "tfs.example.com", "virtual_directory": "/t fs"},
            {"host_error": "virtual_directory must be a path starting with /, e.g. /tfs"},
        ),
        (
            {"scm_id": "azuredevops", "host": "dev.azure.com", "virtual_directory": "/tfs"},
            {"host_error": "virtual_directory is only used with Azure DevOps Server hosts"},
        ),
        (
            {"scm_id": "azuredevops", "host": "x.visualstudio.com", "virtual_directory": "/t"},
            {"host_error": "virtual_directory is only used with Azure DevOps Server hosts"},
        ),
        # OAuth
        (
            {"oauth_client_id": "cid"},
            {"oauth_error": "oauth_client_secret is required when oauth_client_id is set"},
        ),
        (
            {"oauth_client_secret_set": True},
            {"oauth_error": "oauth_client_id is required when an oauth_client_secret is set"},
        ),
        (
            {"oauth_client_id": "c" * 256, "oauth_client_secret_set": True},
            {"oauth_error": "oauth_client_id must be at most 255 characters"},
        ),
        (
            {"issuer_url": "https://sso.example.com"},
            {"oauth_error": "issuer_url requires oauth_client_id"},
        ),
        (
            {
                "oauth_client_id": "cid",
                "oauth_client_secret_set": True,
                "issuer_url": "http://x.io",
            },
            {"oauth_error": "issuer_url must be an https URL"},
        ),
        (
            {"oauth_client_id": "cid", "oauth_client_secret_set": True, "issuer_url": "https://"},
            {"oauth_error": "issuer_url must be an https URL"},
        ),
        (
            {"oauth_client_id": "cid", "oauth_client_secret_set": True, "issuer_url": "https://[x"},
            {"oauth_error": "issuer_url must be an https URL"},
        ),
        (
            {
                "scm_id": "gitlab",
                "host": "git.example.com",
                "pat": False,
                "oauth_client_id": "c",
                "oauth_client_secret_set": True,
            },
            {"oauth_error": "GitLab does not support OAuth on this runner"},
        ),
        # PAT
        (
            {"scm_id": "gitlab", "host": "git.example.com"},
            {"pat_error": "GitLab does not support personal access tokens on this runner"},
        ),
        # several at once
        (
            {"scm_id": "", "host": "", "oauth_client_id": "cid"},
            {
                "scm_id_error": "scm_id is required",
                "host_error": "host is required",
                "oauth_error": "oauth_client_secret is required when oauth_client_id is set",
            },
        ),
    ],
)
def test_scm_integration_rules(overrides, expected):
    result = scm(**overrides)
    assert scm_errors(result) == expected
    assert result.valid == (not expected)


@pytest.mark.parametrize(
    "host",
    [
        "github.com",
        "localhost",
        "localhost:8080",
        "git-lab.example.co.uk",
        "127.0.0.1",
        "127.0.0.1:65535",
        "[::1]",
        "[::1]:8443",
        "a" * 63 + ".com",
        "xn--bcher-kva.example",
    ],
)
def test_valid_hosts(host):
    assert check_host(host) is None


@pytest.mark.parametrize(
    "host",
    [
        "-github.com",
        "github-.com",
        "git_hub.com",
        "github..com",
        ".github.com",
        "github.com.",
        "a" * 64 + ".com",
        ("a" * 60 + ".") * 5 + "com",
        "999.1.1.1",
        "1.2.3.4.5",
        "[::1",
        "[not-ip]",
        "::1",
        "git hub.com",
        "github.com:",
        "github.com:abc",
        "github.com:80:80",
    ],
)
def test_invalid_hosts(host):
    assert check_host(host) == "host must be a valid host name, optionally with a port"


def test_packaged_schema_accepts_the_reference_example():
    # ValidateRunnerConfiguration example of the API reference.
    result = validate_scm_integration(
        schema_for(rc.RunnerProvider.RUNNER_PROVIDER_AWS_EC2),
        scm_id="github",
        host="github.com",
        oauth_client_id="client_id",
        oauth_client_secret_set=True,
        pat=False,
        issuer_url=None,
        virtual_directory=None,
    )
    assert result == rc.SCMIntegrationValidationResult(valid=True)
