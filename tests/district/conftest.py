"""Fixtures of the district tests: one small generated district, solved once per executor."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from matcher.district.generate import generate_district
from matcher.district.models import District
from matcher.district.runner import DistrictResult, solve_district

SIZES = (40, 55, 35, 50, 30)
"""Five small communities: the doctor serves c01-c03, the volunteer team c02-c04."""


@pytest.fixture(scope="session")
def small_district() -> District:
    return generate_district(list(SIZES), seed=3)


@pytest.fixture(scope="session")
def pool_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the pool's run of the small district writes its files."""
    return tmp_path_factory.mktemp("district-pool")


@pytest.fixture(scope="session")
def pool_result(small_district: District, pool_folder: Path) -> DistrictResult:
    """The small district on the local pool of two workers, written to `pool_folder`."""
    return solve_district(small_district, workers=2, output_dir=pool_folder)


@pytest.fixture(scope="session")
def ray_local() -> Iterator[Any]:
    """Ray in local mode with two CPUs, started once for all district tests."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()
