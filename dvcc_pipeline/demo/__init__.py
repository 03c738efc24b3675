"""The deterministic demo-delivery generator (`dvcc demo`)."""

from dvcc_pipeline.demo.generator import GenerationSummary, Scenario, WrittenFile, generate

__all__ = ["GenerationSummary", "Scenario", "WrittenFile", "generate"]
