"""Calling an SCM host with the caller's host token: look-up, unsealing, OAuth refresh, retry.

:func:`look_up_host_token` reads, in the request's transaction, the caller's host
authentication token for a runner and a (normalised) host (one look-up by the unique key) and
the runner's SCM integrations. After the transaction (no SCM call runs inside one),
:func:`open_host_call` picks the SCM (the runner's SCM integration for the host, else the
public default hosts) and its adapter, and unseals the token with the runner's private key (itself
wrapped by the master key). :meth:`HostCall.run` calls the adapter with the token.

Refresh: a token that expires within a minute (``scm.needs_refresh``) is refreshed before use
when it has a refresh token, the runner has an SCM integration for the host with an OAuth
client id and secret, and the SCM supports refresh (GitHub, GitLab). The new token, its
expiry and the (possibly rotated) refresh token are sealed and stored in one write. When the
SCM rejects a token (``SCMAuthRequiredError``) and a refresh is possible, the call is
refreshed once and retried. A token that has expired and cannot be refreshed counts as no
token (``missing authentication token for <host>``), as in CheckAuthenticationForHost.

Secrets: plain tokens live only in :class:`HostCall` (hidden from ``repr``) and in the adapter
call; no message or log line here carries one.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from runnerkit.server import crypto
from runnerkit.server.domain.errors import FailedPreconditionError
from runnerkit.server.domain.scm_catalog import default_scm_for_host, normalize_host
from runnerkit.server.scm import SCMAuthRequiredError, needs_refresh, supports_refresh
from runnerkit.server.service import MICROS

if TYPE_CHECKING:
    from collections.abc import Callable

    from runnerkit.server.scm import RefreshedToken, SCMAdapter
    from runnerkit.server.service import Services
    from runnerkit.server.storage.base import RunnerRecord, SubjectRecord
    from runnerkit.server.storage.config_records import HostTokenRecord, SCMIntegrationRecord
    from runnerkit.server.storage.transaction import Transaction

__all__ = [
    "HostCall",
    "HostTokenLookup",
    "find_host_token",
    "look_up_host_token",
    "missing_token",
    "open_host_call",
    "require_host_call",
    "scm_of_host",
]

_T = TypeVar("_T")
_log = logging.getLogger("runnerkit.server.scm")


def missing_token(host: str) -> FailedPreconditionError:
    """The error for a host the caller holds no usable token for (clients key on its wording)."""
    return FailedPreconditionError(f"missing authentication token for {host}")


def _when(micros: int | None) -> datetime | None:
    return None if micros is None else datetime.fromtimestamp(micros / MICROS, UTC)


def find_host_token(
    svc: Services, runner_id: str, subject_id: str, host: str
) -> HostTokenRecord | None:
    """The subject's host token for a runner and a normalised host (expired or not), or None.

    Args:
        svc: The services.
        runner_id: The runner.
        subject_id: The token's subject (the caller).
        host: The normalised host.

    Returns:
        The record: one look-up by the unique key (runner, host, subject).
    """
    return svc.store.find_host_token(runner_id, host, subject_id)


@dataclasses.dataclass(frozen=True)
class HostTokenLookup:
    """What a call to a host needs from the store, read in the request's transaction.

    Attributes:
        host: The normalised host.
        record: The caller's token for the runner and host, or None.
        integrations: The runner's SCM integrations (empty when there is no token).
    """

    host: str
    record: HostTokenRecord | None
    integrations: list[SCMIntegrationRecord]


def look_up_host_token(
    tx: Transaction,
    subject: SubjectRecord,
    runner: RunnerRecord,
    host: str,
    integrations: list[SCMIntegrationRecord] | None = None,
) -> HostTokenLookup:
    """Read the caller's token for a host and the runner's integrations (if not given).

    Args:
        tx: The request's transaction.
        subject: The caller.
        runner: The runner (USER access already checked).
        host: The host (normalised here).
        integrations: The runner's integrations when the request has read them already.

    Returns:
        The look-up, for :func:`open_host_call` once the transaction is over.
    """
    host = normalize_host(host)
    record = tx.find_host_token(runner.id, host, subject.id)
    if record is None:
        return HostTokenLookup(host, None, [])
    if integrations is None:
        integrations = tx.scm_integrations_of_runner(runner.id)
    return HostTokenLookup(host, record, integrations)


def scm_of_host(host: str, integrations: list[SCMIntegrationRecord]) -> str | None:
    """The SCM of a normalised host: the runner's integration for it, else the default hosts."""
    for integration in integrations:
        if integration.host == host:
            return integration.scm_id
    return default_scm_for_host(host)


