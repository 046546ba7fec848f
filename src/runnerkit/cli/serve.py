"""``runnerkit serve``: the local reference server on SQLite or PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from runnerkit.server.settings import (
    ADMIN_TOKEN_ENV,
    DB_ENV,
    DB_WAIT_ENV,
    DEFAULT_DB_WAIT_S,
    DEFAULT_HOST,
    DEFAULT_PORT,
    MASTER_KEY_ENV,
    MASTER_KEY_FILE_ENV,
    SCM_API_URLS_ENV,
    SCM_WEB_URLS_ENV,
    Database,
    parse_db,
    scm_url_overrides,
)

if TYPE_CHECKING:
    from collections.abc import Callable


class DatabaseParam(click.ParamType[Database]):
    """``--db``: a SQLite path, ``sqlite:///PATH`` or ``postgresql[+psycopg]://…``."""

    name = "URL"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> Database:
        """Parse the value; a usage error naming the option when it is not a database."""
        if isinstance(value, Database):
            return value
        try:
            return parse_db(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DB_HELP = (
    "The store: a SQLite file (PATH or sqlite:///PATH, created or migrated on start) or a "
    "PostgreSQL database (postgresql://USER:PASSWORD@HOST:PORT/DB; also postgresql+psycopg://)"
    f" [env {DB_ENV}; default ./runnerkit.db]."
)
ADMIN_DB_HELP = (
    "The server's database, which must exist: a SQLite file (PATH or sqlite:///PATH) or "
    f"postgresql://USER:PASSWORD@HOST:PORT/DB [env {DB_ENV}; default ./runnerkit.db]."
)


def db_option(help_text: str = DB_HELP) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The ``--db`` option (``RUNNERKIT_DB``; a usage error naming it for a bad value)."""
    return click.option(
        "--db", "db", envvar=DB_ENV, default="runnerkit.db", type=DatabaseParam(), help=help_text
    )


master_key_file_option = click.option(
    "--master-key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=MASTER_KEY_FILE_ENV,
    default=None,
    help=(
        f"File holding the master key (base64 of 32 bytes) [env {MASTER_KEY_FILE_ENV}]. "
        f"{MASTER_KEY_ENV} (the key itself) wins. Default on SQLite: <db>.master-key; "
        "required on PostgreSQL (one or the other)."
    ),
)


@click.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Interface to listen on.")
@click.option(
    "--port",
    default=DEFAULT_PORT,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="TCP port (0: any free).",
)
@db_option()
@master_key_file_option
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help=(
        "Worker processes serving the one port, each with its own socket and database "
        "connections; the kernel spreads new connections over them."
    ),
)
@click.option(
    "--db-wait",
    "db_wait_s",
    default=DEFAULT_DB_WAIT_S,
    show_default=True,
    envvar=DB_WAIT_ENV,
    type=click.FloatRange(0, 300),
    help=f"Seconds to wait for the database to accept connections at start [env {DB_WAIT_ENV}].",
)
@click.option(
    "--scm-api-url",
    "scm_api_urls",
    multiple=True,
    metavar="HOST=URL",
    help=(
        "REST API base URL of an SCM host, instead of the one derived from the host "
        "(https://api.github.com, https://HOST/api/v3 for GitHub Enterprise, "
        "https://HOST/api/v4 for GitLab), e.g. github.com=http://127.0.0.1:9000. Repeatable; "
        f"wins over {SCM_API_URLS_ENV} (comma-separated HOST=URL)."
    ),
)
@click.option(
    "--scm-web-url",
    "scm_web_urls",
    multiple=True,
    metavar="HOST=URL",
    help=(
        "Web base URL of an SCM host for OAuth token refresh, instead of https://HOST (or the "
        "SCM integration's issuer URL). Repeatable; wins over "
        f"{SCM_WEB_URLS_ENV} (comma-separated HOST=URL)."
    ),
)
@click.option(
    "--tls-cert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM certificate (chain): serve HTTPS with ALPN h2 and http/1.1. Needs --tls-key.",
)
@click.option(
    "--tls-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM private key of --tls-cert.",
)
@click.option(
    "--test-api",
    is_flag=True,
    help=(
        "Serve the test controls under /_runnerkit/ (reset, snapshots, faults, request "
        "journal, clock, runner status; org admins only). For tests, never in production."
    ),
)
@click.option(
    "--seed",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Create the users, runners, … of a YAML or JSON seed file on start (docs/testing.md).",
)
@click.option(
    "--reset",
    is_flag=True,
    help="With --seed: empty the store first (a seed on a store with data is refused).",
)
@click.option(
    "--fake-scm",
    is_flag=True,
    help="Answer SCM calls from offline GitHub/GitLab fakes (the seed's scm section).",
)
def serve(  # noqa: PLR0917 - click passes options positionally
    host: str,
    port: int,
    db: Database,
    master_key_file: Path | None,
    workers: int,
    db_wait_s: float,
    scm_api_urls: tuple[str, ...],
    scm_web_urls: tuple[str, ...],
    tls_cert: Path | None,
    tls_key: Path | None,
    test_api: bool,
    seed: str | None,
    reset: bool,
    fake_scm: bool,
) -> None:
    """Serve the Runner API locally: Connect (JSON and binary), gRPC and gRPC-Web.

    HTTP/1.1 and HTTP/2 on one port (cleartext h2c with prior knowledge, or TLS with
    --tls-cert/--tls-key); gRPC reflection and health checking; GET /healthz and /readyz.

    On first start with an empty database it creates an org admin named "admin" and prints
    its token once (or uses RUNNERKIT_ADMIN_TOKEN), plus `export GITPOD_BASE_URL=…` and
    `export GITPOD_API_KEY=…` lines for the CLI and SDKs. Later starts create no token; lost
    access: `runnerkit admin list-users` and `runnerkit admin create-token --name admin`.

    The master key wraps runner keys and signs page tokens; the database stores a check of it
    and refuses to start with another (or none). Replicas on one PostgreSQL database must share
    it. SCM calls (CheckRepositoryAccess, ListSCMOrganizations, SearchRepositories,
    ParseContextURL) go to the SCM hosts' REST APIs; --scm-api-url and --scm-web-url point
    hosts elsewhere. SIGINT/SIGTERM stop it cleanly (exit status 0).

    --test-api, --seed and --fake-scm make it a server for tests (docs/testing.md; one
    worker only).
    """
    try:
        api_urls = scm_url_overrides(SCM_API_URLS_ENV, scm_api_urls)
        web_urls = scm_url_overrides(SCM_WEB_URLS_ENV, scm_web_urls)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if reset and not seed:
        raise click.UsageError("--reset empties the store for --seed; give --seed FILE too")
    for_tests = test_api or seed is not None or fake_scm
    if for_tests and workers > 1:
        raise click.UsageError("--test-api, --seed and --fake-scm need --workers 1")
    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    if tls_cert is not None and tls_key is not None:
        from runnerkit.server.http_server import check_tls  # noqa: PLC0415 - see below

        try:
            check_tls(tls_cert, tls_key)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
    # Imported here: the server is slow to import and other commands need not pay for it.
    from runnerkit.server.bootstrap import StartupError  # noqa: PLC0415
    from runnerkit.server.scm import SCMConfig  # noqa: PLC0415
    from runnerkit.server.serve import ServeOptions, run  # noqa: PLC0415

    if db.sqlite_path is not None:
        db.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    failures: tuple[type[Exception], ...] = (StartupError,)
    testing = None
    if for_tests:  # the testing kit (YAML, fakes, test API) only for a server for tests
        from runnerkit.testing.seed import SeedError, load_seed  # noqa: PLC0415
        from runnerkit.testing.serve_setup import ServeTesting  # noqa: PLC0415

        failures = (StartupError, SeedError)
        try:
            testing = ServeTesting(test_api, load_seed(seed) if seed else None, fake_scm, reset)
        except SeedError as exc:
            raise click.ClickException(str(exc)) from None
    options = ServeOptions(
        db=db,
        host=host,
        port=port,
        workers=workers,
        master_key_file=master_key_file,
        db_wait_s=db_wait_s,
        admin_token=os.environ.get(ADMIN_TOKEN_ENV) or None,
        scm=SCMConfig(api_base_urls=api_urls, web_base_urls=web_urls),
        tls_cert=tls_cert,
        tls_key=tls_key,
        testing=testing,
    )
    try:
        run(options)
    except failures as exc:
        raise click.ClickException(str(exc)) from None
