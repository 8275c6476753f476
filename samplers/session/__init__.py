"""Sessions: the live sampling loop, `record` and `report` without the command line."""
