"""Tamper evidence: recording seals (SHA-256 and size) and the verification of seals and event chains."""
