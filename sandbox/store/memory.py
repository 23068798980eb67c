"""In-memory tables and bounded journals for one tenant's world."""

from __future__ import annotations

import heapq
import itertools
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from sandbox.domain.block_users import Blocklist
from sandbox.domain.business import Business
from sandbox.domain.business_profile import BusinessProfile
from sandbox.domain.conversation import CustomerServiceWindows
from sandbox.domain.customer import Customer
from sandbox.domain.decision import PendingDecision
from sandbox.domain.media import Media
from sandbox.domain.message import Message
from sandbox.domain.messaging_limit import PortfolioUsage
from sandbox.domain.onboarding import Onboarding
from sandbox.domain.phone_number import PhoneNumber
from sandbox.domain.phone_number_settings import PhoneNumberSettings
from sandbox.domain.pricing import Conversations, Ledger
from sandbox.domain.quality import NumberQuality
from sandbox.domain.template import MessageTemplate
from sandbox.domain.template_quality import TemplateHealth
from sandbox.domain.trial import Trial
from sandbox.domain.waba import WhatsAppBusinessAccount

T = TypeVar("T")


class Awaiting:
    """The value of a row that a restored table has not read yet, and which of its parts holds it (`level`: 0 the
    newest rows, each level after older ones; `Table.awaiting`)."""

    __slots__ = ("level",)

    def __init__(self, level: int) -> None:
        self.level = level

    def __repr__(self) -> str:
        return f"<row not read yet, part {self.level}>"


# One per part: a world's rows come in at most this many parts (sandbox/store/worlds.py, `LATER_PARTS`).
AWAITING = tuple(Awaiting(level) for level in range(8))


class RowSource(Protocol):
    def load(self, level: int | None = None) -> None: ...

    def close(self) -> None: ...


