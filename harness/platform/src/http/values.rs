//! Resource values between a device's CoAP payload and OneNET's JSON: a read's answer as
//! `[{"obj_inst_id": 0, "res": [{"res_id": 5700, "val": 25.5}]}]`, a write's `data` array as the TLV
//! the request carries. OneNET knows each resource's type from its object model; the mock does
//! not, so a TLV value reads as text when it is printable UTF-8, else as an integer when it is 1,
//! 2, 4 or 8 bytes, else as hexadecimal; a text/plain value as a number when it is one. Must not:
//! know HTTP or devices.

use miplcheck_lwm2m::tlv::{self, Kind, Tlv};
use miplcheck_lwm2m::{wire, ContentFormat, Path};
use serde_json::{json, Value};

/// A read's answer (`payload` in content format `cf`, for `path`) as OneNET's `data`.
pub fn read_data(path: &Path, cf: Option<ContentFormat>, payload: &[u8]) -> Result<Value, String> {
    let instance = path.instance.unwrap_or(0);
    match cf {
        Some(cf) if cf.is_tlv() => {
            let items = tlv::decode(payload).map_err(|e| e.to_string())?;
            let mut data = Vec::new();
            let mut loose = Vec::new();
            for t in &items {
                match t.kind {
                    Kind::ObjectInstance => data.push(json!({"obj_inst_id": t.id, "res": resources(t.children())})),
                    _ => loose.extend(resources(std::slice::from_ref(t))),
                }
            }
            if !loose.is_empty() {
                data.insert(0, json!({"obj_inst_id": instance, "res": loose}));
            }
            Ok(Value::Array(data))
        }
        _ => {
            let Some(res_id) = path.resource else {
                return Err(format!("a {} answer to a read of {path}, which is no resource", name(cf)));
            };
            let val = match cf {
                Some(ContentFormat::Opaque) => Value::from(wire::hex(payload)),
                _ => text_value(&String::from_utf8_lossy(payload)),
            };
            Ok(json!([{"obj_inst_id": instance, "res": [{"res_id": res_id, "val": val}]}]))
        }
    }
}

fn name(cf: Option<ContentFormat>) -> String {
    cf.map(|c| c.name()).unwrap_or_else(|| "text/plain".into())
}

/// Resources (and multiple resources, their instances as an array) as OneNET's `res` entries.
fn resources(items: &[Tlv]) -> Vec<Value> {
    items
        .iter()
        .map(|t| {
            let val = match t.bytes() {
                Some(b) => bytes_value(b),
                None => Value::Array(t.children().iter().filter_map(|c| c.bytes()).map(bytes_value).collect()),
            };
            json!({"res_id": t.id, "val": val})
        })
        .collect()
}

/// A TLV value without its type: printable text, else an integer of 1, 2, 4 or 8 bytes, else hex.
fn bytes_value(b: &[u8]) -> Value {
    match std::str::from_utf8(b) {
        Ok(t) if !t.is_empty() && !t.chars().any(char::is_control) => Value::from(t),
        _ => match tlv::read_int(b) {
            Some(n) => Value::from(n),
            None => Value::from(wire::hex(b)),
        },
    }
}

/// A text/plain value: a number when it reads as one, else the text.
fn text_value(t: &str) -> Value {
    if let Ok(n) = t.parse::<i64>() {
        return Value::from(n);
    }
    match t.parse::<f64>() {
        Ok(f) if f.is_finite() => Value::from(f),
        _ => Value::from(t),
    }
}

