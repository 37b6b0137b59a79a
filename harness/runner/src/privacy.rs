//! What a run may show: the rig's secrets redacted and the modem's identities (IMEI, IMSI)
//! masked, applied once by the dispatcher when it hands a case over as a record, so no reporter
//! — terminal, `-v`, JUnit, `run.json`, `report.html`, transcript files, pcapng captures — ever
//! holds a byte it must not show. Reporters never mask; they cannot forget to.
//!
//! Golden snapshots name what they must not hold: secrets as `<secret:name>`, the IMEI and IMSI
//! as `<imei>` and `<imsi>` (whatever the rig's `[privacy]` says), so a snapshot holds no
//! identity and is the same for every modem of a model.

use crate::rig::Identity;
use crate::transcript::Redactor;
use std::collections::BTreeMap;

/// Secrets and identities, and how each is hidden.
#[derive(Debug, Clone, Default)]
pub struct Privacy {
    secrets: Redactor,
    /// Each identity and its masked form, of the same length (none when the rig keeps them).
    identities: Vec<(String, String)>,
    /// The secrets, and each identity named (`<imei>`), whatever the rig keeps: for snapshots.
    snapshots: Redactor,
}

impl Privacy {
    /// The rig's secrets; no identity is known yet.
    pub fn new(secrets: &BTreeMap<String, String>) -> Self {
        let secrets = Redactor::new(secrets);
        Privacy { snapshots: secrets.clone(), secrets, identities: vec![] }
    }

    /// The modem's identities as it reported them. Masked: the IMEI keeps its 8-digit type
    /// allocation code (the model), the IMSI its 5-digit network code; kept: shown as they are.
    pub fn with_identities(mut self, imei: Option<&str>, imsi: Option<&str>, policy: Identity) -> Self {
        for (name, value) in [("<imei>", imei), ("<imsi>", imsi)] {
            if let Some(v) = value.filter(|v| v.len() >= 6) {
                self.snapshots = self.snapshots.naming(name, v);
            }
        }
        if policy == Identity::Keep {
            return self;
        }
        let hide =
            |v: &str, keep: usize| format!("{}{}", &v[..keep.min(v.len())], "*".repeat(v.len().saturating_sub(keep)));
        if let Some(i) = imei.filter(|i| i.len() >= 8 && i.is_ascii()) {
            self.identities.push((i.to_string(), hide(i, 8)));
        }
        if let Some(i) = imsi.filter(|i| i.len() >= 6 && i.is_ascii()) {
            self.identities.push((i.to_string(), hide(i, 5)));
        }
        self
    }

    /// Secrets as `<secret:name>`, identities masked; a text cut short by `crate::cap` that ends
    /// in the beginning of one is hidden as well.
    pub fn text(&self, s: &str) -> String {
        let s = self.secrets.text(s);
        let s = self.identities.iter().fold(s, |acc, (v, m)| acc.replace(v.as_str(), m));
        if !s.contains("… (") {
            return s;
        }
        let secrets = self.secrets.pairs().map(|(stand_in, v)| (v, stand_in.to_string()));
        let identities = self.identities.iter().map(|(v, m)| (v.as_bytes(), m.clone()));
        let values: Vec<(&[u8], String)> = secrets.chain(identities).collect();
        crate::transcript::hide_cut_prefixes(&s, &values)
    }

    /// A raw packet with its shape kept: every secret byte and every masked identity digit
    /// overwritten, nothing moved.
    pub fn packet(&self, input: &[u8]) -> Vec<u8> {
        let mut out = self.secrets.mask(input);
        for (value, masked) in &self.identities {
            let (v, m) = (value.as_bytes(), masked.as_bytes());
            let mut i = 0;
            while i + v.len() <= out.len() {
                if out[i..].starts_with(v) {
                    out[i..i + v.len()].copy_from_slice(m);
                    i += v.len();
                } else {
                    i += 1;
                }
            }
        }
        out
    }

    /// For golden snapshots: the secrets redacted and the identities named (`<imei>`, `<imsi>`),
    /// so a snapshot is the same for every modem of a model and holds no identity.
    pub fn redactor(&self) -> &Redactor {
        &self.snapshots
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn privacy(policy: Identity) -> Privacy {
        Privacy::new(&BTreeMap::from([("psk".to_string(), "FhyvhmgIRQrde4In".to_string())])).with_identities(
            Some("869975030000461"),
            Some("1064826326459"),
            policy,
        )
    }

    #[test]
    fn identities_are_masked_but_the_model_is_kept() {
        let p = privacy(Identity::Mask);
        assert_eq!(p.text("ep=869975030000461;1064826326459"), "ep=86997503*******;10648********");
        assert_eq!(p.text("psk FhyvhmgIRQrde4In"), "psk <secret:psk>");
    }

    #[test]
    fn a_value_cut_in_part_by_a_cap_is_hidden_too() {
        let p = privacy(Identity::Mask);
        assert_eq!(p.text("got `+X: FhyvhmgIRQ… (900 more bytes)`"), "got `+X: <secret:psk>… (900 more bytes)`");
        assert_eq!(p.text("ep=8699750300… (9 more bytes)"), "ep=86997503*******… (9 more bytes)");
        assert_eq!(p.text("ok… (3 more bytes)"), "ok… (3 more bytes)", "nothing hidden ends there");
    }

    #[test]
    fn a_packet_keeps_its_length() {
        let p = privacy(Identity::Mask);
        let raw = b"\x40\x02ep=869975030000461;1064826326459&psk=FhyvhmgIRQrde4In";
        let masked = p.packet(raw);
        assert_eq!(masked.len(), raw.len());
        assert_eq!(&masked[..], &b"\x40\x02ep=86997503*******;10648********&psk=****************"[..]);
    }

    #[test]
    fn a_private_bench_keeps_identities_but_never_secrets() {
        let p = privacy(Identity::Keep);
        assert_eq!(p.text("ep=869975030000461 FhyvhmgIRQrde4In"), "ep=869975030000461 <secret:psk>");
    }

    #[test]
    fn short_or_missing_identities_mask_nothing() {
        let p = Privacy::new(&BTreeMap::new()).with_identities(Some("1234"), None, Identity::Mask);
        assert_eq!(p.text("1234"), "1234");
    }
}
