//! Async invocation rows: the durable queue. A lease is an `UPDATE ... RETURNING` in one transaction, so
//! two workers never take the same job, and a job whose worker died becomes leasable when its lease ends.

use rusqlite::{params, Connection, OptionalExtension, Row, ToSql, Transaction};

use super::{db, from_json, to_json};
use ferric_types::async_config::{AsyncConfigRow, AsyncInvokeConfig};
use ferric_types::FcError;

use crate::metadata::{Job, JobFilter, JobStatus, Page, StoreError};

const COLUMNS: &str = "id, account_id, service, function, qualifier, payload, status, attempts, created_ms, \
                       available_ms, lease_until_ms, started_ms, ended_ms, result, error, request_id";

/// Adds `jobs.request_id` to a database made before it existed. SQLite has no `ADD COLUMN IF NOT EXISTS`,
/// so the table's columns are read first; rows of older databases keep `NULL`, read back as their id
/// (what their request id was then).
pub(super) fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let mut stmt = conn.prepare("PRAGMA table_info(jobs)").map_err(db("read the jobs columns"))?;
    let names = stmt.query_map([], |row| row.get::<_, String>(1)).map_err(db("read the jobs columns"))?;
    let names: Vec<String> = names.collect::<Result<_, _>>().map_err(db("read the jobs columns"))?;
    if !names.iter().any(|n| n == "request_id") {
        conn.execute_batch("ALTER TABLE jobs ADD COLUMN request_id TEXT").map_err(db("add jobs.request_id"))?;
    }
    Ok(())
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<Job> {
    let status: String = row.get(6)?;
    let id: String = row.get(0)?;
    Ok(Job {
        request_id: row.get::<_, Option<String>>(15)?.unwrap_or_else(|| id.clone()),
        id,
        account_id: row.get(1)?,
        service: row.get(2)?,
        function: row.get(3)?,
        qualifier: row.get(4)?,
        payload: row.get(5)?,
        status: JobStatus::parse(&status).unwrap_or(JobStatus::Failed),
        attempts: row.get::<_, i64>(7)?.clamp(0, i64::from(u32::MAX)) as u32,
        created_ms: row.get(8)?,
        available_ms: row.get(9)?,
        lease_until_ms: row.get(10)?,
        started_ms: row.get(11)?,
        ended_ms: row.get(12)?,
        result: row.get(13)?,
        error: row.get(14)?,
    })
}

pub(super) fn enqueue(tx: &Transaction<'_>, job: &Job) -> Result<(), StoreError> {
    tx.prepare_cached(&format!(
        "INSERT INTO jobs ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
    ))
    .and_then(|mut s| {
        s.execute(params![
            job.id,
            job.account_id,
            job.service,
            job.function,
            job.qualifier,
            job.payload,
            job.status.as_str(),
            job.attempts,
            job.created_ms,
            job.available_ms,
            job.lease_until_ms,
            job.started_ms,
            job.ended_ms,
            job.result,
            job.error,
            job.request_id
        ])
    })
    .map_err(db("enqueue job"))?;
    Ok(())
}

pub(super) fn lease(
    tx: &Transaction<'_>,
    now_ms: i64,
    lease_until_ms: i64,
    limit: u32,
) -> Result<Vec<Job>, StoreError> {
    let mut stmt = tx
        .prepare_cached(&format!(
            "UPDATE jobs SET status = 'Running', lease_until_ms = ?2, attempts = attempts + 1,
                 started_ms = COALESCE(started_ms, ?1)
             WHERE id IN (
                 SELECT id FROM jobs
                 WHERE (status = 'Enqueued' AND available_ms <= ?1) OR (status = 'Running' AND lease_until_ms < ?1)
                 ORDER BY available_ms LIMIT ?3)
             RETURNING {COLUMNS}"
        ))
        .map_err(db("prepare lease"))?;
    let rows = stmt.query_map(params![now_ms, lease_until_ms, limit], from_row).map_err(db("lease jobs"))?;
    rows.collect::<Result<_, _>>().map_err(db("read leased job"))
}

pub(super) fn finish(
    tx: &Transaction<'_>,
    id: &str,
    status: JobStatus,
    result: Option<&[u8]>,
    error: Option<&str>,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE jobs SET status = ?2, result = ?3, error = ?4, ended_ms = ?5 WHERE id = ?1",
        params![id, status.as_str(), result, error, now_ms],
    )
    .map_err(db("finish job"))?;
    Ok(())
}

