"""The simulated season (`benchmarks.season`): churn drawn from the seed, every week planned and
checked, and its report."""

from __future__ import annotations

from benchmarks.season import SeasonCommunity, SeasonSettings, render_report, run_season


def test_season_runner_on_a_tiny_community_for_two_weeks() -> None:
    """Two weeks of eight recipients: churn, pairings, credits, changes, no broken rule."""
    settings = SeasonSettings(
        weeks=2, recipients=8, volunteers=3, buildings=1, seed=0, time_limit_s=2
    )
    community = SeasonCommunity(settings)
    assert [len(week.away) for week in community.weeks] == [1, 1]
    assert len(community.weeks[1].arrived) == len(community.weeks[1].left) == 1
    rows = run_season(settings)
    assert [row.week for row in rows] == [1, 2]
    assert all(row.violations == 0 for row in rows)
    assert rows[0].visits_same is None and rows[1].visits_same is not None
    assert rows[0].unvisited_two_weeks is None and rows[1].unvisited_two_weeks is not None
    assert rows[1].pairings_standing > 0
    assert rows[0].credits_earned > 0
    text = render_report(rows, settings, markdown=True)
    assert "| week |" in text and "pairings kept %" in text and "broken pairings" in text
