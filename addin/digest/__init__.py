"""Alerts and the 10:00 digest: what it says, and where and how it is delivered."""
