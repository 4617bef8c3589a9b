"""The community generator: deterministic, valid, realistic in shape, and the source of the
bundled examples."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from matcher.checker import check_plan
from matcher.cli import main as cli_main
from matcher.generator import generate_community, main, problem_json
from matcher.io import load_problem
from matcher.models import Problem
from matcher.solvers.greedy import solve_greedy
from tests.helpers import EXAMPLES

SEED_SERVICES = {
    "visit",
    "meal",
    "haircut",
    "bills",
    "shopping",
    "cleaning",
    "bp_check",
    "smartphone",
    "tutoring",
}
SEED_SKILLS = {"haircut", "cleaning", "health_check", "smartphone", "tutoring"}


@pytest.fixture(scope="module")
def community() -> Problem:
    """The default community: 150 recipients, 40 volunteers, 8 buildings."""
    return generate_community()


def documented_commands() -> list[list[str]]:
    """The generator commands examples/README.md gives for the bundled files."""
    text = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    lines = re.findall(r"^matcher example community (.+ -o examples/\S+)$", text, re.M)
    return [shlex.split(line) for line in lines]


def test_same_seed_gives_identical_json() -> None:
    """Two runs with the same arguments give byte-identical JSON."""
    first = problem_json(generate_community(recipients=60, volunteers=15, seed=7))
    second = problem_json(generate_community(recipients=60, volunteers=15, seed=7))
    assert first == second


def test_different_seeds_give_different_communities() -> None:
    """Another seed gives another community."""
    first = problem_json(generate_community(recipients=60, volunteers=15, seed=7))
    second = problem_json(generate_community(recipients=60, volunteers=15, seed=8))
    assert first != second


def test_sizes_are_honoured() -> None:
    """Recipients, children, volunteers and buildings come out as asked."""
    problem = generate_community(recipients=37, volunteers=9, buildings=3, children=4, seed=2)
    assert len(problem.recipients) == 37
    assert sum(recipient.kind == "child" for recipient in problem.recipients) == 4
    assert len(problem.volunteers) == 9
    assert {recipient.building for recipient in problem.recipients} == {"B1", "B2", "B3"}


def test_default_child_share(community: Problem) -> None:
    """About 5% of recipients are children when not told otherwise."""
    assert sum(recipient.kind == "child" for recipient in community.recipients) == 8


def test_generated_community_validates_and_round_trips(community: Problem) -> None:
    """The instance passes validation with no warnings and survives its JSON."""
    assert community.warnings() == []
    assert Problem.model_validate_json(problem_json(community)) == community


def test_services_and_skills_cover_the_seed(community: Problem) -> None:
    """The catalogue is the seed's list, and every required skill is held by someone."""
    assert {service.id for service in community.services} == SEED_SERVICES
    required = {skill for service in community.services for skill in service.required_skills}
    assert required == SEED_SKILLS
    held = {skill for volunteer in community.volunteers for skill in volunteer.skills}
    assert required <= held
    assert {need.service for need in community.need_by_id.values()} == SEED_SERVICES


def test_children_only_need_services_for_children(community: Problem) -> None:
    """A child's needs only use services that serve children, and elders' never do."""
    for recipient in community.recipients:
        for need in recipient.needs:
            kinds = community.service_by_id[need.service].recipient_kinds
            assert recipient.kind in kinds, need.id


def test_elders_and_volunteers_look_like_the_seed(community: Problem) -> None:
    """Ages, living alone, staff at the office, young-old on foot with short trips."""
    elders = [recipient for recipient in community.recipients if recipient.kind == "elder"]
    assert all(60 <= (elder.age or 0) <= 98 for elder in elders)
    assert 0.25 <= sum(elder.lives_alone for elder in elders) / len(elders) <= 0.55
    assert all(1 <= len(elder.needs) <= 3 for elder in elders)
    staff = [volunteer for volunteer in community.volunteers if volunteer.kind == "staff"]
    assert staff and all(member.verified and member.start_location for member in staff)
    assert any(need.mandatory for need in community.need_by_id.values())
    assert community.history


def test_large_community_is_quick() -> None:
    """The real Quanrui scale (1,500 recipients, 300 volunteers) generates and validates."""
    problem = generate_community(recipients=1500, volunteers=300, seed=3)
    assert len(problem.need_by_id) > 1500


@pytest.mark.parametrize("command", documented_commands(), ids=lambda command: command[-1])
def test_bundled_example_matches_its_documented_command(command: list[str], tmp_path: Path) -> None:
    """Each bundled example is exactly what its command in examples/README.md writes now."""
    bundled = Path(command[-1])
    assert command[-2] == "-o" and bundled.parent.name == "examples"
    output = tmp_path / bundled.name
    assert cli_main(["example", "community", *command[:-1], str(output)]) == 0
    assert output.read_bytes() == (EXAMPLES / bundled.name).read_bytes()
    generated = tmp_path / f"module-{bundled.name}"
    assert main([*command[:-1], str(generated)]) == 0
    assert generated.read_bytes() == output.read_bytes()


def test_every_bundled_example_is_documented() -> None:
    """Both bundled examples have a regenerating command."""
    documented = {Path(command[-1]).name for command in documented_commands()}
    assert documented == {"small.json", "community.json"}
    assert {path.name for path in EXAMPLES.glob("*.json")} == documented


def test_greedy_plans_most_of_the_small_example() -> None:
    """The greedy planner keeps every rule on small.json and plans most of its visits."""
    problem = load_problem(EXAMPLES / "small.json")
    report = check_plan(problem, solve_greedy(problem))
    assert report.ok, report.violations
    assert report.metrics.visits_planned >= 0.75 * report.metrics.visits_requested


def test_sessions_add_venues_group_services_and_wishes_and_change_nothing_else() -> None:
    """`sessions=True` adds the seed's venues, group services and wishes; homes, needs and
    hours stay as they are."""
    plain = generate_community(recipients=60, volunteers=15, seed=4)
    with_sessions = generate_community(recipients=60, volunteers=15, seed=4, sessions=True)
    assert {venue.kind for venue in with_sessions.venues} == {
        "activity_room",
        "health_station",
        "reading_room",
        "outdoor",
    }
    assert sum(venue.kind == "outdoor" for venue in with_sessions.venues) == 3
    assert {service.id for service in with_sessions.group_services} >= {
        "smartphone-class",
        "choir",
        "tai-chi",
        "bp-check-day",
        "chronic-consultation",
        "after-school-care",
        "red-bench",
    }
    assert with_sessions.without_sessions().recipients == [
        recipient.model_copy(update={"attends": []}) for recipient in plain.recipients
    ]
    assert [v.availability for v in with_sessions.volunteers] == [
        v.availability for v in plain.volunteers
    ]
    assert not with_sessions.warnings()


def test_wishes_follow_age_and_mobility() -> None:
    problem = generate_community(sessions=True)
    assert problem.wish_by_id
    for recipient in problem.recipients:
        services = {wish.group_service for wish in recipient.attends}
        if recipient.kind == "child":
            assert services <= {"after-school-care"}
        else:
            assert "after-school-care" not in services
        if recipient.disability_level == 2:
            assert all(wish.escort for wish in recipient.attends)
        if recipient.disability_level >= 1:
            assert "tai-chi" not in services
        if recipient.disability_level == 3:
            assert services <= {"chronic-consultation"}
