"""The DuckDB warehouse: connection, migrations and snapshot, the run lock, reference tables and
the analysts' bounded read-only queries."""
