"""LocalRunnerAPI on PostgreSQL (db= a URL): seed, snapshot/restore and reset work there too."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from runnerkit.testing import LocalRunnerAPI


def test_local_api_on_postgres(postgres_url):
    base = sa.make_url(postgres_url)
    name = f"rk_{uuid.uuid4().hex}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    seed = {"runners": [{"name": "seeded", "provider": "RUNNER_PROVIDER_GCP"}]}
    try:
        with LocalRunnerAPI(db=url, seed=seed) as api, api.client() as client:
            client.runners.create(name="mine", provider="RUNNER_PROVIDER_AWS_EC2")
            snapshot = api.snapshot()
            api.reset()
            assert [r.name for r in client.runners.list()] == ["seeded"]
            api.restore(snapshot)
            assert sorted(r.name for r in client.runners.list()) == ["mine", "seeded"]
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
