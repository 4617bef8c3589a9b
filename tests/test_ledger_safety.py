"""The ledger store under concurrent writers, crashes and bad numbers (issue 10, findings 6 and 8).

Concurrent recorders run as real processes: forked workers that all load the ledger before any
of them saves (the race that lost a week), and `python -m matcher credits record` run eight at
once. Every recorder's week must be in the file afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from matcher import solve
from matcher.cli import EXIT_INVALID, EXIT_OK, main
from matcher.io import InputError, to_json
from matcher.ledger import CreditEntry, CreditRates, Ledger, LedgerStore
from tests.helpers import WEEK
from tests.season.weeks import contested_week
from tests.test_ledger import RATES, make_plan, make_problem

RECORDERS = 8
"""Concurrent recorders in each test: each records a week of its own."""

ENTRIES_PER_WEEK = 4
"""Entries the hand-made week of tests.test_ledger earns (vera three, walt one)."""


def week_of(recorder: int) -> dt.date:
    """The week a recorder records: one week after another from the hand-made week."""
    return WEEK + dt.timedelta(days=7 * recorder)


def _record_after_everyone_loaded(path: str, recorder: int, barrier: Any) -> None:
    """A worker process: record its week, waiting between loading and saving until every
    worker has loaded, so without a lock every save but the last is overwritten."""
    original = Ledger.earn_from_plan

    def earn_when_all_have_loaded(self: Ledger, *args: Any, **kwargs: Any) -> list[CreditEntry]:
        try:
            barrier.wait(timeout=2)
        except threading.BrokenBarrierError:
            barrier.abort()  # the lock serialises the workers: there is no one to wait for
        return original(self, *args, **kwargs)

    Ledger.earn_from_plan = earn_when_all_have_loaded  # type: ignore[method-assign]
    LedgerStore(path).record_plan(make_plan(), make_problem(), RATES, week_of(recorder))


def test_concurrent_recorders_keep_every_week(tmp_path: Path) -> None:
    """Eight processes that record distinct weeks at the same moment all keep their entries.

    Fails on the old store: every worker loads the empty ledger, then each save replaces the
    file with one week, so seven weeks are lost.
    """
    path = tmp_path / "ledger.json"
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(RECORDERS)
    workers = [
        context.Process(target=_record_after_everyone_loaded, args=(str(path), n, barrier))
        for n in range(RECORDERS)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert [worker.exitcode for worker in workers] == [0] * RECORDERS
    ledger = LedgerStore(path).load()
    assert len(ledger.entries) == RECORDERS * ENTRIES_PER_WEEK
    assert {entry.week_start for entry in ledger.entries} == {week_of(n) for n in range(RECORDERS)}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.json"]


def test_concurrent_command_line_recorders_keep_every_week(tmp_path: Path) -> None:
    """`matcher credits record` run eight times at once, one week each: all exit 0 and the
    ledger holds every week's credit."""
    ledger_path = tmp_path / "ledger.json"
    commands = []
    for n in range(RECORDERS):
        problem = contested_week().model_copy(update={"week_start": week_of(n)})
        plan = solve(problem)
        problem_path = tmp_path / f"week{n}.json"
        plan_path = tmp_path / f"plan{n}.json"
        problem_path.write_text(to_json(problem), encoding="utf-8")
        plan_path.write_text(to_json(plan), encoding="utf-8")
        commands.append(
            [
                sys.executable,
                "-m",
                "matcher",
                "credits",
                "record",
                str(problem_path),
                str(plan_path),
                "--ledger",
                str(ledger_path),
            ]
        )
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for command in commands
    ]
    results = [(process.wait(), *process.communicate()) for process in processes]
    assert [code for code, _, _ in results] == [EXIT_OK] * RECORDERS, results
    assert all("1 visit credit(s) recorded" in out for _, out, _ in results)
    ledger = LedgerStore(ledger_path).load()
    assert sorted(entry.week_start for entry in ledger.entries) == [
        week_of(n) for n in range(RECORDERS)
    ]
    assert not (tmp_path / "ledger.json.lock").exists()


def test_a_stale_lock_file_does_not_block_and_is_removed(tmp_path: Path) -> None:
    """A lock file left by a killed recorder holds no lock: the next recorder goes on."""
    store = LedgerStore(tmp_path / "ledger.json")
    store.lock_path.write_text("", encoding="utf-8")
    assert len(store.record_plan(make_plan(), make_problem(), RATES)) == ENTRIES_PER_WEEK
    assert not store.lock_path.exists()


