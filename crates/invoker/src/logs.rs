//! The log of one invocation, bounded: a function that prints megabytes costs at most `limit` bytes of
//! server memory, and the tail FC returns (`X-Fc-Log-Result`, the last 4 KB) is always exact. What is
//! dropped is dropped from the middle, in one place, marked on a line of its own with its byte count: the
//! end of a log (the last lines, the error, `FC Invoke End`) is what matters most.

/// Bytes of the tail FC returns with `X-Fc-Log-Type: Tail`.
pub const TAIL_BYTES: usize = 4096;

/// The line that follows `FC Invoke End` when the invocation paid a cold start: how long the instance
/// took to start (what Lambda users read as `Init Duration`), in ms with two decimals.
pub fn cold_start_line(request_id: &str, init: std::time::Duration) -> String {
    format!("FC Cold Start RequestId: {request_id}, Init Duration: {:.2} ms", init.as_secs_f64() * 1000.0)
}

#[derive(Debug, Default)]
pub struct LogBuffer {
    limit: usize,
    /// The first bytes, at most `limit`, up to the first byte dropped.
    head: Vec<u8>,
    /// The last [`TAIL_BYTES`] bytes written after the head ended (a ring kept in order by draining).
    tail: Vec<u8>,
    /// Bytes between head and tail, dropped here or by the runtime.
    dropped: u64,
    /// The head has ended: it filled, or the runtime dropped output after it.
    cut: bool,
}

impl LogBuffer {
    pub fn new(limit: usize) -> LogBuffer {
        LogBuffer { limit, ..LogBuffer::default() }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        let room = if self.cut { 0 } else { self.limit.saturating_sub(self.head.len()) };
        if bytes.len() <= room {
            self.head.extend_from_slice(bytes);
            return;
        }
        self.cut = true;
        let (kept, rest) = bytes.split_at(room);
        self.head.extend_from_slice(kept);
        self.tail.extend_from_slice(rest);
        if self.tail.len() > TAIL_BYTES {
            let excess = self.tail.len() - TAIL_BYTES;
            self.dropped += excess as u64;
            self.tail.drain(..excess);
        }
    }

    /// Records `bytes` that went missing here (the runtime could not send them): they count toward the
    /// one marker, and what follows belongs to the tail.
    pub fn skip(&mut self, bytes: u64) {
        if bytes == 0 {
            return;
        }
        self.cut = true;
        // Whatever the tail held came before the gap: it joins the dropped middle.
        self.dropped += bytes + self.tail.len() as u64;
        self.tail.clear();
    }

    pub fn push_line(&mut self, line: &str) {
        self.push(line.as_bytes());
        self.push(b"\n");
    }

    /// The whole log as kept: head, the marker line if anything was dropped, then the tail.
    pub fn into_bytes(self) -> Vec<u8> {
        let mut out = self.head;
        if self.dropped > 0 {
            if out.last().is_some_and(|b| *b != b'\n') {
                out.push(b'\n');
            }
            out.extend_from_slice(marker(self.dropped).as_bytes());
        }
        out.extend_from_slice(&self.tail);
        out
    }
}

/// The line that stands where output was dropped.
pub fn marker(dropped: u64) -> String {
    format!("[ferric] ... {dropped} bytes of log output dropped here; the log keeps its beginning and its end ...\n")
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
        assert!(bytes.starts_with(b"0123456789\n[ferric] ... "), "{}", String::from_utf8_lossy(&bytes[..64]));
        assert!(bytes.ends_with(b"xyz-END"));
        assert!(bytes.len() < 10 + TAIL_BYTES + 128);
        let text = String::from_utf8_lossy(&bytes);
        // 3 + 8000 + 3 bytes came after the head; the tail kept 4096 of them.
        assert!(text.contains(&marker(3 + 8000 + 3 - 4096)), "{}", &text[..120]);
        assert_eq!(tail(&bytes).len(), TAIL_BYTES);
    }

    #[test]
    fn a_gap_from_the_runtime_is_the_one_cut_and_counts() {
        let mut log = LogBuffer::new(100);
        log.push(b"start\n");
        log.push(b"early\n");
        log.skip(5000);
        log.push(b"the real end\n");
        let bytes = log.into_bytes();
        assert_eq!(String::from_utf8_lossy(&bytes), format!("start\nearly\n{}the real end\n", marker(5000)));

        // After the head filled, the tail before the gap joins the dropped middle.
        let mut log = LogBuffer::new(4);
        log.push(b"headTAIL");
        log.skip(10);
        log.push(b"end");
        assert_eq!(String::from_utf8_lossy(&log.into_bytes()), format!("head\n{}end", marker(14)));
    }

    #[test]
    fn small_logs_are_kept_whole() {
        let mut log = LogBuffer::new(1024);
        log.push_line("FC Invoke Start RequestId: r");
        log.skip(0);
        log.push_line("FC Invoke End RequestId: r");
        assert_eq!(log.into_bytes(), b"FC Invoke Start RequestId: r\nFC Invoke End RequestId: r\n");
    }
}
