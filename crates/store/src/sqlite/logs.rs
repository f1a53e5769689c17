//! Invocation log rows: appended in batches off the invoke path, read newest first, pruned by age and count.

use rusqlite::{params, Connection, ToSql, Transaction};

use super::db;
use crate::metadata::{LogQuery, LogRecord, StoreError};

pub(super) fn append(tx: &Transaction<'_>, records: &[LogRecord]) -> Result<(), StoreError> {
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO logs (account_id, service, function, request_id, time_ms, content)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(db("prepare log insert"))?;
    for r in records {
        stmt.execute(params![r.account_id, r.service, r.function, r.request_id, r.time_ms, r.content])
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

pub(super) fn prune(tx: &Transaction<'_>, before_ms: i64, keep_newest: u64) -> Result<u64, StoreError> {
    let old = tx.execute("DELETE FROM logs WHERE time_ms < ?1", params![before_ms]).map_err(db("prune old logs"))?;
    let keep = i64::try_from(keep_newest).unwrap_or(i64::MAX);
    let excess = tx
        .execute("DELETE FROM logs WHERE id <= (SELECT MAX(id) FROM logs) - ?1", params![keep])
        .map_err(db("prune excess logs"))?;
    Ok((old + excess) as u64)
}
