"""A tenant's world as bytes and back: pickle (protocol 5) of the whole object graph, with no code per type.

A big table marked `rows_later` (the message table) is written as its keys, and its rows after the world in parts,
newest first, by the same pickler; a loaded world reads a part on the first call that needs a row of it
(`_LaterRows`), so restoring a tenant of 100,000 messages does not make 100,000 messages first, and reading a
recent one makes a thousand (docs/persistence.md).

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
import copyreg
import dataclasses
import functools
import gc
import hashlib
import importlib
import io
import itertools
import logging
import operator
import pickle
import struct
import sys
import threading
import types
from collections.abc import Iterator, Mapping
from typing import Any

import re2

from sandbox.store.memory import AWAITING, Table

# Bumped when the container format (how blobs, layouts and references are arranged) changes incompatibly.
# Format 1 wrote each world as one pickle; format 2 may write a table's rows after it (`_LATER`). This release
# writes 2 and reads both.
FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)
# A world with rows written later: this tag, the number of parts (4 bytes), the length of the world's pickle and of
# each part's (8 bytes each), the world's pickle, then the parts' pickles.
_LATER = b"WSW2"
_LATER_HEAD = struct.Struct(">4sI")
# Fewer rows than this are written with their table: reading them later would save nothing worth a second pickle.
LATER_ROWS = 1000
# How many rows each part holds, newest first; the last part holds the rest. Part k is read after parts 0..k-1
# (its pickle refers to their objects), so reading a recent message makes the newest part only.
LATER_PARTS = (1_000, 10_000)
PROTOCOL = 5
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False
log = logging.getLogger("sandbox.store.worlds")

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


# The tables of the world being loaded whose rows come after it (`table_with_rows_later`).
# Each with the keys of each of its parts, newest part first.
_waiting: contextvars.ContextVar[list[tuple[Table[Any], list[tuple[str, ...]]]]] = contextvars.ContextVar("waiting")
# The objects being loaded may refer to, by name: set for the duration of one `loads`.
_loading_shared: contextvars.ContextVar[Mapping[str, object]] = contextvars.ContextVar("loading_shared")


def shared_object(name: str) -> object:
    """What a blob's reference to a shared object (the outbox, the number registry) means on the loading server."""
    shared = _loading_shared.get({})
    if name not in shared:
        raise FormatError(f"the blob refers to a shared object {name!r} this server does not have")
    return shared[name]


class _Setter:
    """Stands, in a blob, for the function that puts a slotted dataclass's field values back: it is written once
    per class and blob with the field names, so each object is its class, a tuple of values and two memo refs."""

    __slots__ = ("cls", "names")

    def __init__(self, cls: type, names: tuple[str, ...]) -> None:
        self.cls, self.names = cls, names

    def __call__(self, obj: Any, values: tuple[Any, ...]) -> None:  # the pickler wants a callable; never called
        _fast_setter(self.cls)(obj, values)

    def __reduce__(self) -> tuple[Any, tuple[str, str, tuple[str, ...]]]:
        return setter_for, (self.cls.__module__, self.cls.__qualname__, self.names)


_DEFAULT_REDUCE = operator.methodcaller("__reduce_ex__", PROTOCOL)
_NEWOBJ = copyreg.__newobj__


def _positional(cls: type) -> tuple[str, ...] | None:
    """The fields of a world dataclass that can be written as a tuple of values: slotted (no `__dict__` to lose),
    every slot a field, at least two fields, and no pickling hooks of its own. None: pickled the default way."""
    if not dataclasses.is_dataclass(cls) or not _world_module(cls.__module__) or cls.__dictoffset__:
        return None
    names = _layout_of(cls)
    if len(names) < 2 or set(copyreg._slotnames(cls)) != set(names):  # type: ignore[attr-defined]
        return None
    for hook in ("__reduce__", "__reduce_ex__", "__getstate__", "__setstate__"):
        found = getattr(cls, hook, None)
        if found is not getattr(object, hook, None) and getattr(found, "__module__", None) != "dataclasses":
            return None
    return names


