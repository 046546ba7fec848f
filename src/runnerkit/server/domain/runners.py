"""Rules of runners: creation checks and defaults, update windows, partial updates.

Plain functions over the generated messages; no store, no HTTP. Field names in errors are the
proto (snake_case) paths of the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar

from runnerkit.server.domain.errors import InvalidArgumentError
from runnerkit.server.domain.ids import parse_uuid
from runnerkit_proto.gitpod.v1 import runner_configuration_pb2 as rc_pb2
from runnerkit_proto.gitpod.v1 import runner_pb2

MAX_NAME = 127
MAX_DESCRIPTION = 512
MAX_URL = 2048

PROVIDER_KIND: dict[int, int] = {
    rc_pb2.RUNNER_PROVIDER_AWS_EC2: rc_pb2.RUNNER_KIND_REMOTE,
    rc_pb2.RUNNER_PROVIDER_GCP: rc_pb2.RUNNER_KIND_REMOTE,
    rc_pb2.RUNNER_PROVIDER_MANAGED: rc_pb2.RUNNER_KIND_REMOTE,
    rc_pb2.RUNNER_PROVIDER_LINUX_HOST: rc_pb2.RUNNER_KIND_LOCAL,
    rc_pb2.RUNNER_PROVIDER_DESKTOP_MAC: rc_pb2.RUNNER_KIND_LOCAL,
    rc_pb2.RUNNER_PROVIDER_DEV_AGENT: rc_pb2.RUNNER_KIND_LOCAL,
}
_SETTABLE_PHASES = (runner_pb2.RUNNER_PHASE_ACTIVE, runner_pb2.RUNNER_PHASE_INACTIVE)
_WINDOW_MIN_HOURS = 2


_T = TypeVar("_T", bound=int)


class EnumType(Protocol[_T]):
    """A generated enum type (``RunnerKind`` ...): what ``check_enum`` needs of it."""

    def values(self) -> list[_T]:
        """The numbers the schema defines."""
        ...


def check_enum(enum: EnumType[_T], value: _T, field: str, *, allow_unspecified: bool) -> _T:
    """Reject enum numbers the schema does not define (and UNSPECIFIED unless allowed).

    Args:
        enum: The generated enum type.
        value: The number from the request.
        field: The request field, for errors.
        allow_unspecified: Whether 0 (``*_UNSPECIFIED``) is acceptable.

    Returns:
        ``value``.

    Raises:
        InvalidArgumentError: Naming ``field``.
    """
    if value not in enum.values() or (value == 0 and not allow_unspecified):
        raise InvalidArgumentError(field, f"unsupported value {value}")
    return value


def check_text(value: str, field: str, limit: int, *, required: bool = False) -> str:
    """Check a string field's presence and length (characters)."""
    if required and not value.strip():
        raise InvalidArgumentError(field, "required")
    if len(value) > limit:
        raise InvalidArgumentError(field, f"at most {limit} characters")
    return value


def normalise_window(window: runner_pb2.UpdateWindow, field: str) -> runner_pb2.UpdateWindow | None:
    """Check an update window and fill in its default end.

    Args:
        window: The window as given.
        field: Its path in the request, for errors.

    Returns:
        The window with both hours set, or None when neither hour is set (no window).

    Raises:
        InvalidArgumentError: An hour outside 0-23, ``end_hour`` without ``start_hour``, or a
            window shorter than two hours.
    """
    has_start, has_end = window.HasField("start_hour"), window.HasField("end_hour")
    if not has_start and not has_end:
        return None
    if not has_start:
        raise InvalidArgumentError(f"{field}.start_hour", "required when a window is given")
    start = window.start_hour
    if start > 23:
        raise InvalidArgumentError(f"{field}.start_hour", "must be an hour 0-23")
    end = window.end_hour if has_end else (start + _WINDOW_MIN_HOURS) % 24
    if end > 23:
        raise InvalidArgumentError(f"{field}.end_hour", "must be an hour 0-23")
    if (end - start) % 24 < _WINDOW_MIN_HOURS:
        raise InvalidArgumentError(f"{field}.end_hour", "window must be at least 2 hours long")
    return runner_pb2.UpdateWindow(start_hour=start, end_hour=end)


