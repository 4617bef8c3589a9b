"""The policy objective of a plan, term by term, in one currency of points.

coverage (priority × weight per planned visit) + continuity (per volunteer on a visit who is
preferred or keeps a standing pairing: `PolicyWeights.continuity_points`) − travel (per km) −
staff and volunteer cost (per hour on site) − lateness (per late minute, and per minute of the
largest lateness) − fairness (per minute a volunteer carries above their share of the load, in
proportion to the minutes they offered: `offered_shares`).
Every solver's plan is scored the same way, so plans from different solvers compare.
"""

from __future__ import annotations

from collections import defaultdict

from matcher.models import WEEKDAYS, Problem, Visit, offered_shares
from matcher.solvers.candidates import NeedFacts
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
            hourly = volunteer.cost_per_hour
            if hourly is None:
                hourly = (
                    weights.staff_cost_per_hour
                    if volunteer.kind == "staff"
                    else weights.volunteer_cost_per_hour
                )
            terms["cost"] -= hourly * (visit.end - visit.start) / 60.0
    terms["lateness"] -= weights.max_lateness_per_min * largest_lateness
    load_by_volunteer: dict[str, float] = defaultdict(float)
    for (volunteer_id, _), day_visits in days.items():
        place = travel.start_place[volunteer_id]
        metres = minutes = 0.0
        for visit in sorted(day_visits, key=lambda item: item.start):
            here = travel.recipient_place[visit.recipient]
            metres += travel.distance(place, here)
            minutes += travel.travel_min(volunteer_id, place, here) + visit.end - visit.start
            place = here
        home = travel.home_place[volunteer_id]
        metres += travel.distance(place, home)
        minutes += travel.travel_min(volunteer_id, place, home)
        terms["travel"] -= weights.travel_per_km * metres / 1000.0
        load_by_volunteer[volunteer_id] += minutes
    shares = offered_shares(problem.volunteers)
    total_load = sum(load_by_volunteer.values())
    terms["fairness"] -= weights.fairness * sum(
        max(0.0, load_by_volunteer[volunteer_id] - share * total_load)
        for volunteer_id, share in shares.items()
        if share > 0
    )
    terms["total"] = sum(terms[name] for name in TERMS)
    return terms
