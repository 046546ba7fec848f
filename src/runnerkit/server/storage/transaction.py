"""``Transaction``: one unit of work on the store, with a typed method per store operation.

The methods come from the aggregate modules (``sql_subjects``, ``sql_runners``,
``sql_policies``, ``sql_environment_classes``, ``sql_scm_integrations``, ``sql_host_tokens``);
a transaction is opened by ``SQLStore.read()`` or ``SQLStore.write()`` (``store_base.py``).
"""

from __future__ import annotations

from runnerkit.server.storage.sql_environment_classes import EnvironmentClassesTx
from runnerkit.server.storage.sql_host_tokens import HostTokensTx
from runnerkit.server.storage.sql_policies import PoliciesTx
from runnerkit.server.storage.sql_runners import RunnersTx
from runnerkit.server.storage.sql_scm_integrations import SCMIntegrationsTx
from runnerkit.server.storage.sql_subjects import SubjectsTx


class Transaction(
    SubjectsTx, RunnersTx, PoliciesTx, EnvironmentClassesTx, SCMIntegrationsTx, HostTokensTx
):
    """A read or write transaction of the store: every store operation, in one transaction.

    A write transaction commits when its ``with`` block ends normally and rolls back when it
    raises (``DomainError`` exceptions raised inside, e.g. by ``update_*`` callbacks or
    permission checks, pass through after the rollback). Inside, no network calls: on SQLite a
    write transaction holds the database's write lock.
    """


__all__ = ["Transaction"]
