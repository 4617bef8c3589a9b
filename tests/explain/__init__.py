"""Tests of `matcher.explain`."""
