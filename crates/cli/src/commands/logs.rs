//! `ferric logs [svc[/fn]]`: invocation logs from the server's `GET /ferric/v1/logs` (newest first there,
//! printed oldest first here, as a terminal reads them), and with `--tail` the live ones from the
//! server-sent events of `GET /ferric/v1/logs/follow`. The follow stream is opened before the recent logs
//! are read, so nothing written in between is missed; entries seen in both are printed once.

use std::collections::HashSet;
use std::io::IsTerminal;

use anyhow::{bail, Context, Result};
use clap::Args;
use ferric_client::Client;
use serde::Deserialize;

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  ferric logs demo                 # the latest logs of every function of service demo
  ferric logs demo/hello --since 10m
  ferric logs demo/hello --tail    # then follow new ones until Ctrl-C
  ferric logs --request-id 4f6b8c1e-2d3a-4b5c-9e7f-0a1b2c3d4e5f")]
pub struct LogsArgs {
    /// SERVICE or SERVICE/FUNCTION; nothing for every function of the account.
    #[arg(default_value = "")]
    path: String,
    /// Only logs from this long ago (30s, 10m, 2h, 1d) or since an RFC 3339 time.
    #[arg(long)]
    since: Option<String>,
    /// Only the invocation with this request id.
    #[arg(long)]
    request_id: Option<String>,
    /// At most this many past invocations.
    #[arg(short = 'n', long, default_value_t = 20)]
    limit: usize,
    /// Keep running and print new logs as they are written.
    #[arg(short = 'f', long, alias = "follow")]
    tail: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogEntry {
    request_id: String,
    service_name: String,
    function_name: String,
    time: String,
    content: String,
}

/// `10m` → milliseconds; `None` when it is not a duration (then it is passed on as a time).
pub fn duration_ms(text: &str) -> Option<i64> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = text.split_at(split);
    let n: i64 = n.parse().ok()?;
    let unit_ms = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(unit_ms)
}

/// A time bound for the server: `10m` (that long ago) becomes epoch milliseconds; anything else (an
/// RFC 3339 time, epoch milliseconds) is passed on for the server to read.
pub fn time_bound(text: &str) -> String {
    match duration_ms(text) {
        Some(ms) => (chrono::Utc::now().timestamp_millis() - ms).to_string(),
        None => text.to_string(),
    }
}

/// Which logs to print; the one-shot `logs` and the shell's `logs` both fill it in.
#[derive(Debug, Default)]
pub struct LogQuery {
    pub service: String,
    pub function: String,
    pub request_id: String,
    pub start: Option<String>,
    pub end: Option<String>,
    pub limit: usize,
    pub tail: bool,
}

pub fn run(args: LogsArgs) -> Result<()> {
    let parts = super::ls::segments(&args.path);
    let (service, function) = match parts.as_slice() {
        [] => ("", ""),
        [s] => (*s, ""),
        [s, f] => (*s, *f),
        _ => bail!("'{}' is not SERVICE or SERVICE/FUNCTION", args.path),
    };
    let query = LogQuery {
        service: service.into(),
        function: function.into(),
        request_id: args.request_id.clone().unwrap_or_default(),
        start: args.since.as_deref().map(time_bound),
        end: None,
        limit: args.limit,
        tail: args.tail,
    };
    let client = crate::config::client()?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(print(&client, &query))
}

/// Prints the past logs the query selects, oldest first, then with `tail` follows new ones until the
/// server closes the stream (the caller stops it earlier by dropping the future).
pub async fn print(client: &Client, q: &LogQuery) -> Result<()> {
    let mut filter = vec![("serviceName", &*q.service), ("functionName", &*q.function), ("requestId", &*q.request_id)];
    filter.retain(|(_, v)| !v.is_empty());
    let style = Style::detect();
    let stream = if q.tail { Some(client.follow_logs(&filter).await?) } else { None };
    let mut seen = HashSet::new();
    let mut entries = Vec::new();
    let mut token = String::new();
    while entries.len() < q.limit {
        let limit = (q.limit - entries.len()).clamp(1, 100).to_string();
        let mut query = filter.clone();
        query.push(("limit", &limit));
        if let Some(start) = &q.start {
            query.push(("startTime", start));
        }
        if let Some(end) = &q.end {
            query.push(("endTime", end));
        }
        if !token.is_empty() {
            query.push(("nextToken", &token));
        }
        let page = client.list_logs(&query).await?;
        let logs: Vec<LogEntry> = serde_json::from_value(page.get("logs").cloned().unwrap_or_default())
            .context("the server's log list is not the JSON expected")?;
        entries.extend(logs);
        match page.get("nextToken").and_then(serde_json::Value::as_str) {
            Some(next) if !next.is_empty() => token = next.to_string(),
            _ => break,
        }
    }
    for entry in entries.iter().rev() {
        seen.insert(entry.request_id.clone());
        style.print(entry);
    }
    if let Some(mut stream) = stream {
        let mut buffer = String::new();
        while let Some(chunk) = stream.chunk().await.context("the log stream broke")? {
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let event: String = buffer.drain(..end + 2).collect();
                handle_event(&event, &mut seen, &style)?;
            }
        }
        eprintln!("the server closed the log stream");
    }
    Ok(())
}

/// One server-sent event: `event: log` with a `LogEntry`, `event: lagged` with `{"skipped": N}`.
fn handle_event(event: &str, seen: &mut HashSet<String>, style: &Style) -> Result<()> {
    let mut kind = "message";
    let mut data = String::new();
    for line in event.lines() {
        if let Some(k) = line.strip_prefix("event:") {
            kind = k.trim();
        } else if let Some(d) = line.strip_prefix("data:") {
            data.push_str(d.strip_prefix(' ').unwrap_or(d));
        }
    }
    match kind {
        "log" => {
            let entry: LogEntry = serde_json::from_str(&data).context("a log event is not the JSON expected")?;
            if seen.insert(entry.request_id.clone()) {
                style.print(&entry);
            }
        }
        "lagged" => eprintln!("(some logs were skipped: this terminal fell behind) {data}"),
        _ => {}
    }
    Ok(())
}

/// Colours on a terminal (unless `NO_COLOR`), plain text otherwise.
struct Style {
    color: bool,
}

impl Style {
    fn detect() -> Style {
        Style { color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none() }
    }

    fn print(&self, e: &LogEntry) {
        let header = format!("{} {}/{} {}", e.time, e.service_name, e.function_name, e.request_id);
        if self.color {
            println!("\x1b[1;36m{header}\x1b[0m");
            for line in e.content.lines() {
                let error = line.contains("[ERROR]") || line.contains("Error:");
                if error {
                    println!("\x1b[31m{line}\x1b[0m");
                } else {
                    println!("{line}");
                }
            }
        } else {
            println!("{header}");
            print!("{}", e.content);
            if !e.content.ends_with('\n') {
                println!();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::duration_ms;

    #[test]
    fn durations_and_times() {
        assert_eq!(duration_ms("10m"), Some(600_000));
        assert_eq!(duration_ms("1d"), Some(86_400_000));
        assert_eq!(duration_ms("2024-05-01T08:00:00Z"), None);
        assert_eq!(duration_ms("5"), None);
    }
}
