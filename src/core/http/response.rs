//! The response as returned to the surface, and the body read under a size limit.
use std::io::Read;

/// A completed exchange (any status: non-2xx is a normal return).
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    /// Raw header block incl. status line: `"HTTP/1.1 200 OK\r\n...\r\n\r\n"`, like libcurl.
    pub headers: Vec<u8>,
    /// Body bytes, exactly as received (after decompression when enabled).
    pub body: Vec<u8>,
    /// Seconds from sending to the end of the body.
    pub elapsed: f64,
}

impl Response {
    /// The value of the first response header `name` (case-insensitive), from the block.
    pub fn header(&self, name: &str) -> Option<String> {
        let text = String::from_utf8_lossy(&self.headers);
        text.split("\r\n").skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }
}

/// Why reading a body stopped.
pub enum BodyError {
    TooLarge,
    Io(std::io::Error),
}

/// The buffer for a body of `hint` bytes (the Content-Length, when known) under `limit`
/// (0 = unlimited), sized up front; `None` when the announced length is over the limit.
pub fn body_buffer(hint: Option<u64>, limit: u64) -> Option<Vec<u8>> {
    const MAX_PREALLOC: u64 = 64 * 1024 * 1024;
    if limit > 0 && hint.is_some_and(|h| h > limit) {
        return None;
    }
    let cap = hint.unwrap_or(0).min(MAX_PREALLOC);
    let cap = if limit > 0 {
        cap.min(limit.saturating_add(1))
    } else {
        cap
    };
    Some(Vec::with_capacity(cap as usize))
}

/// Reads the whole body, failing once more than `limit` bytes arrive (0 = unlimited).
/// Amortised growth (no quadratic copying); the Content-Length, when known and within the
/// limit, sizes the buffer up front.
pub fn read_body(
    reader: &mut impl Read,
    hint: Option<u64>,
    limit: u64,
) -> Result<Vec<u8>, BodyError> {
    const MAX_PREALLOC: u64 = 64 * 1024 * 1024;
    let cap = hint.unwrap_or(0).min(MAX_PREALLOC);
    let cap = if limit > 0 {
        cap.min(limit.saturating_add(1))
    } else {
        cap
    };
    let mut body = Vec::with_capacity(cap as usize);
    if limit == 0 {
        reader.read_to_end(&mut body).map_err(BodyError::Io)?;
        return Ok(body);
    }
    if let Some(h) = hint {
        if h > limit {
            return Err(BodyError::TooLarge);
        }
    }
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut body)
        .map_err(BodyError::Io)?;
    if body.len() as u64 > limit {
        return Err(BodyError::TooLarge);
    }
    Ok(body)
}
