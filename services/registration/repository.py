"""Every query of the registration service."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    CTE,
    ColumnElement,
    Insert,
    Select,
    Table,
    Text,
    Update,
    and_,
    bindparam,
    case,
    delete,
    event,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql import ClauseElement, Subquery

from services.registration.models import (
    Activity,
    IdempotencyRecord,
    Registration,
    RegistrationStatus,
)
from shared.db import insert_for
from shared.db_sqlite import OneHopConnection, positional
from shared.outbox import OUTBOX_ROW_COLUMNS, outbox_table

WAITLISTED = RegistrationStatus.WAITLISTED
REGISTERED = RegistrationStatus.REGISTERED


async def add(session: AsyncSession, row: Activity | Registration | IdempotencyRecord) -> None:
    """Adds a row and flushes it so constraint violations surface now."""
    session.add(row)
    await session.flush()


async def get_activity(session: AsyncSession, activity_id: uuid.UUID) -> Activity | None:
    """Gets an activity by its id."""
    return await session.get(Activity, activity_id)


async def list_activities(
    session: AsyncSession,
    tenant: str | None,
    *,
    desa: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> list[Activity]:
    """Lists activities, newest date first, optionally of one tenant, desa and date range."""
    query = select(Activity).order_by(Activity.date.desc(), Activity.created_at.desc())
    if tenant is not None:
        query = query.where(Activity.tenant == tenant)
    if desa is not None:
        query = query.where(Activity.desa == desa)
    if date_from is not None:
        query = query.where(Activity.date >= date_from)
    if date_to is not None:
        query = query.where(Activity.date <= date_to)
    return list((await session.scalars(query)).all())


async def status_counts(
    session: AsyncSession, activity_ids: list[uuid.UUID]
) -> dict[tuple[uuid.UUID, str], int]:
    """Counts registrations per (activity, status)."""
    if not activity_ids:
        return {}
    rows = await session.execute(
        select(Registration.activity_id, Registration.status, func.count())
        .where(Registration.activity_id.in_(activity_ids))
        .group_by(Registration.activity_id, Registration.status)
    )
    return {(row[0], row[1]): int(row[2]) for row in rows}


async def first_waitlisted(session: AsyncSession, activity_id: uuid.UUID) -> Registration | None:
    """Returns the first one on an activity's waiting list."""
    return await session.scalar(
        select(Registration)
        .where(Registration.activity_id == activity_id, Registration.status == WAITLISTED)
        .order_by(Registration.waitlist_position)
        .limit(1)
    )


async def move_waitlist_up(session: AsyncSession, activity_id: uuid.UUID, after: int) -> None:
    """Moves everyone behind a waiting-list position one place forward."""
    await session.execute(
        update(Registration)
        .where(
            Registration.activity_id == activity_id,
            Registration.status == WAITLISTED,
            Registration.waitlist_position > after,
        )
        .values(waitlist_position=Registration.waitlist_position - 1)
    )


class SqlWaitingList:
    """An activity's waiting list in the database (the capacity rule's `WaitingList` port).

    Pending changes (a cancellation, a promotion) are flushed before each statement, so the
    list is read and moved as the transaction now stands.
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first(self, activity_id: uuid.UUID) -> Registration | None:
        """The first on the activity's waiting list."""
        await self.session.flush()
        return await first_waitlisted(self.session, activity_id)

    async def move_up(self, activity_id: uuid.UUID, after: int) -> None:
        """Moves everyone behind a waiting-list position one place forward."""
        await self.session.flush()
        await move_waitlist_up(self.session, activity_id, after)


async def find_registration(
    session: AsyncSession, activity_id: uuid.UUID, phone: str
) -> Registration | None:
    """Finds the active (registered or waitlisted) registration of a phone for an activity."""
    return await session.scalar(
        select(Registration).where(
            Registration.activity_id == activity_id,
            Registration.phone == phone,
            Registration.status != RegistrationStatus.CANCELLED,
        )
    )


async def get_registration(
    session: AsyncSession, registration_id: uuid.UUID
) -> Registration | None:
    """Gets a registration by its id."""
    return await session.get(Registration, registration_id)


async def by_token_hash(session: AsyncSession, token_hash: str) -> Registration | None:
    """Finds a registration by the hash of its confirmation token."""
    return await session.scalar(select(Registration).where(Registration.token_hash == token_hash))


async def by_code(session: AsyncSession, code: str) -> Registration | None:
    """Finds a registration by its check-in code."""
    return await session.scalar(select(Registration).where(Registration.code == code))


