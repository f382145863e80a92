-- Every sign-in asks whether the account has signed in before, and from this device: two
-- index probes, instead of a walk over the account's whole history that grew with it.
CREATE INDEX login_events_device ON login_events (account_id, device);
