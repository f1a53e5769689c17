//! Invocation log rows: appended in batches off the invoke path, read newest first, pruned by age and count.

use rusqlite::{params, Connection, ToSql, Transaction};

use super::db;
use crate::metadata::{LogQuery, LogRecord, StoreError};

pub(super) fn append(tx: &Transaction<'_>, records: &[LogRecord]) -> Result<(), StoreError> {
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO logs (account_id, service, function, request_id, time_ms, size, content)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(db("prepare log insert"))?;
    for r in records {
        let size = i64::try_from(r.content.len()).unwrap_or(i64::MAX);
        stmt.execute(params![r.account_id, r.service, r.function, r.request_id, r.time_ms, size, r.content])
            .map_err(db("insert log"))?;
    }
    Ok(())
}

pub(super) fn query(conn: &Connection, account: &str, query: &LogQuery) -> Result<Vec<LogRecord>, StoreError> {
    let mut sql = String::from(
        "SELECT id, account_id, service, function, request_id, time_ms, content FROM logs WHERE account_id = ?",
    );
    let mut values: Vec<Box<dyn ToSql>> = vec![Box::new(account.to_string())];
    let mut filter = |clause: &str, value: Box<dyn ToSql>| {
        sql.push_str(clause);
        values.push(value);
    };
    if let Some(v) = &query.service {
        filter(" AND service = ?", Box::new(v.clone()));
    }
    if let Some(v) = &query.function {
        filter(" AND function = ?", Box::new(v.clone()));
    }
    if let Some(v) = &query.request_id {
        filter(" AND request_id = ?", Box::new(v.clone()));
    }
    if let Some(v) = query.since_ms {
        filter(" AND time_ms >= ?", Box::new(v));
    }
    if let Some(v) = query.until_ms {
        filter(" AND time_ms <= ?", Box::new(v));
    }
    if let Some(v) = query.before_id {
        filter(" AND id < ?", Box::new(v));
    }
    sql.push_str(" ORDER BY id DESC LIMIT ?");
    values.push(Box::new(i64::from(query.limit)));
    let mut stmt = conn.prepare_cached(&sql).map_err(db("prepare log query"))?;
    let params: Vec<&dyn ToSql> = values.iter().map(|v| v.as_ref()).collect();
    let rows = stmt
        .query_map(params.as_slice(), |r| {
            Ok(LogRecord {
                id: r.get(0)?,
                account_id: r.get(1)?,
                service: r.get(2)?,
                function: r.get(3)?,
                request_id: r.get(4)?,
                time_ms: r.get(5)?,
                content: r.get(6)?,
            })
        })
        .map_err(db("query logs"))?;
    rows.collect::<Result<_, _>>().map_err(db("read log row"))
}

/// Drops logs older than `before_ms`, beyond the newest `keep_newest`, and beyond `keep_bytes` of content
/// counted from the newest.
pub(super) fn prune(
    tx: &Transaction<'_>,
    before_ms: i64,
    keep_newest: u64,
    keep_bytes: u64,
) -> Result<u64, StoreError> {
    let old = tx.execute("DELETE FROM logs WHERE time_ms < ?1", params![before_ms]).map_err(db("prune old logs"))?;
    let keep = i64::try_from(keep_newest).unwrap_or(i64::MAX);
    let excess = tx
        .execute("DELETE FROM logs WHERE id <= (SELECT id FROM logs ORDER BY id DESC LIMIT 1 OFFSET ?1)", params![keep])
        .map_err(db("prune excess logs"))?;
    let bytes = i64::try_from(keep_bytes).unwrap_or(i64::MAX);
    let oversize = tx
        .execute(
            "DELETE FROM logs WHERE id <= (
                 SELECT id FROM (SELECT id, SUM(size) OVER (ORDER BY id DESC) AS newer FROM logs)
                 WHERE newer > ?1 ORDER BY id DESC LIMIT 1)",
            params![bytes],
        )
        .map_err(db("prune logs by size"))?;
    Ok((old + excess + oversize) as u64)
}

#[cfg(test)]
mod tests {
    use crate::metadata::{LogQuery, LogRecord, MetadataStore};

    fn record(n: i64, size: usize) -> LogRecord {
        LogRecord {
            id: 0,
            account_id: "a".into(),
            service: "s".into(),
            function: "f".into(),
            request_id: format!("r{n}"),
            time_ms: n,
            content: vec![b'x'; size],
        }
    }

    #[tokio::test]
    async fn prune_bounds_age_count_and_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = crate::sqlite::SqliteStore::open(&dir.path().join("db")).expect("open");
        store.append_logs((1..=10).map(|n| record(n, 100)).collect()).await.expect("append");
        let all = |limit| LogQuery { limit, ..Default::default() };
        // Older than time 3 go; then keep the newest 6; then keep at most 450 bytes (4 records).
        assert_eq!(store.prune_logs(3, 100, 10_000).await.expect("prune"), 2);
        assert_eq!(store.prune_logs(0, 6, 10_000).await.expect("prune"), 2);
        assert_eq!(store.prune_logs(0, 100, 450).await.expect("prune"), 2);
        let left: Vec<String> =
            store.query_logs("a", all(100)).await.expect("query").into_iter().map(|r| r.request_id).collect();
        assert_eq!(left, ["r10", "r9", "r8", "r7"]);
        let one = store
            .query_logs("a", LogQuery { request_id: Some("r9".into()), limit: 5, ..Default::default() })
            .await
            .expect("query");
        assert_eq!(one.len(), 1);
        assert!(store.query_logs("other", all(100)).await.expect("query").is_empty(), "accounts are separate");
    }
}
