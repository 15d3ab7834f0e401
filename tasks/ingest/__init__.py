"""Inbox to warehouse, in the order a file travels: mailbox → pull → workbook → parse →
validate → judge → load → feedback, plus the run summary and GX Data Docs."""
