"""Tests of the runnerkit client facade."""
