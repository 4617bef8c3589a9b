"""Editing frozen models in place, for tests only.

The models are frozen: product code makes variants with `model_copy(update=...)`. Tests that
build a broken plan or problem on purpose (the checker's breaker tests) change one field of a
copy in place with `edit`, which says so where it happens.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def edit(model: BaseModel, **fields: Any) -> None:
    """Set these fields of a frozen model in place, unvalidated."""
    for name, value in fields.items():
        object.__setattr__(model, name, value)
