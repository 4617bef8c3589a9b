"""The difference between the old plan and the new one, need by need: kept, moved, reassigned,
dropped (with the new plan's reason) and added, each with why."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Literal

from pydantic import Field

from matcher.checker import DAY_NAMES
from matcher.models import WEEKDAYS, Plan, Problem, ReasonCode, Visit, format_clock
from matcher.models.common import ClockTime, DayOfWeek, StrictModel
from matcher.replan.broken import pin_key, slot_key
from matcher.replan.changes import NewVolunteer, Touch
from matcher.replan.session_diff import SessionChange


class VisitSlot(StrictModel):
    """When and by whom a visit happens."""

    day: DayOfWeek
    date: dt.date | None = None
    start: ClockTime
    end: ClockTime
    volunteers: list[str]

    @classmethod
    def of(cls, visit: Visit) -> VisitSlot:
        """The slot of a (validated) visit."""
        return cls.model_construct(
            day=visit.day,
            date=visit.date,
            start=visit.start,
            end=visit.end,
            volunteers=list(visit.volunteers),
        )

    def text(self) -> str:
        """'Tue 09:00-09:30 by v3, v4'."""
        return (
            f"{DAY_NAMES[self.day][:3]} {format_clock(self.start)}-{format_clock(self.end)} "
            f"by {', '.join(self.volunteers)}"
        )


DropReason = ReasonCode | Literal["not_requested"]
"""Why a planned visit is now left out: the new plan's reason code, or `not_requested` when the
need no longer asks for it (its recipient is away)."""


class DiffEntry(StrictModel):
    """One occurrence of a need, before and after the change, and why it changed (or not)."""

    need: str
    recipient: str
    occurrence: int = Field(
        ge=1,
        description="its number in the new plan: of its visit, or, for a dropped visit, of "
        "the new plan's unplanned entry (the old plan's number when it has none)",
    )
    old_occurrence: int | None = Field(default=None, description="its number in the old plan")
    before: VisitSlot | None = None
    after: VisitSlot | None = None
    why: str
    reason: DropReason | None = Field(default=None, description="dropped: why it is not planned")
    message: str | None = Field(default=None, description="dropped: the reason in a sentence")

    def text(self) -> str:
        """One line: the need, the visit before and after, and why."""
        before = self.before.text() if self.before is not None else "-"
        after = self.after.text() if self.after is not None else "-"
        number = f"{self.need} #{self.occurrence}"  # as the plan numbers it ("need #2")
        if self.old_occurrence is not None and self.old_occurrence != self.occurrence:
            number += f" (was #{self.old_occurrence})"
        line = f"{number}: {before} -> {after}: {self.why}"
        if self.reason is not None:
            line += f" [{self.reason}]"
        return line


class PlanDiff(StrictModel):
    """How a new plan differs from the old one, visit by visit."""

    changes: list[str] = Field(default_factory=list, description="the changes, in words")
    kept: list[DiffEntry] = Field(default_factory=list)
    moved: list[DiffEntry] = Field(
        default_factory=list, description="same volunteers, another time or day"
    )
    reassigned: list[DiffEntry] = Field(default_factory=list, description="other volunteers")
    dropped: list[DiffEntry] = Field(
        default_factory=list, description="was planned, now is not (with the reason)"
    )
    added: list[DiffEntry] = Field(default_factory=list, description="newly planned")
    sessions: list[SessionChange] | None = Field(
        default=None,
        description="group sessions kept, given a new lead, moved, cancelled or added, with why "
        "(`matcher.replan.session_diff.SessionChange`); none when neither plan has sessions",
    )

    def counts(self) -> dict[str, int]:
        """How many visits fall in each category."""
        return {
            "kept": len(self.kept),
            "moved": len(self.moved),
            "reassigned": len(self.reassigned),
            "dropped": len(self.dropped),
            "added": len(self.added),
        }

    def summary(self) -> str:
        """The counts, then every visit that changed with why."""
        lines = [", ".join(f"{name} {count}" for name, count in self.counts().items())]
        for name in ("moved", "reassigned", "dropped", "added"):
            entries: list[DiffEntry] = getattr(self, name)
            lines += [f"{name}: {entry.text()}" for entry in entries]
        for change in self.sessions or []:
            if change.status != "kept":
                lines.append(f"session {change.status}: {change.text()}")
        return "\n".join(lines)


def _day_distance(first: Visit, second: Visit) -> int:
    return abs(WEEKDAYS.index(first.day) - WEEKDAYS.index(second.day))


def plan_diff(
    original: Problem,
    changed: Problem,
    old_plan: Plan,
    new_plan: Plan,
    why_changed: dict[int, str],
    touch: Touch,
) -> PlanDiff:
    """Match old and new visits need by need and sort each pair into kept, moved, reassigned,
    dropped or added, with why (`why_changed`: the old visits, by index, that were not pinned,
    and why)."""
    old_by_need: dict[str, list[int]] = defaultdict(list)
    for index, visit in enumerate(old_plan.visits):
        old_by_need[visit.need].append(index)
    new_by_need: dict[str, list[int]] = defaultdict(list)
    for index, visit in enumerate(new_plan.visits):
        new_by_need[visit.need].append(index)
    unassigned: dict[str, list[tuple[ReasonCode, str, int]]] = defaultdict(list)
    for item in new_plan.unassigned:
        unassigned[item.need].append((item.reason, item.message, item.occurrence))
    coordinator_pins = {pin_key(pin) for pin in changed.pinned}
    freed = _freed_days(old_plan.visits, why_changed)

    diff = PlanDiff(changes=touch.descriptions)
    for need_id in sorted(set(old_by_need) | set(new_by_need)):
        pairs, lone_old, lone_new = _match(
            old_plan.visits, new_plan.visits, old_by_need[need_id], new_by_need[need_id]
        )
        for old_index, new_index in pairs:
            old, new = old_plan.visits[old_index], new_plan.visits[new_index]
            entry = DiffEntry(
                need=need_id,
                recipient=new.recipient,
                occurrence=new.occurrence,
                old_occurrence=old.occurrence,
                before=VisitSlot.of(old),
                after=VisitSlot.of(new),
                why="",
            )
            if slot_key(old) == slot_key(new):
                why = (
                    "pinned by the coordinator"
                    if slot_key(old) in coordinator_pins
                    else "still possible: kept as planned"
                )
                diff.kept.append(entry.model_copy(update={"why": why}))
                continue
            entry = entry.model_copy(
                update={"why": why_changed.get(old_index, "re-planned after the changes")}
            )
            if set(old.volunteers) == set(new.volunteers):
                diff.moved.append(entry)
            else:
                diff.reassigned.append(entry)
        reasons = list(unassigned.get(need_id, []))
        no_longer_asked = _fewer_visits(original, changed, need_id)
        for old_index in lone_old:
            old = old_plan.visits[old_index]
            why = why_changed.get(old_index, "re-planned after the changes")
            number = old.occurrence
            if reasons and no_longer_asked <= 0:
                reason, message, number = reasons.pop(0)
                code: DropReason = reason
            else:
                no_longer_asked -= 1
                code, message = "not_requested", f"The need no longer asks for this visit: {why}."
            diff.dropped.append(
                DiffEntry(
                    need=need_id,
                    recipient=old.recipient,
                    occurrence=number,
                    old_occurrence=old.occurrence,
                    before=VisitSlot.of(old),
                    why=why,
                    reason=code,
                    message=message,
                )
            )
        for new_index in lone_new:
            new = new_plan.visits[new_index]
            diff.added.append(
                DiffEntry(
                    need=need_id,
                    recipient=new.recipient,
                    occurrence=new.occurrence,
                    after=VisitSlot.of(new),
                    why=_why_added(new, touch, freed),
                )
            )
    for entries in (diff.kept, diff.moved, diff.reassigned, diff.added):
        entries.sort(key=_entry_order)
    diff.dropped.sort(key=_entry_order)
    return diff


def _fewer_visits(original: Problem, changed: Problem, need_id: str) -> int:
    """How many fewer visits a week the need asks for after the changes (all, if removed)."""
    before = original.need_by_id.get(need_id)
    after = changed.need_by_id.get(need_id)
    if before is None:
        return 0
    return before.visits_per_week - (after.visits_per_week if after is not None else 0)


def _entry_order(entry: DiffEntry) -> tuple[int, int, str, int]:
    slot = entry.after if entry.after is not None else entry.before
    assert slot is not None
    return WEEKDAYS.index(slot.day), slot.start, entry.need, entry.occurrence


def _match(
    old_visits: list[Visit], new_visits: list[Visit], old: list[int], new: list[int]
) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Pair a need's old and new visits: identical ones first, then same volunteers, then the
    same day, then the nearest day and time; the rest are dropped (old) or added (new)."""

    def closeness(pair: tuple[int, int]) -> tuple[bool, bool, int, int, int, int]:
        first, second = old_visits[pair[0]], new_visits[pair[1]]
        return (
            slot_key(first) != slot_key(second),
            set(first.volunteers) != set(second.volunteers),
            _day_distance(first, second),
            abs(first.start - second.start),
            pair[0],
            pair[1],
        )

    candidates = sorted(((o, n) for o in old for n in new), key=closeness)
    used_old: set[int] = set()
    used_new: set[int] = set()
    pairs = []
    for old_index, new_index in candidates:
        if old_index in used_old or new_index in used_new:
            continue
        pairs.append((old_index, new_index))
        used_old.add(old_index)
        used_new.add(new_index)
    return (
        pairs,
        [index for index in old if index not in used_old],
        [index for index in new if index not in used_new],
    )


