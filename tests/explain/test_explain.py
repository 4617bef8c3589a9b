"""Explanations: per-volunteer verdicts and reasons, the message catalogue, what-if, plan mode."""

from __future__ import annotations

from string import Formatter
from typing import Any, get_args

import pytest

from matcher.checker import check_plan
from matcher.explain import (
    RULE_ORDER,
    AddVolunteer,
    CandidateVerdict,
    Explanation,
    RaiseWeeklyCap,
    SwitchToBike,
    WidenWindow,
    apply_change,
    explain_unassigned,
    render_explanations,
    score_plan,
    what_if,
)
from matcher.messages import (
    CATALOGUE,
    LANGUAGES,
    REASON_CODES,
    REASON_MESSAGES,
    message,
    placeholders,
)
from matcher.models import Plan, Problem, ReasonCode
from matcher.rules import number_occurrences
from matcher.solvers.objective import TERMS
from tests.helpers import (
    MONDAY_MORNING,
    chat,
    checked,
    example,
    load,
    recipient,
    solved,
    tiny_problem,
    unplanned,
    visit,
    volunteer,
)

CHAT = {"id": "chat", "duration_min": 30}


def only(explanations: list[Explanation]) -> Explanation:
    """The one explanation of a plan with one unplanned visit."""
    assert len(explanations) == 1, render_explanations(explanations)
    return explanations[0]


def verdicts(explanation: Explanation) -> dict[str, CandidateVerdict]:
    """The verdicts by volunteer."""
    return {verdict.volunteer: verdict for verdict in explanation.candidates}


# ----------------------------------------------------------------------------- reasons


@pytest.mark.parametrize(
    ("name", "reason", "rules"),
    [
        ("unplannable_no_skill", "no_qualified_volunteer", {"helper": "lacks_skill"}),
        ("unplannable_no_shared_window", "no_shared_window", {"mornings": "not_available"}),
        ("unplannable_too_far", "too_far", {"short-trips": "too_far", "slow-walker": "too_far"}),
        ("unplannable_full", "volunteers_full", {"busy": "visits_per_day"}),
    ],
)
def test_reason_agrees_with_the_solvers(name: str, reason: str, rules: dict[str, str]) -> None:
    """Each unplannable instance gets the solvers' reason and the expected verdicts."""
    problem = load(name)
    for solver in ("greedy", "cpsat"):
        plan = solved(problem, solver)
        explanation = only(explain_unassigned(problem, plan))
        assert explanation.reason == reason == explanation.plan_reason
        assert {v.volunteer: v.rule for v in explanation.candidates} == rules
        assert explanation.message.startswith(REASON_MESSAGES[reason])


def test_missing_skill_is_named() -> None:
    """A volunteer without the skill is told which skill is missing."""
    problem = load("unplannable_no_skill")
    verdict = verdicts(only(explain_unassigned(problem, solved(problem))))["helper"]
    assert verdict.missing_skills == ["haircut"]
    assert "haircut" in verdict.detail


def test_qualification_rules_come_in_order() -> None:
    """Skill, verification, background check, exclusion and load, each for one volunteer."""
    problem = tiny_problem(
        [
            {
                "id": "homework",
                "duration_min": 30,
                "required_skills": ["tutoring"],
                "requires_verified": True,
                "recipient_kinds": ["child"],
            }
        ],
        [
            recipient(
                "kid",
                {"id": "kid-homework", "service": "homework", "windows": MONDAY_MORNING, "load": 1},
                kind="child",
                excluded_volunteers=["excluded"],
            )
        ],
        [
            volunteer("no-skill", 100),
            volunteer("unverified", 100, skills=["tutoring"]),
            volunteer("unchecked", 100, skills=["tutoring"], verified=True),
            volunteer("excluded", 100, skills=["tutoring"], verified=True, background_checked=True),
            volunteer(
                "weak",
                100,
                skills=["tutoring"],
                verified=True,
                background_checked=True,
                capacity=0,
            ),
        ],
    )
    explanation = only(explain_unassigned(problem, solved(problem)))
    assert explanation.reason == "no_qualified_volunteer" == explanation.plan_reason
    assert [verdict.rule for verdict in explanation.candidates] == [
        "lacks_skill",
        "not_verified",
        "no_background_check",
        "excluded",
        "load_too_heavy",
    ]


