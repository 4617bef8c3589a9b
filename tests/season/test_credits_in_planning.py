"""Time-bank credits in planning: the ledger raises priorities that every solver honours, the
command line records and shows credits, and unplanned visits speak the policy's language.

The contested week: one volunteer, Vera, free on Monday 09:00-10:00 for one 45-minute visit.
Two elders with the same circumstances need one: Bo lives next door to Vera, Li a kilometre
away. Without credits Bo is the better plan (less travel); Li volunteered for years, and her
credits raise her priority, so she is visited instead.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from matcher import solve
from matcher.cli import EXIT_INVALID, EXIT_OK, EXIT_VIOLATIONS, main
from matcher.io import load_plan
from matcher.ledger import CreditEntry, Ledger, LedgerStore
from matcher.messages import message
from matcher.models import CreditPolicy, Plan, Problem
from tests.helpers import JsonWriter, checked
from tests.season.weeks import contested_week


def li_served_for_years() -> Ledger:
    """Li earned 150 credits as a volunteer in earlier years, and has spent 100 of them."""
    ledger = Ledger(
        entries=[
            CreditEntry(
                id="past",
                person="li",
                kind="earned",
                credits=150,
                week_start=dt.date(2024, 3, 4),
            )
        ]
    )
    ledger.redeem("li", 100, dt.date(2025, 1, 6))
    return ledger


def planned_recipients(problem: Problem, plan: Plan) -> set[str]:
    """Recipients with a visit, after the plan is `checked`."""
    return {visit.recipient for visit in checked(problem, plan).visits}


def test_credits_raise_the_priority_as_the_policy_says() -> None:
    """Earned credits (150) add 1.5 to Li's priority; on the balance (50) only 0.5; capped."""
    problem = contested_week()
    before = problem.priority_of(problem.need_by_id["li_visit"])
    assert before == problem.priority_of(problem.need_by_id["bo_visit"])
    boosted = li_served_for_years().apply_credits(problem)
    assert boosted.recipient_by_id["li"].time_bank_credits == pytest.approx(150)
    assert boosted.recipient_by_id["bo"].time_bank_credits == 0
    assert boosted.priority_of(boosted.need_by_id["li_visit"]) == pytest.approx(before + 1.5)
    assert boosted.priority_of(boosted.need_by_id["bo_visit"]) == pytest.approx(before)
    on_balance = li_served_for_years().apply_credits(
        contested_week({"priority": {"credits": {"basis": "balance"}}})
    )
    assert on_balance.recipient_by_id["li"].time_bank_credits == pytest.approx(50)
    assert on_balance.priority_of(on_balance.need_by_id["li_visit"]) == pytest.approx(before + 0.5)
    capped = li_served_for_years().apply_credits(
        contested_week({"priority": {"credits": {"max_boost": 0.25}}})
    )
    assert capped.priority_of(capped.need_by_id["li_visit"]) == pytest.approx(before + 0.25)


def test_an_explicit_priority_still_gets_the_credit_boost() -> None:
    """A coordinator's explicit priority replaces the circumstances, not the credits."""
    data = contested_week().model_dump(mode="json")
    data["recipients"][1]["priority"] = 4
    data["recipients"][1]["time_bank_credits"] = 100
    problem = Problem.model_validate(data)
    assert problem.priority_of(problem.need_by_id["li_visit"]) == pytest.approx(5)
    assert CreditPolicy().boost(1_000) == pytest.approx(2)


@pytest.mark.parametrize("solver", ["greedy", "cpsat"])
def test_credits_decide_who_is_visited(solver: str) -> None:
    """Without credits the nearer Bo is visited; with Li's credits, Li is."""
    problem = contested_week()
    plain = solve(problem, solver=solver, time_limit_s=10)
    assert planned_recipients(problem, plain) == {"bo"}
    boosted = li_served_for_years().apply_credits(problem)
    with_credits = solve(boosted, solver=solver, time_limit_s=10)
    assert planned_recipients(boosted, with_credits) == {"li"}


