"""What the reference server cannot do yet, in one place; every set here may only shrink.

Tests assert the *current* answer for these, so they fail (and say which entry to remove)
as soon as the server starts to succeed.
"""

from __future__ import annotations

import runnerkit

# RPCs the server answers with `unimplemented` (part 2, RunnerConfigurationService, landed).
KNOWN_UNIMPLEMENTED: frozenset[str] = frozenset()

# Examples the server answers with an error by design, with the reason.
EXPECTED_ERRORS: dict[str, tuple[type[runnerkit.APIError], str]] = {
    # These go to the SCM host with the caller's host token; the example caller has none.
    "CheckRepositoryAccess": (
        runnerkit.FailedPreconditionError,
        "missing authentication token for github.com",
    ),
    "ListSCMOrganizations": (
        runnerkit.FailedPreconditionError,
        "missing authentication token for github.com",
    ),
    # The example caller holds a host token (an earlier example created it), so the search
    # reaches the SCM adapters, which the server does not have yet (issue: SCM adapters).
    "SearchRepositories": (runnerkit.UnimplementedError, "needs the SCM adapters"),
}

# Server gaps: examples the reference runs but the server rejects. Must stay empty.
SERVER_GAPS: dict[str, tuple[type[runnerkit.APIError], str]] = {}
