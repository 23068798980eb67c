"""Scenario files (YAML) → `Scenario` objects, with errors that name the file, the line and the fix."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from scenarios.context import FEATURE_PROBES
from scenarios.model import COMMON_KEYS, Scenario, Step
from scenarios.steps import RESPONSE_KEYS, STEPS
from scenarios.values import ScenarioSyntaxError, parse_duration

SCENARIO_KEYS = frozenset({"name", "description", "rules", "requires", "tenant", "policy", "variables", "steps"})
TENANT_KEYS = frozenset({"profile", "seed", "name", "webhook", "clock"})
RULE = re.compile(r"^(SEED-[A-Z]+-\d+|META-[A-Z0-9-]+|[A-Za-z][\w .:/()'-]*)$")
LIBRARY = Path(__file__).parent / "library"


class _Mapping(dict[str, Any]):
    line: int | None = None


class _Loader(yaml.SafeLoader):
    """Safe YAML that remembers each mapping's line and keeps times as text (the sandbox parses RFC 3339)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _Mapping:
    mapping = _Mapping(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_text(text: str, *, path: str | None = None, area: str = "", default_name: str = "scenario") -> Scenario:
    where = path or "<text>"
    try:
        document = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as error:
        raise ScenarioSyntaxError(f"{where}: not valid YAML: {error}") from error
    if not isinstance(document, dict):
        raise ScenarioSyntaxError(f"{where}: a scenario is a mapping with name, rules and steps")
    return parse(document, path=path, area=area, default_name=default_name)


def load_file(path: Path, root: Path | None = None) -> Scenario:
    area = ""
    if root is not None and root in path.parents:
        area = path.parent.relative_to(root).as_posix()
        area = "" if area == "." else area
    elif root is None:
        area = path.parent.name
    return load_text(path.read_text(encoding="utf-8"), path=str(path), area=area, default_name=path.stem)


def parse(
    document: dict[str, Any], *, path: str | None = None, area: str = "", default_name: str = "scenario"
) -> Scenario:
    where = path or "<scenario>"
    unknown = set(document) - SCENARIO_KEYS
    if unknown:
        raise ScenarioSyntaxError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; a scenario has {', '.join(sorted(SCENARIO_KEYS))}"
        )
    rules = document.get("rules")
    if not isinstance(rules, list) or not rules or not all(isinstance(r, str) and RULE.match(r) for r in rules):
        raise ScenarioSyntaxError(f"{where}: rules: must list the rules the scenario checks, e.g. [SEED-MSG-1]")
    requires = document.get("requires") or []
    bad = [feature for feature in requires if feature not in FEATURE_PROBES]
    if bad:
        raise ScenarioSyntaxError(
            f"{where}: requires: unknown feature(s) {', '.join(map(str, bad))}; "
            f"known: {', '.join(sorted(FEATURE_PROBES))}"
        )
    tenant = document.get("tenant") or {}
    if not isinstance(tenant, dict) or set(tenant) - TENANT_KEYS:
        raise ScenarioSyntaxError(f"{where}: tenant: takes {', '.join(sorted(TENANT_KEYS))}")
    if not isinstance(tenant.get("clock") or {}, dict):
        raise ScenarioSyntaxError(f"{where}: tenant: clock: takes {{now?, mode?, rate?}}")
    steps = document.get("steps")
    if not isinstance(steps, list) or not steps:
        raise ScenarioSyntaxError(f"{where}: steps: must be a non-empty list")
    return Scenario(
        name=str(document.get("name") or default_name),
        steps=tuple(parse_steps(steps, where)),
        rules=tuple(rules),
        description=str(document.get("description") or ""),
        requires=tuple(requires),
        tenant=dict(tenant),
        policy=dict(document.get("policy") or {}),
        variables=dict(document.get("variables") or {}),
        path=path,
        area=area,
    )


def parse_steps(items: list[Any], where: str) -> Iterator[Step]:
    for number, item in enumerate(items, 1):
        yield parse_step(item, f"{where}: step {number}")


def parse_step(item: Any, where: str) -> Step:
    """One `- kind: argument` mapping (plus `name`, `save`, `expect`, `within`) → `Step`."""
    line = getattr(item, "line", None)
    if line is not None:
        where = f"{where} (line {line})"
    if isinstance(item, str) and item in STEPS:
        item = {item: {}}
    if not isinstance(item, dict):
        raise ScenarioSyntaxError(f"{where}: a step is a mapping like `- advance: 25h`; got {item!r}")
    kinds = [key for key in item if key not in COMMON_KEYS]
    if len(kinds) != 1:
        raise ScenarioSyntaxError(
            f"{where}: a step has exactly one kind (got {', '.join(kinds) or 'none'}); "
            f"kinds: {', '.join(sorted(STEPS))}"
        )
    kind = kinds[0]
    if kind not in STEPS:
        close = difflib.get_close_matches(kind, STEPS, n=3, cutoff=0.6)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ScenarioSyntaxError(f"{where}: unknown step {kind!r}{hint}; kinds: {', '.join(sorted(STEPS))}")
    save = item.get("save")
    if save is not None and not (isinstance(save, dict) and all(isinstance(v, str) for v in save.values())):
        raise ScenarioSyntaxError(f"{where}: save: maps names to paths, e.g. {{msg: messages[0].id}}")
    expect = item.get("expect")
    if expect is not None and (not isinstance(expect, dict) or (STEPS[kind].call and set(expect) - RESPONSE_KEYS)):
        raise ScenarioSyntaxError(f"{where}: expect: on a call takes {', '.join(sorted(RESPONSE_KEYS))}")
    try:
        within = parse_duration(item["within"]) if "within" in item else None
    except ScenarioSyntaxError as error:
        raise ScenarioSyntaxError(f"{where}: within: {error}") from error
    args = item[kind]
    if kind == "repeat":
        args = _repeat_args(args, where)
    return Step(kind, args, item.get("name"), save, expect, within, line)


def _repeat_args(args: Any, where: str) -> dict[str, Any]:
    if not isinstance(args, dict) or not isinstance(args.get("times"), int) or not isinstance(args.get("steps"), list):
        raise ScenarioSyntaxError(f"{where}: repeat takes {{times: N, steps: [...]}}")
    return {"times": args["times"], "steps": tuple(parse_steps(args["steps"], f"{where} repeat"))}


def discover(paths: Iterable[str | Path]) -> list[tuple[Path, Path]]:
    """Every scenario file under `paths` (directories are searched for *.yaml / *.yml), with its root."""
    found: list[tuple[Path, Path]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += [(file, path) for file in sorted([*path.rglob("*.yaml"), *path.rglob("*.yml")])]
        elif path.exists():
            found.append((path, path.parent))
        else:
            raise ScenarioSyntaxError(f"{path}: no such file or directory")
    return found


def library() -> list[Path]:
    """The scenario library shipped with the package (scenarios/library/**.yaml)."""
    return sorted(LIBRARY.rglob("*.yaml"))