def test_unplanned_visits_speak_the_policys_language() -> None:
    """policy.language zh gives the catalogue's Chinese sentence; the argument overrides it."""
    problem = contested_week({"language": "zh"})
    chinese = solve(problem)
    assert [item.recipient for item in chinese.unassigned] == ["li"]
    (left_out,) = chinese.unassigned
    assert left_out.message == message(left_out.reason, "zh")
    english = solve(problem, language="en")
    assert english.unassigned[0].message.startswith(message(left_out.reason, "en"))
    assert planned_recipients(problem, chinese) == planned_recipients(problem, english)
    with pytest.raises(ValueError, match="unknown language"):
        solve(problem, language="fr")


def test_command_line_records_shows_and_plans_with_credits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], write_json: JsonWriter
) -> None:
    """credits record earns Vera an hour's worth once; solve --ledger plans Li first."""
    problem = contested_week()
    problem_path = write_json("week.json", problem)
    plan_path = tmp_path / "plan.json"
    ledger_path = tmp_path / "ledger.json"
    assert main(["solve", str(problem_path), "-o", str(plan_path)]) == EXIT_OK
    record = ["credits", "record", str(problem_path), str(plan_path), "--ledger", str(ledger_path)]
    assert main(record) == EXIT_OK
    assert "1 visit credit(s) recorded, 0.75 credits" in capsys.readouterr().out
    assert main(record) == EXIT_OK
    assert "nothing new" in capsys.readouterr().out
    assert LedgerStore(ledger_path).load().earned("vera") == pytest.approx(0.75)
    assert main(["credits", "show", "--ledger", str(ledger_path), "--json"]) == EXIT_OK
    rows = json.loads(capsys.readouterr().out)
    assert rows == [{"person": "vera", "earned": 0.75, "redeemed": 0.0, "balance": 0.75}]

    LedgerStore(ledger_path).save(li_served_for_years())
    boosted_path = tmp_path / "boosted.json"
    command = ["solve", str(problem_path), "-o", str(boosted_path), "--ledger", str(ledger_path)]
    assert main(command) == EXIT_OK
    assert {visit.recipient for visit in load_plan(boosted_path).visits} == {"li"}


def test_command_line_refuses_a_missing_ledger_and_a_broken_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], write_json: JsonWriter
) -> None:
    """A ledger that is not there is an input error (exit 2, no plan); a plan that breaks a
    rule earns nothing (exit 1, ledger untouched)."""
    problem = contested_week()
    problem_path = write_json("week.json", problem)
    plan_path = tmp_path / "plan.json"
    missing = tmp_path / "nowhere.json"
    command = ["solve", str(problem_path), "-o", str(plan_path), "--ledger", str(missing)]
    assert main(command) == EXIT_INVALID
    assert "no such ledger file" in capsys.readouterr().err
    assert not plan_path.exists()
    assert main(["solve", str(problem_path), "-o", str(plan_path)]) == EXIT_OK
    broken = json.loads(plan_path.read_text())
    broken["visits"][0]["start"] = "08:00"
    broken_path = write_json("broken.json", broken)
    ledger_path = tmp_path / "ledger.json"
    record = [
        "credits",
        "record",
        str(problem_path),
        str(broken_path),
        "--ledger",
        str(ledger_path),
    ]
    assert main(record) == EXIT_VIOLATIONS
    assert "no credits recorded" in capsys.readouterr().err
    assert not ledger_path.exists()


def test_command_line_language_overrides_the_policy(tmp_path: Path, write_json: JsonWriter) -> None:
    """`matcher solve --language zh` writes the catalogue's Chinese sentence for Bo or Li,
    whoever is left out, although the problem's policy says English."""
    problem_path = write_json("week.json", contested_week())
    plan_path = tmp_path / "plan.json"
    assert main(["solve", str(problem_path), "-o", str(plan_path), "--language", "zh"]) == EXIT_OK
    (left_out,) = load_plan(plan_path).unassigned
    assert left_out.message == message(left_out.reason, "zh")
