"""Reports: scheduled and on-demand digests (HTML e-mail, PDF) and data exports (CSV, Parquet)."""
