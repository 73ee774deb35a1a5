"""The DuckDB file: schema, the store, damaged-file checks, upgrades, the writer thread, queries, export and import."""
