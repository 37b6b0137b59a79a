//! A OneNET-compatible HTTP API on the mock platform, so an application written for OneNET's
//! NB-IoT API can be pointed at the mock: `miplcheck platform --http ADDR`, and the runner's
//! `onenet:` steps. Each call becomes one operation on the running platform through
//! [`Control`] and is answered in OneNET's envelope ([`envelope`]) when the device answers or its
//! `timeout` runs out.
//!
//! Where it comes from: the paths, URL parameters, bodies, the `timeout` default of 25 s and range
//! 5–40 s, the write modes and the errno table are those of OneNET's NB-IoT suite documentation
//! (application development guide: "instant command" read / write / execute / observe, the
//! resource list, create device; "API status codes"). What the documentation leaves open is the
//! mock's choice and said where it is made: the detail after `: ` in `error` (`parameter
//! required: obj_id`, `UNSUCESS: TIME_OUT`), the type of a value read back ([`values`]), and
//! `obsv` switching the platform's one auto-observe switch ([`devices`]). Notifications are not
//! pushed to an application (OneNET's HTTP push): the console and the transcripts show them.
//! **Untested against the live service**: nothing here has talked to api.heclouds.com.
//!
//! The `api-key` header is compared in constant time and never logged or echoed. Bodies are capped
//! at [`MAX_BODY`] (OneNET caps a write's data at 2 KiB). Must not: decode CoAP beyond an answer's
//! payload, or know the runner.

mod devices;
mod envelope;
mod nbiot;
mod query;
mod values;

pub use envelope::{Errno, Reply};
pub use query::{DEFAULT_TIMEOUT_S, TIMEOUT_RANGE_S};

use crate::server::Device;
use crate::Control;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::{get, on, MethodFilter, MethodRouter};

const GET: MethodFilter = MethodFilter::GET;
const POST: MethodFilter = MethodFilter::POST;
use axum::Router;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use subtle::ConstantTimeEq;
use tokio::sync::oneshot;

/// The largest request body taken; larger ones are refused with HTTP 413.
pub const MAX_BODY: usize = 16 * 1024;

/// A platform the API drives, shared with whoever else drives it (the console, the runner).
pub type Shared = Arc<dyn Control + Send + Sync>;

/// What every handler sees.
pub struct Api {
    control: Shared,
    key: String,
    created: Mutex<Vec<devices::Created>>,
}

impl Api {
    fn created(&self) -> MutexGuard<'_, Vec<devices::Created>> {
        self.created.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The registered device whose endpoint name holds `imei` (OneNET's is `<IMEI>;<IMSI>`).
    fn online(&self, imei: &str) -> Option<Device<SocketAddr>> {
        self.control.devices().into_iter().find(|d| d.endpoint.contains(imei))
    }

    fn authorised(&self, headers: &HeaderMap) -> bool {
        headers.get("api-key").is_some_and(|k| bool::from(k.as_bytes().ct_eq(self.key.as_bytes())))
    }
}

/// A running API; dropping it stops the server.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Serves the API for `control` on `addr` (port 0: any), `api_key` required in every request, on
/// a thread and runtime of its own.
pub fn serve(addr: SocketAddr, control: Shared, api_key: String) -> std::io::Result<Server> {
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let api = Arc::new(Api { control, key: api_key, created: Mutex::new(Vec::new()) });
    let (stop, stopped) = oneshot::channel::<()>();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let thread = std::thread::Builder::new().name(format!("onenet api {addr}")).spawn(move || {
        rt.block_on(async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
            let _ = axum::serve(listener, router(api))
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
    })?;
    Ok(Server { addr, stop: Some(stop), thread: Some(thread) })
}

type Q = Query<HashMap<String, String>>;

fn router(api: Arc<Api>) -> Router {
    Router::new()
        .route("/devices", get(list_devices).post(create_device))
        .route("/nbiot", by_query(GET, nbiot::read).merge(by_query_and_body(POST, nbiot::write)))
        .route("/nbiot/execute", by_query_and_body(POST, nbiot::execute))
        .route("/nbiot/observe", by_query(POST, nbiot::observe))
        .route("/nbiot/resources", by_query(GET, nbiot::resources))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(api)
}

/// A call that reads only its URL parameters, as a handler.
fn by_query(method: MethodFilter, call: fn(&Api, &query::Params) -> Reply) -> MethodRouter<Arc<Api>> {
    on(method, move |State(api): State<Arc<Api>>, headers: HeaderMap, Query(q): Q| async move {
        guarded(api, &headers, move |a| call(a, &query::Params(q))).await
    })
}

/// A call that reads its URL parameters and a JSON body, as a handler.
fn by_query_and_body(
    method: MethodFilter,
    call: fn(&Api, &query::Params, &serde_json::Value) -> Reply,
) -> MethodRouter<Arc<Api>> {
    on(
        method,
        move |State(api): State<Arc<Api>>, headers: HeaderMap, Query(q): Q, body: axum::body::Bytes| async move {
            with_body(api, &headers, &body, move |a, b| call(a, &query::Params(q), b)).await
        },
    )
}

/// Runs `f` when the request carries the right `api-key`; OneNET's errno 1 otherwise.
async fn guarded(
    api: Arc<Api>,
    headers: &HeaderMap,
    f: impl FnOnce(&Api) -> Reply + Send + 'static,
) -> axum::response::Response {
    if !api.authorised(headers) {
        return Reply::fail(Errno::AuthFailed, "api-key").into_response();
    }
    nbiot::blocking(api, f).await.into_response()
}

/// A JSON body, `{}` when there is none; errno 3 when it is not JSON.
fn json_body(body: &[u8]) -> Result<serde_json::Value, Reply> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::json!({}));
    }
    serde_json::from_slice(body)
        .map_err(|e| Reply::fail(Errno::ParameterRequired, format!("the body is not JSON: {e}")))
}

/// A handler taking a body: its JSON, or the errno 3 reply.
async fn with_body(
    api: Arc<Api>,
    headers: &HeaderMap,
    body: &[u8],
    f: impl FnOnce(&Api, &serde_json::Value) -> Reply + Send + 'static,
) -> axum::response::Response {
    match json_body(body) {
        Ok(v) => guarded(api, headers, move |a| f(a, &v)).await,
        Err(r) if api.authorised(headers) => r.into_response(),
        Err(_) => Reply::fail(Errno::AuthFailed, "api-key").into_response(),
    }
}

async fn list_devices(State(api): State<Arc<Api>>, headers: HeaderMap) -> axum::response::Response {
    guarded(api, &headers, devices::list).await
}

async fn create_device(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    with_body(api, &headers, &body, devices::create).await
}
