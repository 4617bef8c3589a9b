"""Tests of the weeks in sequence: `matcher.continuity` (pairings, fairness between weeks),
`matcher.season` (next week's problem, keeping last week's visits) and the time-bank ledger's
credits in planning, in the API and from the command line."""
