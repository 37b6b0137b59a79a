//! The M5310-A device configuration stream (M5310-A §1.1, §5.3.1.2): the binary that OneNET's
//! `cis_cgtool` makes from `config.xml`, sent in hex by `AT+MIPLCREATE=<totalsize>,<config>,…`.
//!
//! Layout (all integers big-endian): a header byte `version << 4 | item count` (0x13) and the
//! total size; then items, each `0xF0 | id`, its size (id byte and size included) and a body.
//! Item 1 (init) is empty; item 2 (network): MTU, `linktype << 4 | bandtype`, `bootstrap << 7 |
//! dtls << 6`, then APN, user name, password, host and user data, each as length + bytes; item 3
//! (log): flags, buffer size, user data. The manual's own blob starts `130038F10003F2…`: version
//! 1, three items, 56 bytes.

/// Why a configuration stream could not be read: which part is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConfigStreamError {
    /// The stream ends inside the named field.
    #[error("{what}: cut short")]
    CutShort {
        /// The field being read.
        what: &'static str,
    },
    /// The named string field is not UTF-8.
    #[error("{what}: not UTF-8")]
    NotUtf8 {
        /// The field being read.
        what: &'static str,
    },
    /// The header's version nibble is not 1.
    #[error("version {0} (only 1 exists)")]
    Version(u8),
    /// The header's total size differs from the stream's length.
    #[error("header says {header} bytes, the stream has {actual}")]
    TotalSize {
        /// The size the header gives.
        header: usize,
        /// The length of the stream.
        actual: usize,
    },
    /// An item's size is below 3 or runs past the end of the stream.
    #[error("item 0x{id:02X} claims {size} bytes")]
    ItemSize {
        /// The item's id byte.
        id: u8,
        /// The size it gives.
        size: usize,
    },
    /// An item id other than 0xF1–0xF3.
    #[error("unknown item 0x{0:02X}")]
    UnknownItem(u8),
    /// The stream has no network item.
    #[error("no network item (0xF2)")]
    NoNetworkItem,
    /// The network item's host is empty.
    #[error("the network item names no host")]
    NoHost,
}

/// What a configuration stream says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CisConfig {
    pub mtu: u16,
    pub bootstrap: bool,
    pub dtls: bool,
    pub apn: String,
    /// `host:port` (the port may be absent: 5683).
    pub host: String,
    /// `key:value;` pairs: `AuthCode:…;` (M5310-A §5.3.1.2), `PSK:…;`.
    pub userdata: String,
    pub log_enabled: bool,
}

impl CisConfig {
    pub fn new(host: &str, bootstrap: bool) -> Self {
        CisConfig {
            mtu: 1024,
            bootstrap,
            dtls: false,
            apn: String::new(),
            host: host.to_string(),
            userdata: String::new(),
            log_enabled: false,
        }
    }

    /// A value of the user data (`AuthCode`, `PSK`).
    pub fn userdata_value(&self, key: &str) -> Option<&str> {
        self.userdata.split(';').find_map(|kv| {
            let (k, v) = kv.split_once(':')?;
            (k.trim().eq_ignore_ascii_case(key) && !v.is_empty()).then_some(v)
        })
    }

