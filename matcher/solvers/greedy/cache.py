"""Cached insertions: the best insertion of each need into each (volunteer, day), kept until it
may have changed.

A single visit's insertion into a volunteer's day depends on that day's outings and on the
recipient's visits that day; a team's or a linked pair's (cached per day) also on each
candidate's week, through the weekly minutes.

Single visits are judged by versions: every change to a volunteer's day or a recipient's day
takes a new number from one clock, and a cached insertion remembers the numbers it was worked
out under; it is recomputed when it is weighed and a number moved (or, when it was refused only
for the volunteer's weekly minutes, when those minutes fell). A change costs two numbers however
many needs could use the day, and weighing a need compares its numbers in one numpy pass.
Teams and linked pairs watch what they depend on instead, and a
commit marks the watchers of what it touched as stale.

A search that takes visits out again (`matcher.solvers.ruin`) can keep a journal of a move: the
versions and cached insertions it changed. Once the week is put back exactly, `rollback` gives
back the old numbers and insertions, which are right again (the clock never hands out a number
twice, so nothing worked out during the move passes for current). Candidates join in steps,
nearest first, so that only the few nearest qualified volunteers are tried until they are all
full.
"""

from __future__ import annotations

import numpy as np

from matcher.solvers.greedy.insertion import Insertions, Option
from matcher.solvers.greedy.setup import EPS, NeedInfo, Setup
from matcher.solvers.greedy.state import WeekState

SlotKey = tuple[int, int]
"""(volunteer index, day index) for a single visit; (-1, day index) for a team or a pair."""
Watcher = tuple[int, SlotKey]
"""(need index, slot key) of a cached insertion of a team or a pair that depends on some state."""
Stamp = tuple[int, int, bool]
"""(volunteer-day version, recipient-day version, refused for the weekly minutes) of a single
visit's cached insertion; versions are -1 before it is first worked out."""


def combined(info: NeedInfo) -> bool:
    """Whether the need's visits are placed as one insertion over several volunteers' days (a
    team, or a linked pair), cached per day rather than per volunteer and day."""
    return info.team_size > 1 or info.partner >= 0


class Journal:
    """What a move changed in the cache, in order, to give it back (`InsertionCache.rollback`)."""

    __slots__ = ("days", "entries", "recipients")

    def __init__(self) -> None:
        self.days: list[tuple[int, int, int]] = []
        """(volunteer, day, old version)."""
        self.recipients: list[tuple[int, int, int]] = []
        """(recipient, day, old version)."""
        self.entries: list[
            tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[int, Option]]
        ] = []
        """(need, key numbers, their old day stamps, recipient stamps and refusals, and those
        of their old insertions that existed) of single visits recomputed together."""


