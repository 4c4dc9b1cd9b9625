//! [`HttpSink`]: a real HTTP/1.1 server on 127.0.0.1 that records what is posted to it, for
//! tests of webhooks. It answers each request with the next status of a script, then 200.
//!
//! ```
//! use std::io::{Read, Write};
//! let sink = taskwire_test_support::HttpSink::start(&[503]);
//! for expected in ["503", "200"] {
//!     let mut c = std::net::TcpStream::connect(sink.addr()).unwrap();
//!     c.write_all(b"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}").unwrap();
//!     let mut reply = String::new();
//!     c.read_to_string(&mut reply).unwrap();
//!     assert!(reply.starts_with(&format!("HTTP/1.1 {expected}")), "{reply}");
//! }
//! let posts = sink.stop();
//! assert_eq!(posts.len(), 2);
//! assert_eq!(posts[0].path, "/hook");
//! assert_eq!(posts[1].body, "{}");
//! ```

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// One request the sink received.
#[derive(Clone, Debug)]
pub struct Post {
    /// The request line's method.
    pub method: String,
    /// The request line's path.
    pub path: String,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body, as text.
    pub body: String,
    /// The status it was answered with.
    pub status: u16,
}

impl Post {
    /// The body parsed as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// The server; [`HttpSink::stop`] ends it and returns what it received.
pub struct HttpSink {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    posts: Arc<Mutex<Vec<Post>>>,
    thread: Option<JoinHandle<()>>,
}

impl HttpSink {
    /// Starts a server on a free port of 127.0.0.1 that answers its requests with `script`'s
    /// statuses in turn, then 200.
    pub fn start(script: &[u16]) -> HttpSink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let stop = Arc::new(AtomicBool::new(false));
        let posts = Arc::new(Mutex::new(Vec::new()));
        let mut script: VecDeque<u16> = script.iter().copied().collect();
        let (s, p) = (stop.clone(), posts.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let status = script.pop_front().unwrap_or(200);
                if let Some(post) = serve(conn, status) {
                    p.lock().expect("posts").push(post);
                }
            }
        });
        HttpSink {
            addr,
            stop,
            posts,
            thread: Some(thread),
        }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops the server and returns the requests it received, in order.
    pub fn stop(mut self) -> Vec<Post> {
        self.end();
        std::mem::take(&mut *self.posts.lock().expect("posts"))
    }

    fn end(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop, which then sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for HttpSink {
    fn drop(&mut self) {
        self.end();
    }
}

/// Reads one request from `conn` and answers it with `status` (connection closed after).
fn serve(conn: TcpStream, status: u16) -> Option<Post> {
    let mut reader = BufReader::new(conn.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut length = 0usize;
    let mut content_type = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            if k == "content-length" {
                length = v.parse().ok()?;
            } else if k == "content-type" {
                content_type = Some(v.to_owned());
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let reason = if status < 400 { "OK" } else { "Error" };
    let mut w = conn;
    let _ = write!(
        w,
        "HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let _ = w.flush();
    Some(Post {
        method,
        path,
        content_type,
        body: String::from_utf8_lossy(&body).into_owned(),
        status,
    })
}
