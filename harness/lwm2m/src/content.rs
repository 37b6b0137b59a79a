//! The CoAP content formats OneNET's LwM2M uses.

/// Content-Format option values (RFC 7252 §12.3, OMA LwM2M 1.0 §6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentFormat {
    /// 0: one resource as text.
    Text,
    /// 40: CoRE link format (registration, discover).
    Link,
    /// 42: one opaque resource.
    Opaque,
    /// 11542: OMA TLV as LwM2M 1.0 registered it (Wakaama `LWM2M_CONTENT_TLV`).
    Tlv,
    /// 1542: OMA TLV under its pre-registration number (Wakaama `LWM2M_CONTENT_TLV_OLD`), still
    /// sent by stacks forked before LwM2M 1.0 was published.
    TlvOld,
    Other(u16),
}

impl ContentFormat {
    pub fn from_number(n: u16) -> Self {
        match n {
            0 => Self::Text,
            40 => Self::Link,
            42 => Self::Opaque,
            11542 => Self::Tlv,
            1542 => Self::TlvOld,
            other => Self::Other(other),
        }
    }

    pub fn number(self) -> u16 {
        match self {
            Self::Text => 0,
            Self::Link => 40,
            Self::Opaque => 42,
            Self::Tlv => 11542,
            Self::TlvOld => 1542,
            Self::Other(n) => n,
        }
    }

    pub fn is_tlv(self) -> bool {
        matches!(self, Self::Tlv | Self::TlvOld)
    }

    /// How transcripts name it.
    pub fn name(self) -> String {
        match self {
            Self::Text => "text/plain".into(),
            Self::Link => "link-format".into(),
            Self::Opaque => "opaque".into(),
            Self::Tlv => "tlv".into(),
            // The number in the name, so a reader of Wakaama's "Unknown (1542)" finds it.
            Self::TlvOld => "tlv-old(1542)".into(),
            Self::Other(n) => format!("cf {n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for n in [0, 40, 42, 1542, 11542, 50] {
            assert_eq!(ContentFormat::from_number(n).number(), n);
        }
        assert!(ContentFormat::from_number(11542).is_tlv());
        assert!(ContentFormat::from_number(1542).is_tlv());
    }

    #[test]
    fn lwm2m_1_0_registers_tlv_as_11542_and_1542_is_the_old_number() {
        assert_eq!(ContentFormat::from_number(11542), ContentFormat::Tlv);
        assert_eq!(ContentFormat::Tlv.name(), "tlv");
        assert_eq!(ContentFormat::from_number(1542), ContentFormat::TlvOld);
        assert_eq!(ContentFormat::TlvOld.name(), "tlv-old(1542)");
    }
}
