//! OneNET's JSON envelope, `{"errno": 0, "error": "succ", "data": …}`, and its errno table for the
//! NB-IoT API (OneNET's "API status codes" page of the NB-IoT suite, application development
//! guide). Every answer is HTTP 200 with the errno in the body, as OneNET answers; only a request
//! the HTTP stack itself refuses (a body past the size limit, a path nobody serves) gets another
//! status. Must not: know routes, devices or CoAP.

use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// The errno values this mock answers, with OneNET's texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Errno {
    /// 0 `succ`.
    Succ,
    /// 1 `auth failed`: the `api-key` is missing or wrong.
    AuthFailed,
    /// 3 `parameter required`: a required URL parameter or body field is missing.
    ParameterRequired,
    /// 7 `service internal error`: the platform behind the API stopped.
    Internal,
    /// 2001 `device not online`: no such device is registered now.
    DeviceNotOnline,
    /// 5006 `system logic limit`: too many requests in flight to the device.
    LogicLimit,
    /// 5106 `UNSUCESS` (OneNET's spelling): the device answered with an error, or not in time.
    Unsuccess,
    /// 5108 `invalid parameter`: a parameter is there but not a value OneNET takes.
    InvalidParameter,
}

impl Errno {
    pub fn code(self) -> u32 {
        match self {
            Errno::Succ => 0,
            Errno::AuthFailed => 1,
            Errno::ParameterRequired => 3,
            Errno::Internal => 7,
            Errno::DeviceNotOnline => 2001,
            Errno::LogicLimit => 5006,
            Errno::Unsuccess => 5106,
            Errno::InvalidParameter => 5108,
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            Errno::Succ => "succ",
            Errno::AuthFailed => "auth failed",
            Errno::ParameterRequired => "parameter required",
            Errno::Internal => "service internal error",
            Errno::DeviceNotOnline => "device not online",
            Errno::LogicLimit => "system logic limit",
            Errno::Unsuccess => "UNSUCESS",
            Errno::InvalidParameter => "invalid parameter",
        }
    }
}

/// One answer of the API: an errno, its text (with the detail after `: ` when there is one, as
/// `parameter required: obj_id`), and the data of a success.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub errno: Errno,
    pub detail: Option<String>,
    pub data: Option<Value>,
}

impl Reply {
    /// Success with no data (write, execute, observe).
    pub fn ok() -> Self {
        Reply { errno: Errno::Succ, detail: None, data: None }
    }

    /// Success with `data`.
    pub fn data(data: Value) -> Self {
        Reply { errno: Errno::Succ, detail: None, data: Some(data) }
    }

    /// A failure, `detail` saying which parameter or why.
    pub fn fail(errno: Errno, detail: impl Into<String>) -> Self {
        Reply { errno, detail: Some(detail.into()), data: None }
    }

    /// The body OneNET sends.
    pub fn body(&self) -> Value {
        let error = match &self.detail {
            Some(d) => format!("{}: {d}", self.errno.text()),
            None => self.errno.text().to_string(),
        };
        let mut body = json!({"errno": self.errno.code(), "error": error});
        if let Some(data) = &self.data {
            body["data"] = data.clone();
        }
        body
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        axum::Json(self.body()).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(Reply::ok(), json!({"errno": 0, "error": "succ"}))]
    #[case(Reply::data(json!({"device_id": "1"})), json!({"errno": 0, "error": "succ", "data": {"device_id": "1"}}))]
    #[case(Reply::fail(Errno::AuthFailed, "api-key"), json!({"errno": 1, "error": "auth failed: api-key"}))]
    #[case(Reply::fail(Errno::ParameterRequired, "imei"), json!({"errno": 3, "error": "parameter required: imei"}))]
    #[case(Reply::fail(Errno::DeviceNotOnline, "866971030000001"), json!({"errno": 2001, "error": "device not online: 866971030000001"}))]
    #[case(Reply::fail(Errno::Unsuccess, "TIME_OUT"), json!({"errno": 5106, "error": "UNSUCESS: TIME_OUT"}))]
    #[case(Reply::fail(Errno::InvalidParameter, "timeout"), json!({"errno": 5108, "error": "invalid parameter: timeout"}))]
    #[case(Reply::fail(Errno::LogicLimit, "busy"), json!({"errno": 5006, "error": "system logic limit: busy"}))]
    #[case(Reply::fail(Errno::Internal, "stopped"), json!({"errno": 7, "error": "service internal error: stopped"}))]
    fn envelopes_read_as_onenet_writes_them(#[case] reply: Reply, #[case] body: Value) {
        assert_eq!(reply.body(), body);
    }
}