@dataclass(frozen=True)
class NewRunner:
    """A validated CreateRunner request with defaults applied."""

    name: str
    kind: int
    provider: int
    runner_manager_id: str
    spec: runner_pb2.RunnerSpec
    metrics_password: str


def _check_metrics(metrics: runner_pb2.MetricsConfiguration, field: str) -> None:
    check_text(metrics.url, f"{field}.url", MAX_URL)
    check_text(metrics.username, f"{field}.username", MAX_NAME)
    check_text(metrics.password, f"{field}.password", MAX_DESCRIPTION)


def validate_create(request: runner_pb2.CreateRunnerRequest) -> NewRunner:
    """Check a CreateRunner request and apply the defaults.

    Args:
        request: The request.

    Returns:
        The runner to create. Its spec holds no secrets: the metrics password is returned
        apart (it is stored sealed), and ``encrypted_honeycomb_api_key`` is cleared (nothing
        can be encrypted to a key that does not exist yet; set it with UpdateRunner).

    Raises:
        InvalidArgumentError: Naming the first field at fault.
    """
    # name (3-127 characters), kind and provider (defined values) and the runner_manager_id
    # format are the schema's rules, checked before the handler runs.
    name = request.name
    if (request.kind == 0) == (request.provider == 0):
        raise InvalidArgumentError("kind", "set exactly one of kind and provider")
    kind = PROVIDER_KIND[request.provider] if request.provider else request.kind
    manager_id = ""
    if request.provider == rc_pb2.RUNNER_PROVIDER_MANAGED:
        manager_id = parse_uuid(request.runner_manager_id, "runner_manager_id")
    elif request.runner_manager_id:
        raise InvalidArgumentError("runner_manager_id", "only allowed for MANAGED runners")

    spec = runner_pb2.RunnerSpec()
    spec.CopyFrom(request.spec)
    if spec.desired_phase == runner_pb2.RUNNER_PHASE_UNSPECIFIED:
        spec.desired_phase = runner_pb2.RUNNER_PHASE_ACTIVE
    elif spec.desired_phase not in _SETTABLE_PHASES:
        raise InvalidArgumentError("spec.desired_phase", "must be ACTIVE or INACTIVE")
    check_enum(runner_pb2.RunnerVariant, spec.variant, "spec.variant", allow_unspecified=True)
    spec.variant = spec.variant or runner_pb2.RUNNER_VARIANT_STANDARD
    config = spec.configuration
    check_text(config.region, "spec.configuration.region", MAX_NAME)
    check_enum(
        runner_pb2.RunnerReleaseChannel,
        config.release_channel,
        "spec.configuration.release_channel",
        allow_unspecified=True,
    )
    config.release_channel = config.release_channel or runner_pb2.RUNNER_RELEASE_CHANNEL_STABLE
    check_enum(
        runner_pb2.LogLevel,
        config.log_level,
        "spec.configuration.log_level",
        allow_unspecified=True,
    )
    _check_metrics(config.metrics, "spec.configuration.metrics")
    password = config.metrics.password
    config.metrics.ClearField("password")
    if not config.metrics.ByteSize():
        config.ClearField("metrics")
    window = normalise_window(config.update_window, "spec.configuration.update_window")
    config.ClearField("update_window")
    if window is not None:
        config.update_window.CopyFrom(window)
    config.ClearField("encrypted_honeycomb_api_key")
    return NewRunner(name, kind, request.provider, manager_id, spec, password)


@dataclass(frozen=True)
class RunnerUpdate:
    """The outcome of applying an UpdateRunner request to a runner's current values.

    Attributes:
        name: The new name.
        spec: The new spec, without secrets (see the secret fields).
        metrics_password: The new metrics password in plain text, or None when unchanged.
        honeycomb_api_key: The new Honeycomb API key in plain text ("" clears it), or None
            when unchanged.
    """

    name: str
    spec: runner_pb2.RunnerSpec
    metrics_password: str | None
    honeycomb_api_key: str | None


