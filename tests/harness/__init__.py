"""Test kits shared by tests and bench/: recorded nights, archives."""
