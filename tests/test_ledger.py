"""Tests of the time-bank credit ledger and its crash-safe JSON store.

The hand-made week (rates: meals 0.1 credit a minute, everything else one credit an hour):

    mon 10:00-10:30  anna_meal #1  vera          vera +3
    wed 10:00-10:30  anna_meal #2  vera          vera +3
    mon 11:00-12:00  anna_bath #1  vera, walt    vera +1, walt +1 (team: both credited)
    tue 09:00-09:45  li_bills #1   sara (staff)  nothing: staff are paid

so vera earns 7 credits and walt 1. Li, a recipient now, volunteered in earlier years.
"""

from __future__ import annotations

import datetime as dt
import io as text_io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from matcher.io import InputError
from matcher.ledger import (
    CreditEntry,
    CreditPolicy,
    CreditRates,
    Ledger,
    LedgerStore,
)
from matcher.models import Plan, Problem, Visit, parse_clock
from tests.helpers import WEEK

EARLIER_WEEK = dt.date(2025, 3, 3)
RATES = CreditRates(per_minute_by_service={"meal": 0.1})


def make_problem() -> Problem:
    """Two elders, two volunteers who walk and one member of staff."""
    return Problem.model_validate(
        {
            "week_start": WEEK.isoformat(),
            "services": [
                {"id": "meal", "duration_min": 30},
                {"id": "bath", "duration_min": 60, "team_size": 2},
                {"id": "bills", "duration_min": 45, "requires_verified": True},
            ],
            "recipients": [
                {
                    "id": "anna",
                    "lives_alone": True,
                    "location": {"x_m": 700, "y_m": 0},
                    "needs": [
                        {"id": "anna_meal", "service": "meal", "visits_per_week": 2},
                        {"id": "anna_bath", "service": "bath"},
                    ],
                },
                {
                    "id": "li",
                    "age": 82,
                    "location": {"x_m": 0, "y_m": 700},
                    "needs": [{"id": "li_bills", "service": "bills"}],
                },
            ],
            "volunteers": [
                {"id": "vera", "home": {"x_m": 0, "y_m": 0}},
                {"id": "walt", "home": {"x_m": 1400, "y_m": 0}},
                {"id": "sara", "kind": "staff", "verified": True, "home": {"x_m": 0, "y_m": 0}},
            ],
        }
    )


def visit(
    need: str, occurrence: int, day: str, start: str, end: str, volunteers: list[str]
) -> Visit:
    """A visit of the hand-made week; the service and recipient follow from the need."""
    recipient, service = need.split("_")
    return Visit(
        need=need,
        recipient=recipient,
        service=service,
        occurrence=occurrence,
        day=day,
        start=parse_clock(start),
        end=parse_clock(end),
        volunteers=volunteers,
    )


def make_plan() -> Plan:
    """The week of the module docstring."""
    return Plan(
        week_start=WEEK,
        visits=[
            visit("anna_meal", 1, "mon", "10:00", "10:30", ["vera"]),
            visit("anna_meal", 2, "wed", "10:00", "10:30", ["vera"]),
            visit("anna_bath", 1, "mon", "11:00", "12:00", ["vera", "walt"]),
            visit("li_bills", 1, "tue", "09:00", "09:45", ["sara"]),
        ],
    )


def earned_entry(person: str, credits: float, entry_id: str = "past") -> CreditEntry:
    """Credits a person earned in an earlier year."""
    return CreditEntry(
        id=entry_id, person=person, kind="earned", credits=credits, week_start=EARLIER_WEEK
    )


def test_earning_is_minutes_on_site_times_the_service_rate() -> None:
    """Each visit credits its volunteer its minutes at its service's rate (or the default)."""
    ledger = Ledger()
    added = ledger.earn_from_plan(make_plan(), make_problem(), RATES)
    assert len(added) == 4
    assert ledger.earned("vera") == pytest.approx(3 + 3 + 1)
    assert ledger.balance("vera") == pytest.approx(7)
    meal = added[0]
    assert (meal.person, meal.kind, meal.need, meal.occurrence) == (
        "vera",
        "earned",
        "anna_meal",
        1,
    )
    assert (meal.service, meal.minutes, meal.week_start) == ("meal", 30, WEEK)
    assert meal.credits == pytest.approx(3)


def test_team_visits_credit_every_member_for_the_whole_visit() -> None:
    """Both helpers of the bath earn the full hour, one credit each at the default rate."""
    ledger = Ledger()
    ledger.earn_from_plan(make_plan(), make_problem(), RATES)
    bath = [entry for entry in ledger.entries if entry.need == "anna_bath"]
    assert sorted(entry.person for entry in bath) == ["vera", "walt"]
    assert all(entry.minutes == 60 and entry.credits == pytest.approx(1) for entry in bath)
    assert ledger.balance("walt") == pytest.approx(1)


def test_staff_earn_no_credits() -> None:
    """Community staff are paid for their visits, so the time bank credits them nothing."""
    ledger = Ledger()
    ledger.earn_from_plan(make_plan(), make_problem(), RATES)
    assert ledger.balance("sara") == 0
    assert all(entry.person != "sara" for entry in ledger.entries)


