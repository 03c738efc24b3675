"""Running the pipeline as a command and as a service.

`dvcc run` in-process (headless), `dvcc serve` (Dagster's processes as one service) and its
logs, the Dagster instance under DVCC_HOME, the nothing-to-do check, the run's progress and
its summary. Only the entry points and bench/ import these.
"""
