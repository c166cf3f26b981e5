"""Bulwark domain: pure value objects, messages, policies and the conflict resolver."""
