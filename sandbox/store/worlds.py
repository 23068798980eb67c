"""A tenant's world as bytes and back: pickle (protocol 5) of the whole object graph, with no code per type.

What one world shares with the rest of the server (the outbox, the number registry) is written as a named
reference and bound to the loading server's own objects. Loading is guarded twice:

- only classes and functions of the sandbox's own world modules and a short list of standard-library types can be
  named by a blob, so an imported snapshot file cannot make the server call `os.system` (pickle's known hazard);
- every dataclass is checked against the field layout it had when the blob was written (`LAYOUT`, stored beside
  each blob): a class that gained or lost fields since is migrated by field name (new fields take their defaults),
  never read positionally into the wrong fields.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import gc
import hashlib
import importlib
import io
import pickle
import sys
from collections.abc import Iterator, Mapping
from typing import Any

import re2

# Bumped when the container format (how blobs, layouts and references are arranged) changes incompatibly.
FORMAT_VERSION = 1
PROTOCOL = 5
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False

# Modules whose classes and functions a world may name. I/O modules (this store, the HTTP transports, the CLI,
# the app) are not among them: a blob cannot reach them.
_WORLD_PREFIXES = ("sandbox.domain.", "sandbox.services.", "sandbox.webhooks.", "sandbox.store.memory")
_WORLD_MODULES = {"sandbox.context", "sandbox.clock", "sandbox.ids", "sandbox.fakedata", "sandbox.errors", __name__}
_BARRED_MODULES = {
    "sandbox.webhooks.http1",
    "sandbox.webhooks.transport",
    "sandbox.services.persistence",
    "sandbox.services.snapshots",
}
_STDLIB = {
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "bytearray"),
    ("builtins", "complex"),
    ("builtins", "slice"),
    ("collections", "OrderedDict"),
    ("collections", "deque"),
    ("collections", "Counter"),
    ("collections", "defaultdict"),
    ("datetime", "datetime"),
    ("datetime", "date"),
    ("datetime", "time"),
    ("datetime", "timedelta"),
    ("datetime", "timezone"),
    ("decimal", "Decimal"),
    ("functools", "partial"),
    ("random", "Random"),
    ("copyreg", "_reconstructor"),
    ("builtins", "object"),
}


class FormatError(ValueError):
    """A blob this release cannot read (another format, a foreign or tampered file): the message says which."""


def compiled_re2(pattern: str) -> Any:
    """A fault's path pattern, compiled again when its world is loaded (an RE2 program does not pickle)."""
    return re2.compile(pattern, _RE2_OPTIONS)


def _reduce_re2(compiled: Any) -> tuple[Any, tuple[str]]:
    return compiled_re2, (compiled.pattern,)


_RE2_TYPE = type(compiled_re2("x"))


def _layout_of(cls: type) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(cls))


def layout() -> dict[str, tuple[str, ...]]:
    """The field names, in order, of every dataclass in the world modules loaded now ("module:qualname" keys)."""
    found: dict[str, tuple[str, ...]] = {}
    for name, module in list(sys.modules.items()):
        if module is None or not _world_module(name):
            continue
        for value in vars(module).values():
            if isinstance(value, type) and dataclasses.is_dataclass(value) and value.__module__ == name:
                found[f"{name}:{value.__qualname__}"] = _layout_of(value)
    return found