class Table(Generic[T]):
    """Objects by id in insertion order; with `max_size`, the oldest are evicted first.

    `rows_later`: a saved world writes this table's rows after everything else, newest first and in parts, and a
    restored one reads a part on the first call that needs a row of it (sandbox/store/worlds.py): a tenant with
    100,000 messages is back in place without making 100,000 messages first, and reading one of its newest
    messages makes only the newest part. Keys, order, `len`, `in`, `add`, `touch` and eviction by age work on the
    keys alone; `get`, `remove` and `newest` read the part of the row they reach, iterating and `page` all."""

    # Class defaults: a table of a world saved before these existed reads as every other.
    rows_later = False
    _source: RowSource | None = None

    def __init__(self, max_size: int | None = None, *, rows_later: bool = False) -> None:
        self._rows: OrderedDict[str, T] = OrderedDict()
        self.max_size = max_size
        if rows_later:
            self.rows_later = True

    @classmethod
    def awaiting(cls, keys: tuple[str, ...], sizes: tuple[int, ...]) -> Table[T]:
        """A restored table whose rows are still to be read: `sizes[i]` of them, oldest first, are in part
        `len(sizes) - 1 - i` (the newest in part 0), and each key holds that part's `Awaiting` until it is read."""
        marks = itertools.chain.from_iterable(
            itertools.repeat(AWAITING[len(sizes) - 1 - index], count) for index, count in enumerate(sizes)
        )
        table = cls.__new__(cls)
        table._rows = OrderedDict(zip(keys, marks, strict=False))
        return table

    def read_from(self, source: RowSource) -> None:
        self._source = source

    def put_rows(self, keys: tuple[str, ...], rows: list[T] | None, level: int) -> None:
        """The rows of `keys` (as many), part `level`, as saved (None: they could not be read). A key removed
        since stays removed, a key given a new row since keeps it, and each keeps its place in the order."""
        current, mark = self._rows, AWAITING[level]
        if rows is not None:
            for key, row in zip(keys, rows, strict=True):
                if current.get(key) is mark:
                    current[key] = row
        for key in [key for key in keys if current.get(key) is mark]:
            del current[key]

    def all_read(self) -> None:
        self.__dict__.pop("_source", None)

    def load_rows(self, level: int | None = None) -> None:
        if self._source is not None:
            self._source.load(level)

    def drop_unread(self) -> None:
        """Forget the rows not read yet: the table of a removed tenant. What reads them holds the whole world it
        was loaded with, this table included, so only this frees that world by reference counting."""
        if self._source is not None:
            self._source.close()

    def parts(self) -> tuple[tuple[str, ...], list[T], dict[str, Any]]:
        """Keys, rows and the rest of its state, for a world that writes the rows after everything else."""
        state = self.__getstate__()
        rows = state.pop("_rows")
        return tuple(rows), list(rows.values()), state

    def __getstate__(self) -> dict[str, Any]:
        self.load_rows()
        return {name: value for name, value in vars(self).items() if name != "_source"}

    def get(self, key: str) -> T | None:
        row = self._rows.get(key)
        if type(row) is Awaiting:
            self.load_rows(row.level)
            row = self._rows.get(key)
        return row

    def add(self, key: str, row: T) -> T:
        self._rows[key] = row
        if self.max_size is not None:
            while len(self._rows) > self.max_size:
                self._rows.popitem(last=False)
        return row

    def remove(self, key: str) -> T | None:
        row = self._rows.get(key)
        if type(row) is Awaiting:
            self.load_rows(row.level)
        return self._rows.pop(key, None)

    def touch(self, key: str) -> None:
        """Mark a row as just used: `evict` forgets the least recently used first."""
        self._rows.move_to_end(key)

    def evict(self, size: int, keep: Callable[[T], bool], tries: int = 8) -> None:
        """Forget the least recently used rows beyond `size`; a row `keep` holds goes to the back instead. At most
        `tries` kept rows per call, so a send pays O(1) amortised and never a scan."""
        rows = self._rows
        while len(rows) > size and tries > 0:
            key, row = next(iter(rows.items()))
            if type(row) is Awaiting:
                self.load_rows(row.level)
                continue
            if keep(row):
                rows.move_to_end(key)
                tries -= 1
            else:
                del rows[key]

    def page(self, limit: int, after: str | None = None) -> list[T]:
        """Up to `limit` rows in key order, those after the cursor `after`: stable while rows are used or added."""
        keys = heapq.nsmallest(limit, (key for key in self._rows if after is None or key > after))
        found = [self._rows[key] for key in keys]
        if any(type(row) is Awaiting for row in found):
            self.load_rows()
            found = [self._rows[key] for key in keys]
        return found

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[T]:
        self.load_rows()
        return iter(list(self._rows.values()))

    def newest(self, limit: int, keep: Callable[[T], bool] = lambda _: True) -> list[T]:
        found: list[T] = []
        for row in reversed(self._rows.values()):
            if type(row) is Awaiting:  # read that part, then look again (a part is read once: at most 8 times)
                self.load_rows(row.level)
                return self.newest(limit, keep)
            if keep(row):
                found.append(row)
                if len(found) >= limit:
                    break
        return found


# A Graph call as the request journal keeps it until read: (method, path, status, error code, time, fault id).
RequestFacts = tuple[str, str, int, int | None, datetime, str | None]


def request_record(facts: RequestFacts) -> dict[str, Any]:
    method, path, status, code, at, fault = facts
    record: dict[str, Any] = {"method": method, "path": path, "status": status, "error_code": code, "time": at}
    if fault is not None:
        record["fault"] = fault
    return record


class Journal:
    """A ring buffer of plain records, newest last. A record may be kept as the tuple of a Graph call
    (`RequestFacts`, one per call on the hot path) and is made its dict when read."""

    def __init__(self, max_size: int) -> None:
        self._entries: deque[dict[str, Any] | RequestFacts] = deque(maxlen=max_size)

    def append(self, entry: dict[str, Any] | RequestFacts) -> None:
        self._entries.append(entry)

    def resize(self, max_size: int) -> None:
        self._entries = deque(self._entries, maxlen=max_size)

    def newest(self, limit: int, keep: Callable[[dict[str, Any]], bool] = lambda _: True) -> list[dict[str, Any]]:
        found = []
        for kept in reversed(self._entries):
            entry = kept if type(kept) is dict else request_record(kept)  # type: ignore[arg-type]
            if keep(entry):
                found.append(entry)
                if len(found) >= limit:
                    break
        return found

    def __len__(self) -> int:
        return len(self._entries)


