"""Reliability suite: hostile input, secrets, damaged files, crashes."""
