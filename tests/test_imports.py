"""What importing matcher costs: the models load pydantic alone, the package is lazy, and the
reason codes have one source."""

from __future__ import annotations

import subprocess
import sys
from typing import get_args

import pytest

HEAVY = ("ortools", "scipy", "numpy", "networkx")
"""Top-level packages a portal that only validates input must not pay for."""


def _loaded_in_fresh_interpreter(statement: str) -> set[str]:
    """The top-level packages of every module `python -X importtime` reports for `statement`."""
    finished = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        capture_output=True,
        text=True,
        check=True,
    )
    modules = set()
    for line in finished.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            modules.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return modules


def _sys_modules_after(statement: str) -> set[str]:
    """The top-level packages in `sys.modules` after `statement`, in a fresh interpreter."""
    finished = subprocess.run(
        [
            sys.executable,
            "-c",
            f"{statement}\nimport sys\nprint(' '.join(sorted(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return {name.split(".")[0] for name in finished.stdout.split()}


def test_import_models_loads_nothing_heavy() -> None:
    """`python -X importtime -c "import matcher.models"` shows no OR-Tools, SciPy, NumPy or
    NetworkX (and the importtime reading itself works: pydantic is there)."""
    loaded = _loaded_in_fresh_interpreter("import matcher.models")
    assert "pydantic" in loaded and "matcher" in loaded
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


@pytest.mark.parametrize(
    "statement",
    [
        "import matcher",
        "import matcher.messages",
        "import matcher.solvers",
        "import matcher.solvers.registry",
        "from matcher import Plan, Problem",
    ],
)
def test_light_imports_stay_light(statement: str) -> None:
    """The package, the message catalogue and the solver registry load no heavy dependency."""
    loaded = _sys_modules_after(statement)
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_lazy_names_load_on_first_use() -> None:
    """`from matcher import solve` still works, and only then are the solvers' dependencies
    loaded; the names are the real objects."""
    import matcher
    from matcher import (
        SOLVERS,
        AutoParameters,
        CpSatParameters,
        GreedyParameters,
        LnsParameters,
        RoutingParameters,
        check_plan,
        explain_unassigned,
        replan,
        solve,
    )
    from matcher.api import solve as api_solve
    from matcher.checker import check_plan as checker_check_plan
    from matcher.explain import explain_unassigned as explain_explain
    from matcher.replan import replan as replan_replan

    assert solve is api_solve and check_plan is checker_check_plan
    assert explain_unassigned is explain_explain and replan is replan_replan
    assert SOLVERS == ("greedy", "cpsat", "lns", "routing", "ruin", "auto")
    for parameters in (
        GreedyParameters,
        CpSatParameters,
        LnsParameters,
        RoutingParameters,
        AutoParameters,
    ):
        assert parameters.__name__ in matcher.__all__
        assert parameters().model_dump() == parameters.model_validate({}).model_dump()
    assert set(matcher.__all__) <= set(dir(matcher))
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = matcher.no_such_name  # type: ignore[attr-defined]


def test_submodule_does_not_hide_the_function_of_its_name() -> None:
    """`matcher.replan` is the function even after the module `matcher.replan` is imported."""
    finished = subprocess.run(
        [
            sys.executable,
            "-c",
            "from matcher.replan import ChangeList\n"
            "import matcher\n"
            "from matcher import replan\n"
            "print(callable(replan), type(matcher.replan).__name__)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert finished.stdout.split() == ["True", "function"]


def test_solvers_package_exports_every_parameters_type() -> None:
    """`matcher.solvers` exports each solver's parameters and the protocol's pieces lazily."""
    import matcher
    import matcher.solvers as solvers
    from matcher.solvers.registry import get_solver

    for name in solvers.SOLVERS:
        parameters_type = get_solver(name).parameters_type
        assert getattr(solvers, parameters_type.__name__) is parameters_type
        assert getattr(matcher, parameters_type.__name__) is parameters_type
    assert solvers.solve_greedy.__module__.startswith("matcher.solvers.greedy")


def test_reason_codes_have_one_source() -> None:
    """The catalogue's reason codes are `ReasonCode`'s, each with a sentence, and the models no
    longer carry the sentences."""
    import matcher.models
    from matcher.messages import CATALOGUE, REASON_CODES, REASON_MESSAGES, reason_messages
    from matcher.models import ReasonCode

    assert get_args(ReasonCode) == REASON_CODES
    assert set(REASON_MESSAGES) == set(REASON_CODES) <= set(CATALOGUE)
    assert reason_messages("en") == REASON_MESSAGES
    assert not hasattr(matcher.models, "REASON_MESSAGES")
    assert "matcher.messages" not in _sys_modules_after_models()


def _sys_modules_after_models() -> set[str]:
    """Every module name (not just top-level) loaded by `import matcher.models`."""
    finished = subprocess.run(
        [
            sys.executable,
            "-c",
            "import matcher.models\nimport sys\nprint(' '.join(sorted(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(finished.stdout.split())
