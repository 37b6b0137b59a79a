//! The manuals' own parameter syntax, read as a grammar: `<ref>,<msgId>,<result>[,<length>,
//! <valuestring>[,<raiMode>]]`. Command and URC tables are written in it, so each table entry reads
//! like the manual page it comes from, and arguments are bound to the manual's parameter names.

use crate::syntax::Arg;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Param(String),
    Optional(Vec<Item>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    text: String,
    items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad signature {text:?}: {why}")]
pub struct SignatureError {
    pub text: String,
    pub why: &'static str,
}

impl Signature {
    pub fn parse(text: &str) -> Result<Self, SignatureError> {
        let err = |why| SignatureError { text: text.to_string(), why };
        let mut stack: Vec<Vec<Item>> = vec![vec![]];
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '<' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('>') => break,
                            Some(ch) if ch.is_alphanumeric() || ch == '_' => name.push(ch),
                            Some(_) => return Err(err("a parameter name holds letters, digits and _")),
                            None => return Err(err("unclosed <")),
                        }
                    }
                    if name.is_empty() {
                        return Err(err("empty parameter name"));
                    }
                    stack.last_mut().unwrap().push(Item::Param(name));
                }
                '[' => stack.push(vec![]),
                ']' => {
                    let group = stack.pop().filter(|_| !stack.is_empty()).ok_or_else(|| err("unbalanced ]"))?;
                    stack.last_mut().unwrap().push(Item::Optional(group));
                }
                ',' | ' ' => {}
                _ => return Err(err("only <param>, [ ], commas and blanks are allowed")),
            }
        }
        if stack.len() != 1 {
            return Err(err("unclosed ["));
        }
        Ok(Signature { text: text.to_string(), items: stack.pop().unwrap() })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Every parameter name, in order.
    pub fn params(&self) -> Vec<&str> {
        fn walk<'a>(items: &'a [Item], out: &mut Vec<&'a str>) {
            for i in items {
                match i {
                    Item::Param(p) => out.push(p),
                    Item::Optional(g) => walk(g, out),
                }
            }
        }
        let mut out = vec![];
        walk(&self.items, &mut out);
        out
    }

    /// The counts of arguments this signature accepts, smallest first.
    pub fn arities(&self) -> Vec<usize> {
        fn counts(items: &[Item]) -> Vec<usize> {
            let mut acc = vec![0usize];
            for i in items {
                acc = match i {
                    Item::Param(_) => acc.iter().map(|n| n + 1).collect(),
                    Item::Optional(g) => {
                        let inner = counts(g);
                        let mut next: Vec<usize> = acc.clone();
                        for a in &acc {
                            next.extend(inner.iter().map(|b| a + b));
                        }
                        next
                    }
                };
            }
            acc.sort_unstable();
            acc.dedup();
            acc
        }
        counts(&self.items)
    }

    /// Binds arguments to parameter names; `None` when the count fits no form of the signature.
    pub fn bind(&self, args: &[Arg]) -> Option<Bound> {
        fn go(items: &[Item], n: usize) -> Option<Vec<String>> {
            let Some((first, rest)) = items.split_first() else {
                return (n == 0).then(Vec::new);
            };
            match first {
                Item::Param(p) => {
                    if n == 0 {
                        return None;
                    }
                    let mut v = go(rest, n - 1)?;
                    v.insert(0, p.clone());
                    Some(v)
                }
                Item::Optional(g) => {
                    // Prefer taking the optional group (greedy), as a parser of the manual would;
                    // `take == 0` is the group left out.
                    (0..=n).rev().find_map(|take| {
                        let (mut a, b) = (go(g, take).or_else(|| (take == 0).then(Vec::new))?, go(rest, n - take)?);
                        a.extend(b);
                        Some(a)
                    })
                }
            }
        }
        let names = go(&self.items, args.len())?;
        Some(Bound { pairs: names.into_iter().zip(args.iter().cloned()).collect() })
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Arguments bound to the manual's parameter names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    pub pairs: Vec<(String, Arg)>,
}

impl Bound {
    pub fn get(&self, name: &str) -> Option<&Arg> {
        self.pairs.iter().find(|(n, _)| n == name).map(|(_, a)| a)
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::split_args;

    #[test]
    fn nested_optional_groups() {
        let s = Signature::parse("<ref>,<msgId>,<result>[,<length>,<valuestring>[,<raiMode>]]").unwrap();
        assert_eq!(s.arities(), [3, 5, 6]);
        let b = s.bind(&split_args(r#"0,26384,1,19,"5850;5851;5706;5805""#)).unwrap();
        assert_eq!(b.get("valuestring").unwrap().value(), "5850;5851;5706;5805");
        assert!(!b.has("raiMode"));
        assert!(s.bind(&split_args("0,1")).is_none());
        assert!(s.bind(&split_args("0,1,1,2")).is_none());
    }

    #[test]
    fn optional_pair_in_the_middle() {
        let s = Signature::parse("<ref>,<evtid>[,<extend>[,<ackId>[,<time_stamp>,<cache_command_flag>]]]").unwrap();
        assert_eq!(s.arities(), [2, 3, 4, 6]);
        let b = s.bind(&split_args("0,26,255")).unwrap();
        assert_eq!(b.get("extend").unwrap().int(), Some(255));
    }

    #[test]
    fn lists_params_in_order() {
        let s = Signature::parse("<mode>,<parameter1>[,<parameter2>]").unwrap();
        assert_eq!(s.params(), ["mode", "parameter1", "parameter2"]);
    }

    #[test]
    fn rejects_bad_grammar() {
        for bad in ["<ref", "<ref>]", "[<ref>", "<>", "<a-b>", "ref"] {
            assert!(Signature::parse(bad).is_err(), "{bad}");
        }
    }
}
