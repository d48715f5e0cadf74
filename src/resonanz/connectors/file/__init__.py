"""File import: JSONL and CSV, streamed record by record (see DESCRIPTION.md)."""