def test_a_writer_waits_for_the_lock_holder(tmp_path: Path) -> None:
    """While a transaction holds the lock, another process's recording waits, then keeps both
    the transaction's entry and its own week."""
    store = LedgerStore(tmp_path / "ledger.json")
    context = multiprocessing.get_context("spawn")  # a forked child would share the held lock
    with store.transaction() as ledger:
        recorder = context.Process(
            target=LedgerStore(store.path).record_plan,
            args=(make_plan(), make_problem(), RATES, week_of(1)),
        )
        recorder.start()
        recorder.join(timeout=5)
        assert recorder.is_alive(), "the recorder did not wait for the lock"
        ledger.entries.append(
            CreditEntry(id="gift", person="li", kind="adjusted", credits=5, week_start=WEEK)
        )
    recorder.join()
    assert recorder.exitcode == 0
    ids = {entry.id for entry in store.load().entries}
    assert "gift" in ids and len(ids) == 1 + ENTRIES_PER_WEEK


def test_a_failing_transaction_writes_nothing_and_releases_the_lock(tmp_path: Path) -> None:
    """An error inside a transaction leaves the stored ledger as it was, and unlocked."""
    store = LedgerStore(tmp_path / "ledger.json")
    store.record_plan(make_plan(), make_problem(), RATES)
    before = store.path.read_bytes()
    with pytest.raises(ValueError, match="cannot redeem"), store.transaction() as ledger:
        ledger.redeem("vera", 1, WEEK)
        ledger.redeem("walt", 100, WEEK)
    assert store.path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.json"]
    assert store.record_plan(make_plan(), make_problem(), RATES, week_of(1))


def test_a_crash_while_recording_leaves_the_last_good_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash between writing the new file and renaming it over the old: the old ledger is
    intact, no temporary or lock file is left, and the next recording works."""
    store = LedgerStore(tmp_path / "ledger.json")
    store.record_plan(make_plan(), make_problem(), RATES)
    before = store.path.read_bytes()

    def crash(*_: object) -> None:
        raise OSError("crash before rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="crash before rename"):
        store.record_plan(make_plan(), make_problem(), RATES, week_of(1))
    monkeypatch.undo()
    assert store.path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.json"]
    assert len(store.record_plan(make_plan(), make_problem(), RATES, week_of(1))) == 4


def test_a_killed_recorder_leaves_the_last_good_state(tmp_path: Path) -> None:
    """A recorder killed while it holds the lock: the ledger loads as before the kill, and the
    kernel's release of the lock lets the next recorder in."""
    store = LedgerStore(tmp_path / "ledger.json")
    store.record_plan(make_plan(), make_problem(), RATES)
    before = store.load()
    context = multiprocessing.get_context("fork")
    started = context.Event()

    def hold_forever() -> None:
        with store.transaction() as ledger:
            ledger.redeem("vera", 1, WEEK)
            started.set()
            time.sleep(60)

    holder = context.Process(target=hold_forever)
    holder.start()
    assert started.wait(timeout=30)
    holder.kill()
    holder.join()
    assert store.load() == before
    assert len(store.record_plan(make_plan(), make_problem(), RATES, week_of(1))) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.json"]


OLD_FORMAT_LEDGER = """{
  "entries": [
    {
      "id": "earned:2025-03-03:anna_meal#1:vera",
      "person": "vera",
      "kind": "earned",
      "credits": 3.0,
      "week_start": "2025-03-03",
      "need": "anna_meal",
      "occurrence": 1,
      "service": "meal",
      "minutes": 30.0,
      "note": ""
    },
    {
      "id": "redeemed:2025-03-03:vera:1",
      "person": "vera",
      "kind": "redeemed",
      "credits": -1.0,
      "week_start": "2025-03-03",
      "need": null,
      "occurrence": null,
      "service": null,
      "minutes": null,
      "note": "shopping"
    }
  ]
}
"""
"""A ledger file as the store wrote it before the lock: the format is unchanged."""


def test_a_ledger_file_written_before_the_lock_still_loads_and_grows(tmp_path: Path) -> None:
    """Existing ledger files keep working: same JSON, loaded and added to."""
    store = LedgerStore(tmp_path / "ledger.json")
    store.path.write_text(OLD_FORMAT_LEDGER, encoding="utf-8")
    assert store.load().balance("vera") == pytest.approx(2)
    store.record_plan(make_plan(), make_problem(), RATES)
    ledger = store.load()
    assert len(ledger.entries) == 2 + ENTRIES_PER_WEEK
    assert ledger.balance("vera") == pytest.approx(2 + 7)
    assert ledger.entries[:2] == Ledger.model_validate_json(OLD_FORMAT_LEDGER).entries


