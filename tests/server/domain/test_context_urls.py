"""Table-driven tests of parse_context_url: every URL form, valid and invalid."""

from __future__ import annotations

import pytest

from runnerkit.server.domain.context_urls import (
    MAX_CONTEXT_URL_LENGTH,
    ContextURLError,
    parse_context_url,
)

INTEGRATIONS = {
    "git.example.com": "gitlab",
    "GHE.Example.com": "github",
    "code.example.org:8443": "bitbucket",
    "tfs.example.net": "azuredevops",
    "http-gitlab.internal": "gitlab",
    "gitea.example.com": "gitea",
}

SHA = "0123456789abcdef0123456789abcdef01234567"


def summary(url: str) -> dict[str, str]:
    """The parsed fields that matter, with empty values left out."""
    r = parse_context_url(url, integration_hosts=INTEGRATIONS)
    fields = {
        "scm": r.scm_id,
        "host": r.git.host,
        "owner": r.git.owner,
        "repo": r.git.repo,
        "clone": r.git.clone_url,
        "branch": r.git.branch,
        "commit": r.git.commit,
        "tag": r.git.tag,
        "pr": r.pull_request.id,
        "issue": r.issue.id,
    }
    return {k: v for k, v in fields.items() if v}


def gh(owner: str = "org", repo: str = "repo", **extra: str) -> dict[str, str]:
    return {
        "scm": "github",
        "host": "github.com",
        "owner": owner,
        "repo": repo,
        "clone": f"https://github.com/{owner}/{repo}.git",
        **extra,
    }


def gl(owner: str = "group", repo: str = "repo", host: str = "gitlab.com", **extra: str):
    scheme = "http" if host.startswith("http-") else "https"
    return {
        "scm": "gitlab",
        "host": host,
        "owner": owner,
        "repo": repo,
        "clone": f"{scheme}://{host}/{owner}/{repo}.git",
        **extra,
    }


def bb(owner: str = "team", repo: str = "repo", host: str = "bitbucket.org", **extra: str):
    return {
        "scm": "bitbucket",
        "host": host,
        "owner": owner,
        "repo": repo,
        "clone": f"https://{host}/{owner}/{repo}.git",
        **extra,
    }


def az(owner: str, repo: str, clone: str, host: str = "dev.azure.com", **extra: str):
    base = {"scm": "azuredevops", "host": host, "owner": owner, "repo": repo, "clone": clone}
    return {**base, **extra}


AZ_CLONE = "https://dev.azure.com/org/proj/_git/repo"