class _DispatchTable(dict[type, Any]):
    """By type, looked up in C: each type costs one Python call (`__missing__`) per dump, not one per object."""

    def __missing__(self, cls: type) -> Any:
        if issubclass(cls, type):
            raise KeyError(cls)  # a class (an enum's): written by name, the pickler's own way
        names = _positional(cls)
        if names is None:
            reducer = copyreg.dispatch_table.get(cls, _DEFAULT_REDUCE)
        else:
            getter, setter = operator.attrgetter(*names), _Setter(cls, names)

            def reducer(obj: Any) -> tuple[Any, ...]:
                # NEWOBJ (memoised before its values, so cycles hold), then setter(obj, values): both C-dispatched.
                return _NEWOBJ, (cls,), getter(obj), None, None, setter

        self[cls] = reducer
        return reducer


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, shared: Mapping[str, object], later: list[list[list[Any]]]) -> None:
        super().__init__(file, protocol=PROTOCOL)
        # `persistent_id` or `reducer_override` would be a Python call for each of a world's million objects.
        table = _DispatchTable({_RE2_TYPE: _reduce_re2, Table: functools.partial(_reduce_table, later)})
        names = {id(value): key for key, value in shared.items()}
        for value in shared.values():
            table[type(value)] = functools.partial(_reduce_shared, names)
        self.dispatch_table = table


def _reduce_table(later: list[list[list[Any]]], table: Table[Any]) -> Any:
    if not table.rows_later or len(table) < LATER_ROWS:
        return table.__reduce_ex__(PROTOCOL)
    keys, rows, state = table.parts()
    parts, end = [], len(rows)
    for size in (*LATER_PARTS, len(rows)):
        parts.append(rows[max(0, end - size) : end])
        end = max(0, end - size)
    later.append(parts)  # newest first
    return table_with_rows_later, (type(table), keys, tuple(len(part) for part in reversed(parts))), state


def table_with_rows_later(cls: type, keys: tuple[str, ...], sizes: tuple[int, ...]) -> Table[Any]:
    """A table whose rows its blob holds after the world (`_LATER`): its keys now, its rows when first read.
    `sizes`: how many rows each part holds, oldest part first."""
    waiting = _waiting.get(None)
    if (
        waiting is None
        or not (isinstance(cls, type) and issubclass(cls, Table))
        or not isinstance(keys, tuple)
        or not isinstance(sizes, tuple)
        or not 0 < len(sizes) <= len(AWAITING)
        or not all(type(size) is int and size >= 0 for size in sizes)
        or sum(sizes) != len(keys)
    ):
        raise FormatError("the blob holds a table whose rows it does not carry")
    table = cls.awaiting(keys, sizes)
    # The keys of each part, newest part first, as the parts are written.
    bounds = list(itertools.accumulate(sizes, initial=0))
    waiting.append((table, [keys[bounds[index] : bounds[index + 1]] for index in reversed(range(len(sizes)))]))
    return table


