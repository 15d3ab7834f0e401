-- History the netralitas checks compare with: current rows of weeks before the latest week being
-- validated ($weeks); the query itself picks each row's earlier weeks.
SELECT p.* FROM core.netralitas_current p WHERE p.week < list_max($weeks);
