//! LwM2M 1.0 over CoAP, as OneNET speaks it.
//!
//! [`path`] names objects, instances and resources; [`tlv`] encodes and decodes OMA TLV (content
//! formats 11542 and the old 1542); [`link`] builds and reads the CoRE link-format registration payload;
//! [`content`] lists the content formats the manuals use. The CoAP transaction layer follows in
//! [`endpoint`]: a sans-I/O state machine (like the emulator's modem) driven with explicit time,
//! so the same code runs over tokio UDP and in virtual time. [`package`] is the firmware package
//! format miplcheck's FOTA jobs carry through object 5 (its own; the manuals define none).

pub mod block;
pub mod content;
#[cfg(feature = "dtls")]
pub mod dtls;
pub mod endpoint;
pub mod link;
pub mod package;
pub mod path;
pub mod tlv;
pub mod wire;

pub use content::ContentFormat;
#[cfg(feature = "dtls")]
pub use dtls::{DtlsError, Session};
pub use endpoint::{Endpoint, EndpointError};
pub use path::Path;
