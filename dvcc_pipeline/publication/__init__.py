"""Publication: disclosure control, the atomically swapped published.duckdb, Parquet and extracts."""
