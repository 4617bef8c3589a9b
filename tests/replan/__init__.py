"""Tests of `matcher.replan`."""
