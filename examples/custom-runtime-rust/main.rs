//! A Function Compute custom runtime in Rust with nothing but the standard library: an HTTP/1.1 server
//! on `FC_SERVER_PORT` (9000 by default) answering FC's `POST /initialize` and `POST /invoke`, and any
//! other request as an HTTP-trigger request passed through. Build it as the package's `bootstrap`:
//!
//!     rustc -O --edition 2021 main.rs -o bootstrap
//!
//! It reads one request per connection (FC's caller closes after each answer) and answers with
//! `connection: close`, so no keep-alive bookkeeping is needed.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};

/// Requests larger than this are refused: a request header block of 64 KiB, a body of 64 MiB.
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 64 * 1024 * 1024;

static INITIALIZED: AtomicU64 = AtomicU64::new(0);
static INVOKES: AtomicU64 = AtomicU64::new(0);

struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> &str {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map_or("", |(_, v)| v.as_str())
    }
}

struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

fn main() {
    let port = std::env::var("FC_SERVER_PORT").unwrap_or_else(|_| "9000".into());
    let listener = match TcpListener::bind(("0.0.0.0", port.parse::<u16>().unwrap_or(9000))) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("cannot listen on {port}: {e}");
            std::process::exit(1);
        }
    };
    println!("rust server listening on {port}");
    for stream in listener.incoming().flatten() {
        // A thread per connection: FC sends as many requests at once as instanceConcurrency allows.
        std::thread::spawn(move || serve(stream));
    }
}

fn serve(stream: TcpStream) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let answer = match read_request(&mut reader) {
        Ok(request) => route(&request),
        Err(message) => Answer { status: 400, headers: Vec::new(), body: message.into_bytes() },
    };
    let _ = write_answer(stream, &answer);
}

fn read_request(reader: &mut impl BufRead) -> Result<Request, String> {
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        let n = reader.read_until(b'\n', &mut line).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the connection closed inside the request head".into());
        }
        head.extend_from_slice(&line);
        if head.len() > MAX_HEAD {
            return Err("request head too large".into());
        }
        if line == b"\r\n" || line == b"\n" {
            break;
        }
    }
    let head = String::from_utf8_lossy(&head);
    let mut lines = head.lines();
    let mut start = lines.next().unwrap_or_default().split(' ');
    let (method, target) = (start.next().unwrap_or_default().to_string(), start.next().unwrap_or("/").to_string());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map_or(Ok(0), |(_, v)| v.parse::<usize>())
        .map_err(|_| "bad content-length".to_string())?;
    if length > MAX_BODY {
        return Err("request body too large".into());
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).map_err(|e| e.to_string())?;
    Ok(Request { method, target, headers, body })
}

fn route(request: &Request) -> Answer {
    let rid = request.header("x-fc-request-id").to_string();
    match (request.method.as_str(), request.target.as_str()) {
        ("POST", "/initialize") => {
            INITIALIZED.fetch_add(1, Ordering::SeqCst);
            println!("rust initializing {rid}");
            Answer { status: 200, headers: Vec::new(), body: Vec::new() }
        }
        ("POST", "/invoke") => invoke(request, &rid),
        _ => {
            // An HTTP-trigger request: FC passes the client's method, path, headers and body through.
            let text = format!(
                "rust http {} {} custom={} body={}",
                request.method,
                request.target,
                request.header("x-custom"),
                String::from_utf8_lossy(&request.body)
            );
            Answer { status: 202, headers: vec![("x-rust", "yes".into())], body: text.into_bytes() }
        }
    }
}

fn invoke(request: &Request, rid: &str) -> Answer {
    let invokes = INVOKES.fetch_add(1, Ordering::SeqCst) + 1;
    let event = String::from_utf8_lossy(&request.body).into_owned();
    println!("rust got {} bytes", request.body.len());
    eprintln!("rust stderr line");
    match event.as_str() {
        // The process dies mid-request: FC answers "Process exited unexpectedly before completing request".
        "crash" => std::process::exit(3),
        "fail" => {
            let body = format!("{{\"errorMessage\":{}}}", json_string("rust failed"));
            Answer { status: 404, headers: vec![("x-fc-status", "404".into())], body: body.into_bytes() }
        }
        _ => {
            let body = format!(
                "{{\"runtime\":\"rust\",\"event\":{},\"rid\":{},\"function\":{},\"initialized\":{},\"invokes\":{}}}",
                json_string(&event),
                json_string(rid),
                json_string(request.header("x-fc-function-name")),
                INITIALIZED.load(Ordering::SeqCst),
                invokes
            );
            Answer {
                status: 200,
                headers: vec![("x-fc-status", "200".into()), ("content-type", "application/json".into())],
                body: body.into_bytes(),
            }
        }
    }
}

fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn write_answer(mut stream: TcpStream, answer: &Answer) -> std::io::Result<()> {
    let reason = match answer.status {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        404 => "Not Found",
        _ => "Status",
    };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\ncontent-length: {}\r\nconnection: close\r\n",
        answer.status,
        answer.body.len()
    );
    for (name, value) in &answer.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(&answer.body)?;
    stream.flush()
}
