//! The guard in front of tower-lsp's reader. tower-lsp 0.20 stops serving at the first message it cannot decode
//! (invalid JSON, invalid UTF-8, a missing `"jsonrpc"`, a lone UTF-16 surrogate escape such as a half-deleted
//! emoji), so the server would exit on one bad byte from the editor. Here every message is framed and checked
//! first: lone surrogates become U+FFFD, a missing `"jsonrpc"` is added, and a message that still is not JSON-RPC
//! is dropped with a line in the log. Only well-formed messages reach tower-lsp.

use serde_json::Value;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The largest message body accepted (a whole file's text fits many times over); larger ones are skipped.
const MAX_BODY: usize = 256 * 1024 * 1024;

/// Copies messages from `input` to `output` until `input` ends, checking each one; `log` receives a line for
/// each message dropped.
pub async fn forward(
    mut input: impl AsyncBufRead + Unpin,
    mut output: impl AsyncWrite + Unpin,
    log: impl Fn(&str),
) {
    loop {
        let length = match read_headers(&mut input).await {
            Headers::Length(length) => length,
            Headers::Invalid(why) => {
                log(&format!("dropped a message: {why}"));
                continue;
            }
            Headers::End => return,
        };
        if length > MAX_BODY {
            log(&format!(
                "dropped a message of {length} bytes (more than {MAX_BODY})"
            ));
            if skip(&mut input, length).await.is_err() {
                return;
            }
            continue;
        }
        let mut body = vec![0; length];
        if input.read_exact(&mut body).await.is_err() {
            return;
        }
        let Some(message) = checked(&body) else {
            log("dropped a message that is not JSON-RPC");
            continue;
        };
        let framed = format!("Content-Length: {}\r\n\r\n{message}", message.len());
        if output.write_all(framed.as_bytes()).await.is_err() || output.flush().await.is_err() {
            return;
        }
    }
}

enum Headers {
    Length(usize),
    Invalid(String),
    End,
}

/// Reads header lines up to the blank line that ends them. `Content-Length` is looked for anywhere in a line, so
/// after a broken message the next one is found again even when its header follows the broken body directly.
async fn read_headers(input: &mut (impl AsyncBufRead + Unpin)) -> Headers {
    let mut length: Option<Result<usize, String>> = None;
    let mut seen = false;
    loop {
        let mut line = Vec::new();
        match input.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return Headers::End,
            Ok(_) => {}
        }
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if !seen {
                // Blank lines between messages.
                continue;
            }
            return match length {
                Some(Ok(length)) => Headers::Length(length),
                Some(Err(value)) => {
                    Headers::Invalid(format!("Content-Length `{value}` is not a number"))
                }
                None => Headers::Invalid("no Content-Length header".to_string()),
            };
        }
        seen = true;
        const NAME: &str = "content-length:";
        if let Some(at) = line.to_ascii_lowercase().rfind(NAME) {
            let value = line.get(at + NAME.len()..).unwrap_or_default().trim();
            length = Some(value.parse::<usize>().map_err(|_| value.to_string()));
        }
    }
}

async fn skip(input: &mut (impl AsyncBufRead + Unpin), mut length: usize) -> std::io::Result<()> {
    let mut buffer = vec![0; 64 * 1024];
    while length > 0 {
        let chunk = length.min(buffer.len());
        let slice = buffer.get_mut(..chunk).unwrap_or_default();
        input.read_exact(slice).await?;
        length -= chunk;
    }
    Ok(())
}

/// The shape tower-lsp needs, read without building the message (its `params` are only scanned).
#[derive(serde::Deserialize)]
struct Probe<'a> {
    #[serde(borrow)]
    jsonrpc: Option<&'a str>,
    method: Option<serde::de::IgnoredAny>,
    id: Option<serde::de::IgnoredAny>,
    result: Option<serde::de::IgnoredAny>,
    error: Option<serde::de::IgnoredAny>,
}

/// The message as tower-lsp can read it, or `None` when it is not a JSON-RPC message.
pub fn checked(body: &[u8]) -> Option<String> {
    // Nearly every message is already well formed: passed on as it is, after one scan. (That scan does not check
    // surrogate escapes, which tower-lsp rejects when unpaired: a message with any goes the long way.)
    let surrogate_escape = body.windows(3).any(|w| {
        w.first() == Some(&b'\\')
            && w.get(1) == Some(&b'u')
            && matches!(w.get(2), Some(b'd' | b'D'))
    });
    // `"params": null` (some clients send it with `shutdown`): tower-lsp refuses it; the member is left out.
    let null_params = has_null_params(body);
    if let (false, false, Ok(text), Ok(probe)) = (
        surrogate_escape,
        null_params,
        std::str::from_utf8(body),
        serde_json::from_slice::<Probe<'_>>(body),
    ) {
        let shaped = probe.method.is_some()
            || (probe.id.is_some() && (probe.result.is_some() || probe.error.is_some()));
        if shaped && probe.jsonrpc == Some("2.0") {
            return Some(text.to_string());
        }
    }
    let text = String::from_utf8_lossy(body);
    let mut value: Value = match serde_json::from_str(&text) {
        Ok(value) => value,
        Err(_) => serde_json::from_str(&without_lone_surrogates(&text)).ok()?,
    };
    let object = value.as_object_mut()?;
    let is_request = object.get("method").is_some_and(Value::is_string);
    let is_response = object.contains_key("id")
        && (object.contains_key("result") || object.contains_key("error"));
    if !is_request && !is_response {
        return None;
    }
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        object.insert("jsonrpc".to_string(), Value::from("2.0"));
    }
    if object.get("params").is_some_and(Value::is_null) {
        object.remove("params");
    }
    serde_json::to_string(&value).ok()
}

