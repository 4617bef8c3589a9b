"""The time-bank credit ledger of the "one-yuan station": volunteers earn credits by serving,
and recipients who earned credits in the past get a priority boost when they need help.

Every change to a balance is a `CreditEntry` in the `Ledger`; balances are sums, never stored,
so the ledger is its own audit trail. `LedgerStore` keeps a ledger in a JSON file that is
replaced whole on every save, so a crash mid-write leaves the previous file intact, and that
serialises writers with a lock file, so two recorders at once both keep their entries.

Every number of an entry is finite (no NaN, no Infinity) and minutes are never negative: a
ledger file that breaks this is refused on load, naming the entry.

Credits follow the minutes a volunteer spends on site (travel is not counted), at a rate per
service: by default one credit per hour, whatever the service.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import math
import os
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from matcher.io import _load, to_json, write_text_atomic
from matcher.models import CreditPolicy, Plan, Problem, Session
from matcher.models.common import StrictModel

CreditKind = Literal["earned", "redeemed", "adjusted"]

_TOLERANCE = 1e-9
"""Credits below this are float noise: a balance of -1e-12 after exact redemption is zero."""

FiniteNonNegativeFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
"""A rate: zero or more, never NaN or Infinity."""


class CreditEntry(StrictModel):
    """One change to a person's credits: earned by a visit, redeemed, or adjusted by hand.

    `credits` is the change to the balance: positive when earned, negative when redeemed,
    either sign for an adjustment (a coordinator correcting a mistake).
    """

    id: str = Field(min_length=1)
    person: str = Field(min_length=1, description="a volunteer or recipient id")
    kind: CreditKind
    credits: float
    week_start: dt.date
    need: str | None = Field(default=None, description="the need served (earned entries)")
    occurrence: int | None = Field(
        default=None, ge=1, description="which visit of the need that week (earned entries)"
    )
    service: str | None = None
    session: str | None = Field(
        default=None,
        description="the group session served as lead, helper or escort (earned entries; "
        "`service` is then its group service)",
    )
    minutes: float | None = Field(default=None, ge=0, description="minutes served on site")
    note: str = ""

    @field_validator("credits", "minutes", mode="before")
    @classmethod
    def _finite(cls, value: Any, info: ValidationInfo) -> Any:
        """Credits and minutes are quantities: NaN or Infinity would poison every balance, and
        minutes served cannot be negative. The error names the entry by its id."""
        number = _as_number(value)
        if number is None:
            return value
        entry = info.data.get("id", "?")
        if not math.isfinite(number):
            raise ValueError(
                f"entry {entry!r}: {info.field_name} must be a finite number, not {value}"
            )
        if info.field_name == "minutes" and number < 0:
            raise ValueError(f"entry {entry!r}: minutes served cannot be negative, not {value}")
        return value

    @model_validator(mode="after")
    def _sign_matches_kind(self) -> CreditEntry:
        """An earned entry cannot take credits away, nor a redemption add them."""
        if self.kind == "earned" and self.credits < 0:
            raise ValueError(f"earned entry {self.id!r} has negative credits {self.credits}")
        if self.kind == "redeemed" and self.credits > 0:
            raise ValueError(
                f"redeemed entry {self.id!r} must have negative credits, not {self.credits}"
            )
        return self

    @property
    def visit_key(self) -> tuple[dt.date, str | None, int | None, str]:
        """What makes an earned entry unique: week, need (or session), occurrence, volunteer."""
        served = self.need if self.session is None else f"session:{self.session}"
        return (self.week_start, served, self.occurrence, self.person)


def _session_service(plan: Plan, problem: Problem) -> list[tuple[Session, str, float]]:
    """(session, volunteer, minutes on site) of every lead, helper and escort of the plan's
    sessions who is not staff: leads and helpers for the session, an escort for the whole time
    the attendee is away (`matcher.rules.sessions.attendee_span`)."""
    from matcher.rules.sessions import attendee_span
    from matcher.travel import TravelModel

    served: list[tuple[Session, str, float]] = []
    travel: TravelModel | None = None
    for session in plan.sessions or []:
        for volunteer_id in dict.fromkeys([*session.leads, *session.helpers]):
            volunteer = problem.volunteer_by_id.get(volunteer_id)
            if volunteer is None:
                raise ValueError(
                    f"session {session.id} names volunteer {volunteer_id!r}, who is not in the "
                    "problem"
                )
            if volunteer.kind != "staff":
                served.append((session, volunteer_id, float(session.end - session.start)))
        for seat in session.attendees:
            escort = problem.volunteer_by_id.get(seat.escort) if seat.escort else None
            if escort is None or escort.kind == "staff" or session.venue not in problem.venue_by_id:
                continue
            if travel is None:
                travel = TravelModel(problem)
            distance = travel.distance(
                travel.recipient_place[seat.recipient], travel.venue_place[session.venue]
            )
            leaves, back = attendee_span(problem, distance, session.start, session.end)
            served.append((session, escort.id, float(back - leaves)))
    return served


class CreditRates(StrictModel):
    """Credits per minute served, per service id; other services earn the default rate."""

    per_minute_by_service: dict[str, FiniteNonNegativeFloat] = Field(default_factory=dict)
    default_per_minute: FiniteNonNegativeFloat = Field(
        default=1 / 60, description="one credit per hour of service"
    )

    def per_minute(self, service: str) -> float:
        """The rate for one minute of this service."""
        return self.per_minute_by_service.get(service, self.default_per_minute)


class Ledger(StrictModel):
    """Every credit entry of the time bank, in the order recorded."""

    entries: list[CreditEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> Ledger:
        """Entry ids name entries in reports and corrections, so they must be unique."""
        counts = Counter(entry.id for entry in self.entries)
        duplicates = sorted(entry_id for entry_id, count in counts.items() if count > 1)
        if duplicates:
            raise ValueError(f"duplicate entry ids: {', '.join(duplicates)}")
        totals: dict[str, float] = defaultdict(float)
        for entry in self.entries:
            totals[entry.person] += entry.credits
        overflowing = sorted(person for person, total in totals.items() if not math.isfinite(total))
        if overflowing:
            raise ValueError(
                f"the balance of {', '.join(overflowing)} is too large to be a finite number"
            )
        return self

    def balance(self, person: str) -> float:
        """Credits the person holds now: earned, minus redeemed, plus adjustments."""
        return sum(entry.credits for entry in self.entries if entry.person == person)

    def earned(self, person: str) -> float:
        """Credits the person ever earned by serving."""
        return sum(
            entry.credits
            for entry in self.entries
            if entry.person == person and entry.kind == "earned"
        )

    def redeemed(self, person: str) -> float:
        """Credits the person ever redeemed, as a positive number."""
        return -sum(
            entry.credits
            for entry in self.entries
            if entry.person == person and entry.kind == "redeemed"
        )

    def earn_from_plan(
        self,
        plan: Plan,
        problem: Problem,
        rates: CreditRates,
        week_start: dt.date | None = None,
    ) -> list[CreditEntry]:
        """Credit every volunteer of every visit for the minutes on site, at the service's rate,
        and every lead, helper and escort of every group session, at its group service's rate.

        Team visits credit each member for the whole visit. Staff are paid and earn nothing.
        Idempotent: a visit already credited for that week, need, occurrence and volunteer is
        skipped, so recording the same week's plan twice counts once. The week is the given
        one, else the plan's, else the problem's. Returns the entries added.
        """
        week = week_start or plan.week_start or problem.week_start
        credited = {entry.visit_key for entry in self.entries if entry.kind == "earned"}
        used_ids = {entry.id for entry in self.entries}
        added: list[CreditEntry] = []
        for visit in plan.visits:
            minutes = visit.end - visit.start
            for volunteer_id in visit.volunteers:
                volunteer = problem.volunteer_by_id.get(volunteer_id)
                if volunteer is None:
                    raise ValueError(
                        f"visit {visit.need} #{visit.occurrence} names volunteer "
                        f"{volunteer_id!r}, who is not in the problem"
                    )
                if volunteer.kind == "staff":
                    continue
                key = (week, visit.need, visit.occurrence, volunteer_id)
                if key in credited:
                    continue
                rate = rates.per_minute(visit.service)
                credits = minutes * rate
                if not math.isfinite(credits) or credits < 0 or minutes < 0:
                    raise ValueError(
                        f"visit {visit.need} #{visit.occurrence} of {volunteer_id}: {minutes} "
                        f"minutes at {rate} credits a minute is not a finite, non-negative "
                        "number of credits"
                    )
                entry = CreditEntry(
                    id=_unused_id(
                        f"earned:{week.isoformat()}:{visit.need}#{visit.occurrence}:{volunteer_id}",
                        used_ids,
                    ),
                    person=volunteer_id,
                    kind="earned",
                    credits=credits,
                    week_start=week,
                    need=visit.need,
                    occurrence=visit.occurrence,
                    service=visit.service,
                    minutes=minutes,
                )
                credited.add(key)
                added.append(entry)
        for session, volunteer_id, served_min in _session_service(plan, problem):
            session_key = (week, f"session:{session.id}", None, volunteer_id)
            if session_key in credited:
                continue
            served_credits = served_min * rates.per_minute(session.group_service)
            entry = CreditEntry(
                id=_unused_id(f"earned:{week.isoformat()}:{session.id}:{volunteer_id}", used_ids),
                person=volunteer_id,
                kind="earned",
                credits=served_credits,
                week_start=week,
                service=session.group_service,
                session=session.id,
                minutes=served_min,
            )
            credited.add(session_key)
            added.append(entry)
        self.entries.extend(added)
        return added

    def redeem(
        self, person: str, credits: float, week_start: dt.date, note: str = ""
    ) -> CreditEntry:
        """Spend credits for help received; the balance can never go below zero."""
        _require_finite(credits, "credits to redeem")
        if credits <= 0:
            raise ValueError(f"credits to redeem must be positive, not {credits}")
        balance = self.balance(person)
        if credits > balance + _TOLERANCE:
            raise ValueError(
                f"{person} cannot redeem {credits:g} credits: their balance is {balance:g}"
            )
        return self._append(person, "redeemed", -credits, week_start, note)

    def adjust(self, person: str, credits: float, week_start: dt.date, note: str) -> CreditEntry:
        """Correct a balance by hand (say why in the note); it can never go below zero."""
        _require_finite(credits, "an adjustment")
        if credits == 0:
            raise ValueError("an adjustment of zero credits changes nothing")
        balance = self.balance(person)
        if balance + credits < -_TOLERANCE:
            raise ValueError(
                f"adjusting {person} by {credits:g} credits would leave a negative balance: "
                f"their balance is {balance:g}"
            )
        return self._append(person, "adjusted", credits, week_start, note)

    def priority_boost(self, person: str, policy: CreditPolicy) -> float:
        """The priority the person's credits add when they need help (see `CreditPolicy`)."""
        return policy.boost(self.credits_for_boost(person, policy.basis))

    def credits_for_boost(self, person: str, basis: Literal["earned", "balance"]) -> float:
        """The credits that count for the person's boost: ever earned, or the balance."""
        return self.credits_for_boost_by_person(basis).get(person, 0.0)

    def credits_for_boost_by_person(self, basis: Literal["earned", "balance"]) -> dict[str, float]:
        """`credits_for_boost` of everyone in the ledger, in one pass over the entries."""
        totals: dict[str, float] = defaultdict(float)
        for entry in self.entries:
            if basis == "balance" or entry.kind == "earned":
                totals[entry.person] += entry.credits
        return {person: max(0.0, credits) for person, credits in totals.items()}

    def apply_credits(self, problem: Problem) -> Problem:
        """The problem with each recipient's `time_bank_credits` taken from this ledger.

        A recipient is often a former volunteer under the same person id. Which credits count
        (earned or balance) and how much they raise the priority is the problem's
        `policy.priority.credits`; every solver then plans with the raised priorities.
        Recipients the ledger does not know keep the credits the problem gives them.
        """
        credits = self.credits_for_boost_by_person(problem.policy.priority.credits.basis)
        data = problem.model_dump()
        for recipient in data["recipients"]:
            if recipient["id"] in credits:
                recipient["time_bank_credits"] = credits[recipient["id"]]
        return Problem.model_validate(data)

    def priorities(self, problem: Problem, policy: CreditPolicy | None = None) -> dict[str, float]:
        """Boosted priority of each recipient of the problem who appears in the ledger: their
        priority before credits plus the boost of their ledger credits under `policy` (default:
        the problem's `policy.priority.credits`)."""
        credit_policy = policy if policy is not None else problem.policy.priority.credits
        credits = self.credits_for_boost_by_person(credit_policy.basis)
        return {
            recipient.id: problem.policy.priority.priority_before_credits(recipient)
            + credit_policy.boost(credits[recipient.id])
            for recipient in problem.recipients
            if recipient.id in credits
        }

    def _append(
        self, person: str, kind: CreditKind, credits: float, week_start: dt.date, note: str
    ) -> CreditEntry:
        """Add an entry with a fresh id of the form kind:week:person:n."""
        used_ids = {entry.id for entry in self.entries}
        entry = CreditEntry(
            id=_unused_id(
                f"{kind}:{week_start.isoformat()}:{person}", used_ids, always_number=True
            ),
            person=person,
            kind=kind,
            credits=credits,
            week_start=week_start,
            note=note,
        )
        self.entries.append(entry)
        return entry


