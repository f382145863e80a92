-- OpenID Connect Dynamic Client Registration 1.0 §2 `userinfo_signed_response_alg`: the
-- client gets its UserInfo Response as a JWT signed with this algorithm (OpenID Connect
-- Core 1.0 §5.3.2) instead of plain JSON.
ALTER TABLE clients ADD COLUMN userinfo_signed_response_alg TEXT;
