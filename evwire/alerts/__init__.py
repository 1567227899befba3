"""Alerts: keyword queries and their percolator, alert mails, signed links and transports.

The database-free core lives here; matching into the outbox and the worker loop use it.
"""
