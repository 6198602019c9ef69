//! E-mail core (lettre, rustls). Filled in by the e-mail work.
