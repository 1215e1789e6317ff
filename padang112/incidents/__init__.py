"""Incidents: what a call (or a walk-in/radio/social-media report) is about, and the agencies sent to it."""