    /// The stream as `cis_cgtool` writes it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut net = vec![];
        net.extend(self.mtu.to_be_bytes());
        net.push(1 << 4 | 1);
        net.push(u8::from(self.bootstrap) << 7 | u8::from(self.dtls) << 6);
        for s in [self.apn.as_str(), "", "", self.host.as_str(), self.userdata.as_str()] {
            net.extend((s.len() as u16).to_be_bytes());
            net.extend(s.as_bytes());
        }
        let log = [u8::from(self.log_enabled) << 7, 0, 0, 0, 0];
        let mut out = vec![0x13, 0, 0];
        for (id, body) in [(1u8, &[][..]), (2, &net[..]), (3, &log[..])] {
            out.push(0xF0 | id);
            out.extend(((body.len() + 3) as u16).to_be_bytes());
            out.extend(body);
        }
        let total = (out.len() as u16).to_be_bytes();
        out[1..3].copy_from_slice(&total);
        out
    }

    pub fn to_hex(&self) -> String {
        self.to_bytes().iter().map(|b| format!("{b:02X}")).collect()
    }

    /// Reads a stream; the error says which part is wrong.
    pub fn parse(bytes: &[u8]) -> Result<Self, ConfigStreamError> {
        let mut r = Reader { b: bytes, at: 0 };
        let head = r.u8("header")?;
        if head >> 4 != 1 {
            return Err(ConfigStreamError::Version(head >> 4));
        }
        let total = r.u16("total size")? as usize;
        if total != bytes.len() {
            return Err(ConfigStreamError::TotalSize { header: total, actual: bytes.len() });
        }
        let mut cfg = None;
        let mut log_enabled = false;
        while r.at < bytes.len() {
            let start = r.at;
            let id = r.u8("item id")?;
            let size = r.u16("item size")? as usize;
            if size < 3 || start + size > bytes.len() {
                return Err(ConfigStreamError::ItemSize { id, size });
            }
            let mut item = Reader { b: &bytes[..start + size], at: r.at };
            match id {
                0xF1 => {}
                0xF2 => {
                    let mtu = item.u16("mtu")?;
                    item.u8("link and band type")?;
                    let flags = item.u8("bootstrap and dtls flags")?;
                    let apn = item.string("apn")?;
                    item.string("username")?;
                    item.string("password")?;
                    let host = item.string("host")?;
                    let userdata = item.string("userdata")?;
                    cfg = Some(CisConfig {
                        mtu,
                        bootstrap: flags & 0x80 != 0,
                        dtls: flags & 0x40 != 0,
                        apn,
                        host,
                        userdata,
                        log_enabled: false,
                    });
                }
                0xF3 => log_enabled = item.u8("log flags")? & 0x80 != 0,
                other => return Err(ConfigStreamError::UnknownItem(other)),
            }
            r.at = start + size;
        }
        let mut cfg = cfg.ok_or(ConfigStreamError::NoNetworkItem)?;
        if cfg.host.is_empty() {
            return Err(ConfigStreamError::NoHost);
        }
        cfg.log_enabled = log_enabled;
        Ok(cfg)
    }
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&[u8], ConfigStreamError> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.b.len()).ok_or(ConfigStreamError::CutShort { what })?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self, what: &'static str) -> Result<u8, ConfigStreamError> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &'static str) -> Result<u16, ConfigStreamError> {
        let s = self.take(2, what)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }
    fn string(&mut self, what: &'static str) -> Result<String, ConfigStreamError> {
        let n = self.u16(what)? as usize;
        let s = self.take(n, what)?;
        String::from_utf8(s.to_vec()).map_err(|_| ConfigStreamError::NotUtf8 { what })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_manuals_example_config_makes_the_manuals_header() {
        // M5310-A §5.3.1.2's config.xml: bootstrap to nbiotbt.heclouds.com:5683 with an auth code.
        let mut c = CisConfig::new("nbiotbt.heclouds.com:5683", true);
        c.userdata = "AuthCode:12458789;".into();
        let hex = c.to_hex();
        assert!(hex.starts_with("13") && hex[6..].starts_with("F10003F2"), "{hex}");
        let back = CisConfig::parse(&c.to_bytes()).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.userdata_value("authcode"), Some("12458789"));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let mut b = CisConfig::new("127.0.0.1:5683", false).to_bytes();
        b[2] += 1;
        assert!(CisConfig::parse(&b).unwrap_err().to_string().contains("header says"));
        assert!(CisConfig::parse(&[0x23, 0, 3]).unwrap_err().to_string().contains("version 2"));
        assert!(CisConfig::parse(&[0x13, 0, 3]).unwrap_err().to_string().contains("no network item"));
    }

    #[test]
    fn error_messages_are_unchanged() {
        let mut b = CisConfig::new("127.0.0.1:5683", false).to_bytes();
        let n = b.len();
        b[2] += 1;
        let e = CisConfig::parse(&b).unwrap_err();
        assert_eq!(e, ConfigStreamError::TotalSize { header: n + 1, actual: n });
        assert_eq!(e.to_string(), format!("header says {} bytes, the stream has {n}", n + 1));
        assert_eq!(CisConfig::parse(&[0x13, 0]).unwrap_err().to_string(), "total size: cut short");
        assert_eq!(CisConfig::parse(&[0x13, 0, 6, 0xF4, 0, 3]).unwrap_err().to_string(), "unknown item 0xF4");
        assert_eq!(CisConfig::parse(&[0x13, 0, 6, 0xF1, 0, 9]).unwrap_err().to_string(), "item 0xF1 claims 9 bytes");
    }

    proptest! {
        #[test]
        fn never_panics(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = CisConfig::parse(&b);
        }

        #[test]
        fn round_trips(host in "[a-z0-9.:]{1,40}", bs: bool, dtls: bool, ud in "[A-Za-z0-9:;]{0,30}") {
            let mut c = CisConfig::new(&host, bs);
            c.dtls = dtls;
            c.userdata = ud;
            prop_assert_eq!(CisConfig::parse(&c.to_bytes()).unwrap(), c);
        }
    }
}
