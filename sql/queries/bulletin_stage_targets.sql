SELECT stage, label_id AS label, expected FROM mart.stage_expected WHERE week = $week ORDER BY seq;