VALID = [
    # --- GitHub
    ("https://github.com/org/repo", gh()),
    ("https://github.com/org/repo/", gh()),
    ("https://github.com/org/repo.git", gh()),
    ("http://github.com/org/repo", gh()),
    ("https://GitHub.COM/Org/Repo", gh("Org", "Repo")),
    ("https://github.com:443/org/repo", gh()),
    ("https://user:secret@github.com/org/repo.git", gh()),
    ("  https://github.com/org/repo  ", gh()),
    ("https://github.com/org/repo?tab=readme#install", gh()),
    ("https://github.com/org/repo/tree/main", gh(branch="main")),
    ("https://github.com/org/repo/tree/feature/x-1", gh(branch="feature/x-1")),
    ("https://github.com/org/repo/tree/feature%2Fy", gh(branch="feature/y")),
    ("https://github.com/org/repo/tree/v1.2.3", gh(branch="v1.2.3")),
    (f"https://github.com/org/repo/tree/{SHA}", gh(commit=SHA)),
    ("https://github.com/org/repo/blob/main/src/app.py", gh(branch="main")),
    ("https://github.com/org/repo/commits/release/1.x", gh(branch="release/1.x")),
    ("https://github.com/org/repo/blob/dev/README.md#L10", gh(branch="dev")),
    (f"https://github.com/org/repo/commit/{SHA}", gh(commit=SHA)),
    (f"https://github.com/org/repo/commit/{SHA.upper()}", gh(commit=SHA)),
    ("https://github.com/org/repo/commit/abc1234", gh(commit="abc1234")),
    ("https://github.com/org/repo/releases/tag/v1.0.0", gh(tag="v1.0.0")),
    ("https://github.com/org/repo/pull/42", gh(pr="42")),
    ("https://github.com/org/repo/pull/42/files", gh(pr="42")),
    ("https://github.com/org/repo/issues/7", gh(issue="7")),
    ("https://github.com/my_org/my.repo-2", gh("my_org", "my.repo-2")),
    (
        "https://ghe.example.com/org/repo/pull/3",
        gh(host="ghe.example.com", clone="https://ghe.example.com/org/repo.git", pr="3"),
    ),
    # --- GitLab
    ("https://gitlab.com/group/repo", gl()),
    ("https://gitlab.com/group/repo.git", gl()),
    ("https://gitlab.com/group/sub/repo", gl("group/sub")),
    ("https://gitlab.com/a/b/c/repo/", gl("a/b/c")),
    ("https://gitlab.com/group/repo/-/tree/main", gl(branch="main")),
    ("https://gitlab.com/group/sub/repo/-/tree/feat/x", gl("group/sub", branch="feat/x")),
    ("https://gitlab.com/group/repo/-/blob/main/README.md", gl(branch="main")),
    ("https://gitlab.com/group/repo/-/tree/main?ref_type=heads", gl(branch="main")),
    ("https://gitlab.com/group/repo/-/tree/v1.0?ref_type=tags", gl(tag="v1.0")),
    ("https://gitlab.com/group/repo/-/blob/v1.0/a.txt?ref_type=tags", gl(tag="v1.0")),
    ("https://gitlab.com/group/repo/-/commits/dev", gl(branch="dev")),
    (f"https://gitlab.com/group/repo/-/tree/{SHA}?ref_type=tags", gl(commit=SHA)),
    (f"https://gitlab.com/group/repo/-/commit/{SHA}", gl(commit=SHA)),
    ("https://gitlab.com/group/repo/-/tags/v2.0", gl(tag="v2.0")),
    ("https://gitlab.com/group/sub/repo/-/merge_requests/12", gl("group/sub", pr="12")),
    ("https://gitlab.com/group/repo/-/merge_requests/12/diffs", gl(pr="12")),
    ("https://gitlab.com/group/repo/-/issues/99", gl(issue="99")),
    ("https://gitlab.com/group/repo/-/work_items/5", gl(issue="5")),
    ("https://gitlab.com/group/repo/-/", gl()),
    (
        "https://git.example.com/team/app/-/tree/dev",
        gl("team", "app", "git.example.com", branch="dev"),
    ),
    ("http://http-gitlab.internal/team/app", gl("team", "app", "http-gitlab.internal")),
    # --- Bitbucket
    ("https://bitbucket.org/team/repo", bb()),
    ("https://bitbucket.org/team/repo.git", bb()),
    ("https://bitbucket.org/team/repo/src/main", bb(branch="main")),
    ("https://bitbucket.org/team/repo/src/main/docs/index.md", bb(branch="main")),
    (f"https://bitbucket.org/team/repo/src/{SHA}/", bb(commit=SHA)),
    (
        f"https://bitbucket.org/team/repo/src/{SHA}/lib/?at=feature%2Fx",
        bb(commit=SHA, branch="feature/x"),
    ),
    ("https://bitbucket.org/team/repo/src/main/?at=dev", bb(branch="dev")),
    ("https://bitbucket.org/team/repo/branch/feature/login", bb(branch="feature/login")),
    (f"https://bitbucket.org/team/repo/commits/{SHA}", bb(commit=SHA)),
    ("https://bitbucket.org/team/repo/pull-requests/8", bb(pr="8")),
    ("https://bitbucket.org/team/repo/pull-requests/8/diff", bb(pr="8")),
    ("https://bitbucket.org/team/repo/issues/3/crash-on-start", bb(issue="3")),
    ("https://code.example.org:8443/team/repo", bb(host="code.example.org:8443")),
    # --- Azure DevOps
    ("https://dev.azure.com/org/proj/_git/repo", az("org/proj", "repo", AZ_CLONE)),
    ("https://dev.azure.com/org/proj/_git/repo/", az("org/proj", "repo", AZ_CLONE)),
    ("https://org@dev.azure.com/org/proj/_git/repo", az("org/proj", "repo", AZ_CLONE)),
    (
        "https://dev.azure.com/org/_git/repo",
        az("org/repo", "repo", "https://dev.azure.com/org/repo/_git/repo"),
    ),
    (
        "https://dev.azure.com/org/My%20Project/_git/my%20repo",
        az("org/My Project", "my repo", "https://dev.azure.com/org/My%20Project/_git/my%20repo"),
    ),
    (
        "https://dev.azure.com/org/proj/_git/repo?version=GBmain",
        az("org/proj", "repo", AZ_CLONE, branch="main"),
    ),
    (
        "https://dev.azure.com/org/proj/_git/repo?path=/src&version=GBfeature%2Fx",
        az("org/proj", "repo", AZ_CLONE, branch="feature/x"),
    ),
    (
        "https://dev.azure.com/org/proj/_git/repo?version=GTv1.0",
        az("org/proj", "repo", AZ_CLONE, tag="v1.0"),
    ),
    (
        f"https://dev.azure.com/org/proj/_git/repo?version=GC{SHA}",
        az("org/proj", "repo", AZ_CLONE, commit=SHA),
    ),
    (
        f"https://dev.azure.com/org/proj/_git/repo/commit/{SHA}",
        az("org/proj", "repo", AZ_CLONE, commit=SHA),
    ),
    (
        "https://dev.azure.com/org/proj/_git/repo/pullrequest/17",
        az("org/proj", "repo", AZ_CLONE, pr="17"),
    ),
    (
        "https://org.visualstudio.com/proj/_git/repo",
        az(
            "org/proj",
            "repo",
            "https://org.visualstudio.com/proj/_git/repo",
            host="org.visualstudio.com",
        ),
    ),
    (
        "https://Org.VisualStudio.com/DefaultCollection/proj/_git/repo?version=GBdev",
        az(
            "org/proj",
            "repo",
            "https://org.visualstudio.com/proj/_git/repo",
            host="org.visualstudio.com",
            branch="dev",
        ),
    ),
    (
        "https://tfs.example.net/tfs/Coll/proj/_git/repo/pullrequest/4",
        az(
            "tfs/Coll/proj",
            "repo",
            "https://tfs.example.net/tfs/Coll/proj/_git/repo",
            host="tfs.example.net",
            pr="4",
        ),
    ),
]