def test_availability_too_short() -> None:
    """Free inside the window, but not for as long as the visit takes."""
    window = [{"day": "tue", "start": "14:00", "end": "16:00"}]
    problem = tiny_problem(
        [{"id": "chat", "duration_min": 60}],
        [recipient("ma", chat("ma-chat", window))],
        [volunteer("v", 100, availability=[{"day": "tue", "start": "14:00", "end": "14:30"}])],
    )
    explanation = only(explain_unassigned(problem, solved(problem)))
    assert explanation.reason == "no_shared_window" == explanation.plan_reason
    assert verdicts(explanation)["v"].rule == "window_too_short"


def test_no_day_left_after_the_other_visits() -> None:
    """The first visit, on Tuesday, leaves no day two days apart for the second one."""
    days = [{"day": day, "start": "09:00", "end": "12:00"} for day in ("mon", "tue", "wed")]
    problem = tiny_problem(
        [CHAT],
        [recipient("ma", chat("ma-chat", days, visits_per_week=2, min_gap_days=2))],
        [volunteer("v", 100, availability=days[1:2])],
    )
    explanation = only(explain_unassigned(problem, solved(problem)))
    assert explanation.reason == "no_shared_window" == explanation.plan_reason
    assert verdicts(explanation)["v"].detail_code == "candidate.no_open_day"


def test_too_far_by_distance_and_by_time() -> None:
    """One volunteer's single trip is too long; the other walks too slowly for their window."""
    problem = load("unplannable_too_far")
    found = verdicts(only(explain_unassigned(problem, solved(problem))))
    assert found["short-trips"].detail_code == "candidate.too_far_distance"
    assert found["slow-walker"].detail_code == "candidate.too_far_time"


def test_weekly_minutes_used_up() -> None:
    """A 40-minute week holds one 30-minute visit, not two."""
    problem = tiny_problem(
        [CHAT],
        [recipient("a", chat("a-chat")), recipient("b", chat("b-chat"))],
        [volunteer("v", max_minutes_per_week=40)],
    )
    explanation = only(explain_unassigned(problem, solved(problem)))
    assert explanation.reason == "volunteers_full" == explanation.plan_reason
    verdict = verdicts(explanation)["v"]
    assert verdict.rule == "weekly_minutes"
    assert "10" in verdict.detail and "40" in verdict.detail


def test_visits_a_day_used_up_names_the_visit() -> None:
    """The only volunteer's one visit a day is taken, by the visit it names."""
    problem = load("unplannable_full")
    plan = solved(problem)
    verdict = verdicts(only(explain_unassigned(problem, plan)))["busy"]
    assert verdict.rule == "visits_per_day"
    assert [visit.need for visit in verdict.visits] == [plan.visits[0].need]


def test_carrying_capacity_used_up() -> None:
    """Two meal boxes on one day for a volunteer who carries one."""
    problem = tiny_problem(
        [CHAT],
        [recipient("a", chat("a-chat", load=1)), recipient("b", chat("b-chat", load=1))],
        [volunteer("v", capacity=1)],
    )
    explanation = only(explain_unassigned(problem, solved(problem)))
    assert explanation.reason == "volunteers_full"
    assert verdicts(explanation)["v"].rule == "capacity_used"


def test_free_time_taken_names_the_visits() -> None:
    """An hour of free time, two 45-minute visits: the second is blocked by the first."""
    hour = [{"day": "mon", "start": "10:00", "end": "11:00"}]
    problem = tiny_problem(
        [{"id": "chat", "duration_min": 45}],
        [recipient("a", chat("a-chat", hour)), recipient("b", chat("b-chat", hour))],
        [volunteer("v", availability=hour)],
    )
    plan = solved(problem)
    explanation = only(explain_unassigned(problem, plan))
    assert explanation.reason == "volunteers_full" == explanation.plan_reason
    verdict = verdicts(explanation)["v"]
    assert verdict.rule == "time_taken"
    assert [visit.need for visit in verdict.visits] == [plan.visits[0].need]
    assert plan.visits[0].need in verdict.detail


