"""The district model: validation across communities, every problem at once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from matcher.district.models import District
from matcher.district.runner import load_district
from matcher.io import InputError


def _data(district: District) -> dict[str, Any]:
    return district.model_dump(mode="json", exclude_defaults=True)


def _messages(error: ValidationError) -> list[str]:
    return [
        ".".join(str(part) for part in item["loc"]) + ": " + item["msg"] for item in error.errors()
    ]


def test_the_generated_district_is_valid_and_ids_are_unique(small_district: District) -> None:
    problems = small_district.problems()
    assert list(problems) == ["c01", "c02", "c03", "c04", "c05"]
    shared = {helper.id for helper in small_district.shared_helpers}
    seen: dict[str, str] = {}
    for name, problem in problems.items():
        for person in [*problem.recipients, *problem.volunteers]:
            if person.id in shared:
                continue
            assert person.id not in seen, (person.id, seen.get(person.id), name)
            seen[person.id] = name


def test_an_id_used_for_two_people_and_an_unknown_community_are_reported_together(
    small_district: District,
) -> None:
    data = _data(small_district)
    first = data["communities"][0]["problem"]
    second = data["communities"][1]["problem"]
    second["recipients"][0]["id"] = first["recipients"][0]["id"]
    for need in second["recipients"][0]["needs"]:
        need["id"] = need["id"] + "-x"
    data["shared_helpers"][0]["communities"].append("nowhere")
    with pytest.raises(ValidationError) as caught:
        District.model_validate(data)
    messages = _messages(caught.value)
    assert len(messages) == 2, messages
    assert any(
        m.startswith("communities.1.problem.recipients.0.id")
        and "one id, two people" in m
        and "c01" in m
        for m in messages
    )
    assert any(
        m.startswith("shared_helpers.0.communities.3") and "no community 'nowhere'" in m
        for m in messages
    )


def test_a_shared_helper_unknown_to_a_community_that_names_them(small_district: District) -> None:
    data = _data(small_district)
    problem = data["communities"][2]["problem"]
    problem["volunteers"] = [v for v in problem["volunteers"] if v["id"] != "district-doctor"]
    with pytest.raises(ValidationError) as caught:
        District.model_validate(data)
    messages = _messages(caught.value)
    assert any(
        "shared helper 'district-doctor' is unknown to community 'c03'" in m for m in messages
    ), messages


def test_a_shared_helper_in_a_community_they_do_not_serve(small_district: District) -> None:
    data = _data(small_district)
    doctor = next(
        v for v in data["communities"][0]["problem"]["volunteers"] if v["id"] == "district-doctor"
    )
    data["communities"][4]["problem"]["volunteers"].append(doctor)
    with pytest.raises(ValidationError) as caught:
        District.model_validate(data)
    (message,) = _messages(caught.value)
    assert message.startswith("communities.4.problem.volunteers.")
    assert "does not serve community 'c05'" in message


def test_a_shared_helper_is_one_person_in_every_community(small_district: District) -> None:
    data = _data(small_district)
    for volunteer in data["communities"][1]["problem"]["volunteers"]:
        if volunteer["id"] == "district-doctor":
            volunteer["skills"] = ["haircut"]
            volunteer["verified"] = False
    with pytest.raises(ValidationError) as caught:
        District.model_validate(data)
    (message,) = _messages(caught.value)
    assert "not one person: skills, verified differ between communities 'c01' and 'c02'" in (
        message
    )


def test_a_community_has_exactly_one_source(small_district: District) -> None:
    data = _data(small_district)
    data["communities"][0]["file"] = "c01.json"
    del data["communities"][1]["problem"]
    with pytest.raises(ValidationError) as caught:
        District.model_validate(data)
    messages = _messages(caught.value)
    assert [m.split(":")[0] for m in messages] == ["communities.0", "communities.1"]
    assert all("exactly one of problem (inline) and file" in m for m in messages)


def test_community_files_are_read_relative_to_the_district_file(
    small_district: District, tmp_path: Path
) -> None:
    data = _data(small_district)
    (tmp_path / "parts").mkdir()
    for community in data["communities"]:
        target = tmp_path / "parts" / f"{community['id']}.json"
        target.write_text(json.dumps(community.pop("problem")), encoding="utf-8")
        community["file"] = f"parts/{community['id']}.json"
    (tmp_path / "district.json").write_text(json.dumps(data), encoding="utf-8")
    assert load_district(tmp_path / "district.json") == small_district


def test_bad_community_files_are_all_named(small_district: District, tmp_path: Path) -> None:
    data = _data(small_district)
    data["communities"][0] = {"id": "c01", "file": "missing.json"}
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    data["communities"][1] = {"id": "c02", "file": "broken.json"}
    (tmp_path / "district.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_district(tmp_path / "district.json")
    text = str(caught.value)
    assert "2 community file(s) cannot be used" in text
    assert "communities.0.file" in text and "missing.json" in text
    assert "communities.1.file" in text and "not valid JSON" in text
