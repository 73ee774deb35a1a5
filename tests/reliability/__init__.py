"""Reliability suite: hostile input, secrets, damaged files, crashes; replay equal to the wall."""
