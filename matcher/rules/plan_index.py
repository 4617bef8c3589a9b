"""A plan's visits indexed the ways the rules look at them: per volunteer-day, per need, per
recipient-day."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from matcher.models import WEEKDAYS, Visit


@dataclass
class PlanIndex:
    """Who does what when, for a list of visits."""

    by_volunteer_day: dict[tuple[str, int], list[Visit]] = field(default_factory=dict)
    """(volunteer id, weekday index) -> the volunteer's visits that day, in start order."""
    days_of_need: dict[str, list[int]] = field(default_factory=dict)
    """need id -> the weekday indices of its planned visits, sorted."""
    by_recipient_day: dict[tuple[str, int], list[Visit]] = field(default_factory=dict)
    """(recipient id, weekday index) -> the recipient's visits that day, in start order."""
    visits_of_volunteer: dict[str, list[Visit]] = field(default_factory=dict)

    @classmethod
    def of(cls, visits: Iterable[Visit]) -> PlanIndex:
        by_volunteer_day: dict[tuple[str, int], list[Visit]] = defaultdict(list)
        days_of_need: dict[str, list[int]] = defaultdict(list)
        by_recipient_day: dict[tuple[str, int], list[Visit]] = defaultdict(list)
        visits_of_volunteer: dict[str, list[Visit]] = defaultdict(list)
        for visit in visits:
            day = WEEKDAYS.index(visit.day)
            days_of_need[visit.need].append(day)
            by_recipient_day[(visit.recipient, day)].append(visit)
            for volunteer in visit.volunteers:
                by_volunteer_day[(volunteer, day)].append(visit)
                visits_of_volunteer[volunteer].append(visit)
        for day_visits in (*by_volunteer_day.values(), *by_recipient_day.values()):
            day_visits.sort(key=lambda item: (item.start, item.end, item.need, item.occurrence))
        return cls(
            by_volunteer_day=dict(by_volunteer_day),
            days_of_need={need: sorted(days) for need, days in days_of_need.items()},
            by_recipient_day=dict(by_recipient_day),
            visits_of_volunteer=dict(visits_of_volunteer),
        )

    def volunteer_day(self, volunteer: str, day: int) -> list[Visit]:
        """The volunteer's visits on that day, in start order."""
        return self.by_volunteer_day.get((volunteer, day), [])

    def need_days(self, need: str) -> list[int]:
        """The days the need's visits are planned on."""
        return self.days_of_need.get(need, [])

    def minutes_on_site(self, volunteer: str) -> int:
        """The volunteer's minutes on site over the week."""
        return sum(visit.end - visit.start for visit in self.visits_of_volunteer.get(volunteer, []))