def test_would_fit_in_a_hand_made_plan() -> None:
    """A visit left out although it fits: the volunteer would fit, the reason is not_planned."""
    problem = tiny_problem(
        [CHAT],
        [recipient("a", chat("a-chat")), recipient("b", chat("b-chat"))],
        [volunteer("v")],
    )
    plan = checked(
        problem,
        Plan(
            visits=[visit(problem, "a-chat", "09:00", "v")],
            unassigned=[unplanned(problem, "b-chat")],
        ),
    )
    explanation = only(explain_unassigned(problem, plan))
    assert explanation.reason == "not_planned" == explanation.plan_reason
    verdict = verdicts(explanation)["v"]
    assert verdict.rule == "would_fit"
    assert (verdict.day, verdict.start) == ("mon", 570)
    assert [visit.need for visit in verdict.visits] == ["a-chat"]


def test_team_needs_its_members_on_one_day() -> None:
    """Two cleaners free on different days cannot make a team visit: no shared window."""
    days = [
        {"day": "mon", "start": "09:00", "end": "12:00"},
        {"day": "tue", "start": "09:00", "end": "12:00"},
    ]
    problem = tiny_problem(
        [{"id": "clean", "duration_min": 60, "team_size": 2}],
        [recipient("a", {"id": "a-clean", "service": "clean", "windows": days})],
        [
            volunteer("monday", 100, availability=days[:1]),
            volunteer("tuesday", 100, availability=days[1:]),
        ],
    )
    explanation = only(explain_unassigned(problem, solved(problem)))
    assert explanation.reason == "no_shared_window" == explanation.plan_reason


def test_explanations_come_highest_priority_first() -> None:
    """The most urgent unplanned visit is explained first."""
    problem = tiny_problem(
        [{"id": "hair", "duration_min": 30, "required_skills": ["haircut"]}],
        [
            recipient("low", {"id": "low-hair", "service": "hair"}),
            recipient("high", {"id": "high-hair", "service": "hair"}, lives_alone=True),
        ],
        [volunteer("v")],
    )
    explanations = explain_unassigned(problem, solved(problem))
    assert [item.need for item in explanations] == ["high-hair", "low-hair"]


# ----------------------------------------------------------------------------- catalogue


def test_reason_codes_match_the_models() -> None:
    """The catalogue's reason codes are the plan's, and REASON_MESSAGES is its English."""
    assert get_args(ReasonCode) == REASON_CODES
    assert {code: message(code, "en") for code in REASON_CODES} == REASON_MESSAGES


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_message_exists_in_both_languages_and_renders(code: str) -> None:
    """Every entry has English and Chinese with the same details, and renders with them."""
    assert set(CATALOGUE[code]) == set(LANGUAGES) == {"en", "zh"}
    names = placeholders(code)
    details = {name: 7 for name in names}
    texts = {language: message(code, language, **details) for language in LANGUAGES}
    assert all(texts.values())
    assert texts["en"] != texts["zh"]
    for language in LANGUAGES:
        own = [name for _, name, _, _ in Formatter().parse(CATALOGUE[code][language]) if name]
        assert sorted(set(own)) == sorted(names)


def test_every_candidate_rule_has_its_messages() -> None:
    """Each rule has a short name and a sentence in the catalogue."""
    for rule in RULE_ORDER:
        assert f"rule.{rule}" in CATALOGUE
        assert any(code.startswith(f"candidate.{rule}") for code in CATALOGUE)


def test_every_objective_term_has_a_name() -> None:
    """Plan mode names each term of the policy objective in both languages."""
    for term in (*TERMS, "total"):
        assert f"term.{term}" in CATALOGUE


def test_message_errors_are_plain() -> None:
    """A missing detail, an unknown code or language raise with the name in the message."""
    with pytest.raises(KeyError, match="skills"):
        message("candidate.lacks_skill", "en")
    with pytest.raises(KeyError, match="nonsense"):
        message("nonsense")
    with pytest.raises(ValueError, match="fr"):
        message("too_far", "fr")


def test_chinese_policy_gives_chinese_explanations() -> None:
    """With policy.language zh, the reason and verdicts are in Chinese; a parameter overrides."""
    data = load("unplannable_no_skill").model_dump()
    data["policy"]["language"] = "zh"
    problem = Problem.model_validate(data)
    plan = solved(problem)
    explanation = only(explain_unassigned(problem, plan))
    assert explanation.message.startswith(message("no_qualified_volunteer", "zh"))
    assert explanation.candidates[0].detail == "缺少技能：haircut"
    english = only(explain_unassigned(problem, plan, language="en"))
    assert english.message.startswith(REASON_MESSAGES["no_qualified_volunteer"])


