"""ParseContextURL, offline: what a GitHub, GitLab, Bitbucket or Azure DevOps URL points to.

A context URL is an ``http(s)`` URL of a repository, or of a branch, commit, tag, file, pull/merge
request or issue in it. Its host must be a public SCM host (github.com, gitlab.com,
bitbucket.org, dev.azure.com, ``<org>.visualstudio.com``) or one that an SCM integration of the
runner names (``integration_hosts``; the integration wins over the public default). The URL
forms understood (``<r>`` = ``<owner>/<repo>``; a trailing ``.git`` and slashes are ignored):

- GitHub: ``/<r>/tree/<branch...>`` and ``/<r>/commits/<branch...>`` (branch = all remaining
  segments), ``/<r>/blob/<ref>/<path>`` (branch = the first segment), ``/<r>/commit/<sha>``,
  ``/<r>/releases/tag/<tag>``, ``/<r>/pull/<n>``, ``/<r>/issues/<n>``.
- GitLab: ``/<group>[/<subgroup>...]/<repo>`` (owner = the whole group path), then
  ``/-/tree/<branch...>``, ``/-/commits/<branch...>``, ``/-/blob/<ref>/<path>`` (with
  ``?ref_type=tags`` the ref is a tag), ``/-/commit/<sha>``, ``/-/tags/<tag>``,
  ``/-/merge_requests/<n>``, ``/-/issues/<n>``, ``/-/work_items/<n>``.
- Bitbucket: ``/<r>/src/<ref>/<path>`` (branch = ``?at=`` if given, else the first segment),
  ``/<r>/branch/<branch...>``, ``/<r>/commits/<sha>``, ``/<r>/pull-requests/<n>``,
  ``/<r>/issues/<n>``.
- Azure DevOps: ``dev.azure.com/<org>/<project>/_git/<repo>``,
  ``<org>.visualstudio.com[/DefaultCollection]/<project>/_git/<repo>`` (owner =
  ``<org>/<project>``; without a project, the project is the repository's name) and, on
  integration hosts, Azure DevOps Server ``<host>/<path...>/_git/<repo>`` (owner = the path);
  then ``?version=GB<branch>|GT<tag>|GC<sha>``, ``/commit/<sha>``, ``/pullrequest/<n>``.

Offline the parser cannot tell a branch from a tag or a sub-directory, so: a ref that is a full
commit SHA (40 or 64 hex digits) in ``tree``/``blob``/``src`` is reported as a commit; any other
ref there is a branch. Segments are percent-decoded (``feature%2Fx`` is ``feature/x``).

``git.clone_url`` is ``<scheme>://<host>/<owner>/<repo>.git`` (Azure DevOps: its ``_git`` URL),
where the scheme is https for public hosts and the URL's own scheme for integration hosts.
``git.host`` is the host normalised as in ``scm_catalog.normalize_host``. PR titles and
branches stay empty: they need the SCM's API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote, unquote, urlsplit

from runnerkit.server.domain.scm_catalog import (
    azure_visualstudio_org,
    default_scm_for_host,
    normalize_host,
)
from runnerkit_proto.gitpod.v1 import runner_pb2

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["MAX_CONTEXT_URL_LENGTH", "ContextURLError", "parse_context_url"]

MAX_CONTEXT_URL_LENGTH = 2048

_SHA = re.compile(r"[0-9a-fA-F]{7,40}|[0-9a-fA-F]{64}")
_FULL_SHA = re.compile(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}")
_NUMBER = re.compile(r"[1-9][0-9]{0,17}")
_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_AZURE_NAME = re.compile(r"[^\x00-\x1f\x7f\\/:*?\"<>|]+")
# First path segments of github.com that are pages, not owners.
_GITHUB_RESERVED = frozenset(
    {"orgs", "settings", "marketplace", "explore", "topics", "sponsors", "login", "new"}
)
# What `git check-ref-format` forbids in a branch or tag name (simplified).
_BAD_REF = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//|^[-/.]|[/.]$|\.lock$")
_NO_REPOSITORY = "context URL does not name a repository"


class ContextURLError(Exception):
    """The context URL cannot be parsed; ``str(error)`` is a short message for the caller."""


@dataclass
class _Context:
    owner: str
    repo: str
    clone_url: str
    pr_url_prefix: str
    branch: str = ""
    commit: str = ""
    tag: str = ""
    pr: str = ""
    issue: str = ""


def parse_context_url(
    url: str, *, integration_hosts: Mapping[str, str]
) -> runner_pb2.ParseContextURLResponse:
    """Parses a context URL without contacting the SCM.

    Args:
        url: The context URL as the caller gave it.
        integration_hosts: Hosts named by the runner's SCM integrations, mapped to their scm_id
            (e.g. ``{"git.example.com": "gitlab"}``); hosts are normalised before comparison.

    Returns:
        The response with ``git``, ``pull_request`` and ``pr`` (for pull/merge requests),
        ``issue``, ``scm_id`` and ``original_context_url`` (``url`` unchanged) filled.

    Raises:
        ContextURLError: The URL is empty, too long, not http(s), names no repository, has a
            host no SCM knows, or has a path this parser does not understand.
    """
    text = url.strip()
    if not text:
        raise ContextURLError("context URL is required")
    if len(text) > MAX_CONTEXT_URL_LENGTH:
        raise ContextURLError(
            f"context URL is too long (at most {MAX_CONTEXT_URL_LENGTH} characters)"
        )
    try:
        parts = urlsplit(text)
    except ValueError:
        raise ContextURLError("context URL is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ContextURLError("context URL must be an http(s) URL")
    host = normalize_host(f"{scheme}://{parts.netloc}")
    if not host:
        raise ContextURLError("context URL has no host")
    integrations = {normalize_host(h): scm for h, scm in integration_hosts.items()}
    scm_id = integrations.get(host)
    if scm_id is None:
        scm_id = default_scm_for_host(host)
        scheme = "https"
    if scm_id is None:
        raise ContextURLError(f"unknown SCM host {host}")
    parser = _PARSERS.get(scm_id)
    if parser is None:
        raise ContextURLError(f"context URLs of SCM {scm_id!r} are not supported")
    segments = [unquote(segment) for segment in parts.path.split("/") if segment]
    ctx = parser(f"{scheme}://{host}", host, segments, parts.query)
    return _response(url, scm_id, host, ctx)


def _response(
    url: str, scm_id: str, host: str, ctx: _Context
) -> runner_pb2.ParseContextURLResponse:
    response = runner_pb2.ParseContextURLResponse(original_context_url=url, scm_id=scm_id)
    git = response.git
    git.host = host
    git.owner = ctx.owner
    git.repo = ctx.repo
    git.clone_url = ctx.clone_url
    git.branch = ctx.branch
    git.commit = ctx.commit
    git.tag = ctx.tag
    if ctx.pr:
        pull_request = response.pull_request
        pull_request.id = ctx.pr
        pull_request.url = ctx.pr_url_prefix + ctx.pr
        pull_request.repository.host = host
        pull_request.repository.owner = ctx.owner
        pull_request.repository.name = ctx.repo
        pull_request.repository.clone_url = ctx.clone_url
        response.pr.id = ctx.pr
    if ctx.issue:
        response.issue.id = ctx.issue
    return response


# --- shared pieces -------------------------------------------------------------------------


def _name(value: str, what: str, pattern: re.Pattern[str] = _NAME) -> str:
    if value in (".", "..") or not pattern.fullmatch(value):
        raise ContextURLError(f"invalid {what} name {value!r}")
    return value


def _strip_git(repo: str) -> str:
    return repo[: -len(".git")] if repo.lower().endswith(".git") else repo


def _number(args: list[str], what: str) -> str:
    if not args:
        raise ContextURLError(f"missing {what} number")
    if not _NUMBER.fullmatch(args[0]):
        raise ContextURLError(f"invalid {what} number {args[0]!r}")
    return args[0]


def _sha(args: list[str]) -> str:
    if not args:
        raise ContextURLError("missing commit SHA")
    if not _SHA.fullmatch(args[0]):
        raise ContextURLError(f"invalid commit SHA {args[0]!r}")
    return args[0].lower()


def _ref(ctx: _Context, args: list[str], *, whole: bool) -> None:
    """Sets the branch (or commit, for a full SHA) from ``tree``/``blob``/``src`` arguments."""
    if not args:
        raise ContextURLError("missing branch name")
    ref = "/".join(args) if whole else args[0]
    if _FULL_SHA.fullmatch(ref):
        ctx.commit = ref.lower()
    else:
        ctx.branch = _git_ref(ref, "branch")


def _tag(args: list[str]) -> str:
    if not args:
        raise ContextURLError("missing tag name")
    return _git_ref("/".join(args), "tag")


def _git_ref(name: str, what: str) -> str:
    if _BAD_REF.search(name):
        raise ContextURLError(f"invalid {what} name {name!r}")
    return name


def _unsupported(kind: str) -> ContextURLError:
    return ContextURLError(f"unsupported context URL path /{kind}")


def _owner_repo(segments: list[str], count: int) -> tuple[str, str]:
    if len(segments) < count:
        raise ContextURLError(_NO_REPOSITORY)
    owner, repo = segments[count - 2], _strip_git(segments[count - 1])
    return _name(owner, "owner"), _name(repo, "repository")


# --- GitHub --------------------------------------------------------------------------------


def _github(base: str, host: str, segments: list[str], query: str) -> _Context:
    del host, query
    if segments and segments[0].lower() in _GITHUB_RESERVED:
        raise ContextURLError(_NO_REPOSITORY)
    owner, repo = _owner_repo(segments, 2)
    web = f"{base}/{owner}/{repo}"
    ctx = _Context(owner, repo, f"{web}.git", f"{web}/pull/")
    kind, args = (segments[2], segments[3:]) if len(segments) > 2 else ("", [])
    if kind == "":
        pass
    elif kind in ("tree", "blob", "commits"):
        _ref(ctx, args, whole=kind != "blob")
    elif kind == "commit":
        ctx.commit = _sha(args)
    elif kind == "releases" and args[:1] == ["tag"]:
        ctx.tag = _tag(args[1:])
    elif kind == "pull":
        ctx.pr = _number(args, "pull request")
    elif kind == "issues":
        ctx.issue = _number(args, "issue")
    else:
        raise _unsupported(kind)
    return ctx


# --- GitLab --------------------------------------------------------------------------------


def _gitlab(base: str, host: str, segments: list[str], query: str) -> _Context:
    del host
    split = segments.index("-") if "-" in segments else len(segments)
    namespace, rest = segments[:split], segments[split + 1 :]
    if len(namespace) < 2:
        raise ContextURLError(_NO_REPOSITORY)
    groups = [_name(group, "group") for group in namespace[:-1]]
    repo = _name(_strip_git(namespace[-1]), "repository")
    owner = "/".join(groups)
    web = f"{base}/{owner}/{repo}"
    ctx = _Context(owner, repo, f"{web}.git", f"{web}/-/merge_requests/")
    if not rest:
        return ctx
    kind, args = rest[0], rest[1:]
    if kind in ("tree", "blob", "commits"):
        _ref(ctx, args, whole=kind != "blob")
        if ctx.branch and parse_qs(query).get("ref_type") == ["tags"]:
            ctx.tag, ctx.branch = ctx.branch, ""
    elif kind == "commit":
        ctx.commit = _sha(args)
    elif kind == "tags":
        ctx.tag = _tag(args)
    elif kind == "merge_requests":
        ctx.pr = _number(args, "merge request")
    elif kind in ("issues", "work_items"):
        ctx.issue = _number(args, "issue")
    else:
        raise _unsupported(kind)
    return ctx


# --- Bitbucket -----------------------------------------------------------------------------


def _bitbucket(base: str, host: str, segments: list[str], query: str) -> _Context:
    del host
    owner, repo = _owner_repo(segments, 2)
    web = f"{base}/{owner}/{repo}"
    ctx = _Context(owner, repo, f"{web}.git", f"{web}/pull-requests/")
    kind, args = (segments[2], segments[3:]) if len(segments) > 2 else ("", [])
    if kind == "":
        pass
    elif kind in ("src", "branch"):
        _ref(ctx, args, whole=kind == "branch")
        at = parse_qs(query).get("at")
        if kind == "src" and at:  # /src/<sha>/<path>?at=<branch>: browsing a branch
            ctx.branch = _git_ref(at[0], "branch")
    elif kind == "commits":
        ctx.commit = _sha(args)
    elif kind == "pull-requests":
        ctx.pr = _number(args, "pull request")
    elif kind == "issues":
        ctx.issue = _number(args, "issue")
    else:
        raise _unsupported(kind)
    return ctx


# --- Azure DevOps --------------------------------------------------------------------------


def _azure(base: str, host: str, segments: list[str], query: str) -> _Context:
    if "_git" not in segments or segments.index("_git") + 1 >= len(segments):
        raise ContextURLError(_NO_REPOSITORY)
    split = segments.index("_git")
    repo = _name(segments[split + 1], "repository", _AZURE_NAME)
    names = [_name(name, "project", _AZURE_NAME) for name in segments[:split]]
    owner, path = _azure_owner(host, names, repo)
    clone_url = "/".join([base, *(quote(p, safe="") for p in path), "_git", quote(repo, safe="")])
    ctx = _Context(owner, repo, clone_url, f"{clone_url}/pullrequest/")
    rest = segments[split + 2 :]
    kind, args = (rest[0], rest[1:]) if rest else ("", [])
    if kind == "":
        _azure_version(ctx, query)
    elif kind == "commit":
        ctx.commit = _sha(args)
    elif kind == "pullrequest":
        ctx.pr = _number(args, "pull request")
    else:
        raise _unsupported(kind)
    return ctx


def _azure_owner(host: str, names: list[str], repo: str) -> tuple[str, list[str]]:
    """Returns the owner and the URL path before ``_git`` from the names before ``_git``."""
    org = azure_visualstudio_org(host)
    if org is not None:  # <org>.visualstudio.com[/DefaultCollection]/<project>/_git/<repo>
        if names[:1] and names[0].lower() == "defaultcollection":
            names = names[1:]
        if len(names) > 1:
            raise ContextURLError(_NO_REPOSITORY)
        project = names[0] if names else repo
        return f"{org}/{project}", [project]
    if host == "dev.azure.com":  # dev.azure.com/<org>[/<project>]/_git/<repo>
        if len(names) not in (1, 2):
            raise ContextURLError(_NO_REPOSITORY)
        project = names[1] if len(names) == 2 else repo
        return f"{names[0]}/{project}", [names[0], project]
    if not names:  # Azure DevOps Server: <host>/<virtual dir>/<collection>/<project>/_git/<repo>
        raise ContextURLError(_NO_REPOSITORY)
    return "/".join(names), names


def _azure_version(ctx: _Context, query: str) -> None:
    versions = parse_qs(query).get("version")
    if not versions:
        return
    version = versions[0]
    kind, name = version[:2].upper(), version[2:]
    if kind == "GB" and name:
        ctx.branch = _git_ref(name, "branch")
    elif kind == "GT" and name:
        ctx.tag = _git_ref(name, "tag")
    elif kind == "GC" and name:
        ctx.commit = _sha([name])
    else:
        raise ContextURLError(f"invalid version {version!r}")


_PARSERS: dict[str, Callable[[str, str, list[str], str], _Context]] = {
    "github": _github,
    "gitlab": _gitlab,
    "bitbucket": _bitbucket,
    "azuredevops": _azure,
}
