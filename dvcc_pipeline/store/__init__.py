"""The warehouse as a store: health check before writing, rebuild (`dvcc herstel`), backup."""

from dvcc_pipeline.store.health import WarehouseUnusable, check_warehouse

__all__ = ["WarehouseUnusable", "check_warehouse"]
