"""``runnerkit serve``: the local reference server on an embedded SQLite file."""

from __future__ import annotations

from pathlib import Path

import click

from runnerkit.server.settings import (
    DB_ENV,
    DEFAULT_HOST,
    DEFAULT_PORT,
    SCM_API_URLS_ENV,
    SCM_WEB_URLS_ENV,
    resolve_db_path,
    scm_url_overrides,
)


@click.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Interface to listen on.")
@click.option(
    "--port", default=DEFAULT_PORT, show_default=True, type=int, help="TCP port (0: any free)."
)
@click.option(
    "--db",
    "db",
    envvar=DB_ENV,
    default=None,
    help=f"SQLite file, created or migrated on start [env {DB_ENV}; default ./runnerkit.db].",
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
def serve(
    host: str,
    port: int,
    db: str | None,
    scm_api_urls: tuple[str, ...],
    scm_web_urls: tuple[str, ...],
    *,
    test_api: bool,
    seed: str | None,
    reset: bool,
    fake_scm: bool,
    tls_cert: Path | None,
    tls_key: Path | None,
) -> None:
    """Serve the Runner API locally: Connect (JSON and binary), gRPC and gRPC-Web.

    HTTP/1.1 and HTTP/2 on one port (cleartext h2c with prior knowledge, or TLS with
    --tls-cert/--tls-key); gRPC reflection and health checking; GET /healthz and /readyz.

    On first start with an empty database it creates an admin and prints the admin's token
    (or uses RUNNERKIT_ADMIN_TOKEN). The master key that wraps runner keys comes from
    RUNNERKIT_MASTER_KEY or from the file <db>.master-key, created on first start. SCM calls
    (CheckRepositoryAccess, ListSCMOrganizations, SearchRepositories, ParseContextURL) go to
    the SCM hosts' REST APIs; --scm-api-url and --scm-web-url point hosts elsewhere.
    --test-api, --seed and --fake-scm make it a server for tests (docs/testing.md).
    """
    if reset and not seed:
        raise click.UsageError("--reset empties the store for --seed; give --seed FILE too")
    try:
        api_urls = scm_url_overrides(SCM_API_URLS_ENV, scm_api_urls)
        web_urls = scm_url_overrides(SCM_WEB_URLS_ENV, scm_web_urls)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    if tls_cert is not None and tls_key is not None:
        from runnerkit.server.http_server import check_tls  # noqa: PLC0415 - see below

        try:
            check_tls(tls_cert, tls_key)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
    # Imported here: the server is slow to import and other commands need not pay for it.
    from runnerkit.server.scm import SCMConfig  # noqa: PLC0415
    from runnerkit.server.serve import run  # noqa: PLC0415
    from runnerkit.testing.seed import SeedError, load_seed  # noqa: PLC0415
    from runnerkit.testing.serve_setup import ServeTesting  # noqa: PLC0415

    try:
        testing = ServeTesting(test_api, load_seed(seed) if seed else None, fake_scm, reset)
        path = resolve_db_path(db)
        path.parent.mkdir(parents=True, exist_ok=True)
        run(
            path,
            host,
            port,
            scm=SCMConfig(api_base_urls=api_urls, web_base_urls=web_urls),
            testing=testing if (test_api or seed or fake_scm) else None,
            tls_cert=tls_cert,
            tls_key=tls_key,
        )
    except SeedError as exc:
        raise click.ClickException(str(exc)) from None
