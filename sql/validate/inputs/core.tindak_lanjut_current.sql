-- History the tindak_lanjut checks compare with: current rows of weeks before the latest week being
-- validated ($weeks); the query itself picks each row's earlier weeks.
SELECT p.* FROM core.tindak_lanjut_current p WHERE p.week < list_max($weeks);