def layout_digest(fields: Mapping[str, tuple[str, ...]]) -> str:
    text = "\n".join(f"{key}={','.join(names)}" for key, names in sorted(fields.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _world_module(name: str) -> bool:
    if name in _BARRED_MODULES:
        return False
    return name in _WORLD_MODULES or name.startswith(_WORLD_PREFIXES)


# The objects being loaded may refer to, by name: set for the duration of one `loads`.
_loading_shared: contextvars.ContextVar[Mapping[str, object]] = contextvars.ContextVar("loading_shared")


def shared_object(name: str) -> object:
    """What a blob's reference to a shared object (the outbox, the number registry) means on the loading server."""
    shared = _loading_shared.get({})
    if name not in shared:
        raise FormatError(f"the blob refers to a shared object {name!r} this server does not have")
    return shared[name]


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, shared: Mapping[str, object]) -> None:
        super().__init__(file, protocol=PROTOCOL)
        # By type, looked up in C: `persistent_id` would be a Python call for each of a world's million objects.
        table: dict[type, Any] = {_RE2_TYPE: _reduce_re2}
        names = {id(value): key for key, value in shared.items()}
        for value in shared.values():
            table[type(value)] = functools.partial(_reduce_shared, names)
        self.dispatch_table = table


def _reduce_shared(names: dict[int, str], obj: object) -> tuple[Any, tuple[str]]:
    name = names.get(id(obj))
    if name is None:
        raise pickle.PicklingError(f"a second {type(obj).__name__} is not part of one tenant's world")
    return shared_object, (name,)


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, saved: Mapping[str, tuple[str, ...]]) -> None:
        super().__init__(file)
        self._saved = saved

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _STDLIB:
            return super().find_class(module, name)
        if not _world_module(module):
            raise FormatError(f"the blob names {module}.{name}, which is not part of a sandbox world")
        found = importlib.import_module(module)
        for part in name.split("."):
            found = getattr(found, part, None)
            if found is None:
                raise FormatError(f"the blob names {module}.{name}, which this release does not have")
        if isinstance(found, type) and dataclasses.is_dataclass(found):
            saved = self._saved.get(f"{module}:{name}")
            if saved is not None and saved != _layout_of(found):
                return _migrating(found, saved)
        return found


@functools.cache
def _migrating(cls: type, saved: tuple[str, ...]) -> type:
    """A stand-in for `cls` whose instances take state written under the field layout `saved`: values by field
    name, a new field's default, a dropped field's value discarded; each then becomes a plain `cls` again."""
    values_of: dict[str, Any] = {}
    factories: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        if field.default is not dataclasses.MISSING:
            values_of[field.name] = field.default
        elif field.default_factory is not dataclasses.MISSING:
            factories[field.name] = field.default_factory
    current = _layout_of(cls)

    def __setstate__(self: Any, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], dict):
            state = {**(state[0] or {}), **state[1]}
        values = dict(zip(saved, state, strict=False)) if isinstance(state, list | tuple) else dict(state or {})
        for name in current:
            if name in values:
                value = values[name]
            elif name in values_of:
                value = values_of[name]
            elif name in factories:
                value = factories[name]()
            else:
                raise FormatError(f"{cls.__qualname__} needs {name!r}, which the stored world does not hold")
            object.__setattr__(self, name, value)
        object.__setattr__(self, "__class__", cls)

    namespace: dict[str, Any] = {"__setstate__": __setstate__, "__qualname__": cls.__qualname__}
    if hasattr(cls, "__slots__"):
        namespace["__slots__"] = ()
    return type(cls.__name__, (cls,), namespace)


def dumps(world: object, shared: Mapping[str, object]) -> bytes:
    buffer = io.BytesIO()
    with _collector_paused():
        _Pickler(buffer, shared).dump(world)
    return buffer.getvalue()


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    # A world is up to millions of objects: the cyclic GC's passes over them cost 3-5x a load (and slow a dump).
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def loads(blob: bytes, shared: Mapping[str, object], saved: Mapping[str, tuple[str, ...]] | None = None) -> Any:
    """The world in `blob`, its shared references bound to `shared`; `saved`: the layout it was written under."""
    token = _loading_shared.set(shared)
    try:
        with _collector_paused():
            return _Unpickler(io.BytesIO(blob), saved or {}).load()
    except FormatError:
        raise
    except Exception as error:
        raise FormatError(f"the stored world cannot be read ({type(error).__name__}: {error})") from error
    finally:
        _loading_shared.reset(token)
