-- What the citizen chose to be told and where: the channel (email, sms or all confirmed
-- ones) and whether sign-ins from a new device are worth a message. Security notices
-- (password, factors, lock-out, deletion, contact changes) ignore the switch. No row: the
-- defaults (every notice to every confirmed address).
CREATE TABLE notification_settings (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    new_device BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
