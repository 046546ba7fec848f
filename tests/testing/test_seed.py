"""Seeds: a full YAML seed, JSON, every kind of error (with line or path), refusal on data."""

from __future__ import annotations

import json
import textwrap

import pytest

import runnerkit
from runnerkit.testing import LocalRunnerAPI, SeedError

RUNNER_ID = "11111111-2222-4333-8444-555555555555"
GROUP = "7d6f9c1e-0000-4000-8000-000000000001"
ALICE_TOKEN = "alice-token-0123456789"
BOB_TOKEN = "bob-token-0123456789ab"
OAUTH_SECRET = "oauth-client-SECRET-42"
HOST_TOKEN = "ghp_HOST-TOKEN-SECRET-7"

FULL = textwrap.dedent(f"""\
    users:
      - name: alice
        token: {ALICE_TOKEN}
        runner_creator: true
      - name: bob
        token: {BOB_TOKEN}
        groups: [{GROUP}]
    service_accounts:
      - name: ci-bot
        org_admin: true
    runners:
      - id: {RUNNER_ID}
        name: Production
        creator: alice
        provider: RUNNER_PROVIDER_AWS_EC2
        spec:
          configuration: {{region: us-west, auto_update: true}}
        status: {{phase: RUNNER_PHASE_ACTIVE, version: "1.2.3", region: us-west}}
        policies:
          - {{group_id: {GROUP}, role: RUNNER_ROLE_USER}}
        environment_classes:
          - display_name: Large
            description: Eight cores
            configuration: [{{key: instance_type, value: m6i.large}}]
        scm_integrations:
          - scm_id: github
            host: github.com
            pat: true
            oauth_client_id: client-1
            oauth_plaintext_client_secret: {OAUTH_SECRET}
        host_tokens:
          - subject: alice
            host: github.com
            token: {HOST_TOKEN}
            source: HOST_AUTHENTICATION_TOKEN_SOURCE_PAT
            expires_at: 2040-01-01T00:00:00Z
      - name: Staging
        provider: RUNNER_PROVIDER_GCP
    """)


def test_full_yaml_seed(tmp_path):
    seed = tmp_path / "seed.yaml"
    seed.write_text(FULL)
    with LocalRunnerAPI(seed=seed, db=tmp_path / "seeded.db") as api:
        with api.client(bearer_token=ALICE_TOKEN) as alice:
            runner = alice.runners.retrieve(runner_id=RUNNER_ID).runner
            assert runner.name == "Production"
            assert runner.creator.id == api.seeded.subjects["alice"].id
            assert runner.spec.configuration.region == "us-west"
            assert (runner.status.phase, runner.status.version) == (3, "1.2.3")
            tokens = list(
                alice.runners.configurations.host_authentication_tokens.list(
                    filter={"runner_id": RUNNER_ID}
                )
            )
            assert [t.host for t in tokens] == ["github.com"]
            assert alice.runners.check_authentication_for_host(
                runner_id=RUNNER_ID, host="github.com"
            ).authenticated
        with api.client(bearer_token=BOB_TOKEN) as bob:  # a member of the policy's group
            assert [r.runner_id for r in bob.runners.list()] == [RUNNER_ID]
        with api.client(bearer_token=api.seeded.subjects["ci-bot"].token) as bot:
            names = sorted(r.name for r in bot.runners.list())
            assert names == ["Production", "Staging"]
            classes = list(
                bot.runners.configurations.environment_classes.list(
                    filter={"runner_ids": [RUNNER_ID]}
                )
            )
            assert [c.display_name for c in classes] == ["Large"]
            integrations = list(
                bot.runners.configurations.scm_integrations.list(filter={"runner_ids": [RUNNER_ID]})
            )
            assert integrations[0].oauth.encrypted_client_secret
            assert OAUTH_SECRET.encode() not in integrations[0].SerializeToString()
        assert len(api.seeded.runner_ids) == 2
        assert api.seeded.runners_by_name["Production"] == RUNNER_ID
        snapshot = api.snapshot()
        api.reset()  # back to the seeded state
        with api.client() as admin:
            assert len(list(admin.runners.list())) == 2
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("seeded.db*") if p.is_file())
    for secret in (OAUTH_SECRET, HOST_TOKEN, ALICE_TOKEN, BOB_TOKEN):
        assert secret.encode() not in stored
        assert secret.encode() not in snapshot


