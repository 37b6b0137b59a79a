//! LwM2M paths: `/3311`, `/3311/0`, `/3311/0/5700`, `/3311/0/5700/1`.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path {
    pub object: u16,
    pub instance: Option<u16>,
    pub resource: Option<u16>,
    pub resource_instance: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a LwM2M path (/object[/instance[/resource[/resource-instance]]], each 0–65535)")]
pub struct PathError(pub String);

impl Path {
    pub fn object(object: u16) -> Self {
        Path { object, instance: None, resource: None, resource_instance: None }
    }

    pub fn instance(object: u16, instance: u16) -> Self {
        Path { instance: Some(instance), ..Self::object(object) }
    }

    pub fn resource(object: u16, instance: u16, resource: u16) -> Self {
        Path { resource: Some(resource), ..Self::instance(object, instance) }
    }

    /// The path a MIPL URC names, where `-1` means "all": `+MIPLREAD: 0,1,3311,-1,-1` is `/3311`.
    pub fn from_mipl(object: i64, instance: i64, resource: i64) -> Option<Self> {
        let id = |n: i64| u16::try_from(n).ok();
        let object = id(object)?;
        Some(match (instance, resource) {
            (-1, _) => Path::object(object),
            (i, -1) => Path::instance(object, id(i)?),
            (i, r) => Path::resource(object, id(i)?, id(r)?),
        })
    }

    /// The URI-Path segments of this path.
    pub fn segments(&self) -> Vec<String> {
        [Some(self.object), self.instance, self.resource, self.resource_instance]
            .into_iter()
            .map_while(|s| s)
            .map(|s| s.to_string())
            .collect()
    }

    /// The path from URI-Path segments.
    pub fn from_segments<S: AsRef<str>>(segments: &[S]) -> Result<Self, PathError> {
        let shown = || PathError(format!("/{}", segments.iter().map(|s| s.as_ref()).collect::<Vec<_>>().join("/")));
        let nums: Vec<u16> =
            segments.iter().map(|s| s.as_ref().parse::<u16>()).collect::<Result<_, _>>().map_err(|_| shown())?;
        match nums.as_slice() {
            [o] => Ok(Path::object(*o)),
            [o, i] => Ok(Path::instance(*o, *i)),
            [o, i, r] => Ok(Path::resource(*o, *i, *r)),
            [o, i, r, ri] => Ok(Path { resource_instance: Some(*ri), ..Path::resource(*o, *i, *r) }),
            _ => Err(shown()),
        }
    }

    /// Whether `other` lies within this path (`/3311` contains `/3311/0/5700`).
    pub fn contains(&self, other: &Path) -> bool {
        self.object == other.object
            && self.instance.is_none_or(|i| other.instance == Some(i))
            && self.resource.is_none_or(|r| other.resource == Some(r))
            && self.resource_instance.is_none_or(|ri| other.resource_instance == Some(ri))
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in self.segments() {
            write!(f, "/{s}")?;
        }
        Ok(())
    }
}

impl FromStr for Path {
    type Err = PathError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().trim_start_matches('/');
        if t.is_empty() {
            return Err(PathError(s.to_string()));
        }
        let segs: Vec<&str> = t.split('/').collect();
        Self::from_segments(&segs).map_err(|_| PathError(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("/3311", "/3311")]
    #[case("3311/0", "/3311/0")]
    #[case("/3311/0/5700", "/3311/0/5700")]
    #[case("/5/0/0/1", "/5/0/0/1")]
    fn round_trips(#[case] input: &str, #[case] shown: &str) {
        assert_eq!(input.parse::<Path>().unwrap().to_string(), shown);
    }

    #[rstest]
    #[case("")]
    #[case("/")]
    #[case("/x")]
    #[case("/70000")]
    #[case("/1/2/3/4/5")]
    #[case("/1//2")]
    fn rejects(#[case] input: &str) {
        assert!(input.parse::<Path>().is_err());
    }

    #[test]
    fn mipl_minus_one_means_all() {
        assert_eq!(Path::from_mipl(3311, -1, -1), Some(Path::object(3311)));
        assert_eq!(Path::from_mipl(3311, 0, -1), Some(Path::instance(3311, 0)));
        assert_eq!(Path::from_mipl(3311, 0, 5805), Some(Path::resource(3311, 0, 5805)));
        assert_eq!(Path::from_mipl(3311, -2, 1), None);
    }

    #[test]
    fn containment() {
        assert!(Path::object(3311).contains(&Path::resource(3311, 0, 5700)));
        assert!(!Path::instance(3311, 1).contains(&Path::resource(3311, 0, 5700)));
    }
}