pub(super) fn renew_lease(tx: &Transaction<'_>, id: &str, attempts: u32, until_ms: i64) -> Result<bool, StoreError> {
    let changed = tx
        .execute(
            "UPDATE jobs SET lease_until_ms = ?3 WHERE id = ?1 AND status = 'Running' AND attempts = ?2",
            params![id, attempts, until_ms],
        )
        .map_err(db("renew job lease"))?;
    Ok(changed > 0)
}

pub(super) fn requeue_running(tx: &Transaction<'_>) -> Result<u64, StoreError> {
    let n = tx
        .execute("UPDATE jobs SET status = 'Enqueued', available_ms = 0 WHERE status = 'Running'", [])
        .map_err(db("requeue running jobs"))?;
    Ok(n as u64)
}

pub(super) fn retry(tx: &Transaction<'_>, id: &str, available_ms: i64, error: &str) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE jobs SET status = 'Enqueued', available_ms = ?2, error = ?3 WHERE id = ?1 AND status = 'Running'",
        params![id, available_ms, error],
    )
    .map_err(db("retry job"))?;
    Ok(())
}

pub(super) fn get(conn: &Connection, account: &str, id: &str) -> Result<Option<Job>, StoreError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM jobs WHERE account_id = ?1 AND id = ?2"),
        params![account, id],
        from_row,
    )
    .optional()
    .map_err(db("get job"))
}

/// Where a page of one function's jobs starts: strictly after `(created_ms, id)` in the newest-first order.
/// Ids break ties, so jobs created in the same millisecond are neither skipped nor repeated.
#[derive(Debug, Clone, PartialEq, Eq)]
struct JobCursor {
    created_ms: i64,
    id: String,
}

impl JobCursor {
    fn token(job: &Job) -> String {
        format!("{}.{}", job.created_ms, job.id)
    }

    /// `<created_ms>.<id>`; a bare `<created_ms>` (the tokens of earlier versions) starts before that
    /// millisecond.
    fn parse(token: &str) -> Result<JobCursor, StoreError> {
        let (ms, id) = token.split_once('.').unwrap_or((token, ""));
        let created_ms = ms.parse::<i64>().map_err(|_| FcError::invalid("nextToken is not valid"))?;
        Ok(JobCursor { created_ms, id: id.to_string() })
    }
}

pub(super) fn list(
    conn: &Connection,
    account: &str,
    service: &str,
    function: &str,
    filter: &JobFilter,
    next_token: Option<&str>,
    limit: u32,
) -> Result<Page<Job>, StoreError> {
    let mut sql = format!("SELECT {COLUMNS} FROM jobs WHERE account_id = ? AND service = ? AND function = ?");
    let mut values: Vec<Box<dyn ToSql>> =
        vec![Box::new(account.to_string()), Box::new(service.to_string()), Box::new(function.to_string())];
    if let Some(status) = filter.status {
        sql.push_str(" AND status = ?");
        values.push(Box::new(status.as_str()));
    }
    if let Some(qualifier) = &filter.qualifier {
        sql.push_str(" AND qualifier = ?");
        values.push(Box::new(qualifier.clone()));
    }
    if let Some(token) = next_token {
        let cursor = JobCursor::parse(token)?;
        sql.push_str(" AND (created_ms, id) < (?, ?)");
        values.push(Box::new(cursor.created_ms));
        values.push(Box::new(cursor.id));
    }
    sql.push_str(" ORDER BY created_ms DESC, id DESC LIMIT ?");
    values.push(Box::new(i64::from(limit) + 1));
    let mut stmt = conn.prepare_cached(&sql).map_err(db("prepare list jobs"))?;
    let params: Vec<&dyn ToSql> = values.iter().map(|v| v.as_ref()).collect();
    let rows = stmt.query_map(params.as_slice(), from_row).map_err(db("list jobs"))?;
    let mut items: Vec<Job> = rows.collect::<Result<_, _>>().map_err(db("read job"))?;
    let next_token = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(JobCursor::token)
    } else {
        None
    };
    Ok(Page { items, next_token })
}

pub(super) fn redrive(tx: &Transaction<'_>, account: &str, id: &str, now_ms: i64) -> Result<bool, StoreError> {
    let changed = tx
        .execute(
            "UPDATE jobs SET status = 'Enqueued', attempts = 0, created_ms = ?3, available_ms = ?3, started_ms = NULL,
                 ended_ms = NULL, result = NULL, error = NULL
             WHERE account_id = ?1 AND id = ?2 AND status IN ('Failed', 'Expired', 'Stopped')",
            params![account, id, now_ms],
        )
        .map_err(db("redrive job"))?;
    Ok(changed > 0)
}

