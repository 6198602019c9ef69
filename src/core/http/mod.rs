//! HTTP core (reqwest, blocking, rustls). Filled in by the HTTP work.