# ----------------------------------------------------------------------------- what-if


def haircut_week() -> Problem:
    """Three lonely B1 elders need a Wednesday haircut nobody gives; a B2 elder, a Friday chat."""
    wednesday = [{"day": "wed", "start": "09:00", "end": "12:00"}]
    friday = [{"day": "fri", "start": "14:00", "end": "15:00"}]
    recipients = [
        recipient(
            name,
            {"id": f"{name}-hair", "service": "hair", "windows": wednesday},
            x_m=x_m,
            building="B1",
            lives_alone=True,
        )
        for name, x_m in (("h1", 0), ("h2", 20), ("h3", 40))
    ]
    recipients.append(recipient("m1", chat("m1-chat", friday), x_m=2000, building="B2"))
    recipients.append(recipient("c1", chat("c1-chat"), x_m=100, building="B1"))
    return tiny_problem(
        [CHAT, {"id": "hair", "duration_min": 30, "required_skills": ["haircut"]}],
        recipients,
        [volunteer("v1", 100)],
    )


def test_top_what_if_is_the_volunteer_who_covers_the_haircuts() -> None:
    """One haircut volunteer on Wednesday in B1 plans exactly the three haircuts."""
    problem = haircut_week()
    plan = solved(problem)
    assert {item.need for item in plan.unassigned} == {"h1-hair", "h2-hair", "h3-hair", "m1-chat"}
    results = what_if(problem, plan, limit=6)
    top = results[0]
    assert isinstance(top.change, AddVolunteer)
    assert top.change.volunteer.skills == ["haircut"]
    assert [window.day for window in top.change.volunteer.availability] == ["wed"]
    assert top.change.building == "B1"
    assert {(item.need, item.occurrence) for item in top.plans} == {
        ("h1-hair", 1),
        ("h2-hair", 1),
        ("h3-hair", 1),
    }
    assert top.visits_gained == 3 and top.weighted_gain == 6.0
    assert not top.drops
    assert set(top.descriptions) == {"en", "zh"} and top.description == top.descriptions["en"]
    assert "haircut" in top.summary() and "haircut" in top.summary("zh")
    assert all(later.weighted_gain <= top.weighted_gain for later in results)
    changed = apply_change(problem, top.change)
    solved(changed)


def test_what_if_widens_a_window() -> None:
    """An hour earlier lets the volunteer, free until 14:30, make a one-hour visit."""
    window = [{"day": "tue", "start": "14:00", "end": "16:00"}]
    problem = tiny_problem(
        [{"id": "chat", "duration_min": 60}],
        [recipient("ma", chat("ma-chat", window))],
        [volunteer("v", 100, availability=[{"day": "tue", "start": "13:00", "end": "14:30"}])],
    )
    results = what_if(problem, solved(problem), limit=4)
    widened = [item for item in results if isinstance(item.change, WidenWindow)]
    assert [(item.change.earlier_min, item.visits_gained) for item in widened] == [(60, 1)]


def test_what_if_raises_a_weekly_cap() -> None:
    """An hour more a week lets the volunteer make the second visit."""
    problem = tiny_problem(
        [CHAT],
        [recipient("a", chat("a-chat")), recipient("b", chat("b-chat"))],
        [volunteer("v", max_minutes_per_week=40)],
    )
    results = what_if(problem, solved(problem), limit=4)
    raised = [item for item in results if isinstance(item.change, RaiseWeeklyCap)]
    assert [(item.change.new_min, item.visits_gained) for item in raised] == [(100, 1)]


def test_what_if_gives_a_walker_a_bike() -> None:
    """A bike makes a visit 3.9 km away fit into two free hours."""
    problem = tiny_problem(
        [CHAT],
        [recipient("far", chat("far-chat"), x_m=3000)],
        [volunteer("v", availability=[{"day": "mon", "start": "09:00", "end": "11:00"}])],
    )
    plan = solved(problem)
    assert only(explain_unassigned(problem, plan)).reason == "too_far"
    results = what_if(problem, plan, limit=4)
    bikes = [item for item in results if isinstance(item.change, SwitchToBike)]
    assert [(item.change.volunteer, item.visits_gained) for item in bikes] == [("v", 1)]


