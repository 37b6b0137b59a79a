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

/// The discover answer for `path` (LwM2M 1.0 §5.4.1 Discover): an object lists itself and each
/// instance's resources, an instance itself and its resources, a resource only itself — never
/// more than the path asks for. `resources` is the `<valuestring>` of `AT+MIPLDISCOVERRSP`
/// ("5850;5851;5706"). `None` when the path names an instance or resource there is none of.
pub fn discover(path: &Path, instances: &[u16], resources: &[u16]) -> Option<String> {
    let o = path.object;
    let parts: Vec<String> = match (path.instance, path.resource) {
        (None, _) => std::iter::once(format!("</{o}>"))
            .chain(instances.iter().flat_map(|i| resources.iter().map(move |r| format!("</{o}/{i}/{r}>"))))
            .collect(),
        (Some(i), None) if instances.contains(&i) => {
            std::iter::once(format!("</{o}/{i}>")).chain(resources.iter().map(|r| format!("</{o}/{i}/{r}>"))).collect()
        }
        (Some(i), Some(r)) if instances.contains(&i) && resources.contains(&r) => vec![format!("</{o}/{i}/{r}>")],
        _ => return None,
    };
    Some(parts.join(","))
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
    fn discover_answers_only_the_scope_the_path_asks_for() {
        let (inst, res) = ([0, 1], [5850, 5851]);
        assert_eq!(
            discover(&Path::instance(3311, 1), &inst, &res).as_deref(),
            Some("</3311/1>,</3311/1/5850>,</3311/1/5851>")
        );
        assert_eq!(discover(&Path::resource(3311, 1, 5851), &inst, &res).as_deref(), Some("</3311/1/5851>"));
        assert_eq!(discover(&Path::instance(3311, 2), &inst, &res), None);
        assert_eq!(discover(&Path::resource(3311, 0, 5700), &inst, &res), None);
    }

    #[test]
    fn discover_payload() {
        assert_eq!(
            discover(&Path::object(3311), &[0], &[5850, 5851]).as_deref(),
            Some("</3311>,</3311/0/5850>,</3311/0/5851>")
        );
    }

    #[test]
    fn not_link_format() {
        assert!(parse("hello").is_none());
        assert!(parse("<a,b").is_none());
        assert_eq!(parse("").unwrap(), vec![]);
    }
}