pub(super) fn prune(tx: &Transaction<'_>, before_ms: i64) -> Result<u64, StoreError> {
    let n = tx
        .execute(
            "DELETE FROM jobs WHERE status IN ('Succeeded', 'Failed', 'Expired', 'Stopped') AND ended_ms < ?1",
            params![before_ms],
        )
        .map_err(db("prune jobs"))?;
    Ok(n as u64)
}

/// Counts by the `jobs_runnable` index (status first), so only waiting and running rows are read.
pub(super) fn depth(conn: &Connection, limit: u32) -> Result<Vec<crate::QueueDepth>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT account_id, service, function, qualifier,
                    SUM(status = 'Enqueued'), SUM(status = 'Running')
             FROM jobs WHERE status IN ('Enqueued', 'Running')
             GROUP BY account_id, service, function, qualifier
             ORDER BY account_id, service, function, qualifier LIMIT ?1",
        )
        .map_err(db("prepare queue depth"))?;
    let count = |v: i64| u64::try_from(v).unwrap_or(0);
    let rows = stmt
        .query_map(params![limit], |row| {
            Ok(crate::QueueDepth {
                account_id: row.get(0)?,
                service: row.get(1)?,
                function: row.get(2)?,
                qualifier: row.get(3)?,
                enqueued: count(row.get(4)?),
                running: count(row.get(5)?),
            })
        })
        .map_err(db("queue depth"))?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db("queue depth"))
}

pub(super) fn stop(tx: &Transaction<'_>, account: &str, id: &str, now_ms: i64) -> Result<bool, StoreError> {
    let changed = tx
        .execute(
            "UPDATE jobs SET status = 'Stopped', ended_ms = ?3 WHERE account_id = ?1 AND id = ?2 AND status = 'Enqueued'",
            params![account, id, now_ms],
        )
        .map_err(db("stop job"))?;
    Ok(changed > 0)
}

pub(super) fn get_config(conn: &Connection, key: [&str; 4]) -> Result<Option<AsyncConfigRow>, StoreError> {
    let row: Option<(String, i64, i64)> = conn
        .query_row(
            "SELECT config, created_ms, modified_ms FROM async_configs
             WHERE account_id = ?1 AND service = ?2 AND function = ?3 AND qualifier = ?4",
            params![key[0], key[1], key[2], key[3]],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(db("get async config"))?;
    row.map(|(text, created_ms, modified_ms)| {
        Ok(AsyncConfigRow { config: from_json("async invoke config", &text)?, created_ms, modified_ms })
    })
    .transpose()
}

/// One function's configs of every qualifier, by qualifier, from after `after`; `limit + 1` rows tell
/// whether a page follows.
pub(super) fn list_configs(
    conn: &Connection,
    key: [&str; 3],
    after: Option<&str>,
    limit: u32,
) -> Result<Page<(String, AsyncConfigRow)>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT qualifier, config, created_ms, modified_ms FROM async_configs
             WHERE account_id = ?1 AND service = ?2 AND function = ?3 AND qualifier > ?4
             ORDER BY qualifier LIMIT ?5",
        )
        .map_err(db("prepare list async configs"))?;
    let rows = stmt
        .query_map(params![key[0], key[1], key[2], after.unwrap_or(""), i64::from(limit) + 1], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?, r.get(3)?))
        })
        .map_err(db("list async configs"))?;
    let mut items = Vec::new();
    for row in rows {
        let (qualifier, text, created_ms, modified_ms) = row.map_err(db("read async config"))?;
        let config = from_json("async invoke config", &text)?;
        items.push((qualifier, AsyncConfigRow { config, created_ms, modified_ms }));
    }
    let next_token = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|(q, _)| q.clone())
    } else {
        None
    };
    Ok(Page { items, next_token })
}

pub(super) fn put_config(
    tx: &Transaction<'_>,
    key: [&str; 4],
    config: &AsyncInvokeConfig,
    now_ms: i64,
) -> Result<AsyncConfigRow, StoreError> {
    let config = to_json("async invoke config", config)?;
    tx.execute(
        "INSERT INTO async_configs (account_id, service, function, qualifier, config, created_ms, modified_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
         ON CONFLICT (account_id, service, function, qualifier)
         DO UPDATE SET config = excluded.config, modified_ms = excluded.modified_ms",
        params![key[0], key[1], key[2], key[3], config, now_ms],
    )
    .map_err(db("put async config"))?;
    get_config(tx, key)?.ok_or(StoreError::WorkerStopped)
}

