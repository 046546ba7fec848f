"""Reading a seed: YAML or JSON text to plain values, remembering where each value stood.

YAML keeps the line of every node (``lines[path]``), so errors can say ``seed.yaml:12``;
JSON (and dicts given in code) are located by path alone. Duplicate keys are refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from collections.abc import Mapping

PathKey = tuple[str | int, ...]
_MAX_DEPTH = 50


class SeedError(ValueError):
    """A seed that cannot be loaded: the message names the file, line (YAML) and path.

    Attributes:
        path: The dotted path of the bad value (``runners[0].provider``), "" for the file.
        line: Its line in a YAML file, or None.
    """

    def __init__(self, message: str, *, path: str = "", line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.line = line


def dotted(path: PathKey) -> str:
    """``("runners", 0, "name")`` as ``runners[0].name``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class SeedSource:
    """Seed values plus where they came from.

    Args:
        value: The parsed document.
        name: The file name (or ``"<seed>"`` for a dict).
        lines: Line numbers of YAML nodes by path.
    """

    def __init__(
        self, value: object, name: str, lines: Mapping[PathKey, int] | None = None
    ) -> None:
        self.value = value
        self.name = name
        self.lines = dict(lines or {})

    def error(self, path: PathKey, message: str) -> SeedError:
        """A ``SeedError`` located at ``path`` (its line, when known)."""
        line = None
        for length in range(len(path), -1, -1):  # the closest located ancestor
            line = self.lines.get(path[:length])
            if line is not None:
                break
        where = f"{self.name}:{line}" if line is not None else self.name
        at = dotted(path)
        return SeedError(
            f"{where}: {at}: {message}" if at else f"{where}: {message}", path=at, line=line
        )


def read_seed(source: str | Path | Mapping[str, Any]) -> SeedSource:
    """Parse a seed file (``.json``: JSON, anything else: YAML) or take a mapping as is.

    Raises:
        SeedError: The file cannot be read or parsed (with the line of a syntax error).
    """
    if not isinstance(source, str | Path):
        return SeedSource(source, "<seed>")
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedError(f"{path}: cannot read the seed file: {exc}") from None
    if path.suffix.lower() == ".json":
        return _json(text, str(path))
    return _yaml(text, str(path))


def _json(text: str, name: str) -> SeedSource:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise SeedError(f"{name}: duplicate key {key!r}")
            seen[key] = value
        return seen

    try:
        value = json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        raise SeedError(
            f"{name}:{exc.lineno}: not valid JSON: {exc.msg}", line=exc.lineno
        ) from None
    return SeedSource(value, name)


def _yaml(text: str, name: str) -> SeedSource:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        line = mark.line + 1 if mark is not None else None
        where = f"{name}:{line}" if line else name
        raise SeedError(f"{where}: not valid YAML: {problem}", line=line) from None
    if node is None:
        return SeedSource({}, name)
    constructor = yaml.SafeLoader("")
    lines: dict[PathKey, int] = {}

    def walk(current: yaml.Node, path: PathKey) -> object:
        line = current.start_mark.line + 1
        lines[path] = line
        if len(path) > _MAX_DEPTH:
            raise SeedError(f"{name}:{line}: nested too deeply", line=line)
        if isinstance(current, yaml.MappingNode):
            result: dict[str, object] = {}
            for key_node, value_node in current.value:
                key = constructor.construct_object(key_node, deep=True)
                key_line = key_node.start_mark.line + 1
                if not isinstance(key, str):
                    raise SeedError(f"{name}:{key_line}: keys must be strings", line=key_line)
                if key in result:
                    raise SeedError(f"{name}:{key_line}: duplicate key {key!r}", line=key_line)
                result[key] = walk(value_node, (*path, key))
            return result
        if isinstance(current, yaml.SequenceNode):
            return [walk(item, (*path, index)) for index, item in enumerate(current.value)]
        try:
            return constructor.construct_object(current, deep=True)
        except yaml.YAMLError as exc:
            raise SeedError(f"{name}:{line}: {exc}", line=line) from None

    return SeedSource(walk(node, ()), name, lines)
