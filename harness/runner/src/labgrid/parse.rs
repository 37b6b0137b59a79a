//! Reading `labgrid-client`'s output: pure functions, no I/O.

use super::{RemoteSerial, SerialProtocol};

/// A Python literal as `pformat` prints it.
#[derive(Debug, Clone, PartialEq)]
pub enum PyValue {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<PyValue>),
    Dict(Vec<(PyValue, PyValue)>),
}

impl PyValue {
    /// The value of `key` in a dict with string keys.
    pub fn get(&self, key: &str) -> Option<&PyValue> {
        match self {
            PyValue::Dict(items) => {
                items.iter().find(|(k, _)| matches!(k, PyValue::Str(s) if s == key)).map(|(_, v)| v)
            }
            _ => None,
        }
    }

    /// A string or a number as text; `None` for Python's `None` and containers.
    pub fn as_text(&self) -> Option<String> {
        match self {
            PyValue::Str(s) => Some(s.clone()),
            PyValue::Int(i) => Some(i.to_string()),
            PyValue::Float(f) => Some(f.to_string()),
            PyValue::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

/// Parses one Python literal (dict, list, tuple, str, int, float, None, True, False), with
/// implicit concatenation of adjacent strings as `pformat` writes long ones.
pub fn literal(text: &str) -> Result<PyValue, String> {
    let mut p = Parser { c: text.chars().collect(), i: 0 };
    let v = p.value(0)?;
    p.ws();
    if p.i < p.c.len() {
        return Err(format!("unexpected `{}` after the value", p.c[p.i]));
    }
    Ok(v)
}

struct Parser {
    c: Vec<char>,
    i: usize,
}

const MAX_DEPTH: usize = 64;

impl Parser {
    fn peek(&self) -> Option<char> {
        self.c.get(self.i).copied()
    }
    fn ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.i += 1;
        }
    }
    fn value(&mut self, depth: usize) -> Result<PyValue, String> {
        if depth > MAX_DEPTH {
            return Err("nested too deeply".into());
        }
        self.ws();
        match self.peek() {
            None => Err("the value ends early".into()),
            Some('{') => {
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    self.ws();
                    if self.peek() == Some('}') {
                        self.i += 1;
                        return Ok(PyValue::Dict(items));
                    }
                    let k = self.value(depth + 1)?;
                    self.ws();
                    if self.peek() != Some(':') {
                        return Err("a dict key without `:`".into());
                    }
                    self.i += 1;
                    let v = self.value(depth + 1)?;
                    items.push((k, v));
                    self.ws();
                    match self.peek() {
                        Some(',') => self.i += 1,
                        Some('}') => {}
                        _ => return Err("a dict item not followed by `,` or `}`".into()),
                    }
                }
            }
            Some(open @ ('[' | '(')) => {
                self.i += 1;
                let close = if open == '[' { ']' } else { ')' };
                let (items, comma) = self.sequence(close, depth)?;
                if open == '(' && !comma && items.len() == 1 {
                    // A parenthesised value: how pformat wraps a long string.
                    return Ok(items.into_iter().next().unwrap_or(PyValue::None));
                }
                Ok(PyValue::List(items))
            }
            Some(q @ ('\'' | '"')) => {
                let mut s = self.string(q)?;
                loop {
                    self.ws();
                    match self.peek() {
                        Some(q @ ('\'' | '"')) => s.push_str(&self.string(q)?),
                        _ => return Ok(PyValue::Str(s)),
                    }
                }
            }
            Some(c) if c == '-' || c == '+' || c.is_ascii_digit() => {
                let start = self.i;
                while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || "+-._".contains(c)) {
                    self.i += 1;
                }
                let word: String = self.c[start..self.i].iter().filter(|c| **c != '_').collect();
                if let Ok(i) = word.parse::<i64>() {
                    Ok(PyValue::Int(i))
                } else {
                    word.parse::<f64>().map(PyValue::Float).map_err(|_| format!("`{word}` is not a number"))
                }
            }
            Some(c) if c.is_alphabetic() || c == '_' => {
                let start = self.i;
                while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
                    self.i += 1;
                }
                let word: String = self.c[start..self.i].iter().collect();
                match (word.as_str(), self.peek()) {
                    ("b" | "r" | "u" | "rb" | "br", Some(q @ ('\'' | '"'))) => {
                        // Prefixed strings: read as text (escapes kept as written for r).
                        let s = self.string(q)?;
                        Ok(PyValue::Str(s))
                    }
                    (_, Some('(')) => {
                        // A constructor such as `OrderedDict([...])`: its argument.
                        self.i += 1;
                        let (mut items, _) = self.sequence(')', depth)?;
                        Ok(if items.len() == 1 { items.remove(0) } else { PyValue::List(items) })
                    }
                    ("None", _) => Ok(PyValue::None),
                    ("True", _) => Ok(PyValue::Bool(true)),
                    ("False", _) => Ok(PyValue::Bool(false)),
                    _ => Err(format!("unknown name `{word}`")),
                }
            }
            Some(c) => Err(format!("unexpected `{c}`")),
        }
    }

    /// Items up to `close`, and whether a comma was seen.
    fn sequence(&mut self, close: char, depth: usize) -> Result<(Vec<PyValue>, bool), String> {
        let mut items = Vec::new();
        let mut comma = false;
        loop {
            self.ws();
            if self.peek() == Some(close) {
                self.i += 1;
                return Ok((items, comma));
            }
            items.push(self.value(depth + 1)?);
            self.ws();
            match self.peek() {
                Some(',') => {
                    comma = true;
                    self.i += 1
                }
                Some(c) if c == close => {}
                _ => return Err(format!("an item not followed by `,` or `{close}`")),
            }
        }
    }

    fn string(&mut self, quote: char) -> Result<String, String> {
        self.i += 1;
        let mut s = String::new();
        loop {
            let Some(c) = self.peek() else { return Err("a string is not closed".into()) };
            self.i += 1;
            match c {
                c if c == quote => return Ok(s),
                '\\' => {
                    let Some(e) = self.peek() else { return Err("a string is not closed".into()) };
                    self.i += 1;
                    match e {
                        'n' => s.push('\n'),
                        'r' => s.push('\r'),
                        't' => s.push('\t'),
                        '0' => s.push('\0'),
                        'x' | 'u' | 'U' => {
                            let n = match e {
                                'x' => 2,
                                'u' => 4,
                                _ => 8,
                            };
                            let end = (self.i + n).min(self.c.len());
                            let hex: String = self.c[self.i..end].iter().collect();
                            self.i = end;
                            match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                                Some(ch) => s.push(ch),
                                None => s.push(char::REPLACEMENT_CHARACTER),
                            }
                        }
                        '\n' => {}
                        other => s.push(other),
                    }
                }
                c => s.push(c),
            }
        }
    }
}

