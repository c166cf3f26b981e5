"""Protection policies: core asset, grace period, holding period, whipsaw, and the base class."""
