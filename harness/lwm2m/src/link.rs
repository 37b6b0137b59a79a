//! CoRE link format (RFC 6690) as LwM2M registration and discover use it:
//! `</>;rt="oma.lwm2m",</3311/0>,</3311/1>` and `</3311>,</3311/0/5850>,…`.

use crate::path::Path;

/// One link: a path and its attributes in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub target: String,
    pub attributes: Vec<(String, Option<String>)>,
}

impl Link {
    pub fn path(&self) -> Option<Path> {
        self.target.parse().ok()
    }
}

/// The registration payload OneNET expects: the root with `rt="oma.lwm2m"`, then every object
/// instance (BC39 §3.2.5: the bitmap says which instances are registered).
pub fn registration(instances: &[Path]) -> String {
    let mut parts = vec!["</>;rt=\"oma.lwm2m\"".to_string()];
    parts.extend(instances.iter().map(|p| format!("<{p}>")));
    parts.join(",")
}

/// The discover answer for an object: the object, then each resource (`<valuestring>` of
/// `AT+MIPLDISCOVERRSP`, "5850;5851;5706").
pub fn discover(object: u16, instances: &[u16], resources: &[u16]) -> String {
    let mut parts = vec![format!("</{object}>")];
    for i in instances {
        for r in resources {
            parts.push(format!("</{object}/{i}/{r}>"));
        }
    }
    parts.join(",")
}

/// Reads a link-format payload; `None` when it is not one.
pub fn parse(text: &str) -> Option<Vec<Link>> {
    let mut out = Vec::new();
    for item in split_outside_quotes(text, ',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let mut parts = split_outside_quotes(item, ';').into_iter();
        let target = parts.next()?.trim();
        let target = target.strip_prefix('<')?.strip_suffix('>')?.to_string();
        let attributes = parts
            .map(|a| match a.split_once('=') {
                Some((k, v)) => (k.trim().to_string(), Some(v.trim().trim_matches('"').to_string())),
                None => (a.trim().to_string(), None),
            })
            .collect();
        out.push(Link { target, attributes });
    }
    Some(out)
}

fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            out.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    out.push(&s[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_payload_from_the_bitmap() {
        let p = registration(&[Path::instance(3311, 0), Path::instance(3311, 1)]);
        assert_eq!(p, "</>;rt=\"oma.lwm2m\",</3311/0>,</3311/1>");
        let links = parse(&p).unwrap();
        assert_eq!(links[0].attributes, [("rt".to_string(), Some("oma.lwm2m".to_string()))]);
        assert_eq!(links[2].path(), Some(Path::instance(3311, 1)));
    }

    #[test]
    fn discover_payload() {
        assert_eq!(discover(3311, &[0], &[5850, 5851]), "</3311>,</3311/0/5850>,</3311/0/5851>");
    }

    #[test]
    fn not_link_format() {
        assert!(parse("hello").is_none());
        assert!(parse("<a,b").is_none());
        assert_eq!(parse("").unwrap(), vec![]);
    }
}
