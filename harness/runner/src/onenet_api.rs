//! A blocking client for OneNET's NB-IoT HTTP API (`/nbiot`: read, write mode 1 and 2, execute,
//! observe and its cancel), as a cloud application calls it: a base URL and an `api-key` header.
//! `onenet:` suite steps use it against the mock platform's `platform::http`; the same steps could
//! later be pointed at the real service.
//!
//! **Untested against the live OneNET service**: the calls follow OneNET's documentation, as the
//! mock platform's API does, and have only been run against that mock.
//!
//! The api-key goes into the request header only: it is never part of [`Request::shown`] nor of
//! an error message, so nothing a transcript or log holds can carry it.

use serde_json::{json, Value};
use std::time::Duration;

/// One call of the API.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// `GET /nbiot?imei&obj_id[&obj_inst_id[&res_id]]`.
    Read { path: Vec<u16> },
    /// `POST /nbiot?imei&obj_id&obj_inst_id&mode` with `{"data": [{res_id, val}…]}`; mode 1
    /// replaces the instance, 2 updates the resources given.
    Write { path: Vec<u16>, mode: u8, values: Vec<(u16, Value)> },
    /// `POST /nbiot/execute?imei&obj_id&obj_inst_id&res_id` with `{"args": …}` when there are any.
    Execute { path: Vec<u16>, args: Option<String> },
    /// `POST /nbiot/observe?imei&obj_id[&obj_inst_id[&res_id]]&cancel=false|true`.
    Observe { path: Vec<u16>, cancel: bool },
}

/// A call made concrete: method, path and query, body. The one place requests are built.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: &'static str,
    /// Path and query, `/nbiot?imei=…&obj_id=3311…`.
    pub target: String,
    pub body: Option<Value>,
}

impl Request {
    /// `GET /nbiot?imei=…` and the body, for a transcript: no api-key.
    pub fn shown(&self) -> String {
        match &self.body {
            Some(b) => format!("{} {} {b}", self.method, self.target),
            None => format!("{} {}", self.method, self.target),
        }
    }
}

impl Call {
    /// The request for `imei`, with the API's time-out in seconds when given.
    pub fn request(&self, imei: &str, timeout_s: Option<u64>) -> Request {
        let path_query = |path: &[u16]| {
            let names = ["obj_id", "obj_inst_id", "res_id"];
            let mut q = format!("imei={imei}");
            for (n, v) in names.iter().zip(path) {
                q.push_str(&format!("&{n}={v}"));
            }
            q
        };
        let (method, route, mut query, body) = match self {
            Call::Read { path } => ("GET", "/nbiot", path_query(path), None),
            Call::Write { path, mode, values } => {
                let data: Vec<Value> = values.iter().map(|(r, v)| json!({"res_id": r, "val": v})).collect();
                ("POST", "/nbiot", format!("{}&mode={mode}", path_query(path)), Some(json!({ "data": data })))
            }
            Call::Execute { path, args } => {
                ("POST", "/nbiot/execute", path_query(path), args.as_ref().map(|a| json!({ "args": a })))
            }
            Call::Observe { path, cancel } => {
                ("POST", "/nbiot/observe", format!("{}&cancel={cancel}", path_query(path)), None)
            }
        };
        if let Some(t) = timeout_s {
            query.push_str(&format!("&timeout={t}"));
        }
        Request { method, target: format!("{route}?{query}"), body }
    }
}

/// Where the API is and the key it wants.
#[derive(Clone)]
pub struct Client {
    base: String,
    key: String,
    agent: ureq::Agent,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("base", &self.base).finish_non_exhaustive()
    }
}

