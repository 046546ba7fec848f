"""ValidateRunnerConfiguration: environment classes and SCM integrations against the schema.

The same two functions serve ValidateRunnerConfiguration (which returns the result) and the
Create/Update RPCs (which reject an invalid result with ``invalid_argument`` carrying the same
per-field errors), so a configuration is never valid in one place and invalid in the other.
Error strings are API: short, lower case, no trailing period, never echoing a value (values may
be secret); the offending key is in ``FieldValidationError.key``.

Environment class rules (``configuration_errors`` in input order, then missing required keys
in schema order; one error per entry):

- ``display_name`` (3-127 characters) and ``description`` (3-200): the schema's rules on
  ``EnvironmentClass`` (proto/), evaluated with protovalidate, so they are the very rules
  CreateEnvironmentClass and UpdateEnvironmentClass enforce on their requests.
- keys: not empty, known to the schema, not repeated; required fields present and non-empty.
- values: at most 4096 characters; ``int``: decimal integer within [min, max] (``min == max ==
  0`` means unbounded, then any 32-bit integer); ``bool``: ``true`` or ``false``; ``enum``: one
  of the possible values' titles (exact); ``string``: full match of the pattern, if any;
  ``display`` fields are read-only: a value equal to the text the schema displays is accepted
  (forms send the schema back), any other value is an error.

SCM integration rules (at most one message per result field, the first problem found):

- ``scm_id_error``: scm_id empty or not one of the schema's SCMs.
- ``host_error``: host empty, not a bare host name (``name[:port]``, IPv4 or ``[IPv6]``), the
  default host of another SCM; ``virtual_directory`` set for an SCM other than azuredevops, set
  for the Azure DevOps cloud hosts, or not a path like ``/tfs``. (The result has no field of its
  own for the virtual directory; it is part of the server's address, so it goes with the host.)
- ``oauth_error``: client id without secret or secret without client id; OAuth for an SCM
  without OAuth in the schema; ``issuer_url`` without a client id or not an https URL.
- ``pat_error``: PATs enabled for an SCM without PAT support in the schema.

An integration with neither OAuth nor PATs is valid: it still tells the runner (and
ParseContextURL) which SCM serves a self-managed host.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from runnerkit.request_rules import RuleViolations, check, field_path
from runnerkit.server.domain.scm_catalog import (
    azure_visualstudio_org,
    default_scm_for_host,
    normalize_host,
)
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "MAX_VALUE_LENGTH",
    "check_host",
    "validate_environment_class",
    "validate_scm_integration",
]

MAX_VALUE_LENGTH = 4096
MAX_OAUTH_CLIENT_ID_LENGTH = 255
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1

_Field = runner_configuration_pb2.RunnerConfigurationSchema.Field
_INTEGER = re.compile(r"-?[0-9]{1,12}")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_HOST_PORT = re.compile(r"(?P<name>\[[^\]]*\]|[^:\[\]]*)(?::(?P<port>[0-9]{1,5}))?")
_VIRTUAL_DIRECTORY = re.compile(r"(?:/[A-Za-z0-9._~-]+)+/?")


def validate_environment_class(
    schema: runner_configuration_pb2.RunnerConfigurationSchema,
    *,
    display_name: str,
    description: str,
    configuration: Sequence[runner_configuration_pb2.FieldValue],
) -> runner_configuration_pb2.EnvironmentClassValidationResult:
    """Checks an environment class against the runner's schema.

    Args:
        schema: The runner's configuration schema.
        display_name: The class's display name.
        description: The class's description.
        configuration: The class's configuration entries.

    Returns:
        The result; ``valid`` is true exactly when no error is set.
    """
    result = runner_configuration_pb2.EnvironmentClassValidationResult()
    text_errors = _text_errors(display_name, description)
    if "display_name" in text_errors:
        result.display_name_error = text_errors["display_name"]
    if "description" in text_errors:
        result.description_error = text_errors["description"]

    fields = {field.id: field for field in schema.environment_classes}
    seen: set[str] = set()
    errors: list[tuple[str, str]] = []
    for entry in configuration:
        key = entry.key
        if not key:
            errors.append(("", "configuration key is required"))
            continue
        if key in seen:
            errors.append((key, "duplicate configuration key"))
            continue
        seen.add(key)
        field = fields.get(key)
        problem = "unknown configuration key" if field is None else _value_error(field, entry.value)
        if problem:
            errors.append((key, problem))
    errors.extend(
        (field.id, "required field is missing")
        for field in schema.environment_classes
        if field.required and field.id not in seen
    )
    result.configuration_errors.extend(
        runner_configuration_pb2.FieldValidationError(key=key, error=error) for key, error in errors
    )
    result.valid = not (
        result.HasField("display_name_error") or result.HasField("description_error") or errors
    )
    return result


def _text_errors(display_name: str, description: str) -> dict[str, str]:
    """``{field: "field must ..."}`` for the schema's rules broken by the class's texts."""
    try:
        check(
            runner_configuration_pb2.EnvironmentClass(
                display_name=display_name, description=description
            )
        )
    except RuleViolations as exc:
        errors: dict[str, str] = {}
        for violation in exc.violations.violations:
            name = field_path(violation.field)
            errors.setdefault(name, f"{name} {violation.message}")
        return errors
    return {}


def _value_error(field: _Field, value: str) -> str | None:  # noqa: PLR0911 - one return per rule
    if field.required and not value:
        return "value is required"
    if len(value) > MAX_VALUE_LENGTH:
        return f"value must be at most {MAX_VALUE_LENGTH} characters"
    kind = field.WhichOneof("type")
    if kind == "display":
        shown = field.display.default
        return (
            None if value == shown else "display fields are read-only: send their text or omit them"
        )
    if kind == "bool":
        return None if value in ("true", "false") else 'must be "true" or "false"'
    if kind == "int":
        return _int_error(field.int, value)
    if kind == "enum":
        titles = [v.title for v in field.enum.possible_values] or list(field.enum.values)
        return None if value in titles else "must be one of: " + ", ".join(titles)
    if kind == "string" and field.string.pattern:
        pattern = _compile(field.string.pattern)
        if pattern is None:
            return "cannot be checked: the schema's pattern is invalid"
        if not pattern.fullmatch(value):
            return f"must match the pattern {field.string.pattern}"
    return None


def _int_error(
    spec: runner_configuration_pb2.RunnerConfigurationSchema.IntField, value: str
) -> str | None:
    if not _INTEGER.fullmatch(value):
        return "must be an integer"
    number = int(value)
    low, high = (spec.min, spec.max) if spec.min or spec.max else (_INT32_MIN, _INT32_MAX)
    if number < low:
        return f"must be at least {low}"
    if number > high:
        return f"must be at most {high}"
    return None


@functools.lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def validate_scm_integration(
    schema: runner_configuration_pb2.RunnerConfigurationSchema,
    *,
    scm_id: str,
    host: str,
    oauth_client_id: str | None,
    oauth_client_secret_set: bool,
    pat: bool,
    issuer_url: str | None,
    virtual_directory: str | None,
) -> runner_configuration_pb2.SCMIntegrationValidationResult:
    """Checks an SCM integration against the runner's schema.

    Args:
        schema: The runner's configuration schema.
        scm_id: The SCM the integration is for.
        host: The SCM host.
        oauth_client_id: The OAuth client id; None or empty when OAuth is not configured.
        oauth_client_secret_set: Whether a client secret is given (plain or encrypted) or
            already stored.
        pat: Whether personal access tokens are enabled.
        issuer_url: OAuth provider URL override; None or empty when unset.
        virtual_directory: Azure DevOps Server virtual directory; None or empty when unset.

    Returns:
        The result; ``valid`` is true exactly when no error is set.
    """
    result = runner_configuration_pb2.SCMIntegrationValidationResult()
    scms = {entry.scm_id: entry for entry in schema.scm}
    scm = scms.get(scm_id)
    if not scm_id:
        result.scm_id_error = "scm_id is required"
    elif scm is None:
        expected = ", ".join(scms) or "none"
        result.scm_id_error = f"unsupported scm_id {scm_id!r}; expected one of: {expected}"

    problem = check_host(host)
    if problem is None and scm is not None:
        owner = default_scm_for_host(host)
        if owner is not None and owner != scm_id:
            problem = f"host {normalize_host(host)} is served by scm_id {owner!r}"
    if problem is None:
        problem = _virtual_directory_error(scm_id, host, virtual_directory or "")
    if problem is not None:
        result.host_error = problem

    name = scm.name if scm is not None else scm_id
    oauth_problem = _oauth_error(oauth_client_id or "", oauth_client_secret_set, issuer_url or "")
    if oauth_problem is None and oauth_client_id and scm is not None and not scm.HasField("oauth"):
        oauth_problem = f"{name} does not support OAuth on this runner"
    if oauth_problem is not None:
        result.oauth_error = oauth_problem
    if pat and scm is not None and not scm.HasField("pat"):
        result.pat_error = f"{name} does not support personal access tokens on this runner"

    result.valid = not any(
        result.HasField(f) for f in ("scm_id_error", "host_error", "oauth_error", "pat_error")
    )
    return result


def check_host(host: str) -> str | None:
    """Checks that a string is a bare host name with an optional port.

    Accepted: DNS names (letters, digits and inner hyphens per label; a single label such as
    ``localhost`` is allowed), IPv4 addresses and bracketed IPv6 addresses, each optionally
    followed by ``:port`` (1-65535). Case is not significant.

    Args:
        host: The host, e.g. ``"github.com"`` or ``"git.example.com:8443"``.

    Returns:
        None if the host is valid, else a short message for ``host_error``.
    """
    if not host:
        return "host is required"
    if "://" in host or any(c in host for c in "/?#@"):
        return "host must be a host name without scheme, path or user, e.g. github.com"
    match = _HOST_PORT.fullmatch(host)
    port = match.group("port") if match is not None else None
    if port is not None and not 1 <= int(port) <= 65535:
        return "host port must be between 1 and 65535"
    if match is None or not _is_host_name(match.group("name")):
        return "host must be a valid host name, optionally with a port"
    return None


def _is_host_name(name: str) -> bool:
    if len(name) > 253:
        return False
    if name.startswith("["):
        return _is_ip(name[1:-1], version=6)
    if _is_ip(name, version=4):
        return True
    labels = name.split(".")
    # An all-digit last label is a malformed IPv4 address, not a top-level domain.
    return all(_LABEL.fullmatch(label) for label in labels) and not labels[-1].isdigit()


def _is_ip(text: str, *, version: int) -> bool:
    try:
        return ipaddress.ip_address(text).version == version
    except ValueError:
        return False


def _virtual_directory_error(scm_id: str, host: str, virtual_directory: str) -> str | None:
    if not virtual_directory:
        return None
    if scm_id != "azuredevops":
        return "virtual_directory is only supported for azuredevops"
    normal = normalize_host(host)
    if normal == "dev.azure.com" or azure_visualstudio_org(normal) is not None:
        return "virtual_directory is only used with Azure DevOps Server hosts"
    if len(virtual_directory) > 255 or not _VIRTUAL_DIRECTORY.fullmatch(virtual_directory):
        return "virtual_directory must be a path starting with /, e.g. /tfs"
    return None


def _oauth_error(client_id: str, secret_set: bool, issuer_url: str) -> str | None:
    if client_id and not secret_set:
        return "oauth_client_secret is required when oauth_client_id is set"
    if secret_set and not client_id:
        return "oauth_client_id is required when an oauth_client_secret is set"
    if len(client_id) > MAX_OAUTH_CLIENT_ID_LENGTH:
        return f"oauth_client_id must be at most {MAX_OAUTH_CLIENT_ID_LENGTH} characters"
    if issuer_url and not client_id:
        return "issuer_url requires oauth_client_id"
    if issuer_url and not _is_https_url(issuer_url):
        return "issuer_url must be an https URL"
    return None


def _is_https_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme == "https" and bool(parts.hostname) and len(url) <= 2048