async def list_registrations(
    session: AsyncSession,
    activity_id: uuid.UUID,
    *,
    status: str | None = None,
    search: str | None = None,
    phone: str | None = None,
) -> list[Registration]:
    """Lists an activity's registrations in the order they came, filtered."""
    query = (
        select(Registration)
        .where(Registration.activity_id == activity_id)
        .order_by(Registration.created_at, Registration.id)
    )
    if status == "checked_in":
        query = query.where(Registration.checked_in_at.is_not(None))
    elif status is not None:
        query = query.where(Registration.status == status)
    if search or phone:
        conditions = []
        if search:
            conditions.append(func.lower(Registration.name).contains(search.lower()))
            conditions.append(Registration.code == search.upper())
        if phone:
            conditions.append(Registration.phone == phone)
        query = query.where(or_(*conditions))
    return list((await session.scalars(query)).all())


async def registrations_between(
    session: AsyncSession, tenant: str | None, date_from: date | None, date_to: date | None
) -> list[tuple[Registration, Activity]]:
    """Registrations with their activity, for reports across activities."""
    query = select(Registration, Activity).join(Activity, Registration.activity_id == Activity.id)
    if tenant is not None:
        query = query.where(Activity.tenant == tenant)
    if date_from is not None:
        query = query.where(Activity.date >= date_from)
    if date_to is not None:
        query = query.where(Activity.date <= date_to)
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


_AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}
_TURNS: dict[tuple[int, uuid.UUID | None, str], asyncio.Semaphore] = {}
_TURN_KEY = "registration_writer_turn"
# Writers of one activity let past the queue at once: enough that the next one already holds a
# connection when the lock frees (no checkout in the locked path), few enough to spare the pool.
TURN_WIDTH = 3


def _turn(
    session: AsyncSession, activity_id: uuid.UUID | None, line: str = "write"
) -> asyncio.Semaphore:
    key = (id(session.get_bind()), activity_id, line)
    return _TURNS.setdefault(key, asyncio.Semaphore(TURN_WIDTH))


def _line_of(session: AsyncSession, activity_id: uuid.UUID) -> uuid.UUID | None:
    """SQLite writers queue per database (one write lock), PostgreSQL's per activity."""
    return None if session.get_bind().dialect.name == "sqlite" else activity_id


@asynccontextmanager
async def read_in_line(session: AsyncSession, activity_id: uuid.UUID) -> AsyncIterator[None]:
    """Runs a short read in a line of its own beside the activity's writers, then ends its
    transaction: a burst's look-ups (Idempotency-Key) hold at most TURN_WIDTH connections,
    none while waiting for the write turn that follows, and take no writer's place.
    """
    async with _turn(session, _line_of(session, activity_id), "read"):
        try:
            yield
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


async def _take_turn(
    session: AsyncSession, activity_id: uuid.UUID | None, *, autocommit: bool = False
) -> None:
    """Queues this process's writers of one activity (SQLite: of the database) in arrival order.

    The database lock below stays the guarantee across processes; this queue keeps a burst from
    holding every pooled connection (PostgreSQL: pool timeouts, 500s) or polling in SQLite's busy
    handler. The turn ends with the session's transaction (_end_turn). `autocommit`: the
    session's statements each commit on their own (no BEGIN, no COMMIT sent).
    """
    turn = _turn(session, activity_id)
    await turn.acquire()
    session.info[_TURN_KEY] = turn
    try:
        # Begins the transaction whose end releases the turn.
        await session.connection(execution_options=_AUTOCOMMIT if autocommit else None)
    except BaseException:
        if session.info.pop(_TURN_KEY, None) is turn:
            turn.release()
        raise


