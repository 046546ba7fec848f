"""What a fake SCM knows: users' tokens, repositories, organisations, pull/merge requests.

The same data serves the GitHub and the GitLab fake (each has its own copy). ``from_dict``
reads the ``scm.github`` / ``scm.gitlab`` part of a seed (docs/testing.md); errors name the
path of the bad value.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

SHA = "0123456789abcdef0123456789abcdef01234567"
CLIENT_ID = "fake-client-id"
CLIENT_SECRET = "fake-client-secret"  # noqa: S105 - the fake OAuth app's well-known secret
PULL_STATES = ("open", "closed", "merged", "locked")
ROLES = ("admin", "member")
_ids = itertools.count(1000)


class FakeDataError(ValueError):
    """Bad fake SCM data; ``path`` names the value (e.g. ``repositories[0].name``)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


@dataclass
class FakeRepo:
    """A repository: ``owner`` is a user or an organisation (GitLab: a group path)."""

    owner: str
    name: str
    private: bool = False
    readers: frozenset[str] = frozenset()
    branches: dict[str, str] = field(default_factory=lambda: {"main": SHA})
    id: int = field(default_factory=lambda: next(_ids))

    @property
    def full(self) -> str:
        """``owner/name``."""
        return f"{self.owner}/{self.name}"


@dataclass
class FakePull:
    """A pull request (GitHub) or merge request (GitLab) of ``repo`` (``owner/name``)."""

    repo: str
    number: int
    title: str
    author: str
    from_branch: str
    to_branch: str = "main"
    state: str = "open"
    draft: bool = False


@dataclass
class FakeOrg:
    """An organisation (GitHub) or group (GitLab, full path) and its members' roles."""

    name: str
    members: dict[str, str]
    id: int = field(default_factory=lambda: next(_ids))


@dataclass
class FakeSCMData:
    """Everything one fake SCM answers from; change it while the fake runs."""

    tokens: dict[str, str] = field(default_factory=dict)  # access token -> user
    refused: set[str] = field(default_factory=set)  # valid tokens answered with 403
    repos: list[FakeRepo] = field(default_factory=list)
    orgs: list[FakeOrg] = field(default_factory=list)
    pulls: list[FakePull] = field(default_factory=list)
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # refresh token -> user
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    minted: int = 0

    @classmethod
    def from_dict(cls, spec: object, path: str = "") -> FakeSCMData:
        """Read fake SCM data from a seed (see docs/testing.md for the keys).

        Args:
            spec: The mapping.
            path: Where it sits in the seed, for error messages.

        Returns:
            The data.

        Raises:
            FakeDataError: A bad key or value; its path is named.
        """
        where = path or "scm"
        top = _mapping(spec, where, _KEYS)
        data = cls(
            tokens=_str_map(top.get("tokens", {}), f"{where}.tokens"),
            refused=set(_str_list(top.get("refused_tokens", []), f"{where}.refused_tokens")),
            refresh_tokens=_str_map(top.get("refresh_tokens", {}), f"{where}.refresh_tokens"),
        )
        for index, item in enumerate(_list(top.get("repositories", []), f"{where}.repositories")):
            data.repos.append(_repo(item, f"{where}.repositories[{index}]"))
        for index, item in enumerate(_list(top.get("organizations", []), f"{where}.organizations")):
            at = f"{where}.organizations[{index}]"
            org = _mapping(item, at, {"name", "members"})
            members = _str_map(org.get("members", {}), f"{at}.members")
            for user, role in members.items():
                if role not in ROLES:
                    raise FakeDataError(f"{at}.members.{user}", f"expected one of {ROLES}")
            data.orgs.append(FakeOrg(_text(org.get("name"), f"{at}.name"), members))
        for index, item in enumerate(_list(top.get("pull_requests", []), f"{where}.pull_requests")):
            data.pulls.append(_pull(item, f"{where}.pull_requests[{index}]", data))
        if "oauth_client_id" in top:
            data.client_id = _text(top["oauth_client_id"], f"{where}.oauth_client_id")
        if "oauth_client_secret" in top:
            data.client_secret = _text(top["oauth_client_secret"], f"{where}.oauth_client_secret")
        return data


_KEYS = {
    "tokens",
    "refused_tokens",
    "refresh_tokens",
    "repositories",
    "organizations",
    "pull_requests",
    "oauth_client_id",
    "oauth_client_secret",
    "hosts",
}


def _mapping(value: object, path: str, keys: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FakeDataError(path, "expected a mapping")
    unknown = sorted(set(map(str, value)) - keys)
    if unknown:
        raise FakeDataError(
            f"{path}.{unknown[0]}", f"unknown key (known: {', '.join(sorted(keys))})"
        )
    return value


def _list(value: object, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise FakeDataError(path, "expected a list")
    return value


def _text(value: object, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FakeDataError(path, "expected a non-empty string")
    return value


def _str_map(value: object, path: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise FakeDataError(path, "expected a mapping")
    return {_text(k, path): _text(v, f"{path}.{k}") for k, v in value.items()}


def _str_list(value: object, path: str) -> list[str]:
    return [_text(v, f"{path}[{i}]") for i, v in enumerate(_list(value, path))]


def _bool(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise FakeDataError(path, "expected true or false")
    return value


def _repo(item: object, at: str) -> FakeRepo:
    spec = _mapping(item, at, {"name", "private", "readers", "branches"})
    full = _text(spec.get("name"), f"{at}.name")
    owner, _, name = full.rpartition("/")
    if not owner or not name:
        raise FakeDataError(f"{at}.name", "expected owner/name (GitLab: group/.../name)")
    repo = FakeRepo(owner, name, private=_bool(spec.get("private", False), f"{at}.private"))
    repo.readers = frozenset(_str_list(spec.get("readers", []), f"{at}.readers"))
    if "branches" in spec:
        repo.branches = _str_map(spec["branches"], f"{at}.branches")
    return repo


def _pull(item: object, at: str, data: FakeSCMData) -> FakePull:
    keys = {"repository", "number", "title", "author", "from_branch", "to_branch", "state", "draft"}
    spec = _mapping(item, at, keys)
    repo = _text(spec.get("repository"), f"{at}.repository")
    if repo not in {r.full for r in data.repos}:
        raise FakeDataError(f"{at}.repository", f"no repository {repo!r} in this fake")
    number = spec.get("number")
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise FakeDataError(f"{at}.number", "expected a whole number >= 1")
    state = spec.get("state", "open")
    if state not in PULL_STATES:
        raise FakeDataError(f"{at}.state", f"expected one of {PULL_STATES}")
    return FakePull(
        repo=repo,
        number=number,
        title=_text(spec.get("title", f"Change {number}"), f"{at}.title"),
        author=_text(spec.get("author", "someone"), f"{at}.author"),
        from_branch=_text(spec.get("from_branch", f"change-{number}"), f"{at}.from_branch"),
        to_branch=_text(spec.get("to_branch", "main"), f"{at}.to_branch"),
        state=state,
        draft=_bool(spec.get("draft", False), f"{at}.draft"),
    )
