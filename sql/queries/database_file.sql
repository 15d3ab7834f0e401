-- The file behind the current database and how many blocks its header says it holds. A file
-- shorter than its three 4 KiB headers plus that many blocks was cut short (copied halfway, a
-- full disk, a bad restore): tasks/warehouse.connect refuses it before any query reads a hole.
SELECT d.path, s.block_size, s.total_blocks
FROM duckdb_databases() d
JOIN pragma_database_size() s USING (database_name)
WHERE d.database_name = current_database();