UNREAD_LIMIT = 1000
INCIDENT_LIMIT = 1000
OTP_LIMIT = 1000


@dataclass(slots=True)
class Conversation:
    """What one business number needs to know of one customer without scanning the message table: the newest
    business message (a button tap's `context`) and the wamids of inbound messages not yet marked read, oldest
    first. Wamids, not messages: an open window must not keep a message alive after the journal let it go."""

    last_outbound: str | None = None
    # Made on the first inbound message; a list, not a deque: a deque's first block costs 600 bytes, and a
    # customer writes a handful of messages between reads.
    _unread: list[str] | None = None

    def received(self, wamid: str) -> None:
        if self._unread is None:
            self._unread = []
        self._unread.append(wamid)
        if len(self._unread) > UNREAD_LIMIT:
            del self._unread[0]

    def read_up_to(self, wamid: str) -> list[str]:
        """The unread wamids up to and including `wamid`, oldest first, taken off the list; none if it is not
        unread."""
        unread = self._unread
        if unread is None or wamid not in unread:
            return []
        end = unread.index(wamid) + 1
        taken = unread[:end]
        del unread[:end]
        if not unread:
            self._unread = None
        return taken


class MediaTable(Table[Media]):
    """Media objects with the bytes they hold counted, each forgotten when it expires (the bytes freed at once)."""

    def __init__(self) -> None:
        super().__init__()
        self.bytes = 0
        self._expiry: list[tuple[datetime, int, str]] = []
        self._added = 0

    def add(self, key: str, row: Media) -> Media:
        self.remove(key)
        super().add(key, row)
        self.bytes += len(row.data or b"")
        self._added += 1
        heapq.heappush(self._expiry, (row.expires_at, self._added, key))
        return row

    def remove(self, key: str) -> Media | None:
        row = super().remove(key)
        if row is not None:
            self.bytes -= len(row.data or b"")
            if len(self._expiry) > 2 * len(self) + 64:
                self._expiry = [entry for entry in self._expiry if entry[2] in self]
                heapq.heapify(self._expiry)
        return row

    def expire(self, now: datetime) -> None:
        """Forget what has expired by `now`: O(log n) per object forgotten, O(1) when nothing has."""
        expiry = self._expiry
        while expiry and expiry[0][0] <= now:
            _, _, key = heapq.heappop(expiry)
            row = self.get(key)
            if row is not None and row.expired(now):
                self.remove(key)

    def earliest(self) -> Media | None:
        """The live object that expires first (what an inbound message over the count displaces)."""
        while self._expiry:
            row = self.get(self._expiry[0][2])
            if row is not None:
                return row
            heapq.heappop(self._expiry)
        return None


