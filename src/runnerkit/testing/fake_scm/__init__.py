"""Offline fakes of the GitHub and GitLab REST APIs, seedable, for tests with no network.

``LocalRunnerAPI(scm="fake")`` and ``runnerkit serve --fake-scm`` answer the SCM RPCs
(CheckRepositoryAccess, SearchRepositories, ListSCMOrganizations, ParseContextURL's
enrichment) from these fakes: users' tokens, repositories, branches, organisations/groups and
pull/merge requests, from the seed's ``scm`` section or changed while running
(``api.fake_scm.github.data``). ``switches`` simulate outages, rate limits and latency.
"""

from __future__ import annotations

from runnerkit.testing.fake_scm.data import (
    CLIENT_ID,
    CLIENT_SECRET,
    SHA,
    FakeDataError,
    FakeOrg,
    FakePull,
    FakeRepo,
    FakeSCMData,
)
from runnerkit.testing.fake_scm.request import RESET_EPOCH, Switches
from runnerkit.testing.fake_scm.server import FakeSCM, FakeSCMTransport, serve_fake_scm
from runnerkit.testing.fake_scm.world import FakeSCMs

__all__ = [
    "CLIENT_ID",
    "CLIENT_SECRET",
    "RESET_EPOCH",
    "SHA",
    "FakeDataError",
    "FakeOrg",
    "FakePull",
    "FakeRepo",
    "FakeSCM",
    "FakeSCMData",
    "FakeSCMTransport",
    "FakeSCMs",
    "Switches",
    "serve_fake_scm",
]
