"""Implementations of the generated service protocols: thin adapters to ``server.service``."""