def apply_update(
    name: str, kind: int, spec: runner_pb2.RunnerSpec, request: runner_pb2.UpdateRunnerRequest
) -> RunnerUpdate:
    """Apply the fields present in an UpdateRunner request.

    Args:
        name: The runner's current name.
        kind: The runner's kind (desired phase changes only on LOCAL_CONFIGURATION).
        spec: The runner's current spec; not modified.
        request: The request.

    Returns:
        The new values.

    Raises:
        InvalidArgumentError: Naming the first field at fault.
    """
    new_spec = runner_pb2.RunnerSpec()
    new_spec.CopyFrom(spec)
    if request.HasField("name"):
        name = request.name  # 3-127 characters: the schema's rule
    password: str | None = None
    honeycomb: str | None = None
    if request.HasField("spec"):
        changes = request.spec
        if changes.HasField("desired_phase"):
            if kind != rc_pb2.RUNNER_KIND_LOCAL_CONFIGURATION:
                raise InvalidArgumentError(
                    "spec.desired_phase", "can only change on LOCAL_CONFIGURATION runners"
                )
            if changes.desired_phase not in _SETTABLE_PHASES:
                raise InvalidArgumentError("spec.desired_phase", "must be ACTIVE or INACTIVE")
            new_spec.desired_phase = changes.desired_phase
        if changes.HasField("configuration"):
            password, honeycomb = _apply_configuration(
                new_spec.configuration, changes.configuration
            )
    return RunnerUpdate(name, new_spec, password, honeycomb)


def _apply_configuration(
    config: runner_pb2.RunnerConfiguration,
    changes: runner_pb2.UpdateRunnerRequest.RunnerConfiguration,
) -> tuple[str | None, str | None]:
    field = "spec.configuration"
    if changes.HasField("release_channel"):
        config.release_channel = check_enum(
            runner_pb2.RunnerReleaseChannel,
            changes.release_channel,
            f"{field}.release_channel",
            allow_unspecified=False,
        )
    if changes.HasField("auto_update"):
        config.auto_update = changes.auto_update
    if changes.HasField("log_level"):
        config.log_level = check_enum(
            runner_pb2.LogLevel, changes.log_level, f"{field}.log_level", allow_unspecified=True
        )
    if changes.HasField("devcontainer_image_cache_enabled"):
        config.devcontainer_image_cache_enabled = changes.devcontainer_image_cache_enabled
    if changes.HasField("continuous_profiling"):
        config.continuous_profiling = changes.continuous_profiling
    if changes.HasField("update_window"):
        window = normalise_window(changes.update_window, f"{field}.update_window")
        config.ClearField("update_window")
        if window is not None:
            config.update_window.CopyFrom(window)
    honeycomb: str | None = None
    if changes.HasField("honeycomb_api_key"):
        honeycomb = check_text(
            changes.honeycomb_api_key, f"{field}.honeycomb_api_key", MAX_DESCRIPTION
        )
    password: str | None = None
    if changes.HasField("metrics"):
        password = _apply_metrics(config, changes.metrics, f"{field}.metrics")
    return password, honeycomb


def _apply_metrics(
    config: runner_pb2.RunnerConfiguration,
    changes: runner_pb2.UpdateRunnerRequest.MetricsConfiguration,
    field: str,
) -> str | None:
    metrics = config.metrics
    if changes.HasField("enabled"):
        metrics.enabled = changes.enabled
    if changes.HasField("url"):
        metrics.url = check_text(changes.url, f"{field}.url", MAX_URL)
    if changes.HasField("username"):
        metrics.username = check_text(changes.username, f"{field}.username", MAX_NAME)
    if changes.HasField("managed_metrics_enabled"):
        metrics.managed_metrics_enabled = changes.managed_metrics_enabled
    if changes.HasField("include_verbose_metrics"):
        metrics.include_verbose_metrics = changes.include_verbose_metrics
    if not metrics.ByteSize():
        config.ClearField("metrics")
    if changes.HasField("password"):
        return check_text(changes.password, f"{field}.password", MAX_DESCRIPTION)
    return None
