"""Tests of the configuration schema data and schema_for."""

from __future__ import annotations

import copy
import json
import re
from importlib import resources
from typing import TYPE_CHECKING, Any

import pytest

from runnerkit.server.domain.config_schema import SchemaDataError, build_schemas, schema_for
from runnerkit.server.domain.scm_catalog import CATALOG
from runnerkit.server.domain.validation import validate_environment_class
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc

if TYPE_CHECKING:
    from collections.abc import Callable

P = rc.RunnerProvider
PROVIDERS = [
    P.RUNNER_PROVIDER_AWS_EC2,
    P.RUNNER_PROVIDER_GCP,
    P.RUNNER_PROVIDER_MANAGED,
    P.RUNNER_PROVIDER_LINUX_HOST,
    P.RUNNER_PROVIDER_DESKTOP_MAC,
    P.RUNNER_PROVIDER_DEV_AGENT,
]
ALL = [*PROVIDERS, P.RUNNER_PROVIDER_UNSPECIFIED, 99]


def document() -> dict[str, Any]:
    text = resources.files("runnerkit.server.domain").joinpath("data", "config_schema.json")
    result: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return result


@pytest.mark.parametrize("provider", ALL)
def test_every_provider_has_a_versioned_schema(provider):
    schema = schema_for(provider)
    assert schema.version == "2026-11-01"
    assert schema.environment_classes
    assert [s.scm_id for s in schema.scm] == ["github", "gitlab", "bitbucket", "azuredevops"]


def test_unknown_and_unspecified_get_the_generic_schema():
    generic = schema_for(P.RUNNER_PROVIDER_UNSPECIFIED)
    assert schema_for(99) == generic
    assert schema_for(-1) == generic
    assert [f.id for f in generic.environment_classes] == ["cpu", "memory", "disk_size_gb"]
    assert not generic.runner_config


def test_provider_specific_content():
    aws = schema_for(P.RUNNER_PROVIDER_AWS_EC2)
    assert [f.id for f in aws.runner_config] == ["region", "vpc_id", "stack"]
    assert [f.id for f in aws.environment_classes] == [
        "instance_type",
        "cpu",
        "memory",
        "disk_size_gb",
        "spot",
        "ami_id",
        "billing",
    ]
    gcp = schema_for(P.RUNNER_PROVIDER_GCP)
    assert "machine_type" in [f.id for f in gcp.environment_classes]
    mac = schema_for(P.RUNNER_PROVIDER_DESKTOP_MAC)
    cpu = next(f for f in mac.environment_classes if f.id == "cpu")
    assert (cpu.int.min, cpu.int.max, cpu.int.default) == (1, 16, 4)


def test_linux_host_runner_config_has_a_secret_field():
    linux = schema_for(P.RUNNER_PROVIDER_LINUX_HOST)
    fields = {f.id: f for f in linux.runner_config}
    assert list(fields) == ["data_dir", "http_proxy", "http_proxy_password"]
    assert fields["http_proxy_password"].secret
    assert not fields["http_proxy"].secret
    proxy = re.compile(fields["http_proxy"].string.pattern)
    assert proxy.fullmatch("http://proxy.internal:3128")
    assert not proxy.fullmatch("http://proxy internal")


def test_enum_field_fills_new_and_deprecated_forms():
    aws = schema_for(P.RUNNER_PROVIDER_AWS_EC2)
    instance_type = aws.environment_classes[0]
    assert instance_type.WhichOneof("type") == "enum"
    enum = instance_type.enum
    titles = [v.title for v in enum.possible_values]
    assert titles[:3] == ["m6i.large", "m6i.xlarge", "m6i.2xlarge"]
    assert list(enum.values) == titles
    assert enum.default_value.title == enum.default == "m6i.xlarge"
    assert enum.default_value.subtitle == "4 vCPU, 16 GiB"
    assert not instance_type.required


def test_field_types_are_set():
    aws = schema_for(P.RUNNER_PROVIDER_AWS_EC2)
    kinds = {f.id: f.WhichOneof("type") for f in [*aws.runner_config, *aws.environment_classes]}
    assert kinds == {
        "region": "string",
        "vpc_id": "string",
        "stack": "display",
        "instance_type": "enum",
        "cpu": "int",
        "memory": "int",
        "disk_size_gb": "int",
        "spot": "bool",
        "ami_id": "string",
        "billing": "display",
    }
    region = aws.runner_config[0]
    assert region.required
    assert region.string.pattern == "[a-z]{2}(-gov)?-[a-z]+-[0-9]"