/// How a resource appears in `show`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceState {
    /// `Acquired resource …`: the place is acquired, this is one of its resources.
    Acquired,
    /// `Matching resource …`: the place is not acquired; this resource matches it.
    Matching,
    /// `Orphaned resource …`: acquired, but its exporter is gone.
    Orphaned,
}

/// One resource of a place.
#[derive(Debug, Clone, PartialEq)]
pub struct ShownResource {
    pub state: ResourceState,
    /// Its name in the place (the match's rename, else the resource's name).
    pub name: String,
    /// `exporter/group/class/name`.
    pub path: String,
    /// Its class as the client sees it (`NetworkSerialPort`, `NetworkPowerPort`, …).
    pub cls: String,
    /// Whether its exporter says it is available.
    pub avail: Option<bool>,
    /// `params`, a dict.
    pub params: PyValue,
}

impl ShownResource {
    pub fn param(&self, key: &str) -> Option<&PyValue> {
        self.params.get(key)
    }
}

/// What `labgrid-client -p PLACE show` says.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceShow {
    pub name: String,
    /// `host/user` holding it.
    pub acquired: Option<String>,
    pub reservation: Option<String>,
    pub resources: Vec<ShownResource>,
}

/// Reads `show`'s output; lines it does not know are skipped.
pub fn show(text: &str) -> Result<PlaceShow, String> {
    let mut place: Option<PlaceShow> = None;
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(rest) = line.strip_prefix("Place '") {
            let name = rest.strip_suffix("':").unwrap_or(rest.trim_end_matches(['\'', ':']));
            place = Some(PlaceShow { name: name.to_string(), acquired: None, reservation: None, resources: vec![] });
            continue;
        }
        let Some(p) = place.as_mut() else { continue };
        if let Some(field) = line.strip_prefix("  ").filter(|f| !f.starts_with(' ')) {
            if let Some(v) = field.strip_prefix("acquired: ") {
                p.acquired = (v.trim() != "None").then(|| v.trim().to_string());
            } else if let Some(v) = field.strip_prefix("reservation: ") {
                p.reservation = Some(v.trim().to_string());
            }
            continue;
        }
        let state = [
            ("Acquired resource '", ResourceState::Acquired),
            ("Matching resource '", ResourceState::Matching),
            ("Orphaned resource '", ResourceState::Orphaned),
        ]
        .into_iter()
        .find_map(|(prefix, state)| line.strip_prefix(prefix).map(|rest| (state, rest)));
        let Some((state, rest)) = state else { continue };
        let Some((name, path)) = rest.split_once("' (") else { continue };
        let path = path.trim_end().trim_end_matches(':').trim_end_matches(')');
        let path_cls = path.split('/').nth(2).unwrap_or("").to_string();
        // The dict: the indented lines that follow.
        let mut body = String::new();
        while let Some(next) = lines.peek() {
            if !next.starts_with("  ") {
                break;
            }
            body.push_str(next);
            body.push('\n');
            lines.next();
        }
        let (cls, avail, params) = if body.trim().is_empty() {
            (path_cls, None, PyValue::Dict(vec![]))
        } else {
            let v = literal(&body).map_err(|e| format!("resource {name}: {e}"))?;
            let cls = v.get("cls").and_then(PyValue::as_text).unwrap_or(path_cls);
            let avail = match v.get("avail") {
                Some(PyValue::Bool(b)) => Some(*b),
                _ => None,
            };
            let params = v.get("params").cloned().unwrap_or(PyValue::Dict(vec![]));
            (cls, avail, params)
        };
        p.resources.push(ShownResource { state, name: name.to_string(), path: path.to_string(), cls, avail, params });
    }
    place.ok_or_else(|| "no `Place '…':` line".to_string())
}

