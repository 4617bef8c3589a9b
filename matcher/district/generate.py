"""Generated districts for tests, examples and the benchmark: communities from
`matcher.generator.generate_community`, each person's id prefixed with its community's (ids are
unique in a district), and shared helpers added as volunteers of the communities they serve."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matcher.district.models import District
from matcher.generator import generate_community
from matcher.models import Problem

SHARED_PROFILES: tuple[dict[str, Any], ...] = (
    {
        "id": "district-doctor",
        "name": "District clinic doctor",
        "kind": "staff",
        "skills": ["health_check"],
        "verified": True,
        "background_checked": True,
        "travel_mode": "ebike",
        "weekly_minutes": 900,
    },
    {
        "id": "district-team",
        "name": "District volunteer team",
        "kind": "volunteer",
        "skills": ["cleaning", "smartphone", "haircut"],
        "verified": True,
        "background_checked": False,
        "travel_mode": "walk",
        "weekly_minutes": 1200,
    },
)
"""The shared helpers a generated district has, in order (a clinic's doctor, a team)."""


def _renamed(ids: Any, prefix: str) -> Any:
    return [f"{prefix}{value}" for value in ids]


def prefixed(problem: Problem, prefix: str) -> dict[str, Any]:
    """The problem's JSON with every recipient, need and volunteer id prefixed (references
    too), so that communities generated alike do not share ids."""
    data = problem.model_dump(mode="json", exclude_defaults=True)
    for recipient in data.get("recipients", []):
        recipient["id"] = prefix + recipient["id"]
        for key in ("preferred_volunteers", "excluded_volunteers"):
            if key in recipient:
                recipient[key] = _renamed(recipient[key], prefix)
        for need in recipient.get("needs", []):
            need["id"] = prefix + need["id"]
    for volunteer in data.get("volunteers", []):
        volunteer["id"] = prefix + volunteer["id"]
    for entry in data.get("history", []):
        entry["recipient"] = prefix + entry["recipient"]
        entry["volunteer"] = prefix + entry["volunteer"]
        if entry.get("need") is not None:
            entry["need"] = prefix + entry["need"]
    for pinned in data.get("pinned", []):
        pinned["need"] = prefix + pinned["need"]
        pinned["volunteers"] = _renamed(pinned["volunteers"], prefix)
    for dependency in data.get("dependencies", []):
        dependency["first"] = prefix + dependency["first"]
        dependency["second"] = prefix + dependency["second"]
    return data


def _office(data: dict[str, Any]) -> dict[str, Any]:
    """Where a shared helper starts in this community: the office staff start from, else the
    first recipient's door."""
    for volunteer in data["volunteers"]:
        if volunteer.get("start_location"):
            return dict(volunteer["start_location"])
    return dict(data["recipients"][0]["location"]) if data["recipients"] else {"x_m": 0, "y_m": 0}


def generate_district(
    sizes: Sequence[int],
    *,
    seed: int = 0,
    shared_helpers: int = 2,
    serves: int = 3,
    volunteers_per_recipient: float = 0.25,
    buildings_per_recipient: float = 0.05,
    volunteers: Sequence[int] | None = None,
    buildings: Sequence[int] | None = None,
    name: str | None = None,
) -> District:
    """A district of `len(sizes)` generated communities (`c01`, `c02`, ...) of these many
    recipients, and `shared_helpers` helpers (`SHARED_PROFILES`) serving `serves` communities
    each (helper k from community k on, wrapping round), every weekday 08:30-17:30.
    Volunteers and buildings per community: `volunteers` and `buildings` when given, else in
    proportion to the recipients. The same arguments give the same district."""
    if shared_helpers > len(SHARED_PROFILES):
        raise ValueError(f"shared_helpers: at most {len(SHARED_PROFILES)}")
    count = len(sizes)
    names = [f"c{index + 1:02d}" for index in range(count)]
    datas: list[dict[str, Any]] = []
    for index, size in enumerate(sizes):
        problem = generate_community(
            recipients=size,
            volunteers=volunteers[index]
            if volunteers is not None
            else max(2, round(size * volunteers_per_recipient)),
            buildings=buildings[index]
            if buildings is not None
            else max(1, round(size * buildings_per_recipient)),
            seed=seed * 1000 + index,
            name=f"Community {names[index]} (generated, seed {seed * 1000 + index})",
        )
        datas.append(prefixed(problem, f"{names[index]}-"))
    shared: list[dict[str, Any]] = []
    for number, profile in enumerate(SHARED_PROFILES[:shared_helpers]):
        served = [names[(number + offset) % count] for offset in range(min(serves, count))]
        entry = {key: value for key, value in profile.items() if key != "weekly_minutes"}
        entry["availability"] = [
            {"day": day, "start": "08:30", "end": "17:30"}
            for day in ("mon", "tue", "wed", "thu", "fri")
        ]
        for community in served:
            data = datas[names.index(community)]
            place = _office(data)
            data["volunteers"].append({**entry, "home": place, "start_location": place})
        shared.append(
            {
                "id": profile["id"],
                "weekly_minutes": profile["weekly_minutes"],
                "communities": served,
            }
        )
    return District.model_validate(
        {
            "name": name if name is not None else f"Generated district (seed {seed})",
            "communities": [
                {"id": community, "problem": Problem.model_validate(data)}
                for community, data in zip(names, datas, strict=True)
            ],
            "shared_helpers": shared,
        }
    )


__all__ = ["SHARED_PROFILES", "generate_district", "prefixed"]
