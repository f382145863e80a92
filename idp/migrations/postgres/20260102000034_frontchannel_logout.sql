-- OpenID Connect Front-Channel Logout 1.0 §2: `frontchannel_logout_uri`, the page of a client
-- that logs it out when the provider's logout page loads it in an iframe, and
-- `frontchannel_logout_session_required`, whether that page is given `iss` and `sid`.
ALTER TABLE clients ADD COLUMN frontchannel_logout_uri TEXT;
ALTER TABLE clients ADD COLUMN frontchannel_logout_session_required BIGINT NOT NULL DEFAULT 0;
