-- $n new file ids, in increasing order.
SELECT nextval('raw.file_id_seq') AS file_id FROM range($n) ORDER BY file_id;
