//! The SQLite schema. Every statement is idempotent (`IF NOT EXISTS`), so opening an existing database
//! adds what a newer version needs; `user_version` records the schema generation. Times are epoch
//! milliseconds and specs are JSON text, so the same SQL ports to PostgreSQL.

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS services (
    account_id TEXT NOT NULL,
    name TEXT NOT NULL,
    id TEXT NOT NULL,
    etag TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL,
    spec TEXT NOT NULL,
    PRIMARY KEY (account_id, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS functions (
    account_id TEXT NOT NULL,
    service TEXT NOT NULL,
    name TEXT NOT NULL,
    id TEXT NOT NULL,
    etag TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL,
    spec TEXT NOT NULL,
    code_checksum TEXT NOT NULL,
    code_size INTEGER NOT NULL,
    form_config TEXT,
    PRIMARY KEY (account_id, service, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS functions_by_code ON functions (code_checksum);
CREATE TABLE IF NOT EXISTS triggers (
    account_id TEXT NOT NULL,
    service TEXT NOT NULL,
    function TEXT NOT NULL,
    name TEXT NOT NULL,
    id TEXT NOT NULL,
    etag TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL,
    spec TEXT NOT NULL,
    PRIMARY KEY (account_id, service, function, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    service TEXT NOT NULL,
    function TEXT NOT NULL,
    request_id TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    size INTEGER NOT NULL,
    content BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_by_function ON logs (account_id, service, function, id);
CREATE INDEX IF NOT EXISTS logs_by_request ON logs (account_id, request_id);
CREATE INDEX IF NOT EXISTS logs_by_time ON logs (time_ms);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    service TEXT NOT NULL,
    function TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    payload BLOB NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    available_ms INTEGER NOT NULL,
    lease_until_ms INTEGER NOT NULL,
    started_ms INTEGER,
    ended_ms INTEGER,
    result BLOB,
    error TEXT
);
CREATE INDEX IF NOT EXISTS jobs_runnable ON jobs (status, available_ms);
DROP INDEX IF EXISTS jobs_by_function;
CREATE INDEX IF NOT EXISTS jobs_by_function_created ON jobs (account_id, service, function, created_ms, id);
CREATE TABLE IF NOT EXISTS async_configs (
    account_id TEXT NOT NULL,
    service TEXT NOT NULL,
    function TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    config TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL,
    PRIMARY KEY (account_id, service, function, qualifier)
) WITHOUT ROWID;
-- ---- custom domains and service tags (issue 11, items 4 and 7) ----
-- A domain name is unique across accounts (its lowercase `host` too): a Host has exactly one owner.
CREATE TABLE IF NOT EXISTS custom_domains (
    name TEXT PRIMARY KEY,
    host TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL,
    id TEXT NOT NULL,
    etag TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL,
    spec TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS custom_domains_by_account ON custom_domains (account_id, name);
CREATE TABLE IF NOT EXISTS service_tags (
    account_id TEXT NOT NULL,
    service TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (account_id, service, key)
) WITHOUT ROWID;
-- ---- end of custom domains and service tags ----
PRAGMA user_version = 6;
";

/// Versions and aliases (schema generation 6, with custom domains and tags above). A block of its own:
/// `SqliteStore::open` runs it after [`SCHEMA`], and it only adds tables, so databases of generation 4
/// gain them unchanged. `version_counters` remembers the last id a service handed out, so an id is never
/// reused after a delete (FC's rule); `version_code` lists the packages each version keeps alive for
/// code GC.
pub(super) const VERSIONS: &str = "
CREATE TABLE IF NOT EXISTS versions (
    account_id TEXT NOT NULL,
    service TEXT NOT NULL,
    version_id INTEGER NOT NULL,
    description TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL,
    snapshot TEXT NOT NULL,
    PRIMARY KEY (account_id, service, version_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS version_counters (
    account_id TEXT NOT NULL,
    service TEXT NOT NULL,
    last_id INTEGER NOT NULL,
    PRIMARY KEY (account_id, service)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS version_code (
    account_id TEXT NOT NULL,
    service TEXT NOT NULL,
    version_id INTEGER NOT NULL,
    code_checksum TEXT NOT NULL,
    PRIMARY KEY (account_id, service, version_id, code_checksum)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS version_code_by_code ON version_code (code_checksum);
CREATE TABLE IF NOT EXISTS aliases (
    account_id TEXT NOT NULL,
    service TEXT NOT NULL,
    name TEXT NOT NULL,
    id TEXT NOT NULL,
    etag TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL,
    spec TEXT NOT NULL,
    PRIMARY KEY (account_id, service, name)
) WITHOUT ROWID;
";

/// Provision and on-demand configs (issue 11, item 5), a block of its own run after the others; it only
/// adds tables. `name` is each row's list key (see `sqlite/provision.rs`).
pub(super) const PROVISION: &str = "
CREATE TABLE IF NOT EXISTS provision_configs (
    account_id TEXT NOT NULL,
    name TEXT NOT NULL,
    service TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    function TEXT NOT NULL,
    spec TEXT NOT NULL,
    modified_ms INTEGER NOT NULL,
    PRIMARY KEY (account_id, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS on_demand_configs (
    account_id TEXT NOT NULL,
    name TEXT NOT NULL,
    service TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    function TEXT NOT NULL,
    maximum_instances INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL,
    PRIMARY KEY (account_id, name)
) WITHOUT ROWID;
";

/// Layer versions (issue 11, item 6), a block of its own run after [`VERSIONS`]; it only adds tables.
/// `layer_counters` keeps numbers from being reused after a delete; `code_checksum` is indexed because
/// code GC asks whether any layer still holds a package. A deleted version that a function (or a
/// published version) still lists keeps its row with `deleted_ms` set: hidden from every read but the
/// data plane's, its package kept, until nothing lists it.
pub(super) const LAYERS: &str = "
CREATE TABLE IF NOT EXISTS layer_versions (
    account_id TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    spec TEXT NOT NULL,
    code_checksum TEXT NOT NULL,
    code_size INTEGER NOT NULL,
    deleted_ms INTEGER,
    PRIMARY KEY (account_id, name, version)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS layer_versions_by_code ON layer_versions (code_checksum);
CREATE TABLE IF NOT EXISTS layer_counters (
    account_id TEXT NOT NULL,
    name TEXT NOT NULL,
    last_version INTEGER NOT NULL,
    PRIMARY KEY (account_id, name)
) WITHOUT ROWID;
";
