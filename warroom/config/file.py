"""Reading config.yaml safely: encoding, duplicate keys, and 'did you mean' for misspelled keys.

A config is written by hand at 22:00 on the night, often copied through chat apps and editors
that save UTF-16 or paste a key twice; each such mistake must be a line naming where, not a
traceback or a silently ignored value.
"""

from __future__ import annotations

import copy
import difflib
import re
import types
import typing
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

_BOMS = {b"\xff\xfe\x00\x00": "UTF-32", b"\x00\x00\xfe\xff": "UTF-32", b"\xff\xfe": "UTF-16",
         b"\xfe\xff": "UTF-16"}


def decode(data: bytes) -> tuple[str | None, str | None]:
    """(text, None) for a UTF-8 file, or (None, why not) for UTF-16/32, binary or other encodings."""
    for bom, name in _BOMS.items():
        if data.startswith(bom):
            return None, f"the file is {name}-encoded; save it as UTF-8"
    if b"\x00" in data[:4096]:
        zeros = data[:4096].count(b"\x00")
        if zeros * 4 >= len(data[:4096]) and data[:4096].count(b"\x00\x00") * 8 < zeros:
            return None, "the file looks UTF-16-encoded (a NUL byte every other byte); save it as UTF-8"
        return None, "the file is binary (it contains NUL bytes), not YAML text"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b"\n") + 1
        return None, f"line {line}: byte 0x{data[err.start]:02x} is not UTF-8; save the file as UTF-8"
    return text, None


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that records every duplicated mapping key (YAML lets the last silently win)."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self.duplicates: list[str] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """As SafeLoader's, noting each key seen twice in one mapping with both line numbers."""
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            try:
                key = self.construct_object(key_node, deep=True)
                hash(key)
            except (TypeError, yaml.YAMLError):
                continue
            line = key_node.start_mark.line + 1
            if key in seen and key != "<<":
                self.duplicates.append(f"line {line}: duplicate key {key!r} (first at line {seen[key]}); "
                                       "YAML would silently keep only the last")
            seen.setdefault(key, line)
        return super().construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _StrictLoader.construct_mapping)


def load_yaml(text: str) -> tuple[Any, list[str]]:
    """The YAML tree and the duplicate-key problems found in it; yaml.YAMLError on bad syntax."""
    loader = _StrictLoader(text)
    try:
        tree = loader.get_single_data()
    finally:
        loader.dispose()
    return tree, loader.duplicates


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models a field annotation can hold (through Optional, list, dict, unions)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found += _models_in(arg)
    if isinstance(annotation, types.UnionType):
        for arg in annotation.__args__:
            found += _models_in(arg)
    return found


def _keys(model: type[BaseModel]) -> set[str]:
    names = set()
    for name, field in model.model_fields.items():
        names.add(field.alias or name)
    return names


