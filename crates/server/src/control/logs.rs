//! Reading invocation logs: a page of stored ones, or a live follow of new ones.

use std::sync::Arc;

use ferric_store::{LogQuery, LogRecord};

use super::Control;
use crate::error::ApiError;

/// One account's logs, newest first. Flushes first, so every invocation that has answered is listed.
pub async fn query(ctl: &Control, account: &str, query: LogQuery) -> Result<Vec<LogRecord>, ApiError> {
    ctl.parts().logs.flush().await;
    Ok(ctl.store().query_logs(account, query).await?)
}

/// Every log recorded from now on, of every account (the caller filters).
pub fn follow(ctl: &Control) -> tokio::sync::broadcast::Receiver<Arc<LogRecord>> {
    ctl.parts().logs.follow()
}
