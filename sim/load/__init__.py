"""Loading scenario files: the strict YAML reader, one module per section, the one price
csv reader and the market check. The entry point is `sim.load.document.load_scenario`."""
