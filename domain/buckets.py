"""The bucket names every layer shares (scenario, market, construction, protections)."""

UNKNOWN_BUCKET = "Unknown"
"""The bucket of an asset the scenario puts in no bucket; a bucket like any other."""
