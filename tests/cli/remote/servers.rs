//! The remotes the machines share, each started and stopped by the test:
//! a bare repository by `file://`, `git daemon` on 127.0.0.1, and smart
//! HTTP (`git http-backend` behind a small CGI server written here).

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How a remote is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    File,
    Daemon,
    Http,
}

/// A running server (none for `file://`); stopped when dropped.
pub enum Server {
    None,
    Daemon(Child),
    Http { stop: Arc<AtomicBool>, port: u16, thread: Option<JoinHandle<()>> },
}

impl Drop for Server {
    fn drop(&mut self) {
        match self {
            Server::None => {}
            Server::Daemon(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
            Server::Http { stop, port, thread } => {
                stop.store(true, Ordering::SeqCst);
                // Wakes the accept loop up.
                let _ = TcpStream::connect(("127.0.0.1", *port));
                if let Some(thread) = thread.take() {
                    let _ = thread.join();
                }
            }
        }
    }
}

/// git's helper programs directory.
fn exec_path() -> PathBuf {
    let out = Command::new("git").arg("--exec-path").output().expect("git --exec-path");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// Why `transport` cannot run here, if it cannot (its git helper is not installed).
pub fn missing(transport: Transport) -> Option<String> {
    let helper = match transport {
        Transport::File => return None,
        Transport::Daemon => "git-daemon",
        Transport::Http => "git-http-backend",
    };
    let path = exec_path().join(helper);
    (!path.is_file()).then(|| format!("{} is not installed", path.display()))
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// Serves the bare repositories under `base`; returns the server and the
/// URL of `name` (a bare repository in `base`).
pub fn serve(transport: Transport, base: &Path, name: &str) -> (Server, String) {
    match transport {
        Transport::File => (Server::None, format!("file://{}", base.join(name).display())),
        Transport::Daemon => {
            let port = free_port();
            let child = Command::new(exec_path().join("git-daemon"))
                .args([
                    "--enable=receive-pack",
                    "--reuseaddr",
                    "--listen=127.0.0.1",
                    &format!("--port={port}"),
                    &format!("--base-path={}", base.display()),
                    "--export-all",
                    "--informative-errors",
                ])
                .arg(base)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("starting git daemon");
            let server = Server::Daemon(child);
            wait_for_port(port);
            (server, format!("git://127.0.0.1:{port}/{name}"))
        }
        Transport::Http => {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            let port = listener.local_addr().expect("addr").port();
            let stop = Arc::new(AtomicBool::new(false));
            let root = base.to_path_buf();
            let flag = stop.clone();
            let thread = std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if flag.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let root = root.clone();
                    std::thread::spawn(move || {
                        let _ = cgi(conn, &root);
                    });
                }
            });
            let server = Server::Http { stop, port, thread: Some(thread) };
            (server, format!("http://127.0.0.1:{port}/{name}"))
        }
    }
}

fn wait_for_port(port: u16) {
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(10), "git daemon did not listen on {port} in 10 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One HTTP request handed to `git http-backend` as CGI.
fn cgi(conn: TcpStream, root: &Path) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, target) =
        (parts.next().unwrap_or("GET").to_string(), parts.next().unwrap_or("/").to_string());
    let mut headers = HashMap::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 {
            break;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    let mut writer = conn;
    if headers.get("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
        writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let body = if let Some(len) = headers.get("content-length").and_then(|l| l.parse::<usize>().ok()) {
        let mut body = vec![0; len];
        reader.read_exact(&mut body)?;
        body
    } else if headers.get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        let mut body = Vec::new();
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
            if size == 0 {
                let mut end = String::new();
                reader.read_line(&mut end)?;
                break;
            }
            let mut chunk = vec![0; size];
            reader.read_exact(&mut chunk)?;
            body.extend(chunk);
            let mut crlf = String::new();
            reader.read_line(&mut crlf)?;
        }
        body
    } else {
        Vec::new()
    };
    let (path, query) = target.split_once('?').unwrap_or((target.as_str(), ""));
    let mut cmd = Command::new(exec_path().join("git-http-backend"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REQUEST_METHOD", &method)
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("REMOTE_USER", "tester")
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .env("GATEWAY_INTERFACE", "CGI/1.1");
    if let Some(kind) = headers.get("content-type") {
        cmd.env("CONTENT_TYPE", kind);
    }
    for (name, value) in &headers {
        if name != "content-type" && name != "content-length" {
            cmd.env(format!("HTTP_{}", name.to_ascii_uppercase().replace('-', "_")), value);
        }
    }
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn()?;
    let mut stdin = child.stdin.take().expect("stdin");
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let output = child.wait_with_output()?;
    let _ = feeder.join();
    let out = output.stdout;
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").map(|p| (p, 4));
    let split = split.or_else(|| out.windows(2).position(|w| w == b"\n\n").map(|p| (p, 2)));
    let (head, body) = match split {
        Some((at, len)) => (String::from_utf8_lossy(&out[..at]).into_owned(), &out[at + len..]),
        None => (String::new(), &out[..]),
    };
    let mut status = "200 OK".to_string();
    let mut response_headers = String::new();
    for header in head.lines() {
        match header.split_once(':') {
            Some((name, value)) if name.eq_ignore_ascii_case("status") => status = value.trim().to_string(),
            Some(_) => response_headers.push_str(&format!("{header}\r\n")),
            None => {}
        }
    }
    writer.write_all(
        format!(
            "HTTP/1.1 {status}\r\n{response_headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )?;
    writer.write_all(body)?;
    writer.flush()
}