@dataclasses.dataclass
class HostCall:
    """The caller's token for one host, ready to call the adapter with.

    Attributes:
        svc: The services.
        runner: The runner whose token it is.
        host: The normalised host.
        scm_id: The host's SCM.
        adapter: The SCM adapter for the host.
        record: The stored token (as last read or written).
        integration: The runner's SCM integration for the host, if any.
        token: The plain access token (hidden from ``repr``).
    """

    svc: Services
    runner: RunnerRecord
    host: str
    scm_id: str
    adapter: SCMAdapter
    record: HostTokenRecord
    integration: SCMIntegrationRecord | None
    token: str = dataclasses.field(repr=False)
    _refreshed: bool = False

    def run(self, call: Callable[[SCMAdapter, str], _T]) -> _T:
        """Call the adapter with the token; on a rejected token refresh once and retry.

        Args:
            call: ``call(adapter, token)``.

        Returns:
            What ``call`` returns.

        Raises:
            DomainError: The SCM errors of ``scm/base.py`` (after at most one refresh).
        """
        try:
            return call(self.adapter, self.token)
        except SCMAuthRequiredError:
            if self._refreshed or not self.can_refresh():
                raise
        self.refresh()
        return call(self.adapter, self.token)

    def can_refresh(self) -> bool:
        """Whether a refresh is possible (refresh token, OAuth client, SCM support)."""
        integration = self.integration
        return (
            bool(self.record.refresh_token_sealed)
            and integration is not None
            and bool(integration.oauth_client_id)
            and bool(integration.oauth_client_secret_sealed)
            and supports_refresh(self.scm_id)
        )

    def unseal(self, sealed: bytes) -> str:
        """A secret sealed to the runner's key, in plain text."""
        return crypto.unseal(self.svc.master_key, self.runner.wrapped_private_key, sealed).decode()

    def refresh(self) -> None:
        """Trade the stored refresh token for a new token; store it sealed; use it.

        Raises:
            SCMAuthRequiredError: The SCM rejected the refresh (and no concurrent refresh
                stored a newer token meanwhile).
        """
        integration = self.integration
        if integration is None:  # callers check can_refresh first
            raise SCMAuthRequiredError(f"the token for {self.host} cannot be refreshed")
        self._refreshed = True
        try:
            fresh = self.svc.scm.refresh(
                self.scm_id,
                self.host,
                refresh_token=self.unseal(self.record.refresh_token_sealed),
                client_id=integration.oauth_client_id or "",
                client_secret=self.unseal(integration.oauth_client_secret_sealed),
                issuer_url=integration.issuer_url,
            )
        except SCMAuthRequiredError:
            # Another request may have spent the refresh token first and stored its result.
            current = self.svc.store.get_host_token(self.record.id)
            if current is None or current.token_sealed == self.record.token_sealed:
                raise
            self.record, self.token = current, self.unseal(current.token_sealed)
            return
        self._store(fresh)
        _log.info("refreshed host token %s for %s", self.record.id, self.host)

    def _store(self, fresh: RefreshedToken) -> None:
        public_key = self.runner.public_key
        token_sealed = crypto.seal(public_key, fresh.access_token.encode())
        refresh_sealed = crypto.seal(public_key, fresh.refresh_token.encode())
        expires_at = (
            None if fresh.expires_at is None else int(fresh.expires_at.timestamp() * MICROS)
        )
        now = self.svc.clock()

        def change(current: HostTokenRecord) -> HostTokenRecord:
            return dataclasses.replace(
                current,
                token_sealed=token_sealed,
                refresh_token_sealed=refresh_sealed,
                expires_at=expires_at,
                scopes=fresh.scopes or current.scopes,
                updated_at=max(now, current.updated_at + 1),
            )

        stored = self.svc.store.update_host_token(self.record.id, change)
        if stored is not None:
            self.record = stored
        self.token = fresh.access_token


def open_host_call(
    svc: Services,
    runner: RunnerRecord,
    lookup: HostTokenLookup,
    *,
    scm_id: str | None = None,
) -> HostCall | None:
    """The caller's usable token for a host, with its adapter; None when there is none.

    Call it after the request's read transaction (a refresh calls the SCM and writes).

    Args:
        svc: The services.
        runner: The runner (USER access already checked).
        lookup: The token and integrations (:func:`look_up_host_token`).
        scm_id: The host's SCM when already known (e.g. from ParseContextURL).

    Returns:
        The call, refreshed first when the token expires within a minute and can be refreshed;
        None when the caller holds no token for the host, or only an expired one that cannot
        be refreshed.

    Raises:
        FailedPreconditionError: The host belongs to no known SCM.
        SCMUnsupportedError: The host's SCM has no adapter (``unimplemented``).
        SCMAuthRequiredError: A refresh was needed and the SCM rejected it.
    """
    host, record, integrations = lookup.host, lookup.record, lookup.integrations
    if record is None:
        return None
    integration = next((i for i in integrations if i.host == host), None)
    scm_id = scm_id or scm_of_host(host, integrations)
    if scm_id is None:
        raise FailedPreconditionError(
            f"no SCM is known for {host}: the runner needs an SCM integration for it"
        )
    adapter = svc.scm.adapter(scm_id, host)
    now = svc.clock()
    call = HostCall(svc, runner, host, scm_id, adapter, record, integration, token="")
    expires = _when(record.expires_at)
    if needs_refresh(expires, datetime.fromtimestamp(now / MICROS, UTC)):
        if call.can_refresh():
            call.refresh()
            return call
        if record.expires_at is not None and record.expires_at <= now:
            return None
    call.token = call.unseal(record.token_sealed)
    return call


def require_host_call(svc: Services, runner: RunnerRecord, lookup: HostTokenLookup) -> HostCall:
    """Like :func:`open_host_call`, but no usable token is ``missing authentication token``.

    Args:
        svc: The services.
        runner: The runner.
        lookup: The token and integrations (:func:`look_up_host_token`).

    Returns:
        The call.

    Raises:
        FailedPreconditionError: No usable token, or an unknown SCM.
        SCMUnsupportedError: The host's SCM has no adapter.
    """
    call = open_host_call(svc, runner, lookup)
    if call is None:
        raise missing_token(lookup.host)
    return call