@pytest.mark.parametrize(("url", "expected"), VALID, ids=[case[0] for case in VALID])
def test_valid_urls(url, expected):
    assert summary(url) == expected


INVALID = [
    ("", "context URL is required"),
    ("   ", "context URL is required"),
    ("github.com/org/repo", "context URL must be an http(s) URL"),
    ("git@github.com:org/repo.git", "context URL must be an http(s) URL"),
    ("ssh://git@github.com/org/repo.git", "context URL must be an http(s) URL"),
    ("ftp://github.com/org/repo", "context URL must be an http(s) URL"),
    ("https://", "context URL has no host"),
    ("https://[::1/org/repo", "context URL is not a valid URL"),
    ("https://example.com/org/repo", "unknown SCM host example.com"),
    ("https://github.com:8443/org/repo", "unknown SCM host github.com:8443"),
    ("https://code.example.org/team/repo", "unknown SCM host code.example.org"),
    ("https://gitea.example.com/org/repo", "context URLs of SCM 'gitea' are not supported"),
    ("https://github.com", "context URL does not name a repository"),
    ("https://github.com/org", "context URL does not name a repository"),
    ("https://github.com/org/", "context URL does not name a repository"),
    ("https://github.com/orgs/gitpod-io", "context URL does not name a repository"),
    ("https://github.com/org/.git", "invalid repository name ''"),
    ("https://github.com/org/re po", "invalid repository name 're po'"),
    ("https://github.com/or%3Cg/repo", "invalid owner name 'or<g'"),
    ("https://github.com/org/repo/pull/abc", "invalid pull request number 'abc'"),
    ("https://github.com/org/repo/pull/0", "invalid pull request number '0'"),
    ("https://github.com/org/repo/pull/-1", "invalid pull request number '-1'"),
    ("https://github.com/org/repo/pull", "missing pull request number"),
    ("https://github.com/org/repo/issues/x1", "invalid issue number 'x1'"),
    ("https://github.com/org/repo/commit/xyz", "invalid commit SHA 'xyz'"),
    ("https://github.com/org/repo/commit/abc12", "invalid commit SHA 'abc12'"),
    ("https://github.com/org/repo/commit", "missing commit SHA"),
    ("https://github.com/org/repo/tree", "missing branch name"),
    ("https://github.com/org/repo/tree/", "missing branch name"),
    ("https://github.com/org/repo/releases/tag", "missing tag name"),
    ("https://github.com/org/repo/tree/a..b", "invalid branch name 'a..b'"),
    ("https://github.com/org/repo/tree/x%20y", "invalid branch name 'x y'"),
    ("https://github.com/org/repo/tree/-x", "invalid branch name '-x'"),
    ("https://github.com/org/repo/tree/x.lock", "invalid branch name 'x.lock'"),
    ("https://github.com/org/repo/tree/x%5E1", "invalid branch name 'x^1'"),
    ("https://github.com/org/repo/releases/tag/v1~2", "invalid tag name 'v1~2'"),
    ("https://bitbucket.org/team/repo/src/main/?at=a:b", "invalid branch name 'a:b'"),
    ("https://dev.azure.com/org/proj/_git/repo?version=GBa..b", "invalid branch name 'a..b'"),
    ("https://dev.azure.com/org/proj/_git/repo?version=GTv*", "invalid tag name 'v*'"),
    ("https://github.com/org/repo/releases", "unsupported context URL path /releases"),
    ("https://github.com/org/repo/actions", "unsupported context URL path /actions"),
    ("https://gitlab.com/repo", "context URL does not name a repository"),
    ("https://gitlab.com/repo/-/tree/main", "context URL does not name a repository"),
    ("https://gitlab.com/group/repo/-/merge_requests/x", "invalid merge request number 'x'"),
    ("https://gitlab.com/group/repo/-/pipelines", "unsupported context URL path /pipelines"),
    ("https://gitlab.com/gr%20oup/repo", "invalid group name 'gr oup'"),
    ("https://bitbucket.org/team", "context URL does not name a repository"),
    ("https://bitbucket.org/team/repo/pull-requests/x", "invalid pull request number 'x'"),
    ("https://bitbucket.org/team/repo/wiki", "unsupported context URL path /wiki"),
    ("https://dev.azure.com/org/proj", "context URL does not name a repository"),
    ("https://dev.azure.com/org/proj/_git", "context URL does not name a repository"),
    ("https://dev.azure.com/_git/repo", "context URL does not name a repository"),
    ("https://dev.azure.com/a/b/c/_git/repo", "context URL does not name a repository"),
    ("https://org.visualstudio.com/a/b/_git/repo", "context URL does not name a repository"),
    ("https://tfs.example.net/_git/repo", "context URL does not name a repository"),
    ("https://dev.azure.com/org/proj/_git/repo?version=XYmain", "invalid version 'XYmain'"),
    ("https://dev.azure.com/org/proj/_git/repo?version=GB", "invalid version 'GB'"),
    ("https://dev.azure.com/org/proj/_git/repo?version=GCzzz", "invalid commit SHA 'zzz'"),
    ("https://dev.azure.com/org/proj/_git/repo/pullrequest/x", "invalid pull request number 'x'"),
    ("https://dev.azure.com/org/proj/_git/repo/branches", "unsupported context URL path /branches"),
    ("https://dev.azure.com/org/pr%3Coj/_git/repo", "invalid project name 'pr<oj'"),
]


