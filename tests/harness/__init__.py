"""Test kits shared by tests/ and bench/: daemons, receivers, load."""
