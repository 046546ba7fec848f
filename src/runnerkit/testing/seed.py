"""Seed data: users, service accounts, runners and their configuration, and the fake SCMs.

``load_seed(FILE_OR_DICT)`` reads and checks a seed (YAML or JSON; docs/testing.md describes
the keys) and returns a :class:`Seed`; ``Seed.apply(services, admin)`` creates it through the
server's own operations — the same rules as the API, secrets sealed as the API seals them —
and undoes everything if any entry fails. Every error names the file, the line (YAML) and the
path of the bad value. Runner request fields use the API's names (``provider``,
``spec.configuration.region``, …) and enum values by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from google.protobuf import json_format

from runnerkit.server.domain.errors import DomainError, InvalidArgumentError
from runnerkit.server.domain.ids import parse_uuid
from runnerkit.server.testapi.runners import status_from
from runnerkit.testing.fake_scm import FakeDataError, FakeSCMs
from runnerkit.testing.seed_source import PathKey, SeedError, SeedSource, read_seed
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc
from runnerkit_proto.gitpod.v1 import runner_pb2

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from google.protobuf.message import Message

__all__ = ["ADMIN", "Seed", "SeedError", "SeededSubject", "load_seed"]

ADMIN = "admin"  # the name by which a seed refers to the server's own admin
_TOP = {"users", "service_accounts", "runners", "scm"}
_SUBJECT = {"name", "token", "org_admin", "runner_creator", "groups"}
_RUNNER_OWN = {
    "id",
    "creator",
    "status",
    "policies",
    "environment_classes",
    "scm_integrations",
    "host_tokens",
}
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


@dataclass(frozen=True)
class SeededSubject:
    """A user or service account the seed created: its id and bearer token."""

    id: str
    token: str


@dataclass
class _Subject:
    path: PathKey
    name: str
    service_account: bool
    token: str | None
    org_admin: bool
    runner_creator: bool
    groups: tuple[str, ...]


@dataclass
class _Child:
    path: PathKey
    request: Message
    subject: str | None = None  # host tokens: the owner's name


@dataclass
class _Runner:
    path: PathKey
    id: str | None
    creator: str
    request: runner_pb2.CreateRunnerRequest
    status: dict[str, Any] | None
    children: dict[str, list[_Child]] = field(default_factory=dict)


@dataclass
class Seed:
    """A checked seed, ready to apply (see the module docstring)."""

    source: SeedSource
    subjects: list[_Subject]
    runners: list[_Runner]
    scm: FakeSCMs
    has_scm: bool

    def error(self, path: PathKey, message: str) -> SeedError:
        """A located error."""
        return self.source.error(path, message)


def load_seed(source: str | Path | Mapping[str, Any]) -> Seed:
    """Read and check a seed (nothing is created yet).

    Args:
        source: A YAML or JSON file (``.json``: JSON), or the same structure as a dict.

    Returns:
        The seed.

    Raises:
        SeedError: The first problem found, with file, line (YAML) and path.
    """
    src = read_seed(source)
    top = _mapping(src, src.value, (), _TOP)
    subjects: list[_Subject] = []
    for key, service_account in (("users", False), ("service_accounts", True)):
        for index, item in enumerate(_list(src, top.get(key, []), (key,))):
            subjects.append(_subject(src, item, (key, index), service_account=service_account))
    names: dict[str, PathKey] = {}
    tokens: set[str] = set()
    for subject in subjects:
        if subject.name == ADMIN or subject.name in names:
            raise src.error((*subject.path, "name"), f"name {subject.name!r} is already taken")
        names[subject.name] = subject.path
        if subject.token is not None:
            if subject.token in tokens:
                raise src.error((*subject.path, "token"), "token already given to another subject")
            tokens.add(subject.token)
    runners = [
        _runner(src, item, ("runners", index), {ADMIN, *names})
        for index, item in enumerate(_list(src, top.get("runners", []), ("runners",)))
    ]
    ids = [r.id for r in runners if r.id]
    for runner in runners:
        if runner.id and ids.count(runner.id) > 1:
            raise src.error((*runner.path, "id"), f"runner id {runner.id} is used twice")
    try:
        scm = FakeSCMs.from_seed(top.get("scm"))
    except FakeDataError as exc:
        raise src.error(_path_of(exc.path), str(exc).split(": ", 1)[1]) from None
    return Seed(src, subjects, runners, scm, has_scm="scm" in top)


def _path_of(dotted_path: str) -> PathKey:
    return tuple(int(i) if i else str(k) for k, i in _PART.findall(dotted_path))


def _mapping(src: SeedSource, value: object, path: PathKey, keys: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise src.error(path, "expected a mapping")
    for key in value:
        if key not in keys:
            raise src.error((*path, key), f"unknown key (known: {', '.join(sorted(keys))})")
    return value


def _list(src: SeedSource, value: object, path: PathKey) -> list[Any]:
    if not isinstance(value, list):
        raise src.error(path, "expected a list")
    return value


def _flag(src: SeedSource, spec: Mapping[str, Any], path: PathKey, key: str) -> bool:
    value = spec.get(key, False)
    if not isinstance(value, bool):
        raise src.error((*path, key), "expected true or false")
    return value


def _subject(src: SeedSource, item: object, path: PathKey, *, service_account: bool) -> _Subject:
    spec = _mapping(src, item, path, _SUBJECT)
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 127:
        raise src.error((*path, "name"), "required: 1-127 characters")
    token = spec.get("token")
    if token is not None and (
        not isinstance(token, str) or not 16 <= len(token) <= 512 or not token.isprintable()
    ):
        raise src.error((*path, "token"), "expected 16-512 printable characters")
    groups = []
    for index, group in enumerate(_list(src, spec.get("groups", []), (*path, "groups"))):
        try:
            groups.append(parse_uuid(str(group), "group"))
        except InvalidArgumentError:
            raise src.error((*path, "groups", index), "expected a group UUID") from None
    return _Subject(
        path,
        name,
        service_account,
        token,
        _flag(src, spec, path, "org_admin"),
        _flag(src, spec, path, "runner_creator"),
        tuple(groups),
    )


def _plain(value: Any) -> Any:  # noqa: ANN401 - any seed value
    """YAML timestamps as RFC 3339 strings (what protobuf JSON expects)."""
    if isinstance(value, datetime):
        text = value.isoformat()
        return text if value.tzinfo else text + "Z"
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _message(src: SeedSource, spec: Mapping[str, Any], path: PathKey, message: Message) -> Message:
    for key in spec:
        if key in {"runner_id", "runnerId"}:
            raise src.error((*path, key), "set by the seed (entries sit under their runner)")
    try:
        json_format.ParseDict(_plain(dict(spec)), message)
    except json_format.ParseError as exc:
        text = str(exc)
        found = re.search(r'field named "([^"]+)"|Failed to parse (\w+) field', text)
        named = next((g for g in (found.groups() if found else ()) if g), None)
        raise src.error((*path, named) if named else path, text) from None
    return message


_CHILDREN: dict[str, type[Message]] = {
    "policies": runner_pb2.CreateRunnerPolicyRequest,
    "environment_classes": rc.CreateEnvironmentClassRequest,
    "scm_integrations": rc.CreateSCMIntegrationRequest,
    "host_tokens": rc.CreateHostAuthenticationTokenRequest,
}


def _runner(src: SeedSource, item: object, path: PathKey, subjects: set[str]) -> _Runner:
    if not isinstance(item, dict):
        raise src.error(path, "expected a mapping")
    own = {k: v for k, v in item.items() if k in _RUNNER_OWN}
    request = runner_pb2.CreateRunnerRequest()
    _message(src, {k: v for k, v in item.items() if k not in _RUNNER_OWN}, path, request)
    runner_id = own.get("id")
    if runner_id is not None:
        try:
            runner_id = parse_uuid(str(runner_id), "id")
        except InvalidArgumentError:
            raise src.error((*path, "id"), "expected a UUID") from None
    creator = own.get("creator", ADMIN)
    if creator not in subjects:
        raise src.error((*path, "creator"), f"no user or service account named {creator!r}")
    status = own.get("status")
    if status is not None:
        if not isinstance(status, dict):
            raise src.error((*path, "status"), "expected a mapping")
        status = _plain(status)
        try:
            status_from(status)
        except InvalidArgumentError as exc:
            raise src.error((*path, "status"), exc.message) from None
    runner = _Runner(path, runner_id, creator, request, status)
    for key, message_class in _CHILDREN.items():
        children = []
        for index, child in enumerate(_list(src, own.get(key, []), (*path, key))):
            at = (*path, key, index)
            if not isinstance(child, dict):
                raise src.error(at, "expected a mapping")
            owner = None
            if key == "host_tokens":
                owner = child.get("subject", ADMIN)
                if owner not in subjects:
                    raise src.error((*at, "subject"), f"no user or service account named {owner!r}")
            fields = {k: v for k, v in child.items() if k != "subject"}
            children.append(_Child(at, _message(src, fields, at, message_class()), owner))
        runner.children[key] = children
    return runner


def domain_error(seed: Seed, path: PathKey, exc: DomainError) -> SeedError:
    """A located error for what the server refused."""
    return seed.error(path, f"refused by the server: {exc.message}")
