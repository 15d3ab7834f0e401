-- Issue 17: a death claimed in an incident row that a rule flagged is not silently dropped: the
-- kab/kota is Kritis until the desk corrects the row (mart.insiden_perlu_verifikasi).
INSERT OR REPLACE INTO ref.status_threshold
    (metric, h_max, waspada_at, kritis_at, description, direction) VALUES
    ('korban_meninggal_verifikasi', 9999, 1, 1,
     'Korban meninggal dilaporkan dalam baris insiden yang perlu verifikasi', 'above');