@pytest.mark.parametrize(
    ("url", "message"), INVALID, ids=[case[0] or "<empty>" for case in INVALID]
)
def test_invalid_urls(url, message):
    with pytest.raises(ContextURLError) as excinfo:
        parse_context_url(url, integration_hosts=INTEGRATIONS)
    assert str(excinfo.value) == message


def test_too_long():
    url = "https://github.com/org/repo/tree/" + "a" * MAX_CONTEXT_URL_LENGTH
    with pytest.raises(ContextURLError, match=r"^context URL is too long \(at most 2048"):
        parse_context_url(url, integration_hosts={})


def test_longest_allowed_url_parses():
    prefix = "https://github.com/org/repo/tree/"
    url = prefix + "b" * (MAX_CONTEXT_URL_LENGTH - len(prefix))
    assert parse_context_url(url, integration_hosts={}).git.branch.startswith("bbb")


def test_original_context_url_is_kept_verbatim():
    url = "  https://GitHub.com/org/repo/tree/main/  "
    assert parse_context_url(url, integration_hosts={}).original_context_url == url


def test_pull_request_fields():
    r = parse_context_url("https://github.com/org/repo/pull/42/files", integration_hosts={})
    assert r.pull_request.id == "42"
    assert r.pull_request.url == "https://github.com/org/repo/pull/42"
    repo = r.pull_request.repository
    assert (repo.host, repo.owner, repo.name, repo.clone_url) == (
        "github.com",
        "org",
        "repo",
        "https://github.com/org/repo.git",
    )
    assert r.pr.id == "42"
    assert not r.pull_request.title
    assert not r.pull_request.from_branch
    assert not r.HasField("issue")


