-- SQLite's migration of this version rebuilds the sign-in and grant tables as WITHOUT
-- ROWID tables. PostgreSQL's tables have no rowid b-tree to drop: nothing to do here.
SELECT 1;