def test_what_if_with_nothing_left_out() -> None:
    """A plan that covers everything has no what-if."""
    problem = tiny_problem([CHAT], [recipient("a", chat("a-chat"))], [volunteer("v")])
    assert what_if(problem, solved(problem)) == []


# ----------------------------------------------------------------------------- plan mode


def test_plan_mode_scores_a_hand_made_plan_against_the_optimizer() -> None:
    """A coordinator's plan with one broken rule beside the optimizer's plan."""
    day = [{"day": "mon", "start": "09:00", "end": "18:00"}]
    problem = tiny_problem(
        [CHAT],
        [recipient("a", chat("a-chat", day)), recipient("b", chat("b-chat", day))],
        [volunteer("v")],
    )
    mine = Plan(visits=[visit(problem, "a-chat", "12:00", "v")])
    assert [violation.rule for violation in check_plan(problem, mine).violations] == [
        "volunteer_window"
    ]
    score = score_plan(problem, mine)
    assert not score.ok
    assert [violation.rule for violation in score.report.violations] == ["volunteer_window"]
    assert score.reference_report.ok
    assert score.report.metrics.visits_planned == 1
    assert score.reference_report.metrics.visits_planned == 2
    assert score.reference_objective["total"] > score.objective["total"]
    text = score.summary()
    assert "volunteer_window" in text and "rules broken" in text and "1 more visit" in text
    reference = solved(problem)
    assert score_plan(problem, reference, reference).report.ok
    chinese = score_plan(problem, mine, reference, language="zh").summary()
    assert "违反规则" in chinese


# ----------------------------------------------------------------------------- one diagnosis


@pytest.mark.parametrize(
    ("solver", "time_limit_s"), [("greedy", None), ("cpsat", 3.0), ("routing", 2.0), ("lns", 2.0)]
)
def test_every_solver_gives_the_reasons_explain_gives(
    solver: str, time_limit_s: float | None
) -> None:
    """On the small example, each solver's plan lists, for every unplanned occurrence, the
    reason `explain` gives for the same plan; the second blood-pressure check and the second
    shopping trip find no shared window (their other visit leaves only Sunday)."""
    problem = example("small")
    plan = solved(problem, solver, time_limit_s=time_limit_s, seed=0)
    listed = {(item.need, item.occurrence): item.reason for item in plan.unassigned}
    explained = {
        (item.need, item.occurrence): item.reason for item in explain_unassigned(problem, plan)
    }
    assert listed == explained
    assert explained[("e05-bp_check", 2)] == "no_shared_window"
    assert explained[("e07-shopping", 2)] == "no_shared_window"


def two_outings(**extra: Any) -> Problem:
    """A walker free Monday 09:00-11:00 and 15:00-17:00, 19.4 minutes' walk from three elders:
    a's hour from 09:20 and c's half hour from 15:30 are planned, b's half hour in the morning
    is not."""
    morning = [{"day": "mon", "start": "09:00", "end": "11:00"}]
    afternoon = [{"day": "mon", "start": "15:00", "end": "17:00"}]
    return tiny_problem(
        [CHAT, {"id": "hour", "duration_min": 60}],
        [
            recipient("a", {"id": "a-hour", "service": "hour", "windows": morning}, x_m=1000),
            recipient("b", chat("b-chat", morning), x_m=1000),
            recipient("c", chat("c-chat", afternoon), x_m=1000),
        ],
        [volunteer("v", availability=morning + afternoon, **extra)],
    )


def two_outings_plan(problem: Problem) -> Plan:
    """a at 09:20-10:20 in the morning outing, c at 15:30-16:00 in the afternoon one."""
    return checked(
        problem,
        Plan(
            visits=[visit(problem, "a-hour", "09:20", "v"), visit(problem, "c-chat", "15:30", "v")]
        ),
    )


def test_a_visit_after_the_morning_visit_must_be_home_by_the_outing_close() -> None:
    """After a's hour (till 10:20) b's half hour would end at 10:50, home at 11:10: past the
    morning outing's close, so the walker has no time (not: it would fit, walking on to c at
    15:30)."""
    problem = two_outings()
    explanation = only(explain_unassigned(problem, two_outings_plan(problem)))
    assert explanation.need == "b-chat"
    verdict = verdicts(explanation)["v"]
    assert verdict.rule == "time_taken"
    assert [visit.need for visit in verdict.visits] == ["a-hour"]