def test_recording_the_same_week_twice_does_not_double_count() -> None:
    """A second recording of the same plan and week adds nothing."""
    ledger = Ledger()
    ledger.earn_from_plan(make_plan(), make_problem(), RATES)
    assert ledger.earn_from_plan(make_plan(), make_problem(), RATES) == []
    assert len(ledger.entries) == 4
    assert ledger.balance("vera") == pytest.approx(7)


def test_the_same_visits_in_another_week_earn_again() -> None:
    """Entries are keyed by week too: next week's identical plan is new service."""
    ledger = Ledger()
    ledger.earn_from_plan(make_plan(), make_problem(), RATES)
    next_week = WEEK + dt.timedelta(days=7)
    added = ledger.earn_from_plan(make_plan(), make_problem(), RATES, week_start=next_week)
    assert {entry.week_start for entry in added} == {next_week}
    assert ledger.balance("vera") == pytest.approx(14)
    assert len({entry.id for entry in ledger.entries}) == len(ledger.entries)


def test_a_visit_by_someone_not_in_the_problem_is_an_error() -> None:
    """A plan that names an unknown volunteer does not belong to the problem."""
    plan = Plan(visits=[visit("anna_meal", 1, "mon", "10:00", "10:30", ["nobody"])])
    with pytest.raises(ValueError, match="'nobody'"):
        Ledger().earn_from_plan(plan, make_problem(), RATES)


def test_redeeming_spends_credits() -> None:
    """Redeeming lowers the balance and is counted as redeemed, not as less earned."""
    ledger = Ledger()
    ledger.earn_from_plan(make_plan(), make_problem(), RATES)
    entry = ledger.redeem("vera", 2.5, WEEK, note="shopping while ill")
    assert (entry.kind, entry.credits, entry.note) == ("redeemed", -2.5, "shopping while ill")
    assert ledger.balance("vera") == pytest.approx(4.5)
    assert ledger.redeemed("vera") == pytest.approx(2.5)
    assert ledger.earned("vera") == pytest.approx(7)


def test_redeeming_the_whole_balance_is_allowed() -> None:
    """The balance may reach zero exactly, despite float rounding of the earned credits."""
    ledger = Ledger()
    ledger.earn_from_plan(make_plan(), make_problem(), RATES)
    ledger.redeem("vera", ledger.balance("vera"), WEEK)
    assert ledger.balance("vera") == pytest.approx(0)


def test_redeeming_more_than_the_balance_names_the_person_and_balance() -> None:
    """The balance never goes below zero; the error says whose balance and how much."""
    ledger = Ledger()
    ledger.earn_from_plan(make_plan(), make_problem(), RATES)
    with pytest.raises(ValueError, match=r"walt cannot redeem 5 credits: their balance is 1"):
        ledger.redeem("walt", 5, WEEK)
    assert ledger.balance("walt") == pytest.approx(1)
    assert all(entry.kind == "earned" for entry in ledger.entries)


@pytest.mark.parametrize("credits", [0.0, -1.0])
def test_redeeming_needs_a_positive_amount(credits: float) -> None:
    """A zero or negative redemption is a mistake, not a deposit."""
    with pytest.raises(ValueError, match="positive"):
        Ledger(entries=[earned_entry("vera", 10)]).redeem("vera", credits, WEEK)


def test_adjustments_correct_balances_but_never_below_zero() -> None:
    """A coordinator's correction changes the balance within the same no-negative rule."""
    ledger = Ledger(entries=[earned_entry("vera", 10)])
    ledger.adjust("vera", -4, WEEK, note="double-counted visit")
    assert ledger.balance("vera") == pytest.approx(6)
    with pytest.raises(ValueError, match=r"vera.*balance is 6"):
        ledger.adjust("vera", -7, WEEK, note="too much")


def test_entries_keep_sign_per_kind_and_unique_ids() -> None:
    """A negative earning, a positive redemption or a repeated id are rejected on load."""
    with pytest.raises(ValidationError, match="negative credits"):
        earned_entry("vera", -1)
    with pytest.raises(ValidationError, match="must have negative credits"):
        CreditEntry(id="r", person="vera", kind="redeemed", credits=1, week_start=WEEK)
    with pytest.raises(ValidationError, match="duplicate entry ids: past"):
        Ledger(entries=[earned_entry("vera", 1), earned_entry("walt", 1)])


def test_priority_boost_grows_with_earned_credits_up_to_the_cap() -> None:
    """The boost is proportional to credits earned and stops at max_boost."""
    policy = CreditPolicy(boost_per_100_credits=1.0, max_boost=2.0)
    ledger = Ledger(entries=[earned_entry("li", 50), earned_entry("walt", 500, "walt-past")])
    assert ledger.priority_boost("li", policy) == pytest.approx(0.5)
    assert ledger.priority_boost("walt", policy) == pytest.approx(2.0)
    assert ledger.priority_boost("stranger", policy) == 0
    generous = CreditPolicy(boost_per_100_credits=3.0, max_boost=10.0)
    assert ledger.priority_boost("li", generous) == pytest.approx(1.5)


