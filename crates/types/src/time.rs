//! Timestamps on the wire. Stored times are epoch milliseconds (the same SQL runs on SQLite and PostgreSQL);
//! FC renders them as ISO-8601 UTC with second precision, e.g. `2020-04-03T05:57:28Z`.

use chrono::{DateTime, Utc};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// FC's `createdTime` / `lastModifiedTime` rendering.
pub fn iso8601(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_like_fc() {
        assert_eq!(super::iso8601(1_585_893_448_000), "2020-04-03T05:57:28Z");
    }
}