class _LaterRows:
    """The rows of a loaded world's `rows_later` tables, read part by part (newest first) on the first call that
    needs a row of a part, and the parts before it first.

    They are read by the unpickler that read the world, whose memo still holds every object of it and of the parts
    read before: a row that shares an object with the rest of the world (a message that a pending status move
    also holds) is that same object, exactly as one pickle would have made it. Until the last part is read it keeps
    the world's objects as they were loaded and the blob, and no more."""

    def __init__(
        self,
        unpickler: _Unpickler,
        file: io.BytesIO,
        offsets: list[int],
        shared: Mapping[str, object],
        renamed: dict[type, tuple[str, ...]],
        tables: list[tuple[Table[Any], list[tuple[str, ...]]]],
    ) -> None:
        self._unpickler: _Unpickler | None = unpickler
        self._file, self._offsets, self._shared, self._renamed, self._tables = file, offsets, shared, renamed, tables
        self._read = 0  # the parts read so far
        # A test may read a table from its own thread while the server's thread does: the second waits for the rows.
        self._lock = threading.RLock()

    def close(self) -> None:
        with self._lock:
            self._finish(self._read)

    def load(self, level: int | None = None, *, strict: bool = False) -> None:
        with self._lock:
            last = len(self._offsets) - 1 if level is None else min(level, len(self._offsets) - 1)
            while self._unpickler is not None and self._read <= last:
                self._load_part(self._read, strict)

    def _load_part(self, level: int, strict: bool) -> None:
        rows: Any = None
        token, renamed = _loading_shared.set(self._shared), _renamed.set(self._renamed)
        try:
            with _collector_paused():
                self._file.seek(self._offsets[level])
                rows = self._unpickler.load()  # type: ignore[union-attr]
                _settle()
            if not (
                isinstance(rows, list)
                and len(rows) == len(self._tables)
                and all(
                    isinstance(part, list) and len(part) == len(keys[level])
                    for part, (_, keys) in zip(rows, self._tables, strict=True)
                )
            ):
                raise FormatError("the rows after the world are not one list per table, a row per key")
        except Exception as error:
            self._finish(level)
            if strict:
                raise (
                    error
                    if isinstance(error, FormatError)
                    else FormatError(f"the stored rows cannot be read ({type(error).__name__}: {error})")
                ) from error
            log.exception("a restored table's rows could not be read: the table goes on without them")
            return
        finally:
            _loading_shared.reset(token)
            _renamed.reset(renamed)
        for (table, keys), part in zip(self._tables, rows, strict=True):
            table.put_rows(keys[level], part, level)
        self._read = level + 1
        if self._read == len(self._offsets):
            self._finish(self._read)

    def _finish(self, level: int) -> None:
        """Done: the parts from `level` on are dropped (none, once all are read), and the reader let go of."""
        tables, self._tables, self._unpickler, self._file = self._tables, [], None, io.BytesIO()
        for table, keys in tables:
            for later in range(level, len(keys)):
                table.put_rows(keys[later], None, later)
            table.all_read()


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
        found = _world_object(module, name)
        if isinstance(found, type) and dataclasses.is_dataclass(found):
            saved = self._saved.get(f"{module}:{name}")
            if saved is not None and saved != _layout_of(found):
                if _positional(found) is not None:
                    _renamed.get()[found] = saved
                    return found
                return _migrating(found, saved)
        return found


def _world_object(module: str, name: str) -> Any:
    if not _world_module(module):
        raise FormatError(f"the blob names {module}.{name}, which is not part of a sandbox world")
    found: Any = importlib.import_module(module)
    for part in name.split("."):
        # Only what a world module defines itself, by its own name: not a module it imports (`worlds.importlib`
        # would reach `import_module`), not what a dunder leads to (`__globals__`, `__subclasses__`).
        found = None if part.startswith("__") else getattr(found, part, None)
        if found is None:
            raise FormatError(f"the blob names {module}.{name}, which this release does not have")
    if isinstance(found, types.ModuleType) or getattr(found, "__module__", None) != module:
        raise FormatError(f"the blob names {module}.{name}, which is not part of a sandbox world")
    return found


# Field layouts the data directory or snapshot holds beside a blob, where they differ from the blob's own: they
# win (both are written together, so they differ only when a caller says the blob was written under another).
_renamed: contextvars.ContextVar[dict[type, tuple[str, ...]]] = contextvars.ContextVar("renamed")


def setter_for(module: str, name: str, names: tuple[str, ...]) -> Any:
    """What puts back the values of a dataclass written as `names` (by `_Setter`): generated code when they are
    its fields now, else a migration by field name."""
    cls = _world_object(module, name)
    if not isinstance(type(cls), type) or _positional(cls) is None or not isinstance(names, tuple):
        raise FormatError(f"the blob writes {module}.{name} as a tuple of values, which it is not")
    names = _renamed.get({}).get(cls, names)
    return _fast_setter(cls) if names == _layout_of(cls) else _migrating_setter(cls, names)


@functools.cache
def _fast_setter(cls: type) -> Any:
    names = _layout_of(cls)
    frozen = cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
    # The names are the class's own identifiers, never the blob's: the generated source cannot be injected.
    if frozen:
        body = "".join(f"    _set(obj, {name!r}, values[{index}])\n" for index, name in enumerate(names))
    else:
        body = f"    ({', '.join(f'obj.{name}' for name in names)},) = values\n"
    namespace: dict[str, Any] = {"_set": object.__setattr__}
    exec(f"def _put(obj, values):\n{body}", namespace)
    return namespace["_put"]


