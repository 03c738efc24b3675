"""What every concern uses while it runs, and nothing of any concern itself.

The single-writer warehouse (resource, pool, health check before writing), operational
faults as one Dutch line, injected faults for the fault tests, runs whose process died,
and the names our processes show in `ps`.
"""
