//! The `/nbiot` calls: read (`GET /nbiot`), write (`POST /nbiot`, `mode` 1 replace / 2 partial
//! update), execute (`POST /nbiot/execute`), observe and cancel (`POST /nbiot/observe`,
//! `cancel=true`) and the resource list (`GET /nbiot/resources`), each one operation on the
//! platform through [`Control`], answered when the device answers or when `timeout` runs out, as
//! OneNET's "instant command" calls are. Must not: check the api-key (the router does) or keep
//! state of its own.

use super::envelope::{Errno, Reply};
use super::query::Params;
use super::values;
use super::Api;
use crate::server::{OpOutcome, OperateError, Operation};
use miplcheck_lwm2m::{wire, ContentFormat};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often a waiting call looks at the operation's outcome.
const POLL: Duration = Duration::from_millis(10);

/// `GET /nbiot?imei&obj_id[&obj_inst_id[&res_id]][&timeout]`.
pub fn read(api: &Api, q: &Params) -> Reply {
    let go = || -> Result<Reply, Reply> {
        let (imei, path, timeout) = (q.imei()?, q.path(1)?, q.timeout()?);
        let (_, packet) = api.exchange(imei, Operation::Read(path), timeout, "2.05")?;
        let cf = wire::number(&packet, coap_lite::CoapOption::ContentFormat).map(ContentFormat::from_number);
        values::read_data(&path, cf, &packet.payload)
            .map(Reply::data)
            .map_err(|why| Reply::fail(Errno::Unsuccess, format!("RESP_ERROR ({why})")))
    };
    go().unwrap_or_else(|r| r)
}

/// `POST /nbiot?imei&obj_id&obj_inst_id&mode[&timeout]` with `{"data": [{res_id, val}…]}`.
pub fn write(api: &Api, q: &Params, body: &Value) -> Reply {
    let go = || -> Result<Reply, Reply> {
        let (imei, path, timeout) = (q.imei()?, q.path(2)?, q.timeout()?);
        let mode: u8 = q.number("mode")?.ok_or_else(|| Reply::fail(Errno::ParameterRequired, "mode"))?;
        let data = body.get("data").ok_or_else(|| Reply::fail(Errno::ParameterRequired, "data"))?;
        let payload = values::write_payload(data).map_err(|why| Reply::fail(Errno::InvalidParameter, why))?;
        let (format, path) = (ContentFormat::Tlv, miplcheck_lwm2m::Path { resource: None, ..path });
        let op = match mode {
            1 => Operation::Replace { path, format, payload },
            2 => Operation::Write { path, format, payload },
            _ => return Err(Reply::fail(Errno::InvalidParameter, "mode (1 replace, 2 partial update)")),
        };
        api.exchange(imei, op, timeout, "2.04")?;
        Ok(Reply::ok())
    };
    go().unwrap_or_else(|r| r)
}

/// `POST /nbiot/execute?imei&obj_id&obj_inst_id&res_id[&timeout]` with `{"args": "…"}` or nothing.
pub fn execute(api: &Api, q: &Params, body: &Value) -> Reply {
    let go = || -> Result<Reply, Reply> {
        let (imei, path, timeout) = (q.imei()?, q.path(3)?, q.timeout()?);
        let args = match body.get("args") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(Reply::fail(Errno::InvalidParameter, "args should be a string")),
        };
        api.exchange(imei, Operation::Execute { path, args }, timeout, "2.04")?;
        Ok(Reply::ok())
    };
    go().unwrap_or_else(|r| r)
}

/// `POST /nbiot/observe?imei&obj_id[&obj_inst_id[&res_id]][&cancel][&timeout]`.
pub fn observe(api: &Api, q: &Params) -> Reply {
    let go = || -> Result<Reply, Reply> {
        let (imei, path, timeout) = (q.imei()?, q.path(1)?, q.timeout()?);
        let op = if q.flag("cancel")? { Operation::CancelObserve(path) } else { Operation::Observe(path) };
        api.exchange(imei, op, timeout, "2.05")?;
        Ok(Reply::ok())
    };
    go().unwrap_or_else(|r| r)
}

