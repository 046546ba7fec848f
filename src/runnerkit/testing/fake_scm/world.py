"""``FakeSCMs``: a GitHub and a GitLab fake, the hosts they answer for, and the server wiring.

``FakeSCMs.from_seed(seed["scm"])`` reads the seed's ``scm`` section (``github`` and
``gitlab``, each with optional extra ``hosts``); ``registry()`` is the ``SCMRegistry`` the
server uses, whose HTTP client answers from the fakes in process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from runnerkit.server.scm import SCMConfig, SCMRegistry
from runnerkit.testing.fake_scm.data import FakeDataError, FakeSCMData
from runnerkit.testing.fake_scm.server import FakeSCM, FakeSCMTransport

if TYPE_CHECKING:
    from runnerkit.testing.fake_scm.request import Kind

DEFAULT_HOSTS: dict[Kind, str] = {"github": "github.com", "gitlab": "gitlab.com"}


class FakeSCMs:
    """The fakes of one test server.

    Args:
        github: The GitHub fake (github.com and ``github_hosts``).
        gitlab: The GitLab fake (gitlab.com and ``gitlab_hosts``).
        github_hosts: GitHub Enterprise hosts it also answers for.
        gitlab_hosts: Self-managed GitLab hosts it also answers for.
    """

    def __init__(
        self,
        github: FakeSCM | None = None,
        gitlab: FakeSCM | None = None,
        *,
        github_hosts: tuple[str, ...] = (),
        gitlab_hosts: tuple[str, ...] = (),
    ) -> None:
        self.github = github or FakeSCM("github")
        self.gitlab = gitlab or FakeSCM("gitlab")
        self.hosts: dict[str, FakeSCM] = {"github.com": self.github, "gitlab.com": self.gitlab}
        self.hosts |= {h.lower(): self.github for h in github_hosts}
        self.hosts |= {h.lower(): self.gitlab for h in gitlab_hosts}

    @classmethod
    def from_seed(cls, spec: object, path: str = "scm") -> FakeSCMs:
        """The fakes a seed's ``scm`` section describes (None or {}: empty fakes).

        Raises:
            FakeDataError: A bad key or value, named by its path.
        """
        if spec is None:
            return cls()
        if not isinstance(spec, dict):
            raise FakeDataError(path, "expected a mapping with 'github' and/or 'gitlab'")
        unknown = sorted(set(map(str, spec)) - {"github", "gitlab"})
        if unknown:
            raise FakeDataError(f"{path}.{unknown[0]}", "unknown SCM (known: github, gitlab)")
        fakes: dict[str, FakeSCM] = {}
        hosts: dict[str, tuple[str, ...]] = {}
        for kind in ("github", "gitlab"):
            part = spec.get(kind) or {}
            data = FakeSCMData.from_dict(part, f"{path}.{kind}")
            raw_hosts = part.get("hosts", []) if isinstance(part, dict) else []
            if not isinstance(raw_hosts, list) or not all(
                isinstance(h, str) and h.strip() for h in raw_hosts
            ):
                raise FakeDataError(f"{path}.{kind}.hosts", "expected a list of host names")
            hosts[kind] = tuple(raw_hosts)
            fakes[kind] = FakeSCM(kind, data)
        return cls(
            fakes["github"],
            fakes["gitlab"],
            github_hosts=hosts["github"],
            gitlab_hosts=hosts["gitlab"],
        )

    def reset(self) -> None:
        """Both fakes back to their initial data, no switches."""
        self.github.reset()
        self.gitlab.reset()

    def registry(self, config: SCMConfig | None = None) -> SCMRegistry:
        """An ``SCMRegistry`` whose requests the fakes answer (close it when done)."""
        config = config or SCMConfig()
        client = httpx.Client(
            transport=FakeSCMTransport(self.hosts),
            timeout=httpx.Timeout(config.timeout_s),
            follow_redirects=True,
        )
        return _OwningRegistry(config, client=client)


class _OwningRegistry(SCMRegistry):
    """A registry that closes the client it was given (the fakes' in-process client)."""

    def close(self) -> None:
        """Close the client."""
        self.client.close()
