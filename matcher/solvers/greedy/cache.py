"""Cached insertions: the best insertion of each need into each (volunteer, day), kept until it
may have changed.

A single visit's insertion into a volunteer's day depends on that day's outings and on the
recipient's visits that day; a team's or a linked pair's (cached per day) also on each
candidate's week, through the weekly minutes. Each cached insertion watches what it depends on,
and a commit marks the watchers of what it touched as stale; a stale insertion is recomputed the
next time its need is weighed. Candidates join in steps, nearest first, so that only the few
nearest qualified volunteers are tried until they are all full.
"""

from __future__ import annotations

from matcher.solvers.greedy.insertion import Insertions, Option
from matcher.solvers.greedy.setup import NeedInfo, Setup
from matcher.solvers.greedy.state import WeekState

SlotKey = tuple[int, int]
"""(volunteer index, day index) for a single visit; (-1, day index) for a team or a pair."""
Watcher = tuple[int, SlotKey]
"""(need index, slot key) of a cached insertion that depends on some state."""


def combined(info: NeedInfo) -> bool:
    """Whether the need's visits are placed as one insertion over several volunteers' days (a
    team, or a linked pair), cached per day rather than per volunteer and day."""
    return info.team_size > 1 or info.partner >= 0


class InsertionCache:
    """The cached insertions of every need, what each watches and which are stale."""

    def __init__(self, setup: Setup, state: WeekState, insertions: Insertions) -> None:
        self.setup = setup
        self.state = state
        self.insertions = insertions
        count = len(setup.needs)
        self.entries: list[dict[SlotKey, Option | None]] = [{} for _ in range(count)]
        self.stale: list[set[SlotKey]] = [set() for _ in range(count)]
        self.active = [0] * count
        """How many of each need's candidates compete so far."""
        self.wanted = [0] * count
        self.watch_day: dict[tuple[int, int], set[Watcher]] = {}
        self.watch_recipient: dict[tuple[int, int], set[Watcher]] = {}
        self.watch_load: dict[int, set[Watcher]] = {}
        self.track_all = False
        """Mark the insertions of needs with no occurrence left stale too: a search that takes
        visits out again (`matcher.solvers.ruin`) weighs them later."""

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
        is_combined = combined(owner)
        for volunteer in info.candidates[begin:end]:
            for day in info.candidate_days[volunteer]:
                key: SlotKey = (-1, day) if is_combined else (volunteer, day)
                watcher = (owner.index, key)
                self.watch_day.setdefault((volunteer, day), set()).add(watcher)
                self.watch_recipient.setdefault((info.recipient_index, day), set()).add(watcher)
                if is_combined:
                    self.watch_load.setdefault(volunteer, set()).add(watcher)
                self.stale[owner.index].add(key)
        if is_combined:
            self.stale[owner.index].update(self.entries[owner.index])
        return True

    def options(self, need: int) -> list[Option | None]:
        """The need's cached insertions, the stale ones recomputed first."""
        stale = self.stale[need]
        info, entries = self.setup.needs[need], self.entries[need]
        if stale:
            for key in sorted(stale):
                volunteer, day = key
                if volunteer < 0 and info.partner >= 0:
                    entries[key] = self.insertions.pair_option(
                        info,
                        self.setup.needs[info.partner],
                        day,
                        self.active[info.index],
                        self.active[info.partner],
                    )
                elif volunteer < 0:
                    entries[key] = self.insertions.team_option(info, day, self.active[info.index])
                else:
                    entries[key] = self.insertions.single_option(info, volunteer, day)
            stale.clear()
        return list(entries.values())

    def touched(self, info: NeedInfo, option: Option) -> None:
        """Mark as stale every cached insertion that the committed option may have changed:
        those watching its volunteers' day or week, and its recipient's day."""
        touched: list[set[Watcher]] = []
        for volunteer in option.volunteers:
            touched.append(self.watch_day.get((volunteer, option.day), set()))
            touched.append(self.watch_load.get(volunteer, set()))
        touched.append(self.watch_recipient.get((info.recipient_index, option.day), set()))
        remaining = self.state.remaining
        every = self.track_all
        for watchers in touched:
            for other, key in watchers:
                if every or remaining[other] > 0:
                    self.stale[other].add(key)
        if combined(info) and (every or remaining[info.index] > 0):
            self.stale[info.index].update(self.entries[info.index])

    def track_every_need(self) -> None:
        """From now on keep every need's insertions up to date (`track_all`), those of needs
        with no occurrence left marked stale at once (nothing watched them until now)."""
        self.track_all = True
        for need, entries in enumerate(self.entries):
            if self.state.remaining[need] <= 0:
                self.stale[need].update(entries)
