-- OpenID Connect Back-Channel Logout 1.0 §2.2 `backchannel_logout_uri`: where a client is
-- told, with a Logout Token, that a session it has tokens from has ended.
ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT;