@pytest.mark.parametrize(
    ("url", "pr_url"),
    [
        (
            "https://gitlab.com/a/b/c/-/merge_requests/5",
            "https://gitlab.com/a/b/c/-/merge_requests/5",
        ),
        (
            "https://bitbucket.org/t/r/pull-requests/6/diff",
            "https://bitbucket.org/t/r/pull-requests/6",
        ),
        (
            "https://dev.azure.com/o/p/_git/r/pullrequest/7",
            "https://dev.azure.com/o/p/_git/r/pullrequest/7",
        ),
    ],
)
def test_pull_request_canonical_url(url, pr_url):
    assert parse_context_url(url, integration_hosts={}).pull_request.url == pr_url


def test_plain_repository_sets_no_pr_or_issue():
    r = parse_context_url("https://github.com/org/repo", integration_hosts={})
    assert not r.HasField("pull_request")
    assert not r.HasField("pr")
    assert not r.HasField("issue")


def test_integration_overrides_public_default():
    r = parse_context_url(
        "https://github.com/group/repo/-/tree/main", integration_hosts={"github.com": "gitlab"}
    )
    assert (r.scm_id, r.git.owner, r.git.branch) == ("gitlab", "group", "main")


def test_integration_host_keeps_http_scheme_public_host_does_not():
    assert (
        parse_context_url("http://github.com/o/r", integration_hosts={}).git.clone_url
        == "https://github.com/o/r.git"
    )
    r = parse_context_url("http://git.example.com/o/r", integration_hosts=INTEGRATIONS)
    assert r.git.clone_url == "http://git.example.com/o/r.git"
