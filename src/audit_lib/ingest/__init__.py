"""From an export folder to a validated, frozen DuckDB snapshot: schema -> sources -> validate -> snapshot."""