class InsertionCache:
    """The cached insertions of every need, what each depends on and which are stale."""

    def __init__(self, setup: Setup, state: WeekState, insertions: Insertions) -> None:
        self.setup = setup
        self.state = state
        self.insertions = insertions
        count = len(setup.needs)
        self.entries: list[dict[SlotKey, Option | None]] = [{} for _ in range(count)]
        self.stale: list[set[SlotKey]] = [set() for _ in range(count)]
        """Stale cached insertions of teams and pairs."""
        self.keys: list[list[SlotKey]] = [[] for _ in range(count)]
        """The (volunteer, day) of each single visit's cached insertions, in the order their
        candidates joined; the arrays below are numbered alike."""
        empty = np.zeros(0, dtype=np.int64)
        self.key_volunteers: list[np.ndarray] = [empty] * count
        self.key_days: list[np.ndarray] = [empty] * count
        self.stamp_day: list[np.ndarray] = [empty] * count
        """The volunteer-day version each insertion was worked out under (-1: not yet)."""
        self.stamp_recipient: list[np.ndarray] = [empty] * count
        self.refused: list[np.ndarray] = [np.zeros(0, dtype=bool)] * count
        """Whether it was refused with the volunteer's weekly minutes too full for the visit."""
        self.feasible: list[dict[int, Option]] = [{} for _ in range(count)]
        """Each single visit's cached insertions that exist, by key number."""
        self.clock = 0
        self.day_version = np.zeros((len(setup.helpers), 7), dtype=np.int64)
        self.recipient_version = np.zeros((len(setup.problem.recipients), 7), dtype=np.int64)
        insertions.day_version = self.day_version
        insertions.recipient_version = self.recipient_version
        self.max_minutes = np.array([helper.max_minutes for helper in setup.helpers], dtype=float)
        self.max_visits = np.array([helper.max_visits for helper in setup.helpers], dtype=np.int64)
        self.capacity = np.array([helper.capacity for helper in setup.helpers], dtype=float)
        self.active = [0] * count
        """How many of each need's candidates compete so far."""
        self.wanted = [0] * count
        self.watch_day: dict[tuple[int, int], set[Watcher]] = {}
        self.watch_recipient: dict[tuple[int, int], set[Watcher]] = {}
        self.watch_load: dict[int, set[Watcher]] = {}
        self.track_all = False
        """Mark the insertions of teams and pairs with no occurrence left stale too: a search
        that takes visits out again (`matcher.solvers.ruin`) weighs them later."""
        self.journal: Journal | None = None
        """The journal changes are written to, if a move keeps one."""

    def activate(self, need: int, count: int) -> bool:
        """Let the first `count` candidates of the need (and of its partner, for a linked pair)
        compete; False if none were added."""
        info = self.setup.needs[need]
        added = self._activate_candidates(info, info, count)
        if info.partner >= 0:
            partner = self.setup.needs[info.partner]
            added = self._activate_candidates(partner, info, count) or added
        return added

    def _activate_candidates(self, info: NeedInfo, owner: NeedInfo, count: int) -> bool:
        """Let the first `count` candidates of `info` compete for the cached insertions of
        `owner` (the need itself, or the leader of its pair); False if none were added."""
        begin, end = self.active[info.index], min(count, len(info.candidates))
        if end <= begin:
            return False
        self.active[info.index] = end
        if not combined(owner):
            self._add_keys(owner.index, info.candidates[begin:end])
            return True
        for volunteer in info.candidates[begin:end]:
            for day in info.candidate_days[volunteer]:
                key: SlotKey = (-1, day)
                watcher = (owner.index, key)
                self.watch_day.setdefault((volunteer, day), set()).add(watcher)
                self.watch_recipient.setdefault((info.recipient_index, day), set()).add(watcher)
                self.watch_load.setdefault(volunteer, set()).add(watcher)
                self.stale[owner.index].add(key)
        self.stale[owner.index].update(self.entries[owner.index])
        return True

    def options(self, need: int) -> list[Option | None]:
        """The need's cached insertions, those that may have changed recomputed first."""
        info = self.setup.needs[need]
        if not combined(info):
            return self._single_options(info)
        stale, entries = self.stale[need], self.entries[need]
        if stale:
            for key in sorted(stale):
                day = key[1]
                if info.partner >= 0:
                    entries[key] = self.insertions.pair_option(
                        info,
                        self.setup.needs[info.partner],
                        day,
                        self.active[info.index],
                        self.active[info.partner],
                    )
                else:
                    entries[key] = self.insertions.team_option(info, day, self.active[info.index])
            stale.clear()
        return list(entries.values())

    def _add_keys(self, need: int, volunteers: list[int]) -> None:
        """Cache the single visit's insertions into these volunteers' candidate days too."""
        info = self.setup.needs[need]
        added = [
            (volunteer, day) for volunteer in volunteers for day in info.candidate_days[volunteer]
        ]
        if not added:
            return
        self.keys[need].extend(added)
        fresh = np.array(added, dtype=np.int64).reshape(-1, 2)
        unknown = np.full(len(added), -1, dtype=np.int64)
        self.key_volunteers[need] = np.concatenate([self.key_volunteers[need], fresh[:, 0]])
        self.key_days[need] = np.concatenate([self.key_days[need], fresh[:, 1]])
        self.stamp_day[need] = np.concatenate([self.stamp_day[need], unknown])
        self.stamp_recipient[need] = np.concatenate([self.stamp_recipient[need], unknown])
        self.refused[need] = np.concatenate([self.refused[need], np.zeros(len(added), dtype=bool)])

    def _single_options(self, info: NeedInfo) -> list[Option | None]:
        """A single visit's cached insertions that exist, each recomputed first when its
        volunteer's day or its recipient's day changed since, or when it was refused for weekly
        minutes that have fallen enough."""
        need = info.index
        volunteers = self.key_volunteers[need]
        if not volunteers.size:
            return []
        days = self.key_days[need]
        stamp_day, stamp_recipient, refused = (
            self.stamp_day[need],
            self.stamp_recipient[need],
            self.refused[need],
        )
        day_versions = self.day_version[volunteers, days]
        recipient_versions = self.recipient_version[info.recipient_index][days]
        changed = (day_versions != stamp_day) | (recipient_versions != stamp_recipient)
        duration = info.duration
        if refused.any():
            changed |= refused & (
                np.asarray(self.state.load)[volunteers] + duration
                <= self.max_minutes[volunteers] + EPS
            )
        feasible = self.feasible[need]
        stale = np.flatnonzero(changed)
        if not stale.size:
            return list(feasible.values())
        if self.journal is not None:
            numbers = stale.tolist()
            self.journal.entries.append(
                (
                    need,
                    stale,
                    stamp_day[stale],
                    stamp_recipient[stale],
                    refused[stale],
                    {number: feasible[number] for number in numbers if number in feasible},
                )
            )
        stamp_day[stale] = day_versions[stale]
        stamp_recipient[stale] = recipient_versions[stale]
        stale_volunteers, stale_days = volunteers[stale], days[stale]
        state = self.state
        too_long = np.asarray(state.load)[stale_volunteers] + duration > (
            self.max_minutes[stale_volunteers] + EPS
        )
        refused[stale] = too_long
        open_day = ~too_long
        open_day &= (
            state.day_visits[stale_volunteers, stale_days] < self.max_visits[stale_volunteers]
        )
        open_day &= (
            state.day_carried[stale_volunteers, stale_days] + info.need.load
            <= self.capacity[stale_volunteers]
        )
        if feasible:
            for number in set(stale[~open_day].tolist()).intersection(feasible):
                del feasible[number]
        keys = self.keys[need]
        for number in stale[open_day].tolist():
            volunteer, day = keys[number]
            option = self.insertions.single_option(info, volunteer, day)
            if option is None:
                feasible.pop(number, None)
            else:
                feasible[number] = option
        return list(feasible.values())

    def touched(self, info: NeedInfo, option: Option) -> None:
        """Note that the committed option changed its volunteers' days and its recipient's
        day (`touch`)."""
        self.touch(info, option.day, option.volunteers)

    def touch(self, info: NeedInfo, day: int, volunteers: tuple[int, ...] | list[int]) -> None:
        """A visit of the need went into or out of these volunteers' day: new versions for
        their days and the recipient's, and every cached insertion of a team or a pair that
        watches them, or the volunteers' weeks, marked stale."""
        journal = self.journal
        self.clock += 1
        clock = self.clock
        recipient = info.recipient_index
        if journal is not None:
            journal.recipients.append((recipient, day, int(self.recipient_version[recipient, day])))
        self.recipient_version[recipient, day] = clock
        for volunteer in volunteers:
            if journal is not None:
                journal.days.append((volunteer, day, int(self.day_version[volunteer, day])))
            self.day_version[volunteer, day] = clock
        touched: list[set[Watcher]] = []
        for volunteer in volunteers:
            touched.append(self.watch_day.get((volunteer, day), set()))
            touched.append(self.watch_load.get(volunteer, set()))
        touched.append(self.watch_recipient.get((info.recipient_index, day), set()))
        remaining = self.state.remaining
        every = self.track_all
        for watchers in touched:
            for other, key in watchers:
                if every or remaining[other] > 0:
                    self.stale[other].add(key)
        if combined(info) and (every or remaining[info.index] > 0):
            self.stale[info.index].update(self.entries[info.index])

    def track_every_need(self) -> None:
        """From now on keep the insertions of every team and pair up to date (`track_all`), those
        with no occurrence left marked stale at once (nothing watched them until now); single
        visits' versions are always kept."""
        self.track_all = True
        for need, entries in enumerate(self.entries):
            if self.state.remaining[need] <= 0 and combined(self.setup.needs[need]):
                self.stale[need].update(entries)

    # ---------------------------------------------------------------- journal

    def begin(self) -> Journal:
        """Keep a new journal of the changes from now on (the previous one is dropped)."""
        self.journal = Journal()
        return self.journal

    def rollback(self, journal: Journal) -> None:
        """Give back the versions and single visits' insertions the journal's move changed,
        latest first; only right once the week is exactly as it was when it began. Teams' and
        pairs' insertions stay stale. The journal ends."""
        for volunteer, day, version in reversed(journal.days):
            self.day_version[volunteer, day] = version
        for recipient, day, version in reversed(journal.recipients):
            self.recipient_version[recipient, day] = version
        for need, numbers, day_versions, recipient_versions, refused, options in reversed(
            journal.entries
        ):
            self.stamp_day[need][numbers] = day_versions
            self.stamp_recipient[need][numbers] = recipient_versions
            self.refused[need][numbers] = refused
            feasible = self.feasible[need]
            for number in set(numbers.tolist()).intersection(feasible):
                del feasible[number]
            feasible.update(options)
        journal.days.clear()
        journal.recipients.clear()
        journal.entries.clear()
        if self.journal is journal:
            self.journal = None
