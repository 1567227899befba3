"""evwire: EV-industry news filed under company channels, with alerts and delivery data."""

__version__ = "0.1.0"
