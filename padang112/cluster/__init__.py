"""Two controllers on one PostgreSQL database: one leads and acts, the other waits (issue 13)."""
