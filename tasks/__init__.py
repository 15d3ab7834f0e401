"""The pipeline's steps, by nature (docs/architecture.md §1):

- `tasks.contract`: what a desk must send (kinds, columns, file names), the region reference and
  the personal-data rules;
- `tasks.ingest`: inbox to warehouse, in order: mailbox → pull → workbook/parse → validate →
  judge → load → feedback (and the run's summary and GX Data Docs);
- `tasks.warehouse`: the DuckDB file (connection, migrations, snapshot), the run lock, reference
  tables and the analysts' bounded queries;
- `tasks.publish`: the bulletin's data, desk letters, recipients and delivery;
- `tasks.config`, `tasks.weeks`, `tasks.runlog`, `tasks.faults`: settings, the reporting-week
  calendar, run logs and fault points shared by all of them.
"""
