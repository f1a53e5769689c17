//! The frame codec of `runtimes/PROTOCOL.md`: `u32 total | u32 header length | JSON header | body`.

use bytes::{Buf, Bytes, BytesMut};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::message::FromRuntime;

/// Largest frame accepted from a runtime: the 32 MiB payload limit with room to spare.
pub const MAX_FRAME: usize = 64 * 1024 * 1024 + 64 * 1024;

/// Encodes one frame: header JSON then body, with both length prefixes.
pub fn encode(header: &impl Serialize, body: &[u8]) -> Result<Vec<u8>, serde_json::Error> {
    let header = serde_json::to_vec(header)?;
    let total = 4 + header.len() + body.len();
    let mut out = Vec::with_capacity(4 + total);
    out.extend_from_slice(&(total as u32).to_be_bytes());
    out.extend_from_slice(&(header.len() as u32).to_be_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(body);
    Ok(out)
}

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("runtime closed the control socket")]
    Closed,
    #[error("control socket read failed")]
    Io(#[from] std::io::Error),
    #[error("runtime sent a malformed frame: {0}")]
    Malformed(String),
}

/// Reads frames from a runtime, reusing one buffer.
pub struct FrameReader<R> {
    reader: R,
    buffer: BytesMut,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    pub fn new(reader: R) -> Self {
        FrameReader { reader, buffer: BytesMut::with_capacity(64 * 1024) }
    }

    /// The next message and its body.
    pub async fn next(&mut self) -> Result<(FromRuntime, Bytes), FrameError> {
        self.next_as().await
    }

    /// The next frame, its header read as `M` (the tests' fake runtime reads the invoker's messages).
    pub async fn next_as<M: DeserializeOwned>(&mut self) -> Result<(M, Bytes), FrameError> {
        loop {
            if self.buffer.len() >= 8 {
                let total =
                    u32::from_be_bytes([self.buffer[0], self.buffer[1], self.buffer[2], self.buffer[3]]) as usize;
                let header_len =
                    u32::from_be_bytes([self.buffer[4], self.buffer[5], self.buffer[6], self.buffer[7]]) as usize;
                if total > MAX_FRAME || header_len + 4 > total {
                    return Err(FrameError::Malformed(format!("lengths {total}/{header_len}")));
                }
                if self.buffer.len() >= 4 + total {
                    self.buffer.advance(8);
                    let header = self.buffer.split_to(header_len).freeze();
                    let body = self.buffer.split_to(total - 4 - header_len).freeze();
                    let message = serde_json::from_slice(&header).map_err(|e| FrameError::Malformed(e.to_string()))?;
                    return Ok((message, body));
                }
                self.buffer.reserve(4 + total - self.buffer.len());
            }
            if self.reader.read_buf(&mut self.buffer).await? == 0 {
                return Err(FrameError::Closed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trips_split_frames() {
        let mut wire = encode(&serde_json::json!({"type": "result", "id": 7}), b"hello").expect("encode");
        wire.extend(encode(&serde_json::json!({"type": "log", "requestId": "r"}), b"line\n").expect("encode"));
        // Deliver byte by byte to exercise partial reads.
        let (mut tx, rx) = tokio::io::duplex(1);
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            for b in wire {
                tx.write_all(&[b]).await.expect("write");
            }
        });
        let mut reader = FrameReader::new(rx);
        let (message, body) = reader.next().await.expect("frame");
        assert!(matches!(message, FromRuntime::Result { id: 7, http: None }));
        assert_eq!(&body[..], b"hello");
        let (message, body) = reader.next().await.expect("frame");
        assert!(matches!(message, FromRuntime::Log { ref request_id, dropped: 0 } if request_id == "r"));
        assert_eq!(&body[..], b"line\n");
        assert!(matches!(reader.next().await, Err(FrameError::Closed)));
    }

    #[tokio::test]
    async fn refuses_oversized_frames() {
        let mut wire = Vec::new();
        wire.extend_from_slice(&(u32::MAX).to_be_bytes());
        wire.extend_from_slice(&2u32.to_be_bytes());
        let mut reader = FrameReader::new(&wire[..]);
        assert!(matches!(reader.next().await, Err(FrameError::Malformed(_))));
    }
}