def model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model that holds the last key of a pydantic error location, or None when it is unclear."""
    current: list[type[BaseModel]] = [root]
    for key in loc[:-1]:
        if isinstance(key, int):
            continue
        nxt: list[type[BaseModel]] = []
        for model in current:
            fields = {f.alias or n: f for n, f in model.model_fields.items()}
            if key in fields:
                nxt += _models_in(fields[key].annotation)
            else:  # a dict key (metric name, role) or a collector's type tag: keep the value's model
                tagged = [m for m in current if _tag(m) == key]
                nxt += tagged or [model]
        if not nxt:
            return None
        current = list(dict.fromkeys(nxt))
    return current[0] if len(current) == 1 else next((m for m in current if _tag(m) == loc[-2]), None)


def _tag(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get("type")
    args = typing.get_args(field.annotation) if field else ()
    return args[0] if len(args) == 1 and isinstance(args[0], str) else None


def did_you_mean(root: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """'unknown key (did you mean 'yellow'?)', or the list of known keys when nothing is close."""
    bad = str(loc[-1])
    model = model_at(root, loc)
    if model is None:
        return "unknown key"
    known = sorted(_keys(model))
    close = difflib.get_close_matches(bad, known, n=1, cutoff=0.6)
    if close:
        return f"unknown key (did you mean {close[0]!r}?)"
    return f"unknown key (known keys: {', '.join(known)})"


def interpolate_env(node: Any, env: dict[str, str], path: str, secrets: set[str], problems: list[str]) -> Any:
    """Replace `${VAR}` / `${VAR:-default}` in every string; record a problem per missing variable."""
    if isinstance(node, dict):
        return {k: interpolate_env(v, env, f"{path}.{k}" if path else str(k), secrets, problems)
                for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate_env(v, env, f"{path}[{i}]", secrets, problems) for i, v in enumerate(node)]
    if not isinstance(node, str):
        return node

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env and env[name] != "":
            if len(env[name]) >= 4:
                secrets.add(env[name])
            return env[name]
        if default is not None:
            return default
        problems.append(f"{path}: environment variable {name} is not set")
        return ""

    return _ENV_REF.sub(substitute, node)


def key_path(loc: tuple[Any, ...], raw: dict[str, Any]) -> str:
    """A pydantic location as a key path: `collectors[2] (http "checkout"): url`."""
    parts: list[str] = []
    items = list(loc)
    i = 0
    while i < len(items):
        key = items[i]
        if key == "collectors" and i + 1 < len(items) and isinstance(items[i + 1], int):
            index = items[i + 1]
            entry = (raw.get("collectors") or [])[index] if index < len(raw.get("collectors") or []) else {}
            label = f'{entry.get("type", "?")} "{entry.get("name", "?")}"' if isinstance(entry, dict) else "?"
            parts.append(f"collectors[{index}] ({label}):")
            i += 2
            if i < len(items) and isinstance(entry, dict) and items[i] == entry.get("type"):
                i += 1  # pydantic puts the discriminator tag in the path; people never wrote it
            continue
        if isinstance(key, int):
            parts[-1:] = [f"{parts[-1]}[{key}]" if parts else f"[{key}]"]
        else:
            parts.append(str(key))
        i += 1
    text = ".".join(parts).replace(":.", ": ")
    return text or "(top level)"


def validate_salvaging(model: type[M], raw: dict[str, Any], problems: list[str],
                       unset: set[str]) -> tuple[M | None, set[str]]:
    """The model, or the model of what is left after dropping each broken part (their names in the set)."""
    removed: set[str] = set()
    attempt: dict[str, Any] | None = raw
    for round_ in range(4):
        try:
            return model.model_validate(attempt), removed
        except ValidationError as err:
            errors = err.errors(include_url=False)
            if round_ == 0:
                for e in errors:
                    if _plain(e["loc"], raw) in unset:
                        continue  # already reported as the missing variable that emptied it
                    msg = (did_you_mean(model, e["loc"]) if e["type"] == "extra_forbidden"
                           else e["msg"].removeprefix("Value error, "))
                    problems.append(f"{key_path(e['loc'], raw)}: {msg}")
            attempt = _without(attempt, [e["loc"] for e in errors], removed)
            if attempt is None:
                break
    return None, removed


_REQUIRED = {"campaign", "people", "collectors", "metrics"}
_STAND_IN = {("campaign", "end"): "+1h", ("campaign", "name"): "campaign"}


def _without(raw: dict[str, Any], locs: list[tuple[Any, ...]], removed: set[str]) -> dict[str, Any] | None:
    """A copy of `raw` without the parts the errors point at, or None when a required section is broken."""
    tree = copy.deepcopy(raw)
    drop_collectors: set[int] = set()
    for loc in locs:
        section = loc[0] if loc else None
        if section is None or section not in tree:
            return None
        if section == "collectors" and len(loc) >= 2 and isinstance(loc[1], int):
            drop_collectors.add(loc[1])
            entry = tree["collectors"][loc[1]] if loc[1] < len(tree["collectors"] or []) else None
            removed.add("collector:" + str(entry.get("name") if isinstance(entry, dict) else loc[1]))
        elif section in ("metrics", "people") and len(loc) >= 2 and isinstance(tree[section], dict):
            tree[section].pop(loc[1], None)
            removed.add(str(loc[1]))
        elif len(loc) == 1:
            if section in _REQUIRED:
                return None
            tree.pop(section)
        else:
            parent = tree
            for key in loc[:-1]:
                parent = parent[key] if isinstance(parent, dict | list) and _has(parent, key) else None
            if isinstance(parent, dict):
                if (section, loc[-1]) in _STAND_IN and len(loc) == 2:
                    parent[loc[-1]] = _STAND_IN[(section, loc[-1])]
                else:
                    parent.pop(loc[-1], None)
            elif section in _REQUIRED:
                return None
            else:
                tree.pop(section)
    if drop_collectors and isinstance(tree.get("collectors"), list):
        tree["collectors"] = [c for i, c in enumerate(tree["collectors"]) if i not in drop_collectors]
    return tree


def _has(node: dict | list, key: Any) -> bool:
    return key in node if isinstance(node, dict) else isinstance(key, int) and 0 <= key < len(node)


def about_removed(problem: str, removed: set[str]) -> bool:
    """True when a cross-check problem only follows from a part dropped for its own error."""
    if any(name.startswith("collector:") for name in removed) and "no collector writes" in problem:
        return True
    return any(f"'{name}'" in problem or f"metrics.{name}:" in problem for name in removed)


def _plain(loc: tuple[Any, ...], raw: dict[str, Any]) -> str:
    """A pydantic location in the form interpolate_env names paths: collectors[0].url."""
    text = ""
    for i, key in enumerate(loc):
        if isinstance(key, int):
            text += f"[{key}]"
        elif i == 2 and loc[0] == "collectors" and isinstance(loc[1], int):
            entries = raw.get("collectors") or []
            entry = entries[loc[1]] if loc[1] < len(entries) else {}
            if isinstance(entry, dict) and entry.get("type") == key:
                continue
            text += f".{key}"
        else:
            text += f".{key}" if text else str(key)
    return text
