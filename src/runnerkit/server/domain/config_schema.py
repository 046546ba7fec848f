"""GetRunnerConfigurationSchema: the configuration schema of a runner, per runner provider.

The schema is data: ``data/config_schema.json`` in this package (read with
``importlib.resources``, so it works from a wheel) lists, per provider, the runner config fields,
the environment-class fields and the SCMs the runner supports. The SCM entries themselves (name,
default hosts, OAuth callback URL, PAT help) come from the SCM catalog (``scm_catalog``), so
every SCM fact is written down once. Providers the file does not list (UNSPECIFIED, values added
later) get its ``default`` entry.

The file is read, checked and turned into messages once; :func:`schema_for` returns a fresh
copy each call, so callers may change it freely. A malformed file raises ``SchemaDataError`` on
first use (and in the tests), never a half-built schema.

Enum fields are written out in both forms: ``possible_values``/``default_value`` and the
deprecated ``values``/``default`` (the titles), so old and new clients read the same schema.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import TYPE_CHECKING, Any

from runnerkit.server.domain.scm_catalog import scm_info
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["DEFAULT_PROVIDER_KEY", "SchemaDataError", "build_schemas", "schema_for"]

DEFAULT_PROVIDER_KEY = "default"
_DATA_FILE = "config_schema.json"
_Schema = runner_configuration_pb2.RunnerConfigurationSchema
_FIELD_KEYS = frozenset(
    {"id", "name", "description", "type", "required", "secret", "default"}
    | {"pattern", "min", "max", "values"}
)
_PROVIDER_NAMES = frozenset(runner_configuration_pb2.RunnerProvider.keys())
_INT32 = (-(2**31), 2**31 - 1)


class SchemaDataError(ValueError):
    """The schema data is malformed; the message names the place (a bug in the data file)."""


def schema_for(provider: int) -> runner_configuration_pb2.RunnerConfigurationSchema:
    """Returns the configuration schema of runners of a provider.

    Args:
        provider: A ``RunnerProvider`` value; unspecified or unknown values get the generic
            schema.

    Returns:
        A new message the caller owns.

    Raises:
        SchemaDataError: The packaged schema file is malformed (a bug, caught by the tests).
    """
    schemas = _schemas()
    try:
        enum = runner_configuration_pb2.RunnerProvider
        key = enum.Name(enum.ValueType(provider))
    except ValueError:
        key = DEFAULT_PROVIDER_KEY
    schema = _Schema()
    schema.CopyFrom(schemas.get(key, schemas[DEFAULT_PROVIDER_KEY]))
    return schema


@functools.cache
def _schemas() -> Mapping[str, runner_configuration_pb2.RunnerConfigurationSchema]:
    text = (
        resources.files("runnerkit.server.domain")
        .joinpath("data", _DATA_FILE)
        .read_text(encoding="utf-8")
    )
    return build_schemas(json.loads(text))


def build_schemas(
    document: object,
) -> dict[str, runner_configuration_pb2.RunnerConfigurationSchema]:
    """Turns a parsed schema document into one message per provider key.

    Args:
        document: The parsed JSON (see ``data/config_schema.json`` for the format).

    Returns:
        Messages keyed by ``RunnerProvider`` name, plus ``"default"``.

    Raises:
        SchemaDataError: The document is malformed; the message says where.
    """
    doc = _object(document, "document")
    version = _text(doc, "version", "document", required=True)
    shared = _object(doc.get("fields", {}), "fields")
    providers = _object(doc.get("providers"), "providers")
    if DEFAULT_PROVIDER_KEY not in providers:
        raise SchemaDataError(f"{_DATA_FILE}: providers: missing {DEFAULT_PROVIDER_KEY!r}")
    result = {}
    for key, value in providers.items():
        if key != DEFAULT_PROVIDER_KEY and key not in _PROVIDER_NAMES:
            raise SchemaDataError(f"{_DATA_FILE}: providers: unknown provider {key!r}")
        entry = _object(value, key)
        schema = _Schema(version=version)
        schema.runner_config.extend(_fields(entry, "runner_config", shared, key))
        schema.environment_classes.extend(_fields(entry, "environment_classes", shared, key))
        for scm_id in _list(entry, "scm", key):
            schema.scm.append(_scm(scm_id, f"{key}.scm"))
        _check_unique([s.scm_id for s in schema.scm], f"{key}.scm")
        result[key] = schema
    return result


def _fields(
    entry: Mapping[str, Any], list_name: str, shared: Mapping[str, Any], key: str
) -> list[runner_configuration_pb2.RunnerConfigurationSchema.Field]:
    where = f"{key}.{list_name}"
    items = [_resolve(item, shared, where) for item in _list(entry, list_name, where)]
    fields = [_field(item, where) for item in items]
    _check_unique([field.id for field in fields], where)
    return fields


def _resolve(item: object, shared: Mapping[str, Any], where: str) -> dict[str, Any]:
    entry = _object(item, where)
    if "ref" not in entry:
        return dict(entry)
    ref = entry["ref"]
    if not isinstance(ref, str) or ref not in shared:
        raise SchemaDataError(f"{_DATA_FILE}: {where}: unknown ref {ref!r}")
    merged = dict(_object(shared[ref], f"fields.{ref}"))
    merged.update((k, v) for k, v in entry.items() if k != "ref")
    return merged


def _field(
    spec: Mapping[str, Any], where: str
) -> runner_configuration_pb2.RunnerConfigurationSchema.Field:
    field_id = _text(spec, "id", where, required=True)
    where = f"{where}.{field_id}"
    unknown = set(spec) - _FIELD_KEYS
    if unknown:
        raise SchemaDataError(f"{_DATA_FILE}: {where}: unknown keys {sorted(unknown)}")
    field = _Schema.Field(
        id=field_id,
        name=_text(spec, "name", where, required=True),
        description=_text(spec, "description", where),
        required=_flag(spec, "required", where),
        secret=_flag(spec, "secret", where),
    )
    kind = spec.get("type")
    if kind == "string":
        pattern = _text(spec, "pattern", where)
        default = _text(spec, "default", where)
        _check_pattern(pattern, default, where)
        field.string.CopyFrom(_Schema.StringField(default=default, pattern=pattern))
    elif kind == "bool":
        field.bool.CopyFrom(_Schema.BoolField(default=_flag(spec, "default", where)))
    elif kind == "int":
        field.int.CopyFrom(_int_field(spec, where))
    elif kind == "enum":
        field.enum.CopyFrom(_enum_field(spec, where))
    elif kind == "display":
        field.display.CopyFrom(_Schema.DisplayField(default=_text(spec, "default", where)))
    else:
        raise SchemaDataError(f"{_DATA_FILE}: {where}: unknown type {kind!r}")
    return field


def _int_field(
    spec: Mapping[str, Any], where: str
) -> runner_configuration_pb2.RunnerConfigurationSchema.IntField:
    low, high, default = (_integer(spec, key, where) for key in ("min", "max", "default"))
    if not low <= default <= high:
        raise SchemaDataError(f"{_DATA_FILE}: {where}: need min <= default <= max")
    return _Schema.IntField(min=low, max=high, default=default)


def _enum_field(
    spec: Mapping[str, Any], where: str
) -> runner_configuration_pb2.RunnerConfigurationSchema.EnumField:
    values = []
    for item in spec.get("values") or []:
        entry = _object(item, f"{where}.values")
        values.append(
            _Schema.EnumField.Value(
                title=_text(entry, "title", where, required=True),
                subtitle=_text(entry, "subtitle", where),
                detail=_text(entry, "detail", where),
            )
        )
    titles = [value.title for value in values]
    if not titles:
        raise SchemaDataError(f"{_DATA_FILE}: {where}: an enum needs values")
    _check_unique(titles, where)
    default = _text(spec, "default", where)
    enum = _Schema.EnumField(possible_values=values, values=titles, default=default)
    if default:
        if default not in titles:
            raise SchemaDataError(f"{_DATA_FILE}: {where}: default {default!r} is not a value")
        enum.default_value.CopyFrom(values[titles.index(default)])
    return enum


def _scm(
    scm_id: object, where: str
) -> runner_configuration_pb2.RunnerConfigurationSchema.SCMConfigSchema:
    info = scm_info(scm_id) if isinstance(scm_id, str) else None
    if info is None:
        raise SchemaDataError(f"{_DATA_FILE}: {where}: unknown scm_id {scm_id!r}")
    entry = _Schema.SCMConfigSchema(
        scm_id=info.scm_id, name=info.name, default_hosts=list(info.default_hosts)
    )
    if info.supports_oauth:
        entry.oauth.callback_url = info.oauth_callback_url
    if info.supports_pat:
        entry.pat.description = info.pat_description
        entry.pat.docs_link = info.pat_docs_url
    return entry


# --- typed access to the parsed JSON --------------------------------------------------------


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SchemaDataError(f"{_DATA_FILE}: {where}: expected an object")
    return value


def _list(entry: Mapping[str, Any], key: str, where: str) -> list[object]:
    value = entry.get(key, [])
    if not isinstance(value, list):
        raise SchemaDataError(f"{_DATA_FILE}: {where}: {key} must be a list")
    return value


def _text(entry: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str) or (required and not value):
        raise SchemaDataError(f"{_DATA_FILE}: {where}: {key} must be a non-empty string")
    return value


def _flag(entry: Mapping[str, Any], key: str, where: str) -> bool:
    value = entry.get(key, False)
    if not isinstance(value, bool):
        raise SchemaDataError(f"{_DATA_FILE}: {where}: {key} must be true or false")
    return value


def _integer(entry: Mapping[str, Any], key: str, where: str) -> int:
    value = entry.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not _INT32[0] <= value <= _INT32[1]:
        raise SchemaDataError(f"{_DATA_FILE}: {where}: {key} must be a 32-bit integer")
    return value


def _check_pattern(pattern: str, default: str, where: str) -> None:
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise SchemaDataError(f"{_DATA_FILE}: {where}: bad pattern: {exc}") from None
    if default and not compiled.fullmatch(default):
        raise SchemaDataError(f"{_DATA_FILE}: {where}: default does not match the pattern")


def _check_unique(names: list[str], where: str) -> None:
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise SchemaDataError(f"{_DATA_FILE}: {where}: duplicates {duplicates}")
