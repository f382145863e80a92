-- OpenID Connect Core 1.0 §8.1: the sector of the client's pairwise subject identifiers (a
-- host name); NULL: the client is told every account's public identifier.
ALTER TABLE clients ADD COLUMN sector_identifier TEXT;
