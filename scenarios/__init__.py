"""Scenario suites: a YAML scenario language, a runner and a library covering every rule the sandbox implements."""
