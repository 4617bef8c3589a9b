"""Tests of `matcher.rules`."""