def test_priority_boost_on_balance_counts_redeemed_credits_as_spent() -> None:
    """With basis 'balance' redeemed credits no longer boost; with 'earned' they still do."""
    ledger = Ledger(entries=[earned_entry("li", 80)])
    ledger.redeem("li", 60, WEEK)
    assert ledger.priority_boost("li", CreditPolicy()) == pytest.approx(0.8)
    assert ledger.priority_boost("li", CreditPolicy(basis="balance")) == pytest.approx(0.2)


def test_priorities_boost_recipients_who_appear_in_the_ledger() -> None:
    """Li, a former volunteer, gets her policy priority plus her boost; Anna is not listed."""
    problem = make_problem()
    ledger = Ledger(entries=[earned_entry("li", 150)])
    ledger.earn_from_plan(make_plan(), problem, RATES)
    priorities = ledger.priorities(problem, CreditPolicy())
    li_priority = problem.policy.priority.priority_of(problem.recipient_by_id["li"])
    assert li_priority == pytest.approx(2)
    assert priorities == {"li": pytest.approx(li_priority + 1.5)}
    capped = ledger.priorities(problem, CreditPolicy(max_boost=0.25))
    assert capped == {"li": pytest.approx(li_priority + 0.25)}


def test_store_of_a_missing_file_is_an_empty_ledger(tmp_path: Path) -> None:
    """The first week of a time bank starts from no file at all."""
    assert LedgerStore(tmp_path / "ledger.json").load() == Ledger()


def test_store_round_trip(tmp_path: Path) -> None:
    """Saved and loaded again, the ledger is equal, entry for entry."""
    ledger = Ledger(entries=[earned_entry("li", 150)])
    ledger.earn_from_plan(make_plan(), make_problem(), RATES)
    ledger.redeem("vera", 1.25, WEEK, note="a haircut")
    store = LedgerStore(tmp_path / "ledger.json")
    store.save(ledger)
    assert store.load() == ledger
    assert sorted(path.name for path in tmp_path.iterdir()) == ["ledger.json"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("", "not valid JSON"),
        (json.dumps({"entries": [{"id": "x"}]}), "entries.0"),
    ],
)
def test_a_corrupt_store_is_an_error_naming_the_file(
    tmp_path: Path, content: str, message: str
) -> None:
    """A damaged file is never read as an empty ledger: that would erase everyone's credits."""
    path = tmp_path / "ledger.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message) as error:
        LedgerStore(path).load()
    assert str(path) in str(error.value)


def test_record_plan_loads_earns_and_saves_once(tmp_path: Path) -> None:
    """Recording a week credits it in the file; recording it again leaves the file as it was."""
    store = LedgerStore(tmp_path / "ledger.json")
    added = store.record_plan(make_plan(), make_problem(), RATES)
    assert len(added) == 4
    saved = store.path.read_text(encoding="utf-8")
    assert store.load().balance("vera") == pytest.approx(7)
    assert store.record_plan(make_plan(), make_problem(), RATES) == []
    assert store.path.read_text(encoding="utf-8") == saved


class _FailingHalfway(text_io.StringIO):
    """A file that takes the first half of what is written, then fails like a full disk."""

    def __init__(self, real_file: Any) -> None:
        super().__init__()
        self.real_file = real_file

    def write(self, text: str) -> int:
        self.real_file.write(text[: len(text) // 2])
        self.real_file.flush()
        raise OSError(28, "No space left on device")

    def close(self) -> None:
        self.real_file.close()
        super().close()


def _fail_in_replace(monkeypatch: pytest.MonkeyPatch) -> None:
    """The crash comes after the new file is written, just before it replaces the old one."""

    def crash(*_: object) -> None:
        raise OSError("crash before rename")

    monkeypatch.setattr(os, "replace", crash)


def _fail_in_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """The crash comes half way through writing the new file."""
    real_fdopen = os.fdopen

    def half_writing_fdopen(descriptor: int, *args: Any, **kwargs: Any) -> _FailingHalfway:
        return _FailingHalfway(real_fdopen(descriptor, *args, **kwargs))

    monkeypatch.setattr(os, "fdopen", half_writing_fdopen)


@pytest.mark.parametrize("fail", [_fail_in_replace, _fail_in_write])
def test_a_crash_mid_write_leaves_the_old_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail: Any
) -> None:
    """After a failed save the old ledger loads unchanged and no temporary file is left."""
    store = LedgerStore(tmp_path / "ledger.json")
    store.record_plan(make_plan(), make_problem(), RATES)
    before = store.path.read_bytes()
    old_ledger = store.load()
    grown = old_ledger.model_copy(deep=True)
    grown.redeem("vera", 5, WEEK, note="lost in the crash")
    fail(monkeypatch)
    with pytest.raises(OSError):
        store.save(grown)
    monkeypatch.undo()
    assert store.path.read_bytes() == before
    assert store.load() == old_ledger
    assert sorted(path.name for path in tmp_path.iterdir()) == ["ledger.json"]
