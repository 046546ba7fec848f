"""Tests of the runnerkit resource commands."""