/// Why no serial port could be read from an acquired place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SerialProblem {
    /// No `NetworkSerialPort` among its resources.
    Missing,
    /// One is there and its parameters make no sense.
    Unreadable(String),
}

/// The acquired `NetworkSerialPort` (the first); `Ok(None)` while its exporter has not
/// published its TCP port yet.
pub fn serial(place: &PlaceShow) -> Result<Option<RemoteSerial>, SerialProblem> {
    let r = place
        .resources
        .iter()
        .find(|r| r.cls == "NetworkSerialPort" && r.state == ResourceState::Acquired)
        .ok_or(SerialProblem::Missing)?;
    let bad = |what: &str| SerialProblem::Unreadable(format!("resource {}: {what}", r.name));
    let host = match r.param("host") {
        Some(PyValue::Str(h)) if !h.is_empty() => h.clone(),
        _ => return Err(bad("no host")),
    };
    let port = match r.param("port") {
        None | Some(PyValue::None) => return Ok(None),
        Some(PyValue::Int(p)) => u16::try_from(*p).ok().filter(|p| *p > 0).ok_or_else(|| bad("port out of range"))?,
        Some(PyValue::Str(p)) => p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| bad("port not a number"))?,
        Some(_) => return Err(bad("port not a number")),
    };
    let protocol = match r.param("protocol") {
        // labgrid's NetworkSerialPort default, and what its exporter's ser2net speaks.
        None | Some(PyValue::None) => SerialProtocol::Rfc2217,
        Some(PyValue::Str(p)) if p == "rfc2217" => SerialProtocol::Rfc2217,
        Some(PyValue::Str(p)) if p == "raw" => SerialProtocol::Raw,
        Some(other) => return Err(bad(&format!("unknown protocol {other:?}"))),
    };
    let speed = match r.param("speed") {
        Some(PyValue::Int(s)) => u32::try_from(*s).ok().filter(|s| *s > 0),
        _ => None,
    };
    Ok(Some(RemoteSerial { host, port, protocol, speed, resource: r.name.clone() }))
}

/// The token in `reserve --shell`'s `export LG_TOKEN=…` line.
pub fn token(stdout: &str) -> Option<String> {
    stdout.lines().find_map(|l| {
        let v = l.trim().strip_prefix("export ").unwrap_or(l.trim()).strip_prefix("LG_TOKEN=")?;
        let v = v.trim().trim_matches(['\'', '"']);
        (!v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric())).then(|| v.to_string())
    })
}

/// What a failed call's stderr says went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The coordinator could not be reached; gRPC's reason.
    CoordinatorDown(String),
    /// No place of that name.
    NoSuchPlace,
    /// Acquired by someone (`host/user`), or by this very host and user.
    Busy(Option<String>),
    /// `release` of a place that is not acquired.
    NotAcquired,
    /// `cancel-reservation` of a token the coordinator does not know.
    NoReservation,
    Other,
}

pub fn classify(stderr: &str) -> Failure {
    if stderr.contains("Could not connect to coordinator") || stderr.contains("coordinator is unavailable") {
        let detail = stderr
            .lines()
            .find_map(|l| l.split_once("coordinator is unavailable: ").map(|(_, d)| d.trim().to_string()))
            .unwrap_or_else(|| "could not connect".into());
        return Failure::CoordinatorDown(detail);
    }
    if let Some((_, rest)) = stderr.split_once("is already acquired by ") {
        let holder = rest.split(['.', ' ', '\n']).next().unwrap_or("").trim();
        return Failure::Busy((!holder.is_empty()).then(|| holder.to_string()));
    }
    if stderr.contains("You have already acquired place") {
        return Failure::Busy(Some("this host and user (another run of yours?)".into()));
    }
    // `-p NAME` also matches substrings: several places containing the name, none named so.
    if stderr.contains("matches nothing")
        || stderr.contains("matches multiple places")
        || stderr.contains("does not exist") && stderr.contains("Place ")
    {
        return Failure::NoSuchPlace;
    }
    if stderr.contains("is not acquired") {
        return Failure::NotAcquired;
    }
    if stderr.contains("Reservation") && stderr.contains("does not exist") {
        return Failure::NoReservation;
    }
    Failure::Other
}
