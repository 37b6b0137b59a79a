//! The URL parameters of OneNET's NB-IoT calls (`imei`, `obj_id`, `obj_inst_id`, `res_id`,
//! `timeout`, `mode`, `cancel`), each checked as OneNET documents it: a missing required one is
//! errno 3, one that is there but not a value OneNET takes is errno 5108. Must not: start
//! operations or know the body.

use super::envelope::{Errno, Reply};
use miplcheck_lwm2m::Path;
use std::collections::HashMap;
use std::time::Duration;

/// `timeout` when a request names none, and the range OneNET takes, in seconds.
pub const DEFAULT_TIMEOUT_S: u64 = 25;
pub const TIMEOUT_RANGE_S: std::ops::RangeInclusive<u64> = 5..=40;

/// A request's URL parameters.
pub struct Params(pub HashMap<String, String>);

impl Params {
    /// A parameter's text, or errno 3 naming it.
    pub fn required(&self, name: &str) -> Result<&str, Reply> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty()).ok_or_else(|| missing(name))
    }

    /// A number, if the parameter is there; errno 5108 when it is not one.
    pub fn number<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, Reply> {
        match self.0.get(name).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| Reply::fail(Errno::InvalidParameter, name)),
        }
    }

    /// The device's IMEI.
    pub fn imei(&self) -> Result<&str, Reply> {
        self.required("imei")
    }

    /// `obj_id[/obj_inst_id[/res_id]]`; `need` says how deep the call requires it (1: the object,
    /// 2: the instance, 3: the resource). An instance-less resource is refused as OneNET says:
    /// "when obj_inst_id does not exist, res_id must not exist".
    pub fn path(&self, need: usize) -> Result<Path, Reply> {
        let object: u16 = self.number("obj_id")?.ok_or_else(|| missing("obj_id"))?;
        let instance: Option<u16> = self.number("obj_inst_id")?;
        let resource: Option<u16> = self.number("res_id")?;
        if need >= 2 && instance.is_none() {
            return Err(missing("obj_inst_id"));
        }
        if need >= 3 && resource.is_none() {
            return Err(missing("res_id"));
        }
        Ok(match (instance, resource) {
            (None, None) => Path::object(object),
            (Some(i), None) => Path::instance(object, i),
            (Some(i), Some(r)) => Path::resource(object, i, r),
            (None, Some(_)) => return Err(Reply::fail(Errno::InvalidParameter, "res_id without obj_inst_id")),
        })
    }

    /// How long to wait for the device: `timeout` seconds, 25 by default, 5 to 40.
    pub fn timeout(&self) -> Result<Duration, Reply> {
        let s = self.number::<u64>("timeout")?.unwrap_or(DEFAULT_TIMEOUT_S);
        if !TIMEOUT_RANGE_S.contains(&s) {
            return Err(Reply::fail(Errno::InvalidParameter, "timeout (5 to 40 seconds)"));
        }
        Ok(Duration::from_secs(s))
    }

    /// `true` or `false` (`cancel`), `false` when absent.
    pub fn flag(&self, name: &str) -> Result<bool, Reply> {
        match self.0.get(name).map(String::as_str) {
            None | Some("") | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(Reply::fail(Errno::InvalidParameter, name)),
        }
    }
}

fn missing(name: &str) -> Reply {
    Reply::fail(Errno::ParameterRequired, name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn params(q: &str) -> Params {
        Params(q.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.into(), v.into())).collect())
    }

    #[rstest]
    #[case("obj_id=3311", 1, Ok("/3311"))]
    #[case("obj_id=3311&obj_inst_id=0", 2, Ok("/3311/0"))]
    #[case("obj_id=3311&obj_inst_id=0&res_id=5700", 3, Ok("/3311/0/5700"))]
    #[case("obj_inst_id=0", 1, Err((3, "parameter required: obj_id")))]
    #[case("obj_id=3311", 2, Err((3, "parameter required: obj_inst_id")))]
    #[case("obj_id=3311&obj_inst_id=0", 3, Err((3, "parameter required: res_id")))]
    #[case("obj_id=x", 1, Err((5108, "invalid parameter: obj_id")))]
    #[case("obj_id=70000", 1, Err((5108, "invalid parameter: obj_id")))]
    #[case("obj_id=3311&res_id=5700", 1, Err((5108, "invalid parameter: res_id without obj_inst_id")))]
    fn paths(#[case] q: &str, #[case] need: usize, #[case] want: Result<&str, (u32, &str)>) {
        let got = params(q).path(need).map(|p| p.to_string()).map_err(|r| (r.errno.code(), r.body()["error"].clone()));
        match want {
            Ok(p) => assert_eq!(got.unwrap(), p),
            Err((n, e)) => assert_eq!(got.unwrap_err(), (n, serde_json::Value::from(e))),
        }
    }

    #[rstest]
    #[case("", Some(25))]
    #[case("timeout=5", Some(5))]
    #[case("timeout=40", Some(40))]
    #[case("timeout=4", None)]
    #[case("timeout=41", None)]
    #[case("timeout=soon", None)]
    fn timeouts(#[case] q: &str, #[case] secs: Option<u64>) {
        assert_eq!(params(q).timeout().ok().map(|d| d.as_secs()), secs);
    }
}
