"""Running a scenario: the model and its stages, the bus, the market adapter, the recorder
and the event-DB file it writes."""
