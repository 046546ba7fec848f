"""What the reference server cannot do yet, in one place; every set here may only shrink.

Tests assert the *current* answer for these, so they fail (and say which entry to remove)
as soon as the server starts to succeed.
"""

from __future__ import annotations

import runnerkit

# RPCs the server answers with `unimplemented` (none: every RPC is implemented).
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
    # The real API's schema requires a UUID runner_id here (buf.validate `string.uuid`, in
    # tests/data/gitpod_v1_validate.tsv), and the reference's own example omits it: the real
    # API rejects that call too.
    "CheckAuthenticationForHost": (
        runnerkit.InvalidArgumentError,
        "runner_id: value is empty, which is not a valid UUID",
    ),
    # Without scm_host the search goes to the first (sorted) host the caller holds a token for
    # on the runner: the example world's tokens are for bitbucket.org and gitlab.com, and
    # Bitbucket has no SCM adapter (searching gitlab.com would leave the machine).
    "SearchRepositories": (
        runnerkit.UnimplementedError,
        "bitbucket is not supported for bitbucket.org yet",
    ),
}

# Server gaps: examples the reference runs but the server rejects. Must stay empty.
SERVER_GAPS: dict[str, tuple[type[runnerkit.APIError], str]] = {}