def test_json_seed_and_dict_seed(tmp_path):
    spec = {
        "users": [{"name": "ana", "token": ALICE_TOKEN, "runner_creator": True}],
        "runners": [{"name": "jam", "provider": "RUNNER_PROVIDER_GCP", "creator": "ana"}],
    }
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(spec))
    for seed in (path, spec):
        with LocalRunnerAPI(seed=seed) as api, api.client(bearer_token=ALICE_TOKEN) as ana:
            assert [r.name for r in ana.runners.list()] == ["jam"]


def _error(tmp_path, text: str, suffix: str = ".yaml") -> SeedError:
    path = tmp_path / f"seed{suffix}"
    path.write_text(textwrap.dedent(text))
    with pytest.raises(SeedError) as info:
        LocalRunnerAPI(seed=path)
    return info.value


@pytest.mark.parametrize(
    ("text", "line", "path", "words"),
    [
        ("users:\n  - name: [unclosed\n", 3, "", "not valid YAML"),
        ("users: []\nrunerz: []\n", 2, "runerz", "unknown key"),
        ("users: {name: x}\n", 1, "users", "expected a list"),
        ("users:\n  - name: a\n    token: short\n", 3, "users[0].token", "16-512"),
        ("users:\n  - name: a\n    groups: [not-a-uuid]\n", 3, "users[0].groups[0]", "UUID"),
        ("users:\n  - name: a\n  - name: a\n", 3, "users[1].name", "already taken"),
        (
            "runners:\n  - name: r\n    provider: RUNNER_PROVIDER_NOPE\n",
            3,
            "runners[0].provider",
            "RUNNER_PROVIDER_NOPE",
        ),
        (
            "runners:\n  - name: r\n    provider: RUNNER_PROVIDER_GCP\n    creator: zed\n",
            4,
            "runners[0].creator",
            "zed",
        ),
        (
            "runners:\n  - name: r\n    provider: RUNNER_PROVIDER_GCP\n    id: 42\n",
            4,
            "runners[0].id",
            "UUID",
        ),
        (
            "runners:\n  - name: r\n    provider: RUNNER_PROVIDER_GCP\n    status: {phase: UP}\n",
            4,
            "runners[0].status",
            "UP",
        ),
        (
            "scm:\n  github:\n    repositories:\n      - name: noslash\n",
            4,
            "scm.github.repositories[0].name",
            "owner/name",
        ),
    ],
)
def test_seed_errors_name_line_and_path(tmp_path, text, line, path, words):
    error = _error(tmp_path, text)
    assert error.line == line, str(error)
    assert error.path == path
    assert words in str(error)
    assert f"seed.yaml:{line}" in str(error)


def test_json_errors_name_the_path_or_the_line(tmp_path):
    error = _error(tmp_path, '{"runners": [{"name": "r", "provider": "NOPE"}]}', ".json")
    assert error.path == "runners[0].provider"
    assert "seed.json: runners[0].provider" in str(error)
    assert _error(tmp_path, '{"users": [\n}', ".json").line == 2
    with pytest.raises(SeedError, match=r"<seed>: users\[0\]: expected a mapping"):
        LocalRunnerAPI(seed={"users": ["alice"]})


def test_what_the_server_refuses_is_located_and_nothing_stays(tmp_path):
    db = tmp_path / "store.db"
    text = f"""\
        users:
          - name: alice
            token: {ALICE_TOKEN}
        runners:
          - name: ok
            provider: RUNNER_PROVIDER_GCP
          - name: no-provider
        """
    path = tmp_path / "seed.yaml"
    path.write_text(textwrap.dedent(text))
    with pytest.raises(SeedError) as info:
        LocalRunnerAPI(seed=path, db=db).start()
    assert info.value.path == "runners[1]"
    assert info.value.line == 7
    assert "refused by the server" in str(info.value)
    with LocalRunnerAPI(db=db) as api, api.client() as admin:
        assert list(admin.runners.list()) == []
        with (
            api.client(bearer_token=ALICE_TOKEN, max_retries=0) as alice,
            pytest.raises(runnerkit.UnauthenticatedError),
        ):
            alice.runners.list().items  # noqa: B018


def test_a_seed_on_a_store_with_data_is_refused_unless_reset(tmp_path):
    db = tmp_path / "store.db"
    seed = {"runners": [{"name": "seeded", "provider": "RUNNER_PROVIDER_GCP"}]}
    with LocalRunnerAPI(db=db, seed=seed):
        pass
    with pytest.raises(SeedError, match="already has data"):
        LocalRunnerAPI(db=db, seed=seed).start()
    with LocalRunnerAPI(db=db, seed=seed, reset=True) as api, api.client() as admin:
        assert [r.name for r in admin.runners.list()] == ["seeded"]
