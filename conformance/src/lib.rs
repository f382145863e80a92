//! An OpenID Connect conformance runner: drives any OpenID provider over HTTP as a relying
//! party, module by module, the way the OpenID Foundation test plans do, and writes a JSON and
//! HTML report.
