"""Boundary fuzzing (`python run.py fuzz`, docs/stress-testing.md "Boundary fuzzing").

For each rule with a boundary (a number of days, a threshold, a window, a limit) a target
(`sim.fuzz.targets.TARGETS`) generates small scenarios that put the deciding quantity at the
boundary and one step either side; `sim.fuzz.runner.search` runs them through `sim.api`,
checks the run's invariants and the rule's oracle (`sim.fuzz.oracles`, written from
behaviour.md), and shrinks a failure with hypothesis; `sim.fuzz.failures` writes it out as
a scenario file.
"""