def _freed_days(old_visits: list[Visit], why_changed: dict[int, str]) -> dict[tuple[str, str], str]:
    """(volunteer, day) pairs that lost an old visit, with why: time that others may now use."""
    freed: dict[tuple[str, str], str] = {}
    for index, why in sorted(why_changed.items()):
        visit = old_visits[index]
        for volunteer in visit.volunteers:
            freed.setdefault((volunteer, visit.day), why)
    return freed


def _why_added(visit: Visit, touch: Touch, freed: dict[tuple[str, str], str]) -> str:
    """Which change made room for, or asked for, a newly planned visit."""
    if visit.need in touch.new_needs:
        return touch.descriptions[touch.new_needs[visit.need]]
    if visit.need in touch.window_changes:
        return touch.descriptions[touch.window_changes[visit.need]]
    for index, change in enumerate(touch.changes):
        if isinstance(change, NewVolunteer) and change.volunteer.id in visit.volunteers:
            return touch.descriptions[index]
    for volunteer in visit.volunteers:
        if (volunteer, visit.day) in freed:
            return f"time freed because {freed[(volunteer, visit.day)]}"
    return "left out before, it fits now (re-tried after: " + "; ".join(touch.descriptions) + ")"


__all__ = ["DiffEntry", "DropReason", "PlanDiff", "VisitSlot", "plan_diff"]
