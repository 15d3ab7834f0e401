-- "As known at the end of a week": an item (an incident, an ASN neutrality case, a cross-sector
-- follow-up) is its row in the latest report up to and including that week, so an item a later
-- report leaves out still stands as last reported. The rule lives here alone; the marts
-- (insiden_state, netralitas_state, tindak_lanjut) and the desks' workbook templates read it.
-- An incident or a case belongs to its kab/kota; a follow-up to its sender (pengirim), since the
-- provincial desk reports follow-ups for other kab/kota.
CREATE OR REPLACE VIEW core.item_report AS
SELECT 'insiden' AS kind, kode_kabkota AS sender, id_insiden AS item_id, week, row_number, file_id
FROM core.insiden_current
UNION ALL
SELECT 'netralitas', kode_kabkota, id_kasus, week, row_number, file_id
FROM core.netralitas_current
UNION ALL
SELECT 'tindak_lanjut', pengirim, id_tindak_lanjut, week, row_number, file_id
FROM core.tindak_lanjut_current;

-- One row per (as_of week, sender, item) for every week in the list `weeks`: the file and row
-- that state the item as of that week (join back to core.<kind>_current on both).
CREATE OR REPLACE MACRO core.item_state(item_kind, weeks) AS TABLE
SELECT w.as_of, r.sender, r.item_id, r.week, r.row_number, r.file_id
FROM (SELECT unnest(weeks) AS as_of) w
JOIN core.item_report r ON r.kind = item_kind AND r.week <= w.as_of
QUALIFY row_number() OVER (
    PARTITION BY w.as_of, r.sender, r.item_id ORDER BY r.week DESC, r.row_number DESC
) = 1;