def _end_turn(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and (turn := session.info.pop(_TURN_KEY, None)) is not None:
        turn.release()


event.listen(Session, "after_transaction_end", _end_turn)


async def lock_activity(session: AsyncSession, activity_id: uuid.UUID) -> Activity | None:
    """Gets an activity and serialises writers on it until the transaction ends.

    PostgreSQL: a row lock (SELECT ... FOR UPDATE). SQLite has no row locks: BEGIN IMMEDIATE
    takes the database's write lock first, so a capacity check and its insert cannot interleave
    with another request's. It must be the transaction's first statement.
    """
    await _take_turn(session, _line_of(session, activity_id))
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(text("BEGIN IMMEDIATE"))
        return await session.get(Activity, activity_id, populate_existing=True)
    return await session.scalar(
        select(Activity)
        .where(Activity.id == activity_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


_ACTIVITIES = cast(Table, Activity.__table__)
# service.take_place's rule for the UPDATE below: a place when there is no limit, or a free place
# and nobody waiting; otherwise the end of the waiting list. After the UPDATE, a sign-up holds a
# place exactly when the event has no limit or its waiting list is (still) empty.
_PLACED = or_(
    _ACTIVITIES.c.capacity.is_(None),
    and_(
        _ACTIVITIES.c.registered_count < _ACTIVITIES.c.capacity,
        _ACTIVITIES.c.waitlisted_count == 0,
    ),
)
_PLACE_COUNTS = {
    "registered_count": _ACTIVITIES.c.registered_count + case((_PLACED, 1), else_=0),
    "waitlisted_count": _ACTIVITIES.c.waitlisted_count + case((_PLACED, 0), else_=1),
}
_TAKE_PLACE = (
    update(_ACTIVITIES)
    .where(_ACTIVITIES.c.id == bindparam("activity_id"))
    .values(_PLACE_COUNTS)
    .returning(*_ACTIVITIES.c)
)
_DIALECT_STATEMENTS: dict[tuple[str, str], Insert | Update] = {}


async def count_sign_up(session: AsyncSession, activity_id: uuid.UUID) -> Activity | None:
    """Counts a sign-up on its event in one statement that also locks it until the transaction
    ends: UPDATE ... RETURNING adds one to the registered count, or to the waiting list when the
    event is full. Returns the event as it is after the count (None if there is none), detached:
    a registered sign-up when `capacity` is None or `waitlisted_count` is 0, else waitlisted at
    position `waitlisted_count`. The caller rolls back to undo the count.

    PostgreSQL locks the row; SQLite takes the database's write lock first (BEGIN IMMEDIATE).
    """
    await _take_turn(session, _line_of(session, activity_id))
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(text("BEGIN IMMEDIATE"))
    row = (await session.execute(_TAKE_PLACE, {"activity_id": activity_id})).first()
    return None if row is None else Activity(**row._mapping)


def _registration_insert(session: AsyncSession) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING on the active (activity, phone) index (migration 0005)."""
    dialect = session.get_bind().dialect.name
    statement = _DIALECT_STATEMENTS.get(("registration", dialect))
    if statement is None:
        table = cast(Table, Registration.__table__)
        statement = (
            insert_for(session, table)
            .on_conflict_do_nothing(
                index_elements=["activity_id", "phone"],
                index_where=text("status <> 'cancelled'"),
            )
            .returning(table.c.id)
        )
        _DIALECT_STATEMENTS["registration", dialect] = statement
    assert isinstance(statement, Insert)
    return statement


async def insert_registration(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Inserts a registration in one statement unless the phone already holds an active one
    for the event (then nothing happens and False comes back).
    """
    result = await session.execute(_registration_insert(session), values)
    return result.first() is not None


async def get_idempotency(session: AsyncSession, scope: str, key: str) -> IdempotencyRecord | None:
    """Gets the stored answer of an Idempotency-Key."""
    return await session.get(IdempotencyRecord, (scope, key))


async def store_idempotency(
    session: AsyncSession, record: IdempotencyRecord, stale_before: datetime
) -> bool:
    """Stores a key's answer in one statement (INSERT ... ON CONFLICT): a key last used before
    stale_before takes the new answer. False when the key holds a fresher answer (kept as is).
    """
    values = {c: getattr(record, c) for c in _KEY_COLUMNS}
    result = await session.execute(_idempotency_upsert(session), {**values, "stale": stale_before})
    return result.first() is not None


_KEY_COLUMNS = ("scope", "key", "request_hash", "status_code", "response_body", "created_at")


def _idempotency_upsert(session: AsyncSession) -> Insert:
    """The statement of store_idempotency, built once per dialect (no per-call cache key)."""
    dialect = session.get_bind().dialect.name
    statement = _DIALECT_STATEMENTS.get(("idempotency", dialect))
    if statement is None:
        table = cast(Table, IdempotencyRecord.__table__)
        upsert = insert_for(session, table)
        statement = upsert.on_conflict_do_update(
            index_elements=["scope", "key"],
            set_={c: upsert.excluded[c] for c in _KEY_COLUMNS[2:]},
            where=table.c.created_at < bindparam("stale"),
        ).returning(table.c.key)
        _DIALECT_STATEMENTS["idempotency", dialect] = statement
    assert isinstance(statement, Insert)
    return statement


async def prune_idempotency(session: AsyncSession, before: datetime) -> None:
    """Deletes up to 100 stored Idempotency-Key answers older than a moment, oldest first."""
    oldest = await session.execute(
        select(IdempotencyRecord.scope, IdempotencyRecord.key)
        .where(IdempotencyRecord.created_at < before)
        .order_by(IdempotencyRecord.created_at)
        .limit(100)
    )
    for scope, key in oldest.all():  # by primary key; usually none or one per request
        await session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
            )
        )


async def mark_certificate_issued(
    session: AsyncSession, tenant: str, registration_id: uuid.UUID, at: datetime
) -> None:
    """Records that a registration's certificate was issued (the first time only)."""
    await session.execute(
        update(Registration)
        .where(
            Registration.id == registration_id,
            Registration.tenant == tenant,
            Registration.certificate_issued_at.is_(None),
        )
        .values(certificate_issued_at=at)
    )


# The sign-up in one statement (PostgreSQL): what register_participant's three or four statements
# do, as one data-modifying WITH sent outside a transaction (autocommit): the event's row is
# locked only while the server runs it, no round trip in between, and a statement is all or
# nothing on its own. Its parameters: `activity_id`; the event's terms as the caller read them,
# prefixed `a_` (SIGN_UP_TERMS: when one changed since, nothing is counted or written); the
# registration's columns prefixed `r_` (but activity_id, tenant, status and waitlist_position,
# which come from the counted row); the outbox row's prefixed `e_` (queued only for a held
# place); with a key, the key's prefixed `k_`: `k_registered` (the answer for a place),
# `k_waitlisted` (for the waiting list, with `k_mark` standing for the position).
_REGISTRATIONS = cast(Table, Registration.__table__)
_KEYS = cast(Table, IdempotencyRecord.__table__)
SIGN_UP_TERMS = (
    "registration_open", "registration_opens_at", "registration_closes_at", "tenant", "title",
    "date", "location", "certificate_policy", "whatsapp_cohort",
)  # fmt: skip
SIGN_UP_COLUMNS = (
    "id", "name", "school", "phone", "level", "desa", "consent", "consent_version",
    "correlation_id", "created_at", "code", "token_hash",
)  # fmt: skip
_SIGN_UP_STATEMENTS: dict[bool, Select[Any]] = {}


def _sign_up_statement(with_key: bool) -> Select[Any]:
    """PostgreSQL: the count, then from its row the registration, its event and the key."""
    counted = _count_if_unchanged().returning(*_COUNTED_COLUMNS).cte("counted")
    inserted = _placed_registration(counted).cte("inserted")
    statement = select(inserted.c.id, inserted.c.status, inserted.c.waitlist_position)
    statement = statement.add_cte(_queued_event(inserted).cte("queued"))
    return statement.add_cte(_kept_answer(inserted).cte("kept")) if with_key else statement


def _sqlite_sign_up(with_key: bool) -> list[ClauseElement]:
    """SQLite (no data-modifying WITH): the same statements in turn, each reading the rows the
    one before wrote; run in one hop to the connection's thread (OneHopConnection)."""
    act, reg = _ACTIVITIES.c, _REGISTRATIONS.c
    counted = (
        select(*_COUNTED_COLUMNS).where(act.id == bindparam("activity_id")).subquery("counted")
    )
    inserted = select(reg.status, reg.waitlist_position).where(reg.id == bindparam("r_id"))
    placed = inserted.subquery("inserted")
    statements: list[ClauseElement] = [
        _count_if_unchanged().returning(act.id),
        _placed_registration(counted),
        _queued_event(placed),
    ]
    return [*statements, _kept_answer(placed)] if with_key else statements


def _count_if_unchanged() -> Update:
    """take_place's count, only while the event's terms are the ones the caller read."""
    act = _ACTIVITIES.c
    terms = [
        act[t].is_not_distinct_from(bindparam(f"a_{t}", type_=act[t].type)) for t in SIGN_UP_TERMS
    ]
    return (
        update(_ACTIVITIES).where(act.id == bindparam("activity_id"), *terms).values(_PLACE_COUNTS)
    )


_COUNTED_COLUMNS = (
    _ACTIVITIES.c.id,
    _ACTIVITIES.c.tenant,
    _ACTIVITIES.c.capacity,
    _ACTIVITIES.c.waitlisted_count,
)


def _placed_registration(counted: CTE | Subquery) -> Insert:
    """The registration, placed by the counted row (take_place's rule). A phone that holds an
    active registration for the event fails the statement (the partial unique index)."""
    placed = or_(counted.c.capacity.is_(None), counted.c.waitlisted_count == 0)
    reg = _REGISTRATIONS.c
    row: list[ColumnElement[Any]] = [
        bindparam(f"r_{c}", type_=reg[c].type) for c in SIGN_UP_COLUMNS
    ]
    row += [
        counted.c.id,
        counted.c.tenant,
        case((placed, literal(REGISTERED.value)), else_=literal(WAITLISTED.value)),
        case((placed, null()), else_=counted.c.waitlisted_count),
    ]
    return (
        insert(_REGISTRATIONS)
        .from_select(
            [*SIGN_UP_COLUMNS, "activity_id", "tenant", "status", "waitlist_position"],
            select(*row).select_from(counted),
        )
        .returning(reg.id, reg.status, reg.waitlist_position)
    )


def _queued_event(inserted: CTE | Subquery) -> Insert:
    """The outbox row of a registration that holds a place (none for the waiting list)."""
    event = [bindparam(f"e_{c}", type_=outbox_table.c[c].type) for c in OUTBOX_ROW_COLUMNS]
    return insert(outbox_table).from_select(
        list(OUTBOX_ROW_COLUMNS),
        select(*event).where(inserted.c.status == REGISTERED.value),
    )


def _kept_answer(inserted: CTE | Subquery) -> Insert:
    """The key's answer for the registration as placed. A key that holds an answer already
    fails the statement (its primary key); the caller's slow path replays or replaces it."""
    answer = case(
        (inserted.c.status == REGISTERED.value, bindparam("k_registered", type_=Text)),
        else_=func.replace(
            bindparam("k_waitlisted", type_=Text),
            bindparam("k_mark", type_=Text),
            sql_cast(inserted.c.waitlist_position, Text),
        ),
    )
    return (
        insert(_KEYS)
        .from_select(
            ["scope", "key", "request_hash", "status_code", "created_at", "response_body"],
            select(
                *(bindparam(f"k_{c}", type_=_KEYS.c[c].type) for c in _KEY_COLUMNS[:4]),
                bindparam("k_created_at", type_=_KEYS.c.created_at.type),
                answer,
            ).select_from(inserted),
        )
        .returning(_KEYS.c.key)
    )


@dataclass
class SignedUp:
    """A registration the one-statement sign-up wrote: its id, status and waitlist position."""

    id: uuid.UUID
    status: str
    waitlist_position: int | None


async def sign_up_at_once(session: AsyncSession, values: dict[str, Any]) -> SignedUp | None:
    """Counts, inserts the registration, queues its event (for a held place) and stores the
    Idempotency-Key's answer (with `k_key` in values), all or nothing, on a session with no
    transaction yet, and ends it. PostgreSQL: one statement outside a transaction (see
    _sign_up_statement); SQLite: its statements in one hop, then COMMIT. None when it wrote
    nothing: no such event, its terms changed, the phone holds an active registration for it,
    or the key holds an answer.
    """
    with_key = "k_key" in values
    line = _line_of(session, values["activity_id"])
    if session.get_bind().dialect.name == "sqlite":
        await _take_turn(session, line)
        return await _sign_up_in_one_hop(session, values, with_key)
    statement = _SIGN_UP_STATEMENTS.get(with_key)
    if statement is None:
        statement = _SIGN_UP_STATEMENTS[with_key] = _sign_up_statement(with_key)
    await _take_turn(session, line, autocommit=True)
    try:
        row = (await session.execute(statement, values)).first()
    except IntegrityError:
        row = None
    await session.commit()  # nothing to commit (autocommit): ends the turn, frees the connection
    return None if row is None else SignedUp(row.id, row.status, row.waitlist_position)


_SQLITE_SIGN_UPS: dict[bool, list[ClauseElement]] = {}


async def _sign_up_in_one_hop(
    session: AsyncSession, values: dict[str, Any], with_key: bool
) -> SignedUp | None:
    statements = _SQLITE_SIGN_UPS.get(with_key)
    if statements is None:
        statements = _SQLITE_SIGN_UPS[with_key] = _sqlite_sign_up(with_key)
    connection = await session.connection()
    dialect = connection.dialect
    steps = [
        positional(statement, dialect, values, required=n < 2)  # the count, the registration
        for n, statement in enumerate(statements)
    ]
    raw = await connection.get_raw_connection()
    results = await cast(OneHopConnection, raw.dbapi_connection).run_together(steps)
    if results is None:
        await session.rollback()
        return None
    await session.commit()
    registration_id, status, position = results[1][0]
    return SignedUp(uuid.UUID(registration_id), status, position)
