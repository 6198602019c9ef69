//! The core's error: a message for the user, without the `httpClient::<fn>:` prefix,
//! which the plugin surface adds. Messages never contain passwords, secrets or tokens.
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
    /// The caller passed something wrong (raised as IllegalArgumentException), as opposed
    /// to a call that was fine but failed (network, server answer: RuntimeException).
    argument: bool,
}

impl Error {
    /// A failure of a well-formed call.
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            argument: false,
        }
    }
    /// A bad argument, found by the core's own validation.
    pub fn argument(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            argument: true,
        }
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    pub fn is_argument(&self) -> bool {
        self.argument
    }
    /// The same kind of error with another message (context added, secrets removed).
    pub fn with_message(&self, message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            argument: self.argument,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Secrets shorter than this are not searched for: replacing them would mangle ordinary
/// words ("k" in "unknown") while protecting nothing. Messages are built without secrets
/// in the first place; this is the second line of defence.
const MIN_REDACTED_LEN: usize = 4;

/// Replaces every occurrence of each secret (passwords, app secrets, tokens, webhook
/// keys) in `message` by `***`.
pub fn redact(message: &str, secrets: &[&str]) -> String {
    let mut out = message.to_string();
    for s in secrets {
        if s.len() >= MIN_REDACTED_LEN && out.contains(s) {
            out = out.replace(s, "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redacts_secrets_but_not_short_strings_inside_words() {
        assert_eq!(
            redact("x secret-1 y secret-1", &["secret-1"]),
            "x *** y ***"
        );
        assert_eq!(redact("unknown host", &["k", ""]), "unknown host");
    }
}