/// `GET /nbiot/resources?imei[&obj_id]`: the objects and instances the device registered (and any
/// resource its registration named), from the platform's record of it; no request to the device.
pub fn resources(api: &Api, q: &Params) -> Reply {
    let go = || -> Result<Reply, Reply> {
        let imei = q.imei()?;
        let only: Option<u16> = q.number("obj_id")?;
        let device = api.online(imei).ok_or_else(|| Reply::fail(Errno::DeviceNotOnline, imei.to_string()))?;
        let mut objects: std::collections::BTreeMap<u16, std::collections::BTreeMap<u16, Vec<u16>>> =
            Default::default();
        for p in device.objects.iter().filter(|p| only.is_none_or(|o| o == p.object)) {
            let instances = objects.entry(p.object).or_default();
            if let Some(i) = p.instance {
                let res = instances.entry(i).or_default();
                res.extend(p.resource);
            }
        }
        let item: Vec<Value> = objects
            .iter()
            .map(|(o, inst)| {
                let instances: Vec<Value> = inst.iter().map(|(i, r)| json!({"inst_id": i, "resources": r})).collect();
                json!({"obj_id": o, "instances": instances})
            })
            .collect();
        Ok(Reply::data(json!({"total_count": item.len(), "item": item})))
    };
    go().unwrap_or_else(|r| r)
}

impl Api {
    /// Starts `op` on the device whose endpoint names `imei` and waits up to `timeout` for its
    /// answer: `expect` (`2.05`, `2.04`) is a success, any other code OneNET's 5106 with the
    /// reason it gives (`NOT_FOUND`, `METHOD_NOT_ALLOWED`…), no answer in time 5106 `TIME_OUT`.
    pub(super) fn exchange(
        &self,
        imei: &str,
        op: Operation,
        timeout: Duration,
        expect: &str,
    ) -> Result<(String, coap_lite::Packet), Reply> {
        let id = self.control.operate(Some(imei), op).map_err(|e| match e {
            OperateError::NoDevice | OperateError::Offline { .. } => {
                Reply::fail(Errno::DeviceNotOnline, imei.to_string())
            }
            OperateError::Busy(_) => Reply::fail(Errno::LogicLimit, "too many requests in flight to the device"),
            OperateError::Stopped => Reply::fail(Errno::Internal, "the platform stopped"),
            e => Reply::fail(Errno::InvalidParameter, e.to_string()),
        })?;
        let deadline = Instant::now() + timeout;
        loop {
            match self.control.outcome(id) {
                OpOutcome::Pending if Instant::now() >= deadline => {
                    return Err(Reply::fail(Errno::Unsuccess, "TIME_OUT"));
                }
                OpOutcome::Pending => std::thread::sleep(POLL),
                OpOutcome::Answered { code, packet, .. } if code == expect => return Ok((code, packet)),
                OpOutcome::Answered { code, .. } => {
                    return Err(Reply::fail(Errno::Unsuccess, format!("{} ({code})", reason(&code))))
                }
                OpOutcome::TimedOut => return Err(Reply::fail(Errno::Unsuccess, "TIME_OUT")),
                OpOutcome::Reset => return Err(Reply::fail(Errno::Unsuccess, "RESP_ERROR (RST)")),
                OpOutcome::Cancelled(why) => return Err(Reply::fail(Errno::DeviceNotOnline, why)),
            }
        }
    }
}

/// OneNET's name (errno 5106's list) for a device's error code.
fn reason(code: &str) -> &'static str {
    match code {
        "4.00" => "BAD_REQUEST",
        "4.01" => "UNAUTHORIZED",
        "4.03" => "FORBIDDEN",
        "4.04" => "NOT_FOUND",
        "4.05" => "METHOD_NOT_ALLOWED",
        "4.06" => "NOT_ACCEPTABLE",
        "4.15" => "UNSUPPORTED_CONTENT_FORMAT",
        c if c.starts_with("5.") => "INTERNAL_SERVER_ERROR",
        _ => "RESP_ERROR",
    }
}

/// The handlers' shape: the blocking work above on tokio's blocking pool, since [`Control`] waits.
pub async fn blocking(api: Arc<Api>, f: impl FnOnce(&Api) -> Reply + Send + 'static) -> Reply {
    tokio::task::spawn_blocking(move || f(&api))
        .await
        .unwrap_or_else(|_| Reply::fail(Errno::Internal, "the request's worker failed"))
}

#[cfg(test)]
mod tests {
    use super::reason;
    use rstest::rstest;

    #[rstest]
    #[case("4.04", "NOT_FOUND")]
    #[case("4.05", "METHOD_NOT_ALLOWED")]
    #[case("4.00", "BAD_REQUEST")]
    #[case("5.00", "INTERNAL_SERVER_ERROR")]
    #[case("2.31", "RESP_ERROR")]
    fn device_codes_map_to_onenet_reasons(#[case] code: &str, #[case] name: &str) {
        assert_eq!(reason(code), name);
    }
}
