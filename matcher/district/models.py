"""The district: many communities planned in one run, and the helpers they share.

Pure data (pydantic, frozen, unknown fields forbidden), like `matcher.models`. A community is a
problem as today, inline or in a file named relative to the district file
(`matcher.district.load_district` reads those). A shared helper (district staff, a district
volunteer team, a clinic's doctor) appears as a volunteer in every community they serve, with
that community's home or start place and the times they could come there; the district says
how many minutes they give in the whole week and which communities they serve, and the
district solve splits their week between those communities (`matcher.district.split`).

`District` validates across communities with every problem reported at once: a person id
(recipient or volunteer) used in two communities for different people, a shared helper unknown
to a community that names them or naming a community the district lacks, a shared helper whose
entries in two communities are not one person (name, skills, verification differ).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pydantic import ConfigDict, Field, model_validator

from matcher.models import Problem, Volunteer
from matcher.models.common import InputModel
from matcher.models.limits import MAX_WEEK_MIN
from matcher.models.validation import Issue, combined_error

COMMUNITY_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
"""Community ids name output files (`<id>.plan.json`), so they are short and file-safe."""

MAX_REBALANCE_ROUNDS = 10
MAX_TRANSFER_MIN = 600

PERSON_FIELDS = ("name", "kind", "skills", "verified", "background_checked", "gender")
"""What makes a shared helper's entries in two communities one person: these agree (skills
compared as sets). Home, availability and limits may differ from community to community."""


class Community(InputModel):
    """One community of the district: its id and its problem, inline or in a file."""

    id: str = Field(pattern=COMMUNITY_ID_PATTERN, description="names its output files")
    problem: Problem | None = Field(default=None, description="the community's week, inline")
    file: str | None = Field(
        default=None, min_length=1, description="its problem file, relative to the district file"
    )

    @model_validator(mode="after")
    def _one_source(self) -> Community:
        if (self.problem is None) == (self.file is None):
            raise ValueError("give exactly one of problem (inline) and file")
        return self


class SharedHelper(InputModel):
    """A helper who serves several communities: one week of minutes over all of them."""

    id: str = Field(min_length=1, description="their volunteer id in every community served")
    weekly_minutes: int = Field(
        ge=0, le=MAX_WEEK_MIN, description="visits and travel over the whole district"
    )
    communities: list[str] = Field(min_length=1, description="ids of the communities served")


class District(InputModel):
    """The communities planned together and the helpers they share."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str = ""
    communities: list[Community] = Field(min_length=1)
    shared_helpers: list[SharedHelper] = Field(default_factory=list)
    transfer_min: int = Field(
        default=30,
        ge=0,
        le=MAX_TRANSFER_MIN,
        description="least minutes between a shared helper's visits in two communities on one "
        "day (getting from one to the other)",
    )
    rebalance_rounds: int = Field(
        default=2,
        ge=0,
        le=MAX_REBALANCE_ROUNDS,
        description="rounds that move a shared helper's unused minutes to a community that "
        "left qualified need unplanned",
    )

    @model_validator(mode="after")
    def _across_communities(self) -> District:
        issues = district_issues(self)
        if issues:
            raise combined_error("District", None, issues)
        return self

    @property
    def resolved(self) -> bool:
        """Whether every community's problem is here (none only named by file)."""
        return all(community.problem is not None for community in self.communities)

    def problems(self) -> dict[str, Problem]:
        """Each community's problem by community id (ValueError if one is only a file name)."""
        result: dict[str, Problem] = {}
        for community in self.communities:
            if community.problem is None:
                raise ValueError(f"community {community.id!r}: its file is not read yet")
            result[community.id] = community.problem
        return result

    def shared_by_id(self) -> dict[str, SharedHelper]:
        """The shared helpers by id."""
        return {helper.id: helper for helper in self.shared_helpers}


def _person_of(volunteer: Volunteer) -> tuple[Any, ...]:
    return tuple(
        frozenset(volunteer.skills) if name == "skills" else getattr(volunteer, name)
        for name in PERSON_FIELDS
    )


