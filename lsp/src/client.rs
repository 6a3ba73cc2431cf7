//! A small blocking LSP client over a child process's stdio, for the server's tests and benchmark: they drive
//! the real binary through its real transport, as an editor does.

#![allow(
    clippy::indexing_slicing,
    clippy::disallowed_methods,
    reason = "JSON indexing returns `null` instead of panicking; timeouts need the wall clock"
)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// A running server and the messages it sent that nobody has read yet.
pub struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: Receiver<Value>,
    next_id: i64,
    /// Notifications received while waiting for something else, oldest first.
    pub notifications: Vec<Value>,
    /// How long to wait for any one answer.
    pub timeout: Duration,
}

/// A failure talking to the server.
#[derive(Debug)]
pub struct ClientError(pub String);

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ClientError {}

type Result<T> = std::result::Result<T, ClientError>;

fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse::<usize>().ok();
            }
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

/// The LSP position (line, UTF-16 column) of a byte offset in `text`, as JSON.
pub fn position(text: &str, offset: usize) -> Value {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let character: usize = before
        .get(line_start..)
        .unwrap_or("")
        .chars()
        .map(char::len_utf16)
        .sum();
    json!({"line": line, "character": character})
}

impl Client {
    /// Starts `program args...` and reads its stdout on a background thread.
    pub fn start(program: &str, args: &[&str], envs: &[(&str, &str)]) -> Result<Client> {
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (name, value) in envs {
            command.env(name, value);
        }
        let mut child = command
            .spawn()
            .map_err(|error| ClientError(format!("cannot start `{program}`: {error}")))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| ClientError("no stdout".to_string()))?;
        let stdin = child.stdin.take();
        let (sender, incoming) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        Ok(Client {
            child,
            stdin,
            incoming,
            next_id: 0,
            notifications: Vec::new(),
            timeout: Duration::from_secs(30),
        })
    }

    /// Sends one message.
    pub fn send(&mut self, message: &Value) -> Result<()> {
        self.send_raw(message.to_string().as_bytes())
    }

    /// Sends a message body as it is (tests of broken input): framed with its `Content-Length`.
    pub fn send_raw(&mut self, body: &[u8]) -> Result<()> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| ClientError("stdin is closed".to_string()))?;
        write!(stdin, "Content-Length: {}\r\n\r\n", body.len())
            .and_then(|()| stdin.write_all(body))
            .and_then(|()| stdin.flush())
            .map_err(|error| ClientError(format!("cannot write to the server: {error}")))
    }

    /// Sends a notification.
    pub fn notify(&mut self, method: &str, params: Value) -> Result<()> {
        let mut message = json!({"jsonrpc": "2.0", "method": method});
        if !params.is_null() {
            message["params"] = params;
        }
        self.send(&message)
    }

    /// Sends a request and waits for its answer: `Ok(result)` or `Err(error object)`.
    pub fn request(
        &mut self,
        method: &str,
        params: Value,
    ) -> Result<std::result::Result<Value, Value>> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"jsonrpc": "2.0", "id": id, "method": method});
        if !params.is_null() {
            message["params"] = params;
        }
        self.send(&message)?;
        let deadline = Instant::now() + self.timeout;
        loop {
            let message = self.receive(deadline, method)?;
            if message.get("id") == Some(&json!(id)) && message.get("method").is_none() {
                return Ok(match message.get("error") {
                    Some(error) => Err(error.clone()),
                    None => Ok(message.get("result").cloned().unwrap_or(Value::Null)),
                });
            }
            self.file(message)?;
        }
    }

    /// Waits for a notification that satisfies `wanted` (checking those already received first).
    pub fn wait_for(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Result<Value> {
        if let Some(index) = self.notifications.iter().position(&wanted) {
            return Ok(self.notifications.remove(index));
        }
        let deadline = Instant::now() + self.timeout;
        loop {
            let message = self.receive(deadline, what)?;
            if message.get("method").is_some() && message.get("id").is_none() && wanted(&message) {
                return Ok(message);
            }
            self.file(message)?;
        }
    }

    /// Waits for the diagnostics of `uri` (of `version`, if given).
    pub fn diagnostics(&mut self, uri: &str, version: Option<i64>) -> Result<Vec<Value>> {
        let message = self.wait_for("publishDiagnostics", |message| {
            message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == uri
                && version.is_none_or(|v| message["params"]["version"] == v)
        })?;
        Ok(message["params"]["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default())
    }

    fn receive(&mut self, deadline: Instant, what: &str) -> Result<Value> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.incoming.recv_timeout(left) {
            Ok(message) => Ok(message),
            Err(RecvTimeoutError::Timeout) => Err(ClientError(format!(
                "no answer to `{what}` within {:?}",
                self.timeout
            ))),
            Err(RecvTimeoutError::Disconnected) => Err(ClientError(format!(
                "the server closed its output while waiting for `{what}`"
            ))),
        }
    }

    /// Keeps a notification; answers a request from the server (configuration, registrations) with `null`.
    fn file(&mut self, message: Value) -> Result<()> {
        match (message.get("id"), message.get("method")) {
            (Some(id), Some(_)) => {
                let id = id.clone();
                self.send(&json!({"jsonrpc": "2.0", "id": id, "result": null}))
            }
            (None, Some(_)) => {
                self.notifications.push(message);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// `initialize` with a workspace folder, then `initialized`.
    pub fn initialize(&mut self, root_uri: &str) -> Result<Value> {
        let result = self
            .request(
                "initialize",
                json!({
                    "processId": null,
                    "rootUri": root_uri,
                    "workspaceFolders": [{"uri": root_uri, "name": "workspace"}],
                    "capabilities": {
                        "textDocument": {
                            "completion": {"completionItem": {"snippetSupport": true}},
                            "publishDiagnostics": {"relatedInformation": true, "versionSupport": true}
                        }
                    }
                }),
            )?
            .map_err(|error| ClientError(format!("initialize failed: {error}")))?;
        self.notify("initialized", json!({}))?;
        Ok(result)
    }

    /// Opens a document.
    pub fn open(&mut self, uri: &str, text: &str) -> Result<()> {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "proc", "version": 1, "text": text}}),
        )
    }

    /// `shutdown` then `exit`, keeping stdin open; waits for the process to end and returns its exit code.
    pub fn shutdown(mut self) -> Result<Option<i32>> {
        self.request("shutdown", Value::Null)?
            .map_err(|error| ClientError(format!("shutdown failed: {error}")))?;
        self.notify("exit", Value::Null)?;
        self.wait_exit()
    }

    /// Waits (up to the timeout) for the process to end, without closing its stdin.
    pub fn wait_exit(&mut self) -> Result<Option<i32>> {
        let deadline = Instant::now() + self.timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Ok(status.code()),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Ok(None) => {
                    return Err(ClientError(format!(
                        "the server still runs {:?} after `exit`",
                        self.timeout
                    )));
                }
                Err(error) => {
                    return Err(ClientError(format!("cannot wait for the server: {error}")));
                }
            }
        }
    }

    /// True while the server process runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if self.is_running() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}
