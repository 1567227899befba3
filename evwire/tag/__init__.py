"""Tagging: pure functions from article text to companies, tickers, people and facts.

Nothing here touches a database, the clock or the network.
"""
