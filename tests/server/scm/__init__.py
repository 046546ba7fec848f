"""Tests of the SCM adapters against local stubs of the GitHub and GitLab REST APIs."""
