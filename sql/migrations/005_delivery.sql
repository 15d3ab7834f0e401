-- The delivery log: one row per message per recipient per week and kind. `status` moves
-- sending → sent | failed_temporary | failed_permanent; a row left in `sending` means the
-- process died while the server had the message: its outcome is unknown and it is not resent
-- automatically (exactly once rather than at least once; `--resend` overrides).
CREATE SEQUENCE IF NOT EXISTS audit.delivery_id_seq START 1;
CREATE TABLE IF NOT EXISTS audit.delivery (
    delivery_id      BIGINT PRIMARY KEY,
    week             VARCHAR NOT NULL,
    message_kind     VARCHAR NOT NULL,   -- bulletin | annex | failure_report
    kabkota_code     VARCHAR,            -- annex: whose annex
    lang             VARCHAR NOT NULL,
    recipient_name   VARCHAR NOT NULL,
    recipient_email  VARCHAR NOT NULL,
    recipient_role   VARCHAR NOT NULL,
    transport        VARCHAR NOT NULL,   -- smtp | outbox
    message_id       VARCHAR NOT NULL,
    data_hash        VARCHAR NOT NULL,   -- sha256 of the figures the message was rendered from
    status           VARCHAR NOT NULL,
    smtp_response    VARCHAR,
    attempts         INTEGER NOT NULL DEFAULT 0,
    error            VARCHAR,
    outbox_path      VARCHAR,
    run_id           VARCHAR,
    first_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_attempt_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
