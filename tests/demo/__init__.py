"""Tests for the demo night: the scenario file, its clock and the HTTP service."""
