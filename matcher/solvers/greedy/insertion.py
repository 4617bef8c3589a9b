"""Inserting a visit into one outing of a volunteer's day: where it can go, when it can start,
and what it costs.

A position in an outing lies between two of its visits, which keep their times. The new visit
gets the whole minutes that keep every time rule: travel from the previous stop (the start
place, leaving at or after the outing opens, when it is first) and to the next (home, back by
the outing's close, when it is last), the need's windows (`NeedFacts.late_windows_by_day`) and
the recipient's other visits (`rules.subtract_busy`). A leg longer than `max_trip_distance_m`,
or an outing whose whole walk would pass `max_outing_distance_m`, is never tried.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from matcher.rules import subtract_busy
from matcher.rules.intervals import Interval
from matcher.solvers.greedy.setup import (
    EPS,
    FAR,
    MAX_TEAM_COMBINATIONS,
    ROW_CACHE_SIZE,
    Helper,
    NeedInfo,
    Setup,
)
from matcher.solvers.greedy.state import Day, Outing, WeekState


@dataclass(frozen=True, slots=True)
class Option:
    """A feasible insertion: day, common start, and each volunteer's outing, position in it and
    added minutes.

    For a linked pair, volunteers[0] makes the leader's visit at `start` and volunteers[1] the
    partner's at `second_start`. `lateness` is the largest minutes late of its visits.
    """

    day: int
    start: int
    volunteers: tuple[int, ...]
    outings: tuple[int, ...]
    positions: tuple[int, ...]
    added_minutes: tuple[float, ...]
    cost: float
    tie: tuple[int, ...]
    lateness: float = 0.0
    second_start: int = -1


Position = tuple[float, int, int, float, float, float]
"""(added metres, outing, position, minutes in, minutes out, added travel minutes)."""
Choice = tuple[int, int, float, int, int, float]
"""(first start, last start, cost without lateness, outing, position, added minutes)."""
Member = tuple[float, int, int, list[Choice]]
"""(cheapest cost, rank, volunteer, choices) of a possible team member."""
ChoiceStamp = tuple[int, int, float, bool]
"""What a volunteer's choices for a need depend on: (volunteer-day version, recipient-day
version, the volunteer's weekly minutes, whether they already make one of the need's
visits)."""


class Insertions:
    """Finds the cheapest insertions of a need's visit into the volunteers' outings."""

    def __init__(self, setup: Setup, state: WeekState) -> None:
        self.setup = setup
        self.state = state
        self.weights = setup.weights
        self.parameters = setup.parameters
        self._rows: dict[int, tuple[list[float], list[float]]] = {}
        self._time_rows: dict[int, tuple[list[float], list[float]]] = {}
        self.day_version: np.ndarray | None = None
        self.recipient_version: np.ndarray | None = None
        """The versions of volunteer-days and recipient-days (`InsertionCache`), once a cache
        keeps them: `member_choices` then remembers its answers until what they depend on
        changes."""
        self._choices: dict[tuple[int, int, int], tuple[ChoiceStamp, list[Choice]]] = {}

    # ------------------------------------------------------------- travel rows

    def _distance_rows(self, place: int) -> tuple[list[float], list[float]]:
        """Distances from every place to `place` and from `place` to every place, as lists."""
        rows = self._rows.get(place)
        if rows is None:
            if len(self._rows) >= ROW_CACHE_SIZE:
                del self._rows[next(iter(self._rows))]
            distance = self.setup.travel.distance_m
            rows = (distance[:, place].tolist(), distance[place, :].tolist())
            self._rows[place] = rows
        return rows

    def _travel_rows(self, place: int) -> tuple[list[float], list[float]]:
        """Explicit travel minutes from every place to `place` and back, as lists (the travel
        matrix must give minutes)."""
        rows = self._time_rows.get(place)
        if rows is None:
            times = self.setup.times
            assert times is not None
            if len(self._time_rows) >= ROW_CACHE_SIZE:
                del self._time_rows[next(iter(self._time_rows))]
            rows = (times[:, place].tolist(), times[place, :].tolist())
            self._time_rows[place] = rows
        return rows

    # ------------------------------------------------------------ time rules

    def least_late_start(self, info: NeedInfo, day: int, starts: list[Interval]) -> int:
        """Among the first minutes of the start intervals, the least late, earliest on ties.

        The first minute of an interval is its least late start, and every start lies in an
        interval of the window it is measured against, so no other start is less late.
        """
        if not info.need.soft_window:
            return starts[0][0]
        return min(
            (first for first, _ in starts),
            key=lambda first: (info.lateness(day, first), first),
        )

    def start_intervals(
        self,
        info: NeedInfo,
        day: int,
        outing: Outing,
        position: int,
        minutes_in: float,
        minutes_out: float,
    ) -> list[Interval]:
        """Whole-minute starts at this position of the outing that keep every time rule,
        earliest first."""
        count = len(outing.starts)
        low = outing.opens + minutes_in if position == 0 else outing.ends[position - 1] + minutes_in
        high = (
            outing.closes - minutes_out
            if position == count
            else outing.starts[position] - minutes_out
        )
        duration = info.duration
        if high - low < duration - EPS:
            return []
        found: list[Interval] = []
        for allowed_start, allowed_end in info.allowed[day]:
            first = math.ceil(max(low, allowed_start) - EPS)
            last = math.floor(min(high, allowed_end) - duration + EPS)
            if first <= last:
                found.append((first, last))
        if not found:
            return found
        busy = self.state.busy_for(info, day)
        if busy:
            return subtract_busy(found, busy, duration)
        found.sort()
        return found

    def positions(self, info: NeedInfo, helper: Helper, state: Day, day: int) -> list[Position]:
        """Positions in the day's outings whose new legs and outing walk are short enough, by
        added metres; of several outings, those that share no window with the visit are
        skipped (a day's only outing shares one, or the volunteer would not be a candidate)."""
        to_place, from_place = self._distance_rows(info.place)
        timed = self.setup.times is not None
        if timed:
            minutes_to, minutes_from = self._travel_rows(info.place)
        trip_limit, outing_limit, speed = helper.max_trip_m, helper.max_outing_m, helper.speed
        duration, windows = info.duration, info.allowed[day]
        result: list[Position] = []
        outings = state.outings
        for index, outing in enumerate(outings):
            if len(outings) > 1 and not _shares_a_window(outing, windows, duration):
                continue
            places, legs = outing.places, outing.legs
            count = len(places)
            for position in range(count + 1):
                previous = helper.start_place if position == 0 else places[position - 1]
                following = helper.home_place if position == count else places[position]
                going, coming = to_place[previous], from_place[following]
                if going > trip_limit or coming > trip_limit:
                    continue
                removed = legs[position] if count and legs[position] < FAR else 0.0
                added = going + coming - removed
                if outing.distance_m + added > outing_limit + EPS:
                    continue
                if timed:
                    there, back = minutes_to[previous], minutes_from[following]
                    removed_min = outing.leg_minutes[position] if count else 0.0
                    removed_min = removed_min if math.isfinite(removed_min) else 0.0
                    result.append((added, index, position, there, back, there + back - removed_min))
                else:
                    result.append(
                        (added, index, position, going / speed, coming / speed, added / speed)
                    )
        result.sort()
        return result

    # ------------------------------------------------------------------ costs

    def static_cost(
        self, info: NeedInfo, volunteer: int, added_m: float, added_min: float
    ) -> float:
        """Points an insertion costs: travel, paid time, minus continuity and matches."""
        helper = self.setup.helpers[volunteer]
        cost = self.weights.travel_per_km * added_m / 1000.0
        cost += helper.cost_per_hour * added_min / 60.0
        cost -= self.setup.familiarity[info.recipient_index].get(volunteer, 0.0)
        need, person = info.need, helper.volunteer
        if need.preferred_gender is not None and person.gender == need.preferred_gender:
            cost -= self.parameters.gender_match_bonus
        if need.language is not None and need.language in person.languages:
            cost -= self.parameters.language_match_bonus
        return cost

    def dynamic_cost(self, info: NeedInfo, volunteer: int, added_min: float) -> float:
        """Points that depend on the plan so far: load above the fair share, keeping one
        volunteer."""
        load, target = self.state.load[volunteer], self.setup.target_load[volunteer]
        cost = self.weights.fairness * (
            max(0.0, load + added_min - target) - max(0.0, load - target)
        )
        if info.need.same_volunteer and volunteer in self.state.need_volunteers[info.index]:
            cost -= self.parameters.same_volunteer_bonus
        return cost

    @staticmethod
    def has_room(info: NeedInfo, helper: Helper, state: Day) -> bool:
        """Whether the volunteer's day (over all its outings) has room for one more visit and
        its load."""
        return (
            state.visits < helper.max_visits and state.carried + info.need.load <= helper.capacity
        )

    # ------------------------------------------------------------- one visit

    def single_option(self, info: NeedInfo, volunteer: int, day: int) -> Option | None:
        """The cheapest insertion of one visit into this volunteer's day: at the position adding
        the least travel, at its earliest start; with a soft window or explicit travel minutes,
        every position is weighed, lateness included, at its least late start."""
        helper = self.setup.helpers[volunteer]
        state = self.state.day(volunteer, day)
        if not self.has_room(info, helper, state):
            return None
        if self.state.load[volunteer] + info.duration > helper.max_minutes + EPS:
            return None
        weigh_every_position = info.need.soft_window or self.setup.times is not None
        best: Option | None = None
        for added_m, outing, position, minutes_in, minutes_out, added_travel in self.positions(
            info, helper, state, day
        ):
            starts = self.start_intervals(
                info, day, state.outings[outing], position, minutes_in, minutes_out
            )
            if not starts:
                continue
            added_min = info.duration + added_travel
            cost = self.static_cost(info, volunteer, added_m, added_min)
            start, lateness = starts[0][0], 0.0
            if info.need.soft_window:
                start = self.least_late_start(info, day, starts)
                lateness = info.lateness(day, start)
                cost += self.weights.lateness_per_min * lateness
            if best is None or cost < best.cost:
                best = Option(
                    day=day,
                    start=start,
                    volunteers=(volunteer,),
                    outings=(outing,),
                    positions=(position,),
                    added_minutes=(added_min,),
                    cost=cost,
                    tie=(helper.rank, day),
                    lateness=lateness,
                )
            if not weigh_every_position:
                break
        return best

    def member_choices(self, info: NeedInfo, volunteer: int, day: int) -> list[Choice]:
        """Ways a volunteer can make a visit together with others (a team, a linked pair);
        remembered while the volunteer's day, the recipient's day, the volunteer's weekly
        minutes and (for a `same_volunteer` need) whether they make one of its visits stay the
        same (`ChoiceStamp`): a team's or a pair's insertion is worked out again whenever any of
        its candidates changes, most of them unchanged."""
        if self.day_version is None or self.recipient_version is None:
            return self._member_choices(info, volunteer, day)
        stamp: ChoiceStamp = (
            int(self.day_version[volunteer, day]),
            int(self.recipient_version[info.recipient_index, day]),
            self.state.load[volunteer],
            info.need.same_volunteer and volunteer in self.state.need_volunteers[info.index],
        )
        key = (info.index, volunteer, day)
        known = self._choices.get(key)
        if known is not None and known[0] == stamp:
            return known[1]
        choices = self._member_choices(info, volunteer, day)
        self._choices[key] = (stamp, choices)
        return choices

    def _member_choices(self, info: NeedInfo, volunteer: int, day: int) -> list[Choice]:
        """`member_choices` worked out."""
        helper = self.setup.helpers[volunteer]
        state = self.state.day(volunteer, day)
        if not self.has_room(info, helper, state):
            return []
        room = helper.max_minutes - self.state.load[volunteer] + EPS
        choices: list[Choice] = []
        for added_m, outing, position, minutes_in, minutes_out, added_travel in self.positions(
            info, helper, state, day
        ):
            added_min = info.duration + added_travel
            if added_min > room:
                continue
            cost = self.static_cost(info, volunteer, added_m, added_min)
            cost += self.dynamic_cost(info, volunteer, added_min)
            for first, last in self.start_intervals(
                info, day, state.outings[outing], position, minutes_in, minutes_out
            ):
                choices.append((first, last, cost, outing, position, added_min))
        return choices

    def anchored_option(
        self, info: NeedInfo, day: int, earliest: int, latest: int, excluded: set[int]
    ) -> Option | None:
        """The cheapest single visit of the need on `day` starting between `earliest` and
        `latest`, by a candidate not in `excluded`."""
        best: tuple[float, int, int] | None = None
        best_option: Option | None = None
        for volunteer in info.candidates:
            if volunteer in excluded or day not in info.candidate_days[volunteer]:
                continue
            rank = self.setup.helpers[volunteer].rank
            for first, last, cost, outing, position, added_min in self.member_choices(
                info, volunteer, day
            ):
                start = max(first, earliest)
                if start > min(last, latest):
                    continue
                lateness = info.lateness(day, start)
                total = cost + self.weights.lateness_per_min * lateness
                if best is None or (total, start, rank) < best:
                    best = (total, start, rank)
                    best_option = Option(
                        day=day,
                        start=start,
                        volunteers=(volunteer,),
                        outings=(outing,),
                        positions=(position,),
                        added_minutes=(added_min,),
                        cost=total,
                        tie=(rank, day),
                        lateness=lateness,
                    )
        return best_option

    # ----------------------------------------------------------------- teams

    def team_option(self, info: NeedInfo, day: int, active: int) -> Option | None:
        """The cheapest team of `team_size` among the best few of the first `active`
        candidates, at a common start."""
        size = info.team_size
        members: list[Member] = []
        for volunteer in info.candidates[:active]:
            if day not in info.candidate_days[volunteer]:
                continue
            choices = self.member_choices(info, volunteer, day)
            if choices:
                cheapest = min(choice[2] for choice in choices)
                members.append((cheapest, self.setup.helpers[volunteer].rank, volunteer, choices))
        if len(members) < size:
            return None
        members.sort(key=lambda member: (member[0], member[1]))
        shortlist = members[: max(size, self.parameters.team_candidates)]
        option = self._best_team(info, shortlist, size, day)
        if option is None and len(shortlist) < len(members):
            option = self._best_team(info, members, size, day)
        return option

    def _best_team(
        self, info: NeedInfo, members: list[Member], size: int, day: int
    ) -> Option | None:
        """The cheapest combination of `size` members with a common start (lateness included),
        earliest on ties."""
        best: tuple[float, int, tuple[int, ...]] | None = None
        best_option: Option | None = None
        for team in itertools.islice(itertools.combinations(members, size), MAX_TEAM_COMBINATIONS):
            for start in sorted({choice[0] for member in team for choice in member[3]}):
                picks: list[Choice] = []
                for member in team:
                    fitting = [choice for choice in member[3] if choice[0] <= start <= choice[1]]
                    if not fitting:
                        break
                    picks.append(min(fitting, key=lambda choice: (choice[2], choice[3], choice[4])))
                else:
                    lateness = info.lateness(day, start)
                    total = sum(pick[2] for pick in picks)
                    total += self.weights.lateness_per_min * lateness
                    ranks = tuple(member[1] for member in team)
                    if best is None or (total, start, ranks) < best:
                        best = (total, start, ranks)
                        best_option = Option(
                            day=day,
                            start=start,
                            volunteers=tuple(member[2] for member in team),
                            outings=tuple(pick[3] for pick in picks),
                            positions=tuple(pick[4] for pick in picks),
                            added_minutes=tuple(pick[5] for pick in picks),
                            cost=total,
                            tie=(day,),
                            lateness=lateness,
                        )
        return best_option

    # ---------------------------------------------------------- linked pairs

    def _pair_members(
        self, info: NeedInfo, day: int, active: int
    ) -> list[tuple[int, int, list[Choice]]]:
        """The need's first `active` candidates who can make its visit on `day`: (rank,
        volunteer, choices)."""
        members = []
        for volunteer in info.candidates[:active]:
            if day not in info.candidate_days[volunteer]:
                continue
            choices = self.member_choices(info, volunteer, day)
            if choices:
                members.append((self.setup.helpers[volunteer].rank, volunteer, choices))
        return members

    def pair_option(
        self, info: NeedInfo, partner: NeedInfo, day: int, active: int, partner_active: int
    ) -> Option | None:
        """The cheapest linked pair on `day`: the leader's visit by one volunteer and its
        partner's by another, starting within the gap; each at its earliest start that allows
        the other's, which is its least late (lateness grows with the start within a window).

        Ties go to the earlier start, then the earlier second start, the volunteers' ranks and
        the order the candidates and their choices come in. The choices are tried cheapest
        first: lateness only adds, so none whose cost without it passes the best total so far
        can win, and the search stops there.
        """
        leaders = self._pair_members(info, day, active)
        followers = self._pair_members(partner, day, partner_active) if leaders else []
        if not followers:
            return None
        low, high = info.gap
        weight = self.weights.lateness_per_min
        firsts = sorted(
            (choice[2], number, index, rank, volunteer, choice)
            for number, (rank, volunteer, choices) in enumerate(leaders)
            for index, choice in enumerate(choices)
        )
        seconds = sorted(
            (choice[2], number, index, rank, volunteer, choice)
            for number, (rank, volunteer, choices) in enumerate(followers)
            for index, choice in enumerate(choices)
        )
        cheapest_second = seconds[0][0]
        best: tuple[float, int, int, tuple[int, int], int, int, int, int] | None = None
        best_option: Option | None = None
        for cost, number, index, rank, volunteer, choice in firsts:
            if best is not None and cost + cheapest_second > best[0]:
                break
            first, last, _, outing, position, added_min = choice
            for other_cost, other_number, other_index, other_rank, other, other_choice in seconds:
                if best is not None and cost + other_cost > best[0]:
                    break
                if other == volunteer:
                    continue
                other_first, other_last, _, other_outing, other_position, other_min = other_choice
                start = max(first, other_first - high)
                if start > min(last, other_last - low):
                    continue
                second = max(other_first, start + low)
                lateness = info.lateness(day, start)
                other_lateness = partner.lateness(day, second)
                total = cost + other_cost + weight * (lateness + other_lateness)
                key = (
                    total,
                    start,
                    second,
                    (rank, other_rank),
                    number,
                    other_number,
                    index,
                    other_index,
                )
                if best is not None and key >= best:
                    continue
                best = key
                best_option = Option(
                    day=day,
                    start=start,
                    volunteers=(volunteer, other),
                    outings=(outing, other_outing),
                    positions=(position, other_position),
                    added_minutes=(added_min, other_min),
                    cost=total,
                    tie=(day,),
                    lateness=max(lateness, other_lateness),
                    second_start=second,
                )
        return best_option


def _shares_a_window(outing: Outing, windows: tuple[Interval, ...], duration: int) -> bool:
    """Whether the outing and one of the windows overlap for at least `duration` minutes."""
    for start, end in windows:
        if min(outing.closes, end) - max(outing.opens, start) >= duration:
            return True
    return False
