-- {kind} is one of the five contract kinds (checked in Python before formatting).
INSERT INTO core.{kind} BY NAME
SELECT * EXCLUDE (_row), _row AS row_number FROM staged_rows;