/// Whether the bytes hold `"params"` followed by `null` (with any spaces and the colon between).
fn has_null_params(body: &[u8]) -> bool {
    let key = b"\"params\"";
    body.windows(key.len())
        .enumerate()
        .filter(|(_, window)| *window == key)
        .any(|(at, _)| {
            let rest = body.get(at + key.len()..).unwrap_or_default();
            let rest = rest.trim_ascii_start();
            rest.strip_prefix(b":")
                .is_some_and(|rest| rest.trim_ascii_start().starts_with(b"null"))
        })
}

/// JSON text with every `\uXXXX` escape of a lone UTF-16 surrogate replaced by `\uFFFD`.
fn without_lone_surrogates(text: &str) -> String {
    let bytes = text.as_bytes();
    let unit = |at: usize| -> Option<u16> {
        let escape = bytes.get(at..at + 6)?;
        if escape.first() != Some(&b'\\') || escape.get(1) != Some(&b'u') {
            return None;
        }
        let hex = std::str::from_utf8(escape.get(2..)?).ok()?;
        u16::from_str_radix(hex, 16).ok()
    };
    let high = |u: u16| (0xD800..0xDC00).contains(&u);
    let low = |u: u16| (0xDC00..0xE000).contains(&u);
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        if bytes.get(i) != Some(&b'\\') {
            i += 1;
            continue;
        }
        match unit(i) {
            Some(u) if high(u) && unit(i + 6).is_some_and(low) => i += 12,
            Some(u) if high(u) || low(u) => {
                out.push_str(text.get(copied..i).unwrap_or_default());
                out.push_str("\\uFFFD");
                i += 6;
                copied = i;
            }
            Some(_) => i += 6,
            // Any other escape is two characters (`\\`, `\"`, `\n`, …).
            None => i += 2,
        }
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        let fixed = checked(br#"{"jsonrpc":"2.0","method":"m","params":{"a":"x\ud83d","b":"\udc00y","c":"\\ud83d","d":"\ud83d\ude00"}}"#);
        let value: Value = serde_json::from_str(&fixed.unwrap()).unwrap();
        assert_eq!(value["params"]["a"], "x\u{FFFD}");
        assert_eq!(value["params"]["b"], "\u{FFFD}y");
        assert_eq!(value["params"]["c"], "\\ud83d");
        assert_eq!(value["params"]["d"], "😀");
    }

    /// A message without a usable header is dropped, and the next one is found again even when its header
    /// follows the dropped body on the same line.
    #[tokio::test]
    async fn framing_recovers_after_a_broken_message() {
        let good = r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#;
        let input = format!(
            "Content-Type: x\r\n\r\n{{\"broken\": 1}}Content-Length: {}\r\n\r\n{good}\
             Content-Length: zz\r\n\r\nContent-Length: {}\r\n\r\n{good}",
            good.len(),
            good.len()
        );
        let mut output = Vec::new();
        let logged = std::sync::Mutex::new(Vec::new());
        forward(input.as_bytes(), &mut output, |line| {
            if let Ok(mut logged) = logged.lock() {
                logged.push(line.to_string());
            }
        })
        .await;
        let framed = format!("Content-Length: {}\r\n\r\n{good}", good.len());
        assert_eq!(String::from_utf8_lossy(&output), framed.repeat(2));
        assert_eq!(logged.lock().map(|l| l.len()).unwrap_or(0), 2);
    }

    #[test]
    fn a_well_formed_message_passes_as_it_is() {
        let message = r#"{"jsonrpc":"2.0","id":3,"method":"textDocument/hover","params":{"a": [1, 2.5, "é"]}}"#;
        assert_eq!(checked(message.as_bytes()).as_deref(), Some(message));
    }

    #[test]
    fn messages_that_are_not_json_rpc_are_dropped_and_a_missing_version_is_added() {
        assert_eq!(checked(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"), None);
        assert_eq!(checked(b"[1, 2]"), None);
        assert_eq!(checked(b"{\"hello\": 1}"), None);
        let fixed = checked(b"{\"id\":1,\"method\":\"shutdown\"}").unwrap();
        assert!(fixed.contains("\"jsonrpc\":\"2.0\""), "{fixed}");
        assert!(checked(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":null}").is_some());
    }

    #[test]
    fn null_params_are_left_out() {
        let fixed =
            checked(b"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"shutdown\",\"params\" : null}")
                .unwrap();
        assert!(!fixed.contains("params"), "{fixed}");
        let kept = r#"{"jsonrpc":"2.0","id":3,"method":"x","params":{"params":1}}"#;
        assert_eq!(checked(kept.as_bytes()).as_deref(), Some(kept));
    }
}
