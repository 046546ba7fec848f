"""What ``runnerkit serve --test-api / --seed / --fake-scm`` adds to a server, in one callable.

``ServeTesting(...)`` is handed to ``runnerkit.server.serve.run`` as ``testing``; run calls it
with the server's ``Services`` once the store is open and the first admin exists, and gets
back the services to serve (with the SCM fakes) and the test hooks (or None).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from runnerkit.server.testapi import TestHooks
from runnerkit.server.testapi.state import engine_of
from runnerkit.testing.fake_scm import FakeSCMs
from runnerkit.testing.seed import SeedError
from runnerkit.testing.seed_apply import apply_seed

if TYPE_CHECKING:
    from runnerkit.server.service import Services
    from runnerkit.server.storage.base import SubjectRecord
    from runnerkit.testing.seed import Seed


def first_admin(services: Services) -> SubjectRecord:
    """The store's first org admin (the one ``serve`` created on its first start)."""
    with engine_of(services.store).connect() as conn:
        row = conn.execute(
            sa.text("SELECT id FROM subjects WHERE org_admin ORDER BY created_at, id LIMIT 1")
        ).first()
    subject = services.store.get_subject(str(row[0])) if row is not None else None
    if subject is None:
        raise SeedError("the store has no org admin to seed as")
    return subject


@dataclass(frozen=True)
class ServeTesting:
    """The testing options of ``runnerkit serve``.

    Attributes:
        test_api: Serve ``/_runnerkit/*`` (and journal, faults, a movable clock).
        seed: A checked seed to create on start.
        fake_scm: Answer SCM calls from the offline fakes.
        reset: Empty the store (but for the first admin) before seeding.
    """

    test_api: bool = False
    seed: Seed | None = None
    fake_scm: bool = False
    reset: bool = False

    def __call__(self, services: Services) -> tuple[Services, TestHooks | None]:
        """Wire the options into ``services``; the services to serve and the hooks."""
        fakes = None
        if self.fake_scm:
            fakes = self.seed.scm if self.seed is not None else FakeSCMs()
            services.scm.close()
            services = dataclasses.replace(services, scm=fakes.registry(services.scm.config))
        hooks = TestHooks(services, http_routes=True) if self.test_api else None
        if self.seed is not None:
            target = hooks.services if hooks is not None else services
            apply_seed(self.seed, target, first_admin(services), reset=self.reset)
        if hooks is not None:
            hooks.mark_initial()
            if fakes is not None:
                hooks.on_reset.append(fakes.reset)
        return services, hooks