def district_issues(district: District) -> list[Issue]:
    """Every problem across the district's communities, each with its path.

    Ids: community ids and shared-helper ids unique; a shared helper names only communities of
    the district, is a volunteer in each of them, and is one person there (`PERSON_FIELDS`).
    People: a recipient or volunteer id in two communities is an error unless it is a shared
    helper of both. Checks needing the problems skip communities still named by file.
    """
    issues: list[Issue] = []
    community_index: dict[str, int] = {}
    for index, community in enumerate(district.communities):
        if community.id in community_index:
            issues.append(
                (
                    ("communities", index, "id"),
                    f"community id {community.id!r} is used twice (also communities "
                    f"{community_index[community.id]})",
                )
            )
        else:
            community_index[community.id] = index
    helper_index: dict[str, int] = {}
    for index, helper in enumerate(district.shared_helpers):
        if helper.id in helper_index:
            issues.append(
                (
                    ("shared_helpers", index, "id"),
                    f"shared helper {helper.id!r} is listed twice (also shared_helpers "
                    f"{helper_index[helper.id]})",
                )
            )
        else:
            helper_index[helper.id] = index
        seen: set[str] = set()
        for position, name in enumerate(helper.communities):
            path = ("shared_helpers", index, "communities", position)
            if name in seen:
                issues.append((path, f"community {name!r} is named twice"))
            seen.add(name)
            if name not in community_index:
                issues.append((path, f"no community {name!r} in the district"))
                continue
            problem = district.communities[community_index[name]].problem
            if problem is not None and helper.id not in problem.volunteer_by_id:
                issues.append(
                    (
                        path,
                        f"shared helper {helper.id!r} is unknown to community {name!r}: it "
                        "has no volunteer of that id",
                    )
                )
    issues += _people_issues(district, community_index, helper_index)
    return issues


def _people_issues(
    district: District, community_index: dict[str, int], helper_index: dict[str, int]
) -> list[Issue]:
    """Person ids used in two communities for different people, and shared helpers whose
    entries are not one person."""
    issues: list[Issue] = []
    serves = {helper.id: set(helper.communities) for helper in district.shared_helpers}
    first_seen: dict[str, tuple[str, str]] = {}
    entries: dict[str, list[tuple[str, Volunteer]]] = defaultdict(list)
    for index, community in enumerate(district.communities):
        problem = community.problem
        if problem is None or community_index.get(community.id) != index:
            continue
        people: list[tuple[str, str, tuple[Any, ...]]] = [
            (recipient.id, "recipient", ("recipients", position))
            for position, recipient in enumerate(problem.recipients)
        ]
        people += [
            (volunteer.id, "volunteer", ("volunteers", position))
            for position, volunteer in enumerate(problem.volunteers)
        ]
        for person_id, role, where in people:
            shared = role == "volunteer" and community.id in serves.get(person_id, set())
            if shared:
                entries[person_id].append((community.id, problem.volunteer_by_id[person_id]))
                continue
            path = ("communities", index, "problem", *where, "id")
            if role == "volunteer" and person_id in serves:
                issues.append(
                    (
                        path,
                        f"{person_id!r} is a shared helper who does not serve community "
                        f"{community.id!r}: add it to their communities or give this "
                        "volunteer another id",
                    )
                )
            elif role == "recipient" and person_id in helper_index:
                issues.append((path, f"recipient id {person_id!r} is also a shared helper's id"))
            elif person_id in first_seen and first_seen[person_id][0] != community.id:
                other, other_role = first_seen[person_id]
                issues.append(
                    (
                        path,
                        f"id {person_id!r} ({role}) is also a {other_role} of community "
                        f"{other!r}: one id, two people; ids must be unique in the district",
                    )
                )
            else:
                first_seen.setdefault(person_id, (community.id, role))
    for helper_id, found in entries.items():
        reference_community, reference = found[0]
        for community_id, volunteer in found[1:]:
            differing = [
                name
                for name, mine, theirs in zip(
                    PERSON_FIELDS, _person_of(volunteer), _person_of(reference), strict=True
                )
                if mine != theirs
            ]
            if differing:
                issues.append(
                    (
                        ("shared_helpers", helper_index[helper_id]),
                        f"shared helper {helper_id!r} is not one person: "
                        f"{', '.join(differing)} differ between communities "
                        f"{reference_community!r} and {community_id!r}",
                    )
                )
    return issues


__all__ = [
    "COMMUNITY_ID_PATTERN",
    "PERSON_FIELDS",
    "Community",
    "District",
    "SharedHelper",
    "district_issues",
]
