-- Issue 18: cross-sector follow-ups (tindak lanjut), the sixth submission kind. One row per
-- follow-up per report; (sender, id_tindak_lanjut) carries a follow-up's history across weeks.
-- The sender is raw.file.kabkota_code: a kab/kota desk, or the provincial desk under the
-- province's code, whose rows may name any kab/kota of the province or the province itself.
CREATE TABLE IF NOT EXISTS core.tindak_lanjut (
    file_id BIGINT NOT NULL, row_number INTEGER NOT NULL, flagged BOOLEAN NOT NULL,
    kode_kabkota VARCHAR, id_tindak_lanjut VARCHAR, tanggal_keputusan DATE, forum VARCHAR,
    bidang VARCHAR, isu VARCHAR, tindakan VARCHAR, instansi VARCHAR, tenggat DATE,
    status VARCHAR, tanggal_status DATE, catatan VARCHAR
);
