//! `POST /devices` and `GET /devices`: the devices an application created (OneNET's "create
//! device" with `auth_info` `{"<IMEI>": "<IMSI>"}` and `obsv`), listed with whether each is online
//! (registered with the platform now). Creating a device is a record for the application, not a
//! gate: registrations from endpoints nobody created are accepted as before, since suites register
//! devices that way. `obsv` switches the platform's auto-observe (it has one switch for every
//! registration, not one per device). Must not: start operations on devices.

use super::envelope::{Errno, Reply};
use super::Api;
use serde_json::{json, Value};

/// Devices an application may create on one mock, at most (OneNET's 5006 past it).
pub const MAX_CREATED: usize = 1024;

/// A device an application created.
#[derive(Debug, Clone)]
pub struct Created {
    pub id: u64,
    pub title: String,
    pub imei: String,
    pub imsi: String,
    pub obsv: bool,
}

/// `POST /devices` with `{"title": "…", "protocol": "LWM2M", "auth_info": {"IMEI": "IMSI"},
/// "obsv": true}`: `{"device_id": "…"}`.
pub fn create(api: &Api, body: &Value) -> Reply {
    let Some(auth) = body.get("auth_info") else {
        return Reply::fail(Errno::ParameterRequired, "auth_info");
    };
    let Some((imei, imsi)) = auth.as_object().filter(|m| m.len() == 1).and_then(|m| m.iter().next()) else {
        return Reply::fail(Errno::InvalidParameter, "auth_info should be {\"<IMEI>\": \"<IMSI>\"}");
    };
    let Some(imsi) = imsi.as_str() else {
        return Reply::fail(Errno::InvalidParameter, "auth_info's IMSI should be a string");
    };
    let obsv = match body.get("obsv") {
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Reply::fail(Errno::InvalidParameter, "obsv should be true or false"),
    };
    let title = body.get("title").and_then(Value::as_str).unwrap_or(imei).to_string();
    let mut created = api.created();
    if created.iter().any(|d| d.imei == *imei) {
        return Reply::fail(Errno::LogicLimit, "a device with this IMEI exists");
    }
    if created.len() >= MAX_CREATED {
        return Reply::fail(Errno::LogicLimit, format!("at most {MAX_CREATED} devices"));
    }
    let id = created.last().map_or(1, |d| d.id + 1);
    created.push(Created { id, title, imei: imei.clone(), imsi: imsi.to_string(), obsv });
    drop(created);
    api.control.set_auto_observe(obsv);
    Reply::data(json!({"device_id": id.to_string()}))
}

/// `GET /devices`: every created device, `online` when it is registered now.
pub fn list(api: &Api) -> Reply {
    let created = api.created().clone();
    let devices: Vec<Value> = created
        .iter()
        .map(|d| {
            json!({"id": d.id.to_string(), "title": d.title, "protocol": "LWM2M",
                "auth_info": {d.imei.clone(): d.imsi}, "obsv": d.obsv, "online": api.online(&d.imei).is_some()})
        })
        .collect();
    Reply::data(json!({"total_count": devices.len(), "per_page": devices.len(), "page": 1, "devices": devices}))
}
