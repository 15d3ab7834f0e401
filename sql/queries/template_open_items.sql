-- Every item (incident, case, follow-up) a desk reported before the template's week, as it
-- stood in its latest report (core.item_state as of the previous week), in the sheet's order.
-- Parameters: kind, previous week, desk code; {kind}, {order}, {key} come from
-- reports/workbook_template.py ITEM_KINDS (a closed set of names, never user input).
SELECT c.*
FROM core.item_state(?, [?]) st
JOIN core.{kind}_current c ON c.file_id = st.file_id AND c.row_number = st.row_number
WHERE st.sender = ?
ORDER BY c.{order}, c.{key}
