"""Who may serve a need at all: the hard rules about a person, whatever the time or place.

A volunteer qualifies for a need when the service serves that kind of recipient, they have every
required skill, they are verified where money, documents or medicine are involved, they are
background-checked when the recipient is a child, and the recipient has not excluded them.
Gender and language are preferences (scored, never required). The checker enforces the same
rules independently; everything else asks here.
"""

from __future__ import annotations

from typing import Literal

from matcher.models import Problem, Recipient, Service, Volunteer

Unqualified = Literal["excluded", "recipient_kind", "skills", "verified", "background_check"]
"""Why a volunteer may not serve a need, in the order the rules are judged."""


def qualification_failures(
    service: Service, recipient: Recipient, volunteer: Volunteer
) -> list[Unqualified]:
    """Every rule that rules this volunteer out of serving this recipient with this service."""
    failures: list[Unqualified] = []
    if volunteer.id in recipient.excluded_volunteers:
        failures.append("excluded")
    if recipient.kind not in service.recipient_kinds:
        failures.append("recipient_kind")
    if not set(service.required_skills) <= set(volunteer.skills):
        failures.append("skills")
    if service.requires_verified and not volunteer.verified:
        failures.append("verified")
    if recipient.kind == "child" and not volunteer.background_checked:
        failures.append("background_check")
    return failures


def missing_skills(service: Service, volunteer: Volunteer) -> list[str]:
    """The service's skills this volunteer lacks, sorted."""
    return sorted(set(service.required_skills) - set(volunteer.skills))


def is_qualified(service: Service, recipient: Recipient, volunteer: Volunteer) -> bool:
    """Skills, verification, background check, kind of recipient, not excluded."""
    return not qualification_failures(service, recipient, volunteer)


def qualified_volunteers(problem: Problem, service: Service, recipient: Recipient) -> list[str]:
    """Ids of the volunteers who qualify, in the problem's order."""
    return [
        volunteer.id
        for volunteer in problem.volunteers
        if is_qualified(service, recipient, volunteer)
    ]


def qualification_key(service: Service, recipient: Recipient) -> tuple[str, str, frozenset[str]]:
    """What `qualification_failures` reads of the service and the recipient: two needs with the
    same key have the same qualified volunteers. Keep it in step with the rules above."""
    return service.id, recipient.kind, frozenset(recipient.excluded_volunteers)


def skills_nobody_has(problem: Problem, service: Service) -> list[str]:
    """The service's required skills that no volunteer of the problem has, sorted."""
    known = {skill for volunteer in problem.volunteers for skill in volunteer.skills}
    return sorted(set(service.required_skills) - known)
