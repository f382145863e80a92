-- The audit trail: append-only, one row per event, each row's MAC covering the previous
-- row's MAC (a hash chain keyed under a key derived from the KEK, so rows cannot be altered,
-- removed or inserted without the chain breaking, even by someone who can write the table).
CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT,
    details TEXT NOT NULL,
    mac TEXT NOT NULL
);
CREATE INDEX audit_events_subject ON audit_events (subject);
CREATE INDEX audit_events_action ON audit_events (action);
