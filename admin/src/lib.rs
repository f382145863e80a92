//! The admin REST API and admin console: relying-party clients, signing keys, banks, service
//! points and operators, users, and the tamper-evident audit trail.