@pytest.mark.parametrize("provider", ALL)
def test_fields_are_consistent(provider):
    schema = schema_for(provider)
    for field in [*schema.runner_config, *schema.environment_classes]:
        assert field.id
        assert field.name
        assert field.description
        kind = field.WhichOneof("type")
        assert kind is not None
        if kind == "int":
            assert field.int.min <= field.int.default <= field.int.max
        if kind == "string" and field.string.pattern:
            pattern = re.compile(field.string.pattern)
            if field.string.default:
                assert pattern.fullmatch(field.string.default)


@pytest.mark.parametrize("provider", ALL)
def test_scm_entries_come_from_the_catalog(provider):
    catalog = {info.scm_id: info for info in CATALOG}
    for entry in schema_for(provider).scm:
        info = catalog[entry.scm_id]
        assert entry.name == info.name
        assert list(entry.default_hosts) == list(info.default_hosts)
        assert entry.oauth.callback_url == info.oauth_callback_url
        assert entry.pat.description == info.pat_description
        assert entry.pat.docs_link == info.pat_docs_url


@pytest.mark.parametrize("provider", ALL)
def test_reference_example_environment_class_validates(provider):
    # CreateEnvironmentClass example of the API reference: cpu "8", memory "16384".
    result = validate_environment_class(
        schema_for(provider),
        display_name="Large Instance",
        description="8 CPU, 16GB RAM",
        configuration=[
            rc.FieldValue(key="cpu", value="8"),
            rc.FieldValue(key="memory", value="16384"),
        ],
    )
    assert result == rc.EnvironmentClassValidationResult(valid=True)


def test_schema_for_returns_independent_copies():
    first = schema_for(P.RUNNER_PROVIDER_GCP)
    first.version = "changed"
    first.environment_classes[0].id = "changed"
    del first.scm[:]
    second = schema_for(P.RUNNER_PROVIDER_GCP)
    assert second.version == "2026-11-01"
    assert second.environment_classes[0].id == "machine_type"
    assert len(second.scm) == 4


def test_refs_can_override_shared_fields():
    schemas = build_schemas(document())
    linux = schemas["RUNNER_PROVIDER_LINUX_HOST"]
    disk = next(f for f in linux.environment_classes if f.id == "disk_size_gb")
    assert (disk.int.min, disk.int.max, disk.int.default) == (10, 2000, 50)


def _broken(change: Callable[[Any], object]) -> dict[str, Any]:
    doc = copy.deepcopy(document())
    change(doc)
    return doc


def _aws_classes(doc: Any) -> list[dict[str, Any]]:
    classes: list[dict[str, Any]] = doc["providers"]["RUNNER_PROVIDER_AWS_EC2"][
        "environment_classes"
    ]
    return classes


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("version"), "version must be a non-empty string"),
        (lambda d: d["providers"].pop("default"), "missing 'default'"),
        (lambda d: d["providers"].update(RUNNER_PROVIDER_NOPE={}), "unknown provider"),
        (lambda d: _aws_classes(d).append({"ref": "nope"}), "unknown ref 'nope'"),
        (lambda d: _aws_classes(d).append({"ref": "cpu"}), "duplicates ['cpu']"),
        (lambda d: _aws_classes(d)[0].update(type="float"), "unknown type 'float'"),
        (lambda d: _aws_classes(d)[0].update(colour="red"), "unknown keys ['colour']"),
        (lambda d: _aws_classes(d)[0].update(default="t2.nano"), "default 't2.nano' is not"),
        (lambda d: _aws_classes(d)[0].update(values=[]), "an enum needs values"),
        (lambda d: _aws_classes(d).append({"ref": "cpu", "id": "c2", "min": 9}), "min <= default"),
        (lambda d: _aws_classes(d).append({"ref": "cpu", "id": "c3", "max": 2**40}), "32-bit"),
        (lambda d: _aws_classes(d)[5].update(pattern="("), "bad pattern"),
        (lambda d: _aws_classes(d)[5].update(default="x"), "default does not match"),
        (lambda d: _aws_classes(d)[4].update(default="yes"), "default must be true or false"),
        (lambda d: _aws_classes(d)[0].pop("name"), "name must be a non-empty string"),
        (lambda d: d["providers"]["default"].update(scm=["gitea"]), "unknown scm_id 'gitea'"),
        (lambda d: d["providers"]["default"].update(scm="github"), "scm must be a list"),
        (lambda d: d["providers"].update(default=[]), "expected an object"),
    ],
)
def test_malformed_documents_are_rejected(change, message):
    with pytest.raises(SchemaDataError, match=re.escape(message)):
        build_schemas(_broken(change))