@functools.cache
def _migrating_setter(cls: type, saved: tuple[str, ...]) -> Any:
    stand_in = _migrating(cls, saved)

    def _put(obj: Any, values: tuple[Any, ...]) -> None:
        stand_in.__setstate__(obj, values)

    return _put


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
    later: list[list[list[Any]]] = []
    ends = []
    with _collector_paused():
        pickler = _Pickler(buffer, shared, later)
        pickler.dump(world)
        ends.append(buffer.tell())
        for level in range(len(LATER_PARTS) + 1 if later else 0):
            # The same pickler: a part refers to the world's objects, and to the newer parts', by its memo.
            pickler.dump([parts[level] for parts in later])
            ends.append(buffer.tell())
        # Before the collector runs again: the memo keeps every tuple the dump made (a quarter of a million for a
        # big world), which would make its next pass as long as a tenth of the dump.
        del pickler
    if not later:
        return buffer.getvalue()
    lengths = [end - start for start, end in zip([0, *ends], ends, strict=False)]
    head = _LATER_HEAD.pack(_LATER, len(lengths) - 1) + struct.pack(f">{len(lengths)}Q", *lengths)
    return head + buffer.getbuffer()


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


def _settle() -> None:
    """Put the rows just read in the collector's oldest generation without a pass over them.

    Reading a big table's rows makes up to millions of objects at once, so the next allocation would start a
    pass over all of them (and, once they are promoted, a full one): as long again as reading them. They are rows
    that only their table holds: when it goes, reference counting frees them, and the rare full passes are all
    that need to see them. (The rest of a world is left to the collector as it comes: a world is cyclic,
    through the work its clock holds, and must be collected as one when it is replaced.) `freeze` and
    `unfreeze` each move whole generations at once, whatever their size."""
    gc.freeze()
    gc.unfreeze()


def loads(
    blob: bytes,
    shared: Mapping[str, object],
    saved: Mapping[str, tuple[str, ...]] | None = None,
    *,
    rows_now: bool = False,
) -> Any:
    """The world in `blob`, its shared references bound to `shared`; `saved`: the layout it was written under.
    The rows of its `rows_later` tables are read when first needed; `rows_now`: here, raising FormatError if
    they cannot be (what checks a file before it is kept)."""
    token, renamed, waiting = _loading_shared.set(shared), _renamed.set({}), _waiting.set([])
    try:
        file, offsets = io.BytesIO(blob), []
        if blob[:4] == _LATER:
            _, count = _LATER_HEAD.unpack_from(blob)
            if not 0 < count <= len(AWAITING):
                raise FormatError("the blob's header names no parts, or too many")
            lengths = struct.unpack_from(f">{count + 1}Q", blob, _LATER_HEAD.size)
            offsets = list(itertools.accumulate(lengths, initial=_LATER_HEAD.size + 8 * (count + 1)))
            if offsets[-1] != len(blob):
                raise FormatError("the blob's parts do not add up to its length")
            file.seek(offsets[0])
            offsets = offsets[1:-1]  # where each part starts
        unpickler = _Unpickler(file, saved or {})
        with _collector_paused():
            world = unpickler.load()
        tables = _waiting.get()
        if bool(tables) != bool(offsets) or any(len(keys) != len(offsets) for _, keys in tables):
            raise FormatError("the blob's tables and the rows written after its world do not match")
        if tables:
            source = _LaterRows(unpickler, file, offsets, shared, _renamed.get(), tables)
            for table, _ in tables:
                table.read_from(source)
            if rows_now:
                source.load(strict=True)
        return world
    except FormatError:
        raise
    except Exception as error:
        raise FormatError(f"the stored world cannot be read ({type(error).__name__}: {error})") from error
    finally:
        _loading_shared.reset(token)
        _renamed.reset(renamed)
        _waiting.reset(waiting)