pub(super) fn delete_config(tx: &Transaction<'_>, key: [&str; 4]) -> Result<bool, StoreError> {
    let n = tx
        .execute(
            "DELETE FROM async_configs WHERE account_id = ?1 AND service = ?2 AND function = ?3 AND qualifier = ?4",
            params![key[0], key[1], key[2], key[3]],
        )
        .map_err(db("delete async config"))?;
    Ok(n > 0)
}

#[cfg(test)]
mod tests {
    use crate::metadata::{Job, JobFilter, JobStatus, MetadataStore, Page};

    fn job(id: &str) -> Job {
        Job {
            id: id.into(),
            request_id: format!("req-{id}"),
            account_id: "a".into(),
            service: "s".into(),
            function: "f".into(),
            qualifier: "LATEST".into(),
            payload: b"p".to_vec(),
            status: JobStatus::Enqueued,
            attempts: 0,
            created_ms: 0,
            available_ms: 0,
            lease_until_ms: 0,
            started_ms: None,
            ended_ms: None,
            result: None,
            error: None,
        }
    }

    #[tokio::test]
    async fn the_depth_counts_waiting_and_running_jobs_per_function_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = crate::sqlite::SqliteStore::open(&dir.path().join("db")).expect("open");
        for id in ["a", "b", "c"] {
            store.enqueue_job(job(id)).await.expect("enqueue");
        }
        let mut other = job("d");
        other.function = "g".into();
        store.enqueue_job(other).await.expect("enqueue");
        let mut done = job("e");
        done.function = "h".into();
        store.enqueue_job(done).await.expect("enqueue");
        store.finish_job("e", JobStatus::Succeeded, None, None, 1).await.expect("finish");
        let leased = store.lease_jobs(10, 1_000, 1).await.expect("lease");
        assert_eq!(leased.len(), 1);