def _ledger_file(tmp_path: Path, **fields: Any) -> Path:
    """A one-entry ledger file whose entry `bad` has the given fields, written as raw JSON
    (Python's json writes NaN and Infinity as JSON's readers accept them)."""
    entry = {"id": "bad", "person": "vera", "kind": "adjusted", "credits": 1.0}
    entry |= {"week_start": WEEK.isoformat()} | fields
    path = tmp_path / "ledger.json"
    path.write_text(json.dumps({"entries": [entry]}), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"credits": float("nan")}, "credits must be a finite number, not nan"),
        ({"credits": float("inf")}, "credits must be a finite number, not inf"),
        ({"credits": float("-inf")}, "credits must be a finite number, not -inf"),
        ({"credits": "NaN"}, "credits must be a finite number, not NaN"),
        ({"credits": 10**400}, "credits must be a finite number"),
        ({"minutes": float("nan")}, "minutes must be a finite number, not nan"),
        ({"minutes": float("inf")}, "minutes must be a finite number, not inf"),
        ({"minutes": -30}, "minutes served cannot be negative, not -30"),
    ],
)
def test_a_ledger_with_non_finite_or_negative_numbers_is_refused(
    tmp_path: Path, fields: dict[str, Any], problem: str
) -> None:
    """Loading names the file, the entry's place and id, and what is wrong; on the old code a
    NaN or infinite credit loaded and poisoned every balance."""
    path = _ledger_file(tmp_path, **fields)
    with pytest.raises(InputError) as error:
        LedgerStore(path).load()
    message = str(error.value)
    assert str(path) in message
    assert f"entries.0.{next(iter(fields))}: entry 'bad': {problem}" in message


def test_balances_that_overflow_are_refused() -> None:
    """Two finite entries whose sum is no longer finite would make the balance Infinity."""
    entries = [
        CreditEntry(id=f"e{n}", person="vera", kind="earned", credits=1e308, week_start=WEEK)
        for n in range(2)
    ]
    with pytest.raises(ValueError, match="balance of vera is too large"):
        Ledger(entries=entries)


def test_the_command_line_refuses_a_nan_ledger_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """credits show, credits record and solve --ledger: exit 2 naming the entry, no
    traceback, and the ledger file untouched."""
    path = _ledger_file(tmp_path, credits=float("nan"))
    before = path.read_bytes()
    problem = contested_week()
    problem_path = tmp_path / "week.json"
    plan_path = tmp_path / "plan.json"
    problem_path.write_text(to_json(problem), encoding="utf-8")
    plan_path.write_text(to_json(solve(problem)), encoding="utf-8")
    commands = [
        ["credits", "show", "--ledger", str(path)],
        ["credits", "record", str(problem_path), str(plan_path), "--ledger", str(path)],
        ["solve", str(problem_path), "-o", str(tmp_path / "out.json"), "--ledger", str(path)],
    ]
    for command in commands:
        assert main(command) == EXIT_INVALID, command
        error = capsys.readouterr().err
        assert "entry 'bad': credits must be a finite number, not nan" in error
        assert "Traceback" not in error
    assert path.read_bytes() == before
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize("credits", [float("nan"), float("inf")])
def test_redeeming_or_adjusting_by_a_non_finite_amount_is_refused(credits: float) -> None:
    """On the old code a NaN redemption passed both the sign and the balance checks."""
    ledger = Ledger()
    ledger.earn_from_plan(make_plan(), make_problem(), RATES)
    with pytest.raises(ValueError, match="must be a finite number of credits"):
        ledger.redeem("vera", credits, WEEK)
    with pytest.raises(ValueError, match="must be a finite number of credits"):
        ledger.adjust("vera", credits, WEEK, note="typo")
    assert len(ledger.entries) == ENTRIES_PER_WEEK


def test_non_finite_rates_are_refused() -> None:
    """A rate of Infinity would record infinite credits for every visit."""
    with pytest.raises(ValueError, match="finite number"):
        CreditRates(default_per_minute=float("inf"))
    with pytest.raises(ValueError, match="finite number"):
        CreditRates(per_minute_by_service={"meal": float("nan")})


def test_recording_a_non_finite_credit_names_the_visit() -> None:
    """Should a rate slip through (built without validation), recording names the visit."""
    rates = CreditRates.model_construct(per_minute_by_service={}, default_per_minute=float("inf"))
    with pytest.raises(ValueError, match="visit anna_meal #1 of vera: 30 minutes at inf"):
        Ledger().earn_from_plan(make_plan(), make_problem(), rates)