impl Client {
    /// A client of the API at `base` (`http://127.0.0.1:8080`, no trailing slash needed), giving
    /// up on a call after `limit`.
    pub fn new(base: &str, key: &str, limit: Duration) -> Client {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(limit))
            // OneNET answers its errors with HTTP 200 and an errno; a 4xx/5xx body is read too.
            .http_status_as_error(false)
            .build()
            .into();
        Client { base: base.trim_end_matches('/').to_string(), key: key.to_string(), agent }
    }

    /// Sends `req` and returns OneNET's envelope (`{"errno", "error", "data"}`) as JSON.
    pub fn send(&self, req: &Request) -> Result<Value, String> {
        let url = format!("{}{}", self.base, req.target);
        let sent = match (req.method, &req.body) {
            ("GET", _) => self.agent.get(&url).header("api-key", &self.key).call(),
            (_, Some(b)) => self.agent.post(&url).header("api-key", &self.key).send_json(b),
            (_, None) => self.agent.post(&url).header("api-key", &self.key).send_empty(),
        };
        let mut resp = sent.map_err(|e| format!("{} {}: {e}", req.method, req.target))?;
        let status = resp.status();
        resp.body_mut()
            .read_json::<Value>()
            .map_err(|e| format!("{} {}: HTTP {status}, not a OneNET envelope: {e}", req.method, req.target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_follow_onenets_parameters() {
        let r = Call::Read { path: vec![3311, 0, 5700] }.request("866971030000001", None);
        assert_eq!(r.shown(), "GET /nbiot?imei=866971030000001&obj_id=3311&obj_inst_id=0&res_id=5700");
        let w = Call::Write { path: vec![3311, 0], mode: 2, values: vec![(5850, json!(true))] }.request("1", Some(10));
        assert_eq!(
            w.shown(),
            r#"POST /nbiot?imei=1&obj_id=3311&obj_inst_id=0&mode=2&timeout=10 {"data":[{"res_id":5850,"val":true}]}"#
        );
        let x = Call::Execute { path: vec![3, 0, 4], args: None }.request("1", None);
        assert_eq!(x.shown(), "POST /nbiot/execute?imei=1&obj_id=3&obj_inst_id=0&res_id=4");
        let o = Call::Observe { path: vec![3311, 0, 5700], cancel: true }.request("1", None);
        assert_eq!(o.shown(), "POST /nbiot/observe?imei=1&obj_id=3311&obj_inst_id=0&res_id=5700&cancel=true");
    }
}

/// An `onenet:` step's words: `read /3311/0/5700`, `write /3311/0 5850=true 5851=10` (mode 2,
/// the resources given), `replace /3311/0 5850=true` (mode 1), `execute /3311/0/5523 [args]`,
/// `observe /3311/0/5700`, `cancel /3311/0/5700`. A value is JSON when it reads as JSON
/// (`10`, `true`, `"on"`), else the text itself.
pub fn parse(text: &str) -> Result<Call, String> {
    let mut words = text.split_whitespace();
    let verb = words.next().ok_or("say what to call: read, write, replace, execute, observe or cancel")?;
    let path_text = words.next().ok_or_else(|| format!("`{verb}` needs a path like /3311/0/5700"))?;
    let path: Vec<u16> = path_text
        .strip_prefix('/')
        .map(|p| p.split('/').map(str::parse).collect::<Result<Vec<u16>, _>>())
        .and_then(Result::ok)
        .filter(|p| (1..=3).contains(&p.len()))
        .ok_or_else(|| format!("{path_text:?} is not a path like /3311/0/5700"))?;
    let rest: Vec<&str> = words.collect();
    let depth = |n: usize, what: &str| {
        if path.len() == n {
            Ok(())
        } else {
            Err(format!("`{verb}` takes {what}, not {path_text}"))
        }
    };
    let call = match verb {
        "read" | "observe" | "cancel" => {
            if !rest.is_empty() {
                return Err(format!("`{verb}` takes only a path; {:?} is extra", rest.join(" ")));
            }
            match verb {
                "read" => Call::Read { path },
                _ => Call::Observe { path, cancel: verb == "cancel" },
            }
        }
        "write" | "replace" => {
            depth(2, "an instance like /3311/0")?;
            if rest.is_empty() {
                return Err(format!("`{verb}` needs values as RES=VALUE, like 5850=true"));
            }
            let values = rest
                .iter()
                .map(|w| {
                    let (r, v) = w.split_once('=').ok_or_else(|| format!("{w:?} is not RES=VALUE"))?;
                    let r: u16 = r.parse().map_err(|_| format!("{r:?} is not a resource id"))?;
                    Ok((r, serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_string()))))
                })
                .collect::<Result<Vec<_>, String>>()?;
            Call::Write { path, mode: if verb == "replace" { 1 } else { 2 }, values }
        }
        "execute" => {
            depth(3, "a resource like /3311/0/5523")?;
            Call::Execute { path, args: (!rest.is_empty()).then(|| rest.join(" ")) }
        }
        other => return Err(format!("unknown call {other:?}: read, write, replace, execute, observe or cancel")),
    };
    Ok(call)
}

/// An envelope as one line a pattern can match: `errno 0 succ` and the `data` as compact JSON
/// when there is any.
pub fn answer_text(envelope: &Value) -> String {
    let errno = envelope.get("errno").map(Value::to_string).unwrap_or_else(|| "?".into());
    let error = envelope.get("error").and_then(Value::as_str).unwrap_or("");
    match envelope.get("data") {
        Some(d) => format!("errno {errno} {error} {d}"),
        None => format!("errno {errno} {error}"),
    }
}

#[cfg(test)]
mod parse_tests {
    use super::*;

    #[test]
    fn step_words() {
        assert_eq!(parse("read /3311/0/5700"), Ok(Call::Read { path: vec![3311, 0, 5700] }));
        assert_eq!(
            parse("write /3311/0 5850=true 5750=lamp"),
            Ok(Call::Write { path: vec![3311, 0], mode: 2, values: vec![(5850, json!(true)), (5750, json!("lamp"))] })
        );
        assert!(matches!(parse("replace /3311/0 5850=1"), Ok(Call::Write { mode: 1, .. })));
        assert_eq!(parse("execute /3/0/4 a b"), Ok(Call::Execute { path: vec![3, 0, 4], args: Some("a b".into()) }));
        assert_eq!(parse("cancel /3311"), Ok(Call::Observe { path: vec![3311], cancel: true }));
        for bad in ["", "read", "read 3311", "read /3311/0/5700/1", "write /3311/0/5850 1", "write /3311/0", "poke /3"]
        {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(answer_text(&json!({"errno": 0, "error": "succ"})), "errno 0 succ");
    }
}
