"""The policy objective of a plan, term by term, in one currency of points.

coverage (priority × weight per planned visit) + continuity (per volunteer on a visit who is
preferred or keeps a standing pairing: `PolicyWeights.continuity_points`) − travel (per km) −
staff and volunteer cost (per hour on site) − lateness (per late minute, and per minute of the
largest lateness) − fairness (per minute a volunteer carries above their share of the load, in
proportion to the minutes they offered: `offered_shares`).
Travel and load count every leg of every outing (`matcher.rules.outings`: each outing leaves
the start place and comes back home); hourly cost and lateness are `matcher.rules`' too.
Every solver's plan is scored the same way, so plans from different solvers compare.
"""

from __future__ import annotations

from collections import defaultdict

from matcher.models import WEEKDAYS, Problem, Visit, offered_shares
from matcher.rules import Intervals, NeedFacts, hourly_cost, outings_by_day, walk_outing
from matcher.rules.outings import trips_by_outing
from matcher.travel import TravelModel

TERMS = ("coverage", "continuity", "travel", "cost", "lateness", "fairness")


def objective_breakdown(
    problem: Problem, travel: TravelModel, facts: dict[str, NeedFacts], visits: list[Visit]
) -> dict[str, float]:
    """Each term of the policy objective (costs negative) and their `total`."""
    weights = problem.policy.weights
    historic = {(item.recipient, item.volunteer) for item in problem.history}
    terms = dict.fromkeys(TERMS, 0.0)
    days: dict[tuple[str, int], list[Visit]] = defaultdict(list)
    largest_lateness = 0.0
    for visit in visits:
        need = facts[visit.need]
        terms["coverage"] += weights.coverage * need.priority
        if need.need.soft_window:
            late = need.lateness(WEEKDAYS.index(visit.day), visit.start)
            terms["lateness"] -= weights.lateness_per_min * late
            largest_lateness = max(largest_lateness, late)
        for volunteer_id in visit.volunteers:
            volunteer = problem.volunteer_by_id[volunteer_id]
            days[(volunteer_id, WEEKDAYS.index(visit.day))].append(visit)
            terms["continuity"] += weights.continuity_points(
                volunteer_id in need.recipient.preferred_volunteers,
                (need.recipient.id, volunteer_id) in historic,
            )
            terms["cost"] -= hourly_cost(volunteer, weights) * (visit.end - visit.start) / 60.0
    terms["lateness"] -= weights.max_lateness_per_min * largest_lateness
    load_by_volunteer: dict[str, float] = defaultdict(float)
    outings_of: dict[str, dict[int, Intervals]] = {}
    for (volunteer_id, day_index), day_visits in days.items():
        volunteer = problem.volunteer_by_id[volunteer_id]
        if volunteer_id not in outings_of:
            outings_of[volunteer_id] = outings_by_day(volunteer)
        outings = outings_of[volunteer_id].get(day_index, [])
        for trip in trips_by_outing(outings, [(visit.start, visit.end) for visit in day_visits]):
            trip_visits = [day_visits[index] for index in trip]
            places = [travel.recipient_place[visit.recipient] for visit in trip_visits]
            walk = walk_outing(travel, volunteer, places)
            terms["travel"] -= weights.travel_per_km * walk.distance_m / 1000.0
            load_by_volunteer[volunteer_id] += walk.travel_min + sum(
                visit.end - visit.start for visit in trip_visits
            )
    shares = offered_shares(problem.volunteers)
    total_load = sum(load_by_volunteer.values())
    terms["fairness"] -= weights.fairness * sum(
        max(0.0, load_by_volunteer[volunteer_id] - share * total_load)
        for volunteer_id, share in shares.items()
        if share > 0
    )
    terms["total"] = sum(terms[name] for name in TERMS)
    return terms