def _as_number(value: Any) -> float | None:
    """The float a credits or minutes value stands for (numbers, numeric strings), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError:
            return math.inf
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _require_finite(credits: float, what: str) -> None:
    """Refuse NaN and Infinity before they reach a balance."""
    if not math.isfinite(credits):
        raise ValueError(f"{what} must be a finite number of credits, not {credits}")


def _unused_id(base: str, used_ids: set[str], always_number: bool = False) -> str:
    """`base` (or `base:n` with the smallest free n) and remember it as used."""
    candidate = f"{base}:1" if always_number else base
    number = 1
    while candidate in used_ids:
        number += 1
        candidate = f"{base}:{number}"
    used_ids.add(candidate)
    return candidate


class LedgerStore:
    """A ledger kept in a JSON file, replaced whole on each save so a crash cannot corrupt it.

    Writers take turns: `record_plan`, `save` and `transaction` hold an exclusive `fcntl.flock`
    on the sibling lock file `<ledger>.lock` (created while held, removed on release) around
    their read-modify-write, so concurrent recorders each keep their entries. flock is POSIX
    advisory locking: Linux (what matcher supports) and other Unixes, on a local disk; a
    ledger on a network file system may not be locked. Readers (`load`) need no lock: the file
    is only ever replaced whole, so they see the last save or the one before. Do not fork while
    holding the lock: a forked child shares it, so it is not released until the child exits
    (the lock file is opened close-on-exec, so commands started by exec do not keep it).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @property
    def lock_path(self) -> Path:
        """The sibling file writers lock: `<ledger file name>.lock`."""
        return self.path.with_name(f"{self.path.name}.lock")

    def load(self) -> Ledger:
        """The stored ledger; empty if the file does not exist yet.

        A file that is not a valid ledger raises `matcher.io.InputError` naming the file.
        """
        if not self.path.exists():
            return Ledger()
        return _load(self.path, Ledger, "ledger")

    def save(self, ledger: Ledger) -> None:
        """Write the whole ledger or nothing (temporary file, fsync, rename over), holding the
        lock. To add to what is stored, use `transaction` or `record_plan`: a load and a later
        save are two steps, and another writer may save between them."""
        with self._locked():
            self._write(ledger)

    @contextmanager
    def transaction(self) -> Iterator[Ledger]:
        """The stored ledger to change in place, locked against other writers until the block
        ends; it is then validated and written (only if it changed). An error in the block
        writes nothing."""
        with self._locked():
            ledger = self.load()
            before = to_json(ledger)
            yield ledger
            if to_json(ledger) != before:
                self._write(Ledger.model_validate(ledger.model_dump()))

    def record_plan(
        self,
        plan: Plan,
        problem: Problem,
        rates: CreditRates,
        week_start: dt.date | None = None,
    ) -> list[CreditEntry]:
        """Credit a week's plan to the stored ledger; returns the entries added.

        Load, earn and save happen under the lock, so a concurrent recorder's week is kept.
        The file is rewritten only when something was added, so recording a week twice
        leaves it untouched.
        """
        with self._locked():
            ledger = self.load()
            added = ledger.earn_from_plan(plan, problem, rates, week_start)
            if added:
                self._write(ledger)
        return added

    def _write(self, ledger: Ledger) -> None:
        """Replace the file with the ledger; the caller holds the lock."""
        write_text_atomic(self.path, to_json(ledger))

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the exclusive lock on `lock_path` for the block.

        The lock file is removed on release so none is left beside the ledger. A waiter may
        thus lock a file that was removed meanwhile; it checks, after locking, that the path
        still names the file it locked, and otherwise tries again with the new one. A lock file
        left by a killed process is harmless: the kernel released its lock.
        """
        while True:
            descriptor = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
                if _same_file(descriptor, self.lock_path):
                    break
            except BaseException:
                os.close(descriptor)
                raise
            os.close(descriptor)
        try:
            yield
        finally:
            try:
                self.lock_path.unlink(missing_ok=True)
            finally:
                os.close(descriptor)


def _same_file(descriptor: int, path: Path) -> bool:
    """Whether `path` still names the open file `descriptor` (not removed or replaced)."""
    try:
        on_disk = os.stat(path)
    except OSError as error:
        if error.errno == errno.ENOENT:
            return False
        raise
    opened = os.fstat(descriptor)
    return (on_disk.st_dev, on_disk.st_ino) == (opened.st_dev, opened.st_ino)


__all__ = [
    "CreditEntry",
    "CreditKind",
    "CreditPolicy",
    "CreditRates",
    "Ledger",
    "LedgerStore",
]
