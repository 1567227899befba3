"""Worker processes for a scaled-out evwire (`evwire worker --role poll|tag|send|all`).

Any number of them, on any machine with the database URL: work is claimed from PostgreSQL with
``FOR UPDATE SKIP LOCKED`` and leases (feeds: ``store.feeds``, alerts: ``store.outbox``), so two
workers never take the same feed or alert at once, and a dead worker's claims are taken over when
their lease runs out. Workers wake on ``LISTEN/NOTIFY`` (``store.notify``), with a slow poll as the
fallback. See docs/deployment.md and docs/decisions/0012-workers.md.
"""
