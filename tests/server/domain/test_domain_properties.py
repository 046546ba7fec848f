"""Property tests: the domain functions answer any input with a result or their own error.

A handler maps ContextURLError to invalid_argument; any other exception would become
``internal``, so garbage input must never raise anything else.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from runnerkit.server.domain.config_schema import schema_for
from runnerkit.server.domain.context_urls import ContextURLError, parse_context_url
from runnerkit.server.domain.host_auth import check_authentication_for_host
from runnerkit.server.domain.scm_catalog import SCMIntegrationView, normalize_host
from runnerkit.server.domain.validation import (
    check_host,
    validate_environment_class,
    validate_scm_integration,
)
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc

HOSTS = ["github.com", "gitlab.com", "bitbucket.org", "dev.azure.com", "x.visualstudio.com"]
SEGMENT = st.one_of(
    st.sampled_from(["-", "_git", "tree", "blob", "pull", "commit", "src", "tags", "%2F", ".git"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12),
)
URLS = st.one_of(
    st.text(max_size=200),
    st.builds(
        lambda scheme, host, segments, query: f"{scheme}://{host}/{'/'.join(segments)}{query}",
        st.sampled_from(["https", "http", "HTTPS", "ftp"]),
        st.one_of(st.sampled_from([*HOSTS, "git.example.com"]), st.text(max_size=20)),
        st.lists(SEGMENT, max_size=7),
        st.sampled_from(["", "?version=GBmain", "?version=GC", "?at=x&ref_type=tags", "#x"]),
    ),
)


@settings(max_examples=300, deadline=None)
@given(URLS)
def test_parse_context_url_raises_only_context_url_errors(url):
    message = None
    try:
        response = parse_context_url(url, integration_hosts={"git.example.com": "gitlab"})
    except ContextURLError as exc:
        message = str(exc)
    if message is not None:
        assert message
        return
    assert response.original_context_url == url
    assert response.git.host
    assert response.git.owner
    assert response.git.repo
    assert response.git.clone_url.startswith(("https://", "http://"))
    assert response.scm_id in ("github", "gitlab", "bitbucket", "azuredevops")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80), st.booleans())
def test_host_functions_always_answer(host, authenticated):
    normal = normalize_host(host)
    assert normalize_host(normal) == normal
    response = check_authentication_for_host(
        host,
        integrations=[SCMIntegrationView("gitlab", "git.example.com", "cid", pat=True)],
        authenticated=authenticated,
    )
    assert response.authenticated == (authenticated and bool(response.scm_id))
    message = check_host(host)
    assert message is None or message.startswith("host")


PAIRS = st.lists(
    st.tuples(
        st.sampled_from(["cpu", "memory", "instance_type", "spot", "ami_id", "billing", "x", ""]),
        st.text(max_size=20),
    ),
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(PAIRS, st.text(max_size=140), st.text(max_size=20))
def test_environment_class_validation_always_answers(pairs, display_name, description):
    result = validate_environment_class(
        schema_for(rc.RunnerProvider.RUNNER_PROVIDER_AWS_EC2),
        display_name=display_name,
        description=description,
        configuration=[rc.FieldValue(key=k, value=v) for k, v in pairs],
    )
    has_errors = (
        result.HasField("display_name_error")
        or result.HasField("description_error")
        or bool(result.configuration_errors)
    )
    assert result.valid == (not has_errors)
    assert all(e.error for e in result.configuration_errors)


SCM_INTEGRATIONS = st.fixed_dictionaries(
    {
        "scm_id": st.sampled_from(["github", "gitlab", "bitbucket", "azuredevops", "", "x"]),
        "host": st.text(max_size=40),
        "oauth_client_id": st.one_of(st.none(), st.text(max_size=10)),
        "oauth_client_secret_set": st.booleans(),
        "pat": st.booleans(),
        "issuer_url": st.one_of(st.none(), st.text(max_size=30)),
        "virtual_directory": st.one_of(st.none(), st.text(max_size=10)),
    }
)


@settings(max_examples=200, deadline=None)
@given(SCM_INTEGRATIONS)
def test_scm_integration_validation_always_answers(kwargs):
    schema = schema_for(rc.RunnerProvider.RUNNER_PROVIDER_GCP)
    result = validate_scm_integration(schema, **kwargs)
    errors = [
        result.HasField(name) for name in ("scm_id_error", "host_error", "oauth_error", "pat_error")
    ]
    assert result.valid == (not any(errors))
