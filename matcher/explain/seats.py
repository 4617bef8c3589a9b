"""Why each seat an attendance wish asks for is not in the plan, with the facts behind it.

The reason is `matcher.rules.session_diagnosis`'s for the explained plan (the diagnosis every
plan's `unseated` comes from), so a plan and `matcher explain` agree by construction. The
details say what a coordinator can act on: the nearest venue and the walking limit, the
sessions that are full, how many could come at the best slot against the minimum, the people
who could lead and why each cannot.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from matcher.messages import Language, checked_language, message, seat_message
from matcher.models import Plan, Problem, SeatReason
from matcher.rules.session_diagnosis import SeatDiagnoser
from matcher.rules.sessions import (
    candidate_venues,
    lead_failures,
    seats_at,
    serves_children,
    walking_limit_m,
)
from matcher.travel import TravelModel


class SeatExplanation(BaseModel):
    """An unseated wish's seat, its reason, the sentence and the facts behind it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    recipient: str
    wish: str
    group_service: str
    occurrence: int
    reason: SeatReason
    message: str
    details: list[str]


def explain_unseated(
    problem: Problem,
    plan: Plan,
    *,
    language: str | None = None,
    travel: TravelModel | None = None,
) -> list[SeatExplanation]:
    """Every seat wished and not in the plan, with the reason and what lies behind it."""
    travel = travel if travel is not None else TravelModel(problem)
    voice = checked_language(language if language is not None else problem.policy.language)
    sessions = plan.sessions or []
    diagnoser = SeatDiagnoser(problem, travel, plan.visits, sessions)
    listed = plan.unseated or []
    stopped = bool(listed) and all(item.reason == "not_planned" for item in listed)
    found = []
    for item in diagnoser.missing(stopped=stopped):
        found.append(
            SeatExplanation(
                recipient=item.recipient,
                wish=item.wish,
                group_service=item.group_service,
                occurrence=item.occurrence,
                reason=item.reason,
                message=seat_message(item.reason, voice),
                details=_details(problem, travel, plan, item.wish, item.reason, voice),
            )
        )
    return found


def _details(
    problem: Problem,
    travel: TravelModel,
    plan: Plan,
    wish_id: str,
    reason: SeatReason,
    voice: Language,
) -> list[str]:
    wish = problem.wish_by_id[wish_id]
    recipient = problem.recipient_of_wish[wish_id]
    service = problem.group_service_by_id[wish.group_service]
    name = service.name or service.id
    home = travel.recipient_place[recipient.id]
    details: list[str] = []
    if reason == "cannot_walk":
        details.append(message("seat.detail.no_walk", voice, level=recipient.disability_level))
    elif reason == "too_far_to_walk":
        limit = walking_limit_m(problem, recipient, escorted=wish.escort) or 0.0
        venues = candidate_venues(problem, service)
        if venues:
            nearest = min(
                venues, key=lambda v: (travel.distance(home, travel.venue_place[v.id]), v.id)
            )
            distance = travel.distance(home, travel.venue_place[nearest.id])
            details.append(
                message(
                    "seat.detail.nearest",
                    voice,
                    venue=nearest.name or nearest.id,
                    distance_m=f"{distance:.0f}",
                    limit_m=f"{limit:.0f}",
                )
            )
    elif reason == "session_full":
        for session in plan.sessions or []:
            if session.group_service != service.id:
                continue
            venue = problem.venue_by_id[session.venue]
            details.append(
                message(
                    "seat.detail.full",
                    voice,
                    session=session.id,
                    day=message(f"day.{session.day}", voice),
                    start=f"{session.start // 60:02d}:{session.start % 60:02d}",
                    venue=venue.name or venue.id,
                    seats=len(session.attendees),
                    capacity=seats_at(service, venue),
                )
            )
    elif reason == "held_elsewhere":
        held = [s for s in plan.sessions or [] if s.group_service == service.id]
        where = ", ".join(f"{s.venue} {s.day}" for s in held)
        details.append(
            message("seat.detail.held", voice, service=name, held=len(held), where=where)
        )
    elif reason in ("no_lead_free", "below_minimum"):
        children = serves_children(service)
        able = [v for v in problem.volunteers if not lead_failures(service, v, children=children)]
        details.append(message("seat.detail.leads", voice, count=len(able), service=name))
        if not able:
            for volunteer in problem.volunteers[:5]:
                rules = ", ".join(lead_failures(service, volunteer, children=children))
                details.append(
                    message(
                        "seat.detail.lead_rule",
                        voice,
                        volunteer=volunteer.name or volunteer.id,
                        rules=rules,
                    )
                )
    return details


def render_seat_explanations(explanations: list[SeatExplanation]) -> str:
    """The explanations as text: one line per unseated wish, then its details."""
    lines: list[str] = []
    for item in explanations:
        lines.append(
            f"{item.wish} #{item.occurrence} ({item.group_service}) [{item.reason}] {item.message}"
        )
        lines.extend(f"  - {detail}" for detail in item.details)
    return "\n".join(lines)


__all__ = ["SeatExplanation", "explain_unseated", "render_seat_explanations"]
