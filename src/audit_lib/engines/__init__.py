"""Engines other than DuckDB: the checked SQL translation and Apache Spark."""