/// A write's `data` array (`[{"res_id": 5706, "val": "hello"}, {"res_id": 5850, "type": 1,
/// "val": "0A0B"}]`) as the TLV of its resources. `type` 1 is Opaque (`val` hexadecimal), 2 is
/// Time (`val` seconds); without it `val`'s JSON type decides.
pub fn write_payload(data: &Value) -> Result<Vec<u8>, String> {
    let entries = data.as_array().ok_or("data should be an array of {res_id, val}")?;
    if entries.is_empty() {
        return Err("data is empty".into());
    }
    let mut items = Vec::new();
    for e in entries {
        let id = e["res_id"].as_u64().and_then(|n| u16::try_from(n).ok()).ok_or("res_id should be 0–65535")?;
        let val = &e["val"];
        let bytes = match (e["type"].as_u64(), val) {
            (Some(1), Value::String(h)) => wire::unhex(h).ok_or_else(|| format!("res {id}: val is not hexadecimal"))?,
            (Some(2), v) => tlv::int_bytes(v.as_i64().ok_or_else(|| format!("res {id}: a Time val is seconds"))?),
            (Some(t), _) if t != 1 && t != 2 => return Err(format!("res {id}: type is 1 or 2")),
            (_, Value::String(s)) => s.as_bytes().to_vec(),
            (_, Value::Bool(b)) => vec![u8::from(*b)],
            (_, Value::Number(n)) => match n.as_i64() {
                Some(i) => tlv::int_bytes(i),
                None => n.as_f64().map(|f| f.to_be_bytes().to_vec()).ok_or_else(|| format!("res {id}: val"))?,
            },
            _ => return Err(format!("res {id}: val should be a boolean, string or number")),
        };
        items.push(Tlv::resource(id, bytes));
    }
    Ok(tlv::encode(&items))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(Path::resource(3311, 0, 5700), Some(ContentFormat::Text), b"25.5".to_vec(), json!([{"obj_inst_id": 0, "res": [{"res_id": 5700, "val": 25.5}]}]))]
    #[case(Path::resource(3311, 1, 5706), Some(ContentFormat::Text), b"blue".to_vec(), json!([{"obj_inst_id": 1, "res": [{"res_id": 5706, "val": "blue"}]}]))]
    #[case(Path::resource(3311, 0, 5850), None, b"1".to_vec(), json!([{"obj_inst_id": 0, "res": [{"res_id": 5850, "val": 1}]}]))]
    #[case(Path::resource(3200, 0, 5750), Some(ContentFormat::Opaque), vec![0xAB, 0x01], json!([{"obj_inst_id": 0, "res": [{"res_id": 5750, "val": "AB01"}]}]))]
    #[case(Path::instance(3311, 0), Some(ContentFormat::Tlv), tlv::encode(&[Tlv::resource(5706, b"hi".to_vec()), Tlv::resource(5850, vec![1])]), json!([{"obj_inst_id": 0, "res": [{"res_id": 5706, "val": "hi"}, {"res_id": 5850, "val": 1}]}]))]
    #[case(Path::object(3311), Some(ContentFormat::Tlv), tlv::encode(&[Tlv::instance(1, vec![Tlv::resource(5850, vec![0])])]), json!([{"obj_inst_id": 1, "res": [{"res_id": 5850, "val": 0}]}]))]
    fn reads(#[case] path: Path, #[case] cf: Option<ContentFormat>, #[case] payload: Vec<u8>, #[case] data: Value) {
        assert_eq!(read_data(&path, cf, &payload).unwrap(), data);
    }

    #[test]
    fn a_text_answer_to_an_instance_read_is_refused() {
        assert!(read_data(&Path::instance(3311, 0), Some(ContentFormat::Text), b"1").is_err());
        assert!(read_data(&Path::instance(3311, 0), Some(ContentFormat::Tlv), &[0xFF]).is_err());
    }

    #[rstest]
    #[case(json!([{"res_id": 5706, "val": "hello"}]), vec![Tlv::resource(5706, b"hello".to_vec())])]
    #[case(json!([{"res_id": 5850, "val": true}, {"res_id": 5851, "val": 300}]), vec![Tlv::resource(5850, vec![1]), Tlv::resource(5851, tlv::int_bytes(300))])]
    #[case(json!([{"res_id": 5750, "type": 1, "val": "0A0B"}]), vec![Tlv::resource(5750, vec![0x0A, 0x0B])])]
    #[case(json!([{"res_id": 5700, "val": 1.5}]), vec![Tlv::resource(5700, 1.5f64.to_be_bytes().to_vec())])]
    fn writes(#[case] data: Value, #[case] items: Vec<Tlv>) {
        assert_eq!(write_payload(&data).unwrap(), tlv::encode(&items));
    }

    #[rstest]
    #[case(json!({"res_id": 1}), "array")]
    #[case(json!([]), "empty")]
    #[case(json!([{"val": 1}]), "res_id")]
    #[case(json!([{"res_id": 1, "type": 1, "val": "xyz"}]), "hexadecimal")]
    #[case(json!([{"res_id": 1, "type": 9, "val": 1}]), "type is 1 or 2")]
    #[case(json!([{"res_id": 1, "val": null}]), "boolean, string or number")]
    fn bad_writes_say_why(#[case] data: Value, #[case] says: &str) {
        let e = write_payload(&data).unwrap_err();
        assert!(e.contains(says), "{e}");
    }
}
