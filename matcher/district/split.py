"""How a shared helper's week is split between the communities they serve.

A helper is never at two places at once because each community gets whole days of theirs: a
day goes to one community, so the solves run apart and still cannot overlap. Their weekly
minutes hold across the district because each community gets a share of them as that
helper's `max_minutes_per_week` there, and the shares add up to at most the weekly minutes.

First pass (`first_split`): the minutes in proportion to the demand the helper could serve in
each community (minutes of the needs they qualify for, `matcher.rules.qualification`), the days
one by one to the community furthest below its share, then the minutes capped by what the days
given offer (the rest goes to the others, still in proportion).

Re-balance (`rebalance`): after a solve, minutes a community did not use (its share less what
the helper's visits and travel there took) go to communities that ran out of the helper's
minutes (what is left would not fit one more visit) and left visits unplanned that the helper
qualifies for, with days the donor did not use when the receiver lacks the time to spend
them; a community that left such visits unplanned with minutes to spare takes one day another
community held and left empty. Donors' plans stay valid (their cap stays above what they use,
the days they lose were empty); receivers are solved again.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from matcher.district.models import District
from matcher.models import WEEKDAYS, Metrics, Plan, Problem, Volunteer
from matcher.rules.qualification import is_qualified

TRAVEL_ALLOWANCE_MIN = 15
"""Minutes of travel counted with each unplanned visit a receiver wants a helper's minutes for
(the want is the visits' minutes on site plus this each)."""


@dataclass(frozen=True)
class Allotment:
    """A shared helper's share of the week in one community: minutes and whole days."""

    minutes: int
    days: tuple[str, ...]


@dataclass(frozen=True)
class Move:
    """Minutes (and days) of a shared helper moved from one community to another."""

    round: int
    helper: str
    from_community: str
    to_community: str
    minutes: int
    days: tuple[str, ...] = ()


Allocation = dict[str, dict[str, Allotment]]
"""helper id -> community id -> allotment."""


@dataclass
class _Share:
    minutes: int
    days: list[str] = field(default_factory=list)


def helper_demand_min(problem: Problem, volunteer: Volunteer) -> int:
    """Minutes on site of every visit of the week this helper qualifies for."""
    total = 0
    for recipient in problem.recipients:
        for need in recipient.needs:
            service = problem.service_by_id[need.service]
            if is_qualified(service, recipient, volunteer):
                total += problem.duration_of(need) * need.visits_per_week
    return total


def days_offered(volunteer: Volunteer) -> list[str]:
    """The weekdays this helper has availability, in week order."""
    present = {window.day for window in volunteer.availability}
    return [day for day in WEEKDAYS if day in present]


def offered_on(volunteer: Volunteer, days: tuple[str, ...] | list[str]) -> int:
    """Minutes the helper offers on these days (their own weekly cap included)."""
    chosen = set(days)
    kept = [window for window in volunteer.availability if window.day in chosen]
    return math.floor(volunteer.model_copy(update={"availability": kept}).offered_minutes())


def _proportional(total: int, weights: dict[str, int], caps: dict[str, int]) -> dict[str, int]:
    """`total` split in proportion to `weights`, none above its cap, whole minutes; what a cap
    cuts goes to the others in proportion (ties by order)."""
    result = dict.fromkeys(weights, 0)
    active = [name for name in weights if weights[name] > 0 and caps[name] > 0]
    remaining = total
    while remaining > 0 and active:
        weight_sum = sum(weights[name] for name in active)
        shares = {name: remaining * weights[name] / weight_sum for name in active}
        capped = [name for name in active if result[name] + shares[name] >= caps[name]]
        if capped:
            for name in capped:
                remaining -= caps[name] - result[name]
                result[name] = caps[name]
                active.remove(name)
            continue
        floors = {name: math.floor(shares[name]) for name in active}
        for name in active:
            result[name] += floors[name]
        leftover = remaining - sum(floors.values())
        by_fraction = sorted(
            active, key=lambda name: (-(shares[name] - floors[name]), active.index(name))
        )
        for name in by_fraction[:leftover]:
            result[name] += 1
        remaining = 0
    return result


def first_split(district: District, problems: Mapping[str, Problem]) -> Allocation:
    """Each shared helper's minutes and days per community, in proportion to demand."""
    allocation: Allocation = {}
    for helper in district.shared_helpers:
        entries = {name: problems[name].volunteer_by_id[helper.id] for name in helper.communities}
        demand = {
            name: helper_demand_min(problems[name], entries[name]) for name in helper.communities
        }
        total_demand = sum(demand.values())
        target = {
            name: helper.weekly_minutes * demand[name] / total_demand if total_demand else 0.0
            for name in helper.communities
        }
        shares = {name: _Share(0) for name in helper.communities}
        offered_so_far = dict.fromkeys(helper.communities, 0)
        for day in WEEKDAYS:
            eligible = [
                name
                for name in helper.communities
                if demand[name] > 0 and day in days_offered(entries[name])
            ]
            if not eligible:
                continue
            chosen = max(
                eligible,
                key=lambda name: (
                    target[name] - offered_so_far[name],
                    -helper.communities.index(name),
                ),
            )
            shares[chosen].days.append(day)
            offered_so_far[chosen] = offered_on(entries[chosen], shares[chosen].days)
        minutes = _proportional(helper.weekly_minutes, demand, offered_so_far)
        allocation[helper.id] = {
            name: Allotment(minutes=minutes[name], days=tuple(shares[name].days))
            for name in helper.communities
        }
    return allocation


def community_problem(
    district: District, name: str, problem: Problem, allocation: Allocation
) -> Problem:
    """The community's problem as its solve sees it: each shared helper available only on the
    days given to this community, with its share of their minutes as the weekly cap."""
    volunteers = list(problem.volunteers)
    changed = False
    for helper in district.shared_helpers:
        if name not in helper.communities:
            continue
        allotment = allocation[helper.id][name]
        position = next(i for i, v in enumerate(volunteers) if v.id == helper.id)
        entry = volunteers[position]
        days = set(allotment.days)
        own_cap = entry.max_minutes_per_week
        cap = allotment.minutes if own_cap is None else min(own_cap, allotment.minutes)
        volunteers[position] = entry.model_copy(
            update={
                "availability": [w for w in entry.availability if w.day in days],
                "max_minutes_per_week": cap,
            }
        )
        changed = True
    return problem.with_volunteers(volunteers) if changed else problem


def metrics_of(plan: Plan) -> Metrics:
    """The plan's metrics (a checked plan has them; empty ones otherwise)."""
    return plan.metrics if plan.metrics is not None else Metrics()


def used_min(plan: Plan, helper_id: str) -> float:
    """Minutes (visits and travel) the helper gives in this plan, as its checked metrics say."""
    for load in metrics_of(plan).loads:
        if load.volunteer == helper_id:
            return load.total_min
    return 0.0


def busy_days(plan: Plan, helper_id: str) -> set[str]:
    """Days the helper has a visit in this plan."""
    return {visit.day for visit in plan.visits if helper_id in visit.volunteers}


def wanted_visits_min(problem: Problem, plan: Plan, volunteer: Volunteer) -> list[int]:
    """Minutes (on site, with `TRAVEL_ALLOWANCE_MIN` of travel) of each unplanned visit this
    helper qualifies for."""
    wanted: list[int] = []
    for item in plan.unassigned:
        need = problem.need_by_id.get(item.need)
        if need is None:
            continue
        recipient = problem.recipient_of_need[need.id]
        if is_qualified(problem.service_by_id[need.service], recipient, volunteer):
            wanted.append(problem.duration_of(need) + TRAVEL_ALLOWANCE_MIN)
    return wanted


def rebalance(
    district: District,
    problems: Mapping[str, Problem],
    allocation: Allocation,
    plans: Mapping[str, Plan],
    round_number: int,
    frozen: frozenset[str] = frozenset(),
) -> tuple[Allocation, list[Move]]:
    """One round: unused minutes (and unused days when needed) to communities that left
    qualified need unplanned. `problems` are the communities' own (the helpers' full weeks, as
    the district file gives them), not the split ones the plans were made for. `frozen`
    communities (e.g. on their fallback plan) receive nothing. Returns the new allocation and
    the moves, in a fixed order."""
    new_allocation: Allocation = {}
    moves: list[Move] = []
    for helper in district.shared_helpers:
        names = helper.communities
        entries = {name: problems[name].volunteer_by_id[helper.id] for name in names}
        current = allocation[helper.id]
        minutes = {name: current[name].minutes for name in names}
        days = {name: list(current[name].days) for name in names}
        spare = {
            name: max(0, minutes[name] - math.ceil(used_min(plans[name], helper.id)))
            for name in names
        }
        busy = {name: busy_days(plans[name], helper.id) for name in names}
        wanted = {
            name: []
            if name in frozen
            else wanted_visits_min(problems[name], plans[name], entries[name])
            for name in names
        }
        want = {name: sum(wanted[name]) for name in names}
        # A receiver ran out of the helper's minutes: its spare would not fit one more visit.
        receivers = sorted(
            (name for name in names if wanted[name] and spare[name] < min(wanted[name])),
            key=lambda n: (-want[n], names.index(n)),
        )
        for name in receivers:
            spare[name] = 0
        for receiver in receivers:
            donors = sorted(
                (name for name in names if name != receiver and spare[name] > 0),
                key=lambda n: (-spare[n], names.index(n)),
            )
            pool = sum(spare[name] for name in donors)
            if pool == 0:
                continue
            needed = min(want[receiver], pool)
            moved_days: dict[str, list[str]] = {}
            headroom = offered_on(entries[receiver], days[receiver]) - minutes[receiver]
            for day in days_offered(entries[receiver]):
                if headroom >= needed:
                    break
                if day in days[receiver]:
                    continue
                holder = next((name for name in names if day in days[name]), None)
                if holder is not None and (day in busy[holder] or holder == receiver):
                    continue
                if holder is not None:
                    days[holder].remove(day)
                    moved_days.setdefault(holder, []).append(day)
                days[receiver].append(day)
                headroom = offered_on(entries[receiver], days[receiver]) - minutes[receiver]
            take = min(needed, max(0, headroom))
            for donor in donors:
                if take <= 0:
                    break
                given = min(spare[donor], take)
                spare[donor] -= given
                minutes[donor] -= given
                minutes[receiver] += given
                take -= given
                moves.append(
                    Move(
                        round=round_number,
                        helper=helper.id,
                        from_community=donor,
                        to_community=receiver,
                        minutes=given,
                        days=tuple(moved_days.pop(donor, [])),
                    )
                )
            for holder, lost in moved_days.items():
                moves.append(
                    Move(
                        round=round_number,
                        helper=helper.id,
                        from_community=holder,
                        to_community=receiver,
                        minutes=0,
                        days=tuple(lost),
                    )
                )
        # Communities with minutes to spare but visits left unplanned lack the helper's days:
        # each takes one day it offers that another community holds and left empty.
        short_of_days = sorted(
            (
                name
                for name in names
                if wanted[name] and name not in receivers and minutes[name] > 0
            ),
            key=lambda n: (-want[n], names.index(n)),
        )
        for receiver in short_of_days:
            for day in days_offered(entries[receiver]):
                holder = next((name for name in names if day in days[name]), None)
                if holder is None or holder == receiver or day in busy[holder]:
                    continue
                days[holder].remove(day)
                days[receiver].append(day)
                busy[receiver].add(day)
                moves.append(
                    Move(
                        round=round_number,
                        helper=helper.id,
                        from_community=holder,
                        to_community=receiver,
                        minutes=0,
                        days=(day,),
                    )
                )
                break
        new_allocation[helper.id] = {
            name: Allotment(
                minutes=minutes[name],
                days=tuple(day for day in WEEKDAYS if day in set(days[name])),
            )
            for name in names
        }
    return new_allocation, moves


__all__ = [
    "TRAVEL_ALLOWANCE_MIN",
    "Allocation",
    "Allotment",
    "Move",
    "busy_days",
    "community_problem",
    "first_split",
    "helper_demand_min",
    "metrics_of",
    "rebalance",
    "used_min",
    "wanted_visits_min",
]
