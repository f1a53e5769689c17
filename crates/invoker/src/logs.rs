//! The log of one invocation, bounded: a function that prints megabytes costs at most `limit` bytes of
//! server memory, and the tail FC returns (`X-Fc-Log-Result`, the last 4 KB) is always exact.

/// Bytes of the tail FC returns with `X-Fc-Log-Type: Tail`.
pub const TAIL_BYTES: usize = 4096;

#[derive(Debug, Default)]
pub struct LogBuffer {
    limit: usize,
    /// The first `limit` bytes.
    head: Vec<u8>,
    /// The last [`TAIL_BYTES`] bytes written after `head` filled (a ring kept in order by draining).
    tail: Vec<u8>,
    dropped: u64,
}

impl LogBuffer {
    pub fn new(limit: usize) -> LogBuffer {
        LogBuffer { limit, head: Vec::new(), tail: Vec::new(), dropped: 0 }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        let room = self.limit.saturating_sub(self.head.len());
        if self.dropped == 0 && self.tail.is_empty() && bytes.len() <= room {
            self.head.extend_from_slice(bytes);
            return;
        }
        let (kept, rest) = bytes.split_at(room.min(bytes.len()));
        self.head.extend_from_slice(kept);
        self.tail.extend_from_slice(rest);
        if self.tail.len() > TAIL_BYTES {
            let excess = self.tail.len() - TAIL_BYTES;
            self.dropped += excess as u64;
            self.tail.drain(..excess);
        }
    }

    pub fn push_line(&mut self, line: &str) {
        self.push(line.as_bytes());
        self.push(b"\n");
    }

    /// The whole log as kept: head, a marker if anything was dropped, then the tail.
    pub fn into_bytes(self) -> Vec<u8> {
        let mut out = self.head;
        if self.dropped > 0 {
            out.extend_from_slice(format!("... {} bytes of log dropped by Ferric ...\n", self.dropped).as_bytes());
        }
        out.extend_from_slice(&self.tail);
        out
    }
}

/// The last [`TAIL_BYTES`] of a log.
pub fn tail(log: &[u8]) -> &[u8] {
    &log[log.len().saturating_sub(TAIL_BYTES)..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_head_and_exact_tail_within_bounds() {
        let mut log = LogBuffer::new(10);
        log.push(b"0123456789abc");
        for _ in 0..2000 {
            log.push(b"xyz-");
        }
        log.push(b"END");
        let bytes = log.into_bytes();
        assert!(bytes.starts_with(b"0123456789"));
        assert!(bytes.ends_with(b"xyz-END"));
        assert!(bytes.len() < 10 + TAIL_BYTES + 64);
        assert!(String::from_utf8_lossy(&bytes).contains("dropped by Ferric"));
        assert_eq!(tail(&bytes).len(), TAIL_BYTES);
    }

    #[test]
    fn small_logs_are_kept_whole() {
        let mut log = LogBuffer::new(1024);
        log.push_line("FC Invoke Start RequestId: r");
        log.push_line("FC Invoke End RequestId: r");
        assert_eq!(log.into_bytes(), b"FC Invoke Start RequestId: r\nFC Invoke End RequestId: r\n");
    }
}
