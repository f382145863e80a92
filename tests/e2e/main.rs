//! End-to-end tests of the whole server, driven over HTTP.

mod helpers;

mod code_flow;
mod tokens;
mod authorize;
mod client_auth;
mod logout;
mod two_nodes;
mod cli;
