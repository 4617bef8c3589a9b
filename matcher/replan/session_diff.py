"""How a re-plan's group sessions differ from the old plan's, session by session, and why.

Per group service, an old session matches the new one at the same venue, day and start (kept, or
`new_lead` when its leads changed); the old sessions left over match the new ones left over in
time order (`moved`); an old session without a match is `cancelled` and a new one without a
match `added`. The why names the first change that touches the old session (its venue closed
that day, or a lead or helper cancelled it), and for a cancelled session the reason its wishes
now go unseated.
"""

from __future__ import annotations

from collections import Counter
from typing import Literal

from pydantic import Field

from matcher.models import WEEKDAYS, Plan, Problem, Session, format_clock
from matcher.models.common import StrictModel
from matcher.replan.changes import ChangeList, VenueClosed, VolunteerUnavailable

SessionStatus = Literal["kept", "new_lead", "moved", "cancelled", "added"]


class SessionChange(StrictModel):
    """One session of the old plan or the new, and what became of it."""

    group_service: str
    status: SessionStatus
    old: str | None = Field(default=None, description="the old session: id, venue, day, time")
    new: str | None = Field(default=None, description="the new session: id, venue, day, time")
    why: str = ""

    def text(self) -> str:
        """'choir: room Tue 09:00 (v1) -> hall Thu 09:00 (v1): venue room closed on Tuesday'."""
        where = " -> ".join(part for part in (self.old, self.new) if part)
        return f"{self.group_service}: {where}" + (f": {self.why}" if self.why else "")


def _label(session: Session) -> str:
    return (
        f"{session.id} at {session.venue} {session.day} {format_clock(session.start)} "
        f"({', '.join(session.leads)})"
    )


def _cause(problem: Problem, changes: ChangeList, session: Session) -> str:
    """The first change that touches the session, in words, or ''."""
    staff = {*session.leads, *session.helpers}
    for change in changes.changes:
        closes = (
            isinstance(change, VenueClosed)
            and change.venue == session.venue
            and session.day in change.closed_days()
        )
        cancels = (
            isinstance(change, VolunteerUnavailable)
            and change.volunteer in staff
            and session.day in change.cancelled_days()
        )
        if closes or cancels:
            return change.describe(problem)
    return ""


def session_diff(
    original: Problem, changes: ChangeList, old_plan: Plan, new_plan: Plan
) -> list[SessionChange] | None:
    """The session changes of a re-plan; None when neither plan has sessions."""
    if old_plan.sessions is None and new_plan.sessions is None:
        return None
    old = list(old_plan.sessions or [])
    new = list(new_plan.sessions or [])
    found: list[SessionChange] = []
    services = list(dict.fromkeys([s.group_service for s in old] + [s.group_service for s in new]))
    unseated = Counter((item.group_service, item.reason) for item in new_plan.unseated or [])
    for service in services:
        before = sorted((s for s in old if s.group_service == service), key=_order)
        after = sorted((s for s in new if s.group_service == service), key=_order)
        for session in list(before):
            same = next(
                (
                    s
                    for s in after
                    if (s.venue, s.day, s.start) == (session.venue, session.day, session.start)
                ),
                None,
            )
            if same is None:
                continue
            before.remove(session)
            after.remove(same)
            status: SessionStatus = "kept" if same.leads == session.leads else "new_lead"
            found.append(
                SessionChange(
                    group_service=service,
                    status=status,
                    old=_label(session),
                    new=_label(same) if status != "kept" else None,
                    why=_cause(original, changes, session) if status != "kept" else "",
                )
            )
        for session, replacement in zip(before, after, strict=False):
            found.append(
                SessionChange(
                    group_service=service,
                    status="moved",
                    old=_label(session),
                    new=_label(replacement),
                    why=_cause(original, changes, session) or "re-planned",
                )
            )
        for session in before[len(after) :]:
            reasons = [reason for (name, reason), _ in unseated.most_common() if name == service]
            cause = _cause(original, changes, session) or "re-planned"
            if reasons:
                cause += f"; its wishes now go unseated ({', '.join(reasons)})"
            found.append(
                SessionChange(
                    group_service=service, status="cancelled", old=_label(session), why=cause
                )
            )
        for session in after[len(before) :]:
            found.append(SessionChange(group_service=service, status="added", new=_label(session)))
    return found


def _order(session: Session) -> tuple[int, int, str]:
    return WEEKDAYS.index(session.day), session.start, session.id


__all__ = ["SessionChange", "SessionStatus", "session_diff"]