class TenantStore:
    """Every object of one tenant's Meta-side world. Ids are unique within a tenant, so a node id names one kind."""

    def __init__(self, *, messages: int, requests: int, ledger: int = 10_000) -> None:
        self.businesses: Table[Business] = Table()
        self.wabas: Table[WhatsAppBusinessAccount] = Table()
        self.phone_numbers: Table[PhoneNumber] = Table()
        self.templates: Table[MessageTemplate] = Table()
        self.customers: Table[Customer] = Table()
        # BSUID → wa_id; may hold forgotten customers' ids until rebuilt (sandbox/services/customers.py).
        self.customer_user_ids: dict[str, str] = {}
        # Per phone-number id; a number without an entry has Meta's empty profile and default settings.
        self.business_profiles: dict[str, BusinessProfile] = {}
        self.phone_number_settings: dict[str, PhoneNumberSettings] = {}
        self.media = MediaTable()
        self.messages: Table[Message] = Table(max_size=messages, rows_later=True)
        self.windows = CustomerServiceWindows()
        self.requests = Journal(requests)
        # Scheduled work or a webhook render that failed: kept for the user to see, never swallowed silently.
        self.incidents = Journal(INCIDENT_LIMIT)
        self.trial: Trial | None = None
        # Open CBP conversations and the cost ledger (sandbox/services/pricing.py).
        self.open_conversations = Conversations()
        self.ledger = Ledger(ledger)
        # Least recently used first: `forget_idle` bounds them with the customers.
        self.conversations: OrderedDict[tuple[str, str], Conversation] = OrderedDict()
        # Reviews Meta will decide later, by (kind, target): sandbox/services/decisions.py.
        self.decisions: dict[tuple[str, str], PendingDecision] = {}
        # Unique users reached outside windows, by business (domain/messaging_limit.py).
        self.messaging_limits: dict[str, PortfolioUsage] = {}
        # Per number: the codes sent and the calls counted while it is onboarded (sandbox/services/registration.py).
        self.onboarding: dict[str, Onboarding] = {}
        # Every code sent by SMS or voice call, as the business's phone would receive it (`GET .../otp`).
        self.otp = Journal(OTP_LIMIT)
        # Per number: business-initiated messages, reactions and the rating's timers (sandbox/services/quality.py).
        self.quality: dict[str, NumberQuality] = {}
        # Per template id: its reactions, pauses and pending unpause (sandbox/services/template_quality.py).
        self.template_health: dict[str, TemplateHealth] = {}
        # Number migrations between WABAs, by the destination's phone-number id (sandbox/services/migration.py).
        self.migrations: dict[str, Any] = {}
        # Per phone-number id: the users it has blocked (sandbox/services/block_users.py).
        self.blocklists: dict[str, Blocklist] = {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A world stored before a table was added loads with that table empty (sandbox/store/worlds.py).
        self.__init__(messages=1, requests=1)  # type: ignore[misc]
        self.__dict__.update(state)

    def onboarding_of(self, phone_number_id: str) -> Onboarding:
        found = self.onboarding.get(phone_number_id)
        if found is None:
            found = self.onboarding[phone_number_id] = Onboarding()
        return found

    def conversation(self, phone_number_id: str, wa_id: str) -> Conversation:
        key = (phone_number_id, wa_id)
        found = self.conversations.get(key)
        if found is None:
            found = self.conversations[key] = Conversation()
        else:
            self.conversations.move_to_end(key)
        return found

    def forget_idle(self, now: datetime, customers: int) -> None:
        """Keep memory flat however many people are reached: closed windows leave, and beyond `customers` the least
        recently contacted customers and conversations not in an open window are forgotten (O(1) amortised)."""
        self.windows.expire(now)
        self.media.expire(now)
        numbers = [phone.id for phone in self.phone_numbers]
        self.customers.evict(customers, lambda c: any(self.windows.is_open(number, c.wa_id, now) for number in numbers))
        conversations = self.conversations
        for _ in range(8):
            if len(conversations) <= customers * max(1, len(numbers)):
                break
            key = next(iter(conversations))
            if self.windows.is_open(key[0], key[1], now):
                conversations.move_to_end(key)
            else:
                del conversations[key]

    def drop_unread(self) -> None:
        """Forget what a restored world has not read yet (`Table.rows_later`): this tenant is removed."""
        for value in vars(self).values():
            if isinstance(value, Table):
                value.drop_unread()

    def node(self, node_id: str) -> tuple[str, Any] | None:
        for kind, table in (
            ("phone_number", self.phone_numbers),
            ("waba", self.wabas),
            ("business", self.businesses),
            ("template", self.templates),
            ("media", self.media),
        ):
            row = table.get(node_id)
            if row is not None:
                return kind, row
        return None