        let depth = store.queue_depth(100).await.expect("depth");
        let counts: Vec<_> = depth.iter().map(|d| (d.function.as_str(), d.enqueued, d.running)).collect();
        let running_f = u64::from(leased[0].function == "f");
        assert_eq!(counts, [("f", 3 - running_f, running_f), ("g", 1 - (1 - running_f), 1 - running_f)]);
        assert_eq!(store.queue_depth(1).await.expect("depth").len(), 1, "the limit bounds the lines");
    }

    #[tokio::test]
    async fn lease_once_requeue_running_finish_and_prune() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = crate::sqlite::SqliteStore::open(&dir.path().join("db")).expect("open");
        store.enqueue_job(job("one")).await.expect("enqueue");
        store.enqueue_job(job("two")).await.expect("enqueue");
        let leased = store.lease_jobs(10, 1_000, 10).await.expect("lease");
        assert_eq!(leased.len(), 2);
        assert!(leased.iter().all(|j| j.status == JobStatus::Running && j.attempts == 1));
        assert!(store.lease_jobs(20, 1_000, 10).await.expect("lease").is_empty(), "a leased job is not leased twice");
        // A renewed lease holds past its first end; a stale run (other attempt count) cannot renew.
        assert!(store.renew_job_lease("one", 1, 5_000).await.expect("renew"));
        assert!(!store.renew_job_lease("one", 7, 9_000).await.expect("renew"), "only the run that leased it");
        assert!(store.lease_jobs(2_000, 3_000, 10).await.expect("lease").iter().all(|j| j.id == "two"));
        assert!(store.renew_job_lease("one", 1, 1_000).await.expect("renew"));
        assert_eq!(store.requeue_running().await.expect("requeue"), 2);
        assert_eq!(store.lease_jobs(10, 1_000, 10).await.expect("lease").len(), 2);
        // A lease that ran out, or a restart, makes a running job runnable again.
        assert_eq!(store.lease_jobs(2_000, 3_000, 1).await.expect("lease").len(), 1);
        assert_eq!(store.requeue_running().await.expect("requeue"), 2);
        let again = store.lease_jobs(2_100, 5_000, 10).await.expect("lease");
        assert_eq!(again.len(), 2);
        store.finish_job("one", JobStatus::Succeeded, Some(b"ok".to_vec()), None, 100).await.expect("finish");
        store.finish_job("two", JobStatus::Failed, None, Some("boom".into()), 5_000).await.expect("finish");
        assert_eq!(store.prune_jobs(1_000).await.expect("prune"), 1, "only jobs that ended before the cutoff go");
        assert!(store.get_job("a", "one").await.expect("get").is_none());
        let two = store.get_job("a", "two").await.expect("get").expect("kept");
        assert_eq!((two.status, two.error.as_deref()), (JobStatus::Failed, Some("boom")));
        assert!(store.get_job("other", "two").await.expect("get").is_none(), "accounts are separate");
    }

    /// Issue 9: the cursor was `created_ms` alone, so a page ending inside a millisecond lost the rest of it.
    #[tokio::test]
    async fn paging_loses_nothing_created_in_one_millisecond() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = crate::sqlite::SqliteStore::open(&dir.path().join("db")).expect("open");
        let mut expected = Vec::new();
        for n in 0..250 {
            // 240 jobs share one millisecond; a few older ones follow them.
            let mut j = job(&format!("job-{n:03}"));
            j.created_ms = if n < 240 { 1_000 } else { 900 - n };
            expected.push(j.id.clone());
            store.enqueue_job(j).await.expect("enqueue");
        }
        for limit in [1, 7, 100] {
            let mut seen = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let page =
                    store.list_jobs("a", "s", "f", JobFilter::default(), token.clone(), limit).await.expect("list");
                assert!(page.items.len() <= limit as usize);
                seen.extend(page.items.into_iter().map(|j| j.id));
                match page.next_token {
                    Some(t) => token = Some(t),
                    None => break,
                }
            }
            let mut sorted = seen.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), seen.len(), "no job listed twice (limit {limit})");
            let mut all = expected.clone();
            all.sort();
            assert_eq!(sorted, all, "every job listed (limit {limit})");
        }
        // A token of the earlier format (a bare millisecond) still pages from before that millisecond.
        let page = store.list_jobs("a", "s", "f", JobFilter::default(), Some("1000".into()), 100).await.expect("list");
        assert_eq!(page.items.len(), 10);
        let bad = store.list_jobs("a", "s", "f", JobFilter::default(), Some("x.y".into()), 10).await;
        assert!(matches!(bad, Err(crate::StoreError::Rejected(_))), "a malformed token is the client's fault");
    }

    /// Issue 11 item 8: a job kept only its stateful id, so its request id could not be reported apart.
    #[tokio::test]
    async fn a_job_keeps_its_request_id_and_lists_by_qualifier() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = crate::sqlite::SqliteStore::open(&dir.path().join("db")).expect("open");
        store.enqueue_job(job("one")).await.expect("enqueue");
        let mut prod = job("two");
        prod.qualifier = "prod".into();
        store.enqueue_job(prod).await.expect("enqueue");
        let one = store.get_job("a", "one").await.expect("get").expect("kept");
        assert_eq!((one.id.as_str(), one.request_id.as_str()), ("one", "req-one"));
        let of = |qualifier: Option<&str>| JobFilter { status: None, qualifier: qualifier.map(str::to_string) };
        let ids = |page: Page<Job>| page.items.into_iter().map(|j| j.id).collect::<Vec<_>>();
        let listed = store.list_jobs("a", "s", "f", of(Some("prod")), None, 10).await.expect("list");
        assert_eq!(ids(listed), ["two"]);
        let listed = store.list_jobs("a", "s", "f", of(Some("LATEST")), None, 10).await.expect("list");
        assert_eq!(ids(listed), ["one"]);
        let listed = store.list_jobs("a", "s", "f", of(None), None, 10).await.expect("list");
        assert_eq!(ids(listed).len(), 2);
    }

    /// A database made before `jobs.request_id` gains the column on open; its rows read their id back.
    #[tokio::test]
    async fn an_older_database_gains_the_request_id_column() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("db");
        {
            let conn = rusqlite::Connection::open(&path).expect("open");
            conn.execute_batch(
                "CREATE TABLE jobs (id TEXT PRIMARY KEY, account_id TEXT NOT NULL, service TEXT NOT NULL,
                     function TEXT NOT NULL, qualifier TEXT NOT NULL, payload BLOB NOT NULL, status TEXT NOT NULL,
                     attempts INTEGER NOT NULL, created_ms INTEGER NOT NULL, available_ms INTEGER NOT NULL,
                     lease_until_ms INTEGER NOT NULL, started_ms INTEGER, ended_ms INTEGER, result BLOB, error TEXT);
                 INSERT INTO jobs VALUES ('old', 'a', 's', 'f', 'LATEST', x'00', 'Enqueued', 0, 1, 1, 0,
                     NULL, NULL, NULL, NULL);",
            )
            .expect("old schema");
        }
        let store = crate::sqlite::SqliteStore::open(&path).expect("open migrates");
        let old = store.get_job("a", "old").await.expect("get").expect("kept");
        assert_eq!(old.request_id, "old");
        store.enqueue_job(job("new")).await.expect("enqueue");
        assert_eq!(store.get_job("a", "new").await.expect("get").expect("kept").request_id, "req-new");
        drop(store);
        crate::sqlite::SqliteStore::open(&path).expect("a second open leaves the column as it is");
    }
}
