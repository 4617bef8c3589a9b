"""What a volunteer's time costs: their own hourly rate, else the policy's for their kind."""

from __future__ import annotations

from matcher.models import PolicyWeights, Volunteer


def hourly_cost(volunteer: Volunteer, weights: PolicyWeights) -> float:
    """Points per hour on site for this volunteer."""
    if volunteer.cost_per_hour is not None:
        return volunteer.cost_per_hour
    if volunteer.kind == "staff":
        return weights.staff_cost_per_hour
    return weights.volunteer_cost_per_hour
