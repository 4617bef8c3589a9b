"""Tests of `matcher.models`."""
