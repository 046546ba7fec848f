"""``LocalRunnerAPI``: the real server in process, on a free loopback port, with test controls.

The server runs under uvicorn in a background thread on a fresh SQLite store in a temporary
directory (or ``db=``), with the testing hooks of ``runnerkit.server.testapi``: a controllable
clock, injected faults, a request journal, whole-store snapshots. ``reset()`` returns to the
state right after start (the admin, and the seed when one was given).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import dataclasses
import shutil
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Self

from runnerkit.server import crypto
from runnerkit.server.app import create_app
from runnerkit.server.bootstrap import (
    bootstrap_admin,
    build_services,
    create_subject,
    master_key_file,
    open_sqlite,
)
from runnerkit.server.domain.errors import DomainError
from runnerkit.server.storage import open_store
from runnerkit.server.testapi import (
    TestHooks,
    check_logs_token,
    redeem_exchange_token,
    set_runner_status,
)
from runnerkit.testing.fake_scm import FakeSCMs
from runnerkit.testing.seed import load_seed
from runnerkit.testing.seed_apply import SeedResult, apply_seed, empty_store, store_has_data
from runnerkit.testing.serving import serve_in_thread

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from types import TracebackType

    from runnerkit.client import AsyncClient, Client
    from runnerkit.server.scm import SCMConfig
    from runnerkit.server.service import Services
    from runnerkit.server.storage.base import Store, SubjectRecord
    from runnerkit.server.testapi import Faults, Journal, TestClock
    from runnerkit_proto.gitpod.v1 import runner_pb2

DB_NAME = "runnerkit.db"
ADMIN_NAME = "testing-admin"
_template_lock = threading.Lock()
_template: list[tempfile.TemporaryDirectory[str]] = []


def _template_db() -> Path:
    """An empty, migrated SQLite file, made once per process: fresh stores start as copies.

    Its master key file (``<db>.master-key``) is copied with it, so the stores of one process
    share that key.
    """
    with _template_lock:
        if not _template:
            directory = tempfile.TemporaryDirectory(prefix="runnerkit-template-")
            store, _ = open_sqlite(Path(directory.name) / DB_NAME, environ={})
            store.close()  # the last connection checkpoints the WAL into the file
            _template.append(directory)
            atexit.register(directory.cleanup)
        return Path(_template[0].name) / DB_NAME


class LocalRunnerAPI:
    """The Runner API in process, for tests: ``with LocalRunnerAPI() as api: api.client()``.

    Args:
        db: A SQLite file (its master key beside it, ``<db>.master-key``) or a database URL
            (``postgresql+psycopg://…``, key from ``RUNNERKIT_MASTER_KEY`` or a temporary
            one); a fresh SQLite file in a temporary directory when None.
        seed: Seed data: a YAML/JSON file or the same structure as a dict (docs/testing.md).
        scm: ``"fake"``: SCM RPCs answered by offline GitHub/GitLab fakes (seedable through
            the seed's ``scm`` section); an ``SCMConfig`` to point hosts elsewhere; None for
            the real SCM hosts.
        reset: Empty a ``db`` that already has data before seeding (else a seed is refused).
        host: The loopback address to listen on.
        admin_token: The admin's bearer token (16-512 printable characters); generated when
            None. On a ``db`` that already has an org admin with this token, that admin is
            used.
    """

    def __init__(
        self,
        *,
        db: str | Path | None = None,
        seed: str | Path | Mapping[str, Any] | None = None,
        scm: Literal["fake"] | SCMConfig | None = None,
        reset: bool = False,
        host: str = "127.0.0.1",
        admin_token: str | None = None,
    ) -> None:
        if scm is not None and scm != "fake" and not hasattr(scm, "api_base_urls"):
            raise ValueError(f"scm: expected 'fake', an SCMConfig or None, got {scm!r}")
        self._seed = load_seed(seed) if seed is not None else None
        self._db, self._scm, self._reset, self._host = db, scm, reset, host
        self._given_token = admin_token
        self._stack: contextlib.ExitStack | None = None
        self._hooks: TestHooks | None = None
        self._base_url = ""
        self._admin_token = ""
        self._admin: SubjectRecord | None = None
        self.fake_scm: FakeSCMs | None = None
        """The GitHub and GitLab fakes when ``scm="fake"`` (change their data while running)."""
        self.seeded = SeedResult()
        """What the seed created: ``seeded.subjects[name].token``, ``seeded.runner_ids``."""

    # lifecycle

    def start(self) -> Self:
        """Start the server (``with`` does this); returns self."""
        if self._stack is not None:
            raise RuntimeError("LocalRunnerAPI is already running")
        stack = contextlib.ExitStack()
        try:
            store, key = self._open(stack)
            stack.callback(store.close)
            token, admin = self._admin_of(store)
            services = self._services(store, key, stack)
            hooks = TestHooks(services)
            self._prepare(hooks, admin)
            hooks.mark_initial()
            if self.fake_scm is not None:
                hooks.on_reset.append(self.fake_scm.reset)
            self._base_url = stack.enter_context(
                serve_in_thread(create_app(services, test_hooks=hooks), self._host)
            )
        except BaseException:
            stack.close()
            raise
        self._stack, self._hooks, self._admin_token, self._admin = stack, hooks, token, admin
        return self

    def _admin_of(self, store: Store) -> tuple[str, SubjectRecord]:
        given = self._given_token
        existing = store.subject_for_token(crypto.hash_token(given)) if given else None
        if given and existing is not None and existing.org_admin:
            return given, existing
        token = bootstrap_admin(store, given)
        if token is None:
            _, token = create_subject(
                store, name=ADMIN_NAME, org_admin=True, runner_creator=True, token=given
            )
        admin = store.subject_for_token(crypto.hash_token(token))
        if admin is None:  # pragma: no cover - just created
            raise RuntimeError("the admin was not stored")
        return token, admin

    def _open(self, stack: contextlib.ExitStack) -> tuple[Store, crypto.MasterKey]:
        db = self._db
        if db is None:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="runnerkit-")))
            template = _template_db()
            shutil.copyfile(template, directory / DB_NAME)
            # The template's master key goes with it: the database holds a check of that key.
            key_file = master_key_file(template)
            shutil.copyfile(key_file, master_key_file(directory / DB_NAME))
            return open_sqlite(directory / DB_NAME, environ={})
        text = str(db)
        if "://" not in text:
            path = Path(text).expanduser().resolve()
            path.parent.mkdir(parents=True, exist_ok=True)
            return open_sqlite(path)
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="runnerkit-")))
        return open_store(text), crypto.load_master_key(directory / "master-key")

    def _services(
        self, store: Store, key: crypto.MasterKey, stack: contextlib.ExitStack
    ) -> Services:
        config = None if self._scm in (None, "fake") else self._scm
        services = build_services(store, key, config)  # type: ignore[arg-type]
        if self._scm == "fake":
            services.scm.close()
            self.fake_scm = self._seed.scm if self._seed is not None else FakeSCMs()
            services = dataclasses.replace(services, scm=self.fake_scm.registry())
        stack.callback(services.scm.close)
        return services

    def _prepare(self, hooks: TestHooks, admin: SubjectRecord) -> None:
        if self._seed is not None:
            self.seeded = apply_seed(self._seed, hooks.services, admin, reset=self._reset)
        elif self._reset and store_has_data(hooks.state):
            empty_store(hooks.state.engine, admin.id)

    def close(self) -> None:
        """Stop the server and remove the temporary store."""
        stack, self._stack, self._hooks = self._stack, None, None
        if stack is not None:
            stack.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.close)

    # connection

    @property
    def hooks(self) -> TestHooks:
        """The server's test hooks (the server must be running)."""
        if self._hooks is None:
            raise RuntimeError("LocalRunnerAPI is not running: use it in a with block")
        return self._hooks

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        self.hooks  # noqa: B018 - raises when not running
        return self._base_url

    @property
    def admin_token(self) -> str:
        """The bearer token of an org admin (valid across ``reset``/``restore``)."""
        self.hooks  # noqa: B018 - raises when not running
        return self._admin_token

    def client(self, **kwargs: Any) -> Client:  # noqa: ANN401 - Client's own keywords
        """A ``runnerkit.Client`` for this server, as the admin unless ``bearer_token=``."""
        from runnerkit.client import Client  # noqa: PLC0415 - the server never loads the client

        kwargs.setdefault("bearer_token", self.admin_token)
        return Client(base_url=self.base_url, **kwargs)

    def async_client(self, **kwargs: Any) -> AsyncClient:  # noqa: ANN401 - AsyncClient's keywords
        """A ``runnerkit.AsyncClient`` for this server, as the admin unless ``bearer_token=``."""
        from runnerkit.client import AsyncClient  # noqa: PLC0415

        kwargs.setdefault("bearer_token", self.admin_token)
        return AsyncClient(base_url=self.base_url, **kwargs)

    # state

    def create_user(
        self,
        name: str,
        *,
        org_admin: bool = False,
        runner_creator: bool = False,
        groups: Iterable[str] = (),
        service_account: bool = False,
    ) -> tuple[str, str]:
        """Create a user (or service account) with one bearer token; ``(subject_id, token)``."""
        return create_subject(
            self.hooks.services.store,
            name=name,
            principal="service-account" if service_account else "user",
            org_admin=org_admin,
            runner_creator=runner_creator,
            group_ids=tuple(groups),
        )

    def reset(self) -> None:
        """Back to the state right after start; the server's clock to real time; no journal.

        Faults stay: ``faults.clear()`` removes them.
        """
        self.hooks.reset()

    def snapshot(self) -> bytes:
        """The whole store as bytes (JSON), for :meth:`restore`."""
        return self.hooks.state.snapshot()

    def restore(self, snapshot: bytes) -> None:
        """Replace the whole store with a snapshot of this kind of store.

        Raises:
            runnerkit.server.testapi.SnapshotError: A malformed or foreign snapshot (nothing
                changes then).
        """
        self.hooks.state.restore(snapshot)

    @property
    def clock(self) -> TestClock:
        """The server's clock: ``clock.advance(seconds=…)`` moves time forward."""
        return self.hooks.clock

    @property
    def faults(self) -> Faults:
        """Injected faults: ``faults.add(rpc=…, code=…, times=…, delay_s=…)``, ``clear()``."""
        return self.hooks.faults

    @property
    def requests(self) -> Journal:
        """The request journal, newest last; ``requests.clear()``."""
        return self.hooks.journal

    # what a runner does

    def set_runner_status(
        self,
        runner_id: str,
        phase: str = "RUNNER_PHASE_ACTIVE",
        **fields: Any,  # noqa: ANN401
    ) -> runner_pb2.Runner:
        """Store a runner's status as a real runner reports it (``version=``, ``region=``, …).

        Returns:
            The runner as GetRunner shows it now.

        Raises:
            ValueError: No such runner, or a bad field (named in the message).
        """
        try:
            return set_runner_status(self.hooks.services, runner_id, {"phase": phase, **fields})
        except DomainError as exc:
            raise ValueError(exc.message) from None

    def redeem_exchange_token(self, exchange_token: str) -> str:
        """Use an exchange token as a runner does on its first start; the runner's id.

        Raises:
            runnerkit.testing.TokenRejectedError: Unknown, already used, or expired.
        """
        return redeem_exchange_token(self.hooks.services, exchange_token)

    def check_logs_token(self, access_token: str) -> str:
        """Check a logs token (CreateRunnerLogsToken) as the log service would; the runner's id.

        Raises:
            runnerkit.testing.TokenRejectedError: Unknown, or expired (after 1 h).
        """
        return check_logs_token(self.hooks.services, access_token)

    def __repr__(self) -> str:
        state = self._base_url if self._hooks is not None else "stopped"
        return f"LocalRunnerAPI({state})"
