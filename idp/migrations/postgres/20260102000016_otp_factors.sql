-- One-time codes by SMS or e-mail as a second factor: one row per channel the citizen turned
-- on (channel is 'sms' or 'email'). The code goes to the account's confirmed phone or e-mail,
-- so a channel whose address is no longer confirmed does not count as a factor.
CREATE TABLE otp_factors (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, channel)
);