def test_weekly_minutes_count_the_walk_home_between_outings() -> None:
    """Two outings take 98.8 + 68.8 minutes (walking home in between, not 128.8 in one trip),
    so 185 minutes a week leave 17, less than b's half hour."""
    problem = two_outings(max_minutes_per_week=185)
    verdict = verdicts(only(explain_unassigned(problem, two_outings_plan(problem))))["v"]
    assert verdict.rule == "weekly_minutes"
    assert "has 17 of their 185 minutes" in verdict.detail


def test_touching_windows_are_one_outing() -> None:
    """Free 09:00-10:00 and 10:00-11:00 is one outing: an hour's visit from 09:30 fits."""
    problem = tiny_problem(
        [{"id": "hour", "duration_min": 60}],
        [
            recipient(
                "a",
                {
                    "id": "a-hour",
                    "service": "hour",
                    "windows": [{"day": "mon", "start": "09:30", "end": "10:30"}],
                },
            )
        ],
        [
            volunteer(
                "v",
                0,
                availability=[
                    {"day": "mon", "start": "09:00", "end": "10:00"},
                    {"day": "mon", "start": "10:00", "end": "11:00"},
                ],
            )
        ],
    )
    explanation = only(explain_unassigned(problem, Plan()))
    verdict = verdicts(explanation)["v"]
    assert verdict.rule == "would_fit"
    assert (verdict.day, verdict.start) == ("mon", 570)
    checked(problem, Plan(visits=[visit(problem, "a-hour", "09:30", "v")]))


def test_too_far_for_one_outing_of_walking() -> None:
    """Each leg is within reach, but there and back is more than one outing's 1.5 km."""
    problem = tiny_problem(
        [CHAT],
        [recipient("far", chat("far-chat"), x_m=1000)],
        [volunteer("v", max_outing_distance_m=1500)],
    )
    explanation = only(explain_unassigned(problem, Plan()))
    assert explanation.reason == "too_far"
    verdict = verdicts(explanation)["v"]
    assert (verdict.rule, verdict.detail_code) == ("too_far", "candidate.too_far_distance")
    assert "1.5 km" in verdict.detail


def test_every_visit_explain_says_would_fit_is_one_the_checker_accepts() -> None:
    """Drop each visit of the small example's plan in turn: wherever explain says a volunteer
    could still make a left-out visit, the plan with that visit added keeps every rule."""
    problem = example("small")
    plan = solved(problem)
    fitted = 0
    for dropped in range(len(plan.visits)):
        kept = number_occurrences(visit for i, visit in enumerate(plan.visits) if i != dropped)
        for item in explain_unassigned(problem, checked(problem, Plan(visits=kept))):
            need = problem.need_by_id[item.need]
            if problem.service_by_id[need.service].team_size > 1:
                continue
            for verdict in item.candidates:
                if verdict.rule != "would_fit":
                    continue
                assert verdict.day is not None and verdict.start is not None
                added = visit(
                    problem,
                    item.need,
                    verdict.start,
                    verdict.volunteer,
                    day=verdict.day,
                    occurrence=item.occurrence,
                )
                checked(problem, Plan(visits=number_occurrences([*kept, added])))
                fitted += 1
    assert fitted > 0


def test_what_if_shares_a_total_time_limit_evenly(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a total, the unchanged week and each change get an even share of it (never more
    than each re-solve's own limit), so the whole answer stays within the total."""
    import matcher.explain.whatif as whatif_module

    problem = haircut_week()
    plan = solved(problem)
    limits: list[float | None] = []
    real_solve = whatif_module.solve

    def recording_solve(*args: Any, **kwargs: Any) -> Plan:
        limits.append(kwargs.get("time_limit_s"))
        return real_solve(*args, **kwargs)

    monkeypatch.setattr(whatif_module, "solve", recording_solve)
    with_total = what_if(problem, plan, limit=3, total_time_limit_s=2.0)
    assert len(limits) == 4 and all(limit == pytest.approx(0.5) for limit in limits)
    assert with_total and with_total[0].visits_gained == 3
    limits.clear()
    what_if(problem, plan, limit=3, time_limit_s=0.2, total_time_limit_s=2.0)
    assert limits == [0.2] * 4
    with pytest.raises(ValueError, match="total_time_limit_s"):
        what_if(problem, plan, limit=3, total_time_limit_s=0.0)
