//! FC's list semantics in one query: sorted by name, `startKey` inclusive (ignored with `nextToken`),
//! `prefix` always applied, one extra row fetched to learn whether a next page exists.

use rusqlite::{Connection, Row, ToSql};

use super::db;
use crate::metadata::{ListQuery, Page, StoreError};

/// Sorts after every name: names are ASCII, so any prefix followed by the highest code point bounds them.
const PREFIX_END: char = '\u{10FFFF}';

/// `select` is `SELECT ... FROM t WHERE <scope conditions>` using parameters `?1..?n` from `scope`.
pub(super) fn list<T>(
    conn: &Connection,
    select: &str,
    scope: &[&dyn ToSql],
    query: &ListQuery,
    map: impl Fn(&Row<'_>) -> Result<T, StoreError>,
    name_of: impl Fn(&T) -> &str,
) -> Result<Page<T>, StoreError> {
    let n = scope.len();
    let sql = format!(
        "{select} AND name >= ?{} AND name >= ?{} AND name < ?{} ORDER BY name LIMIT ?{}",
        n + 1,
        n + 2,
        n + 3,
        n + 4
    );
    let start = query.next_token.as_deref().or(query.start_key.as_deref()).unwrap_or("");
    let prefix = query.prefix.as_deref().unwrap_or("");
    let prefix_end = format!("{prefix}{PREFIX_END}");
    let fetch = i64::from(query.limit) + 1;
    let mut params: Vec<&dyn ToSql> = scope.to_vec();
    params.extend([&start as &dyn ToSql, &prefix, &prefix_end, &fetch]);

    let mut stmt = conn.prepare_cached(&sql).map_err(db("prepare list"))?;
    let mut rows = stmt.query(params.as_slice()).map_err(db("list"))?;
    let mut items = Vec::with_capacity(query.limit as usize + 1);
    while let Some(row) = rows.next().map_err(db("read list row"))? {
        items.push(map(row)?);
    }
    let next_token =
        if items.len() > query.limit as usize { items.pop().map(|extra| name_of(&extra).to_string()) } else { None };
    Ok(Page { items, next_token })
}
