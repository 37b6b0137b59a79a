//! What a case's AT lines show, read against a dialect's tables: the command forms the TE sent,
//! the URCs, `+MIPLEVENT` codes, `<result>` codes of the *RSP commands and `+CME`/`+CIS` error
//! codes the modem answered with, each as the label its table item goes by, or marked as not in
//! the manual. The 3GPP basics (`AT+CMEE`, `+CSCON`) are neither: they are not the manual's.

use super::lines::Line;
use super::Category;
use miplcheck_at::dialect::{CommandSpec, Dialect, ErrorFamily};
use miplcheck_at::syntax::{Command, Form, Response};
use miplcheck_at::FinalResult;
use miplcheck_record::{Class, Dir};

/// One thing a line showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    pub category: Category,
    /// The label of the table item it covers: `AT+MIPLCONFIG?`, `+MIPLREAD`, `6`, `+CME ERROR: 50`.
    pub label: String,
    /// Why it is not in the manual; none when the manual lists it.
    pub unlisted: Option<String>,
}

impl Sighting {
    fn listed(category: Category, label: impl Into<String>) -> Self {
        Sighting { category, label: label.into(), unlisted: None }
    }

    fn unlisted(category: Category, label: impl Into<String>, why: impl Into<String>) -> Self {
        Sighting { category, label: label.into(), unlisted: Some(why.into()) }
    }
}

/// A command form as the TE writes it: `AT+X=?`, `AT+X?`, `AT+X=…`, `AT+X`.
pub fn form_label(name: &str, form: Form) -> String {
    match form {
        Form::Test => format!("AT{name}=?"),
        Form::Query => format!("AT{name}?"),
        Form::Set => format!("AT{name}=…"),
        Form::Exec => format!("AT{name}"),
    }
}

/// An error code as the dialect's family prints it.
pub fn error_label(family: ErrorFamily, code: u16) -> String {
    family.label(code)
}

/// Everything `lines` show, in order, repeats included.
pub fn sightings(d: &Dialect, lines: &[Line]) -> Vec<Sighting> {
    let mut out = Vec::new();
    // The command in flight: a `+NAME:` line carrying its name is its information response, even
    // when the dialect also has a URC of that name.
    let mut in_flight: Option<String> = None;
    for line in lines {
        match line.dir {
            Dir::TeToUe => {
                let Ok(cmd) = Command::parse(&line.text) else { continue };
                command(d, &cmd, &mut out);
                in_flight = Some(cmd.name);
            }
            Dir::UeToTe if line.class != Some(Class::Echo) => {
                answer(d, line, in_flight.as_deref(), &mut out);
            }
            _ => {}
        }
    }
    out
}

fn manual_command(d: &Dialect, name: &str) -> Option<&'static CommandSpec> {
    d.commands.iter().find(|c| c.name.eq_ignore_ascii_case(name))
}

fn command(d: &Dialect, cmd: &Command, out: &mut Vec<Sighting>) {
    let Some(spec) = manual_command(d, &cmd.name) else {
        if d.command(&cmd.name).is_none() {
            out.push(Sighting::unlisted(
                Category::Command,
                form_label(&cmd.name, cmd.form),
                "not a command of the manual",
            ));
        }
        return;
    };
    let label = form_label(spec.name, cmd.form);
    if !spec.forms.contains(&cmd.form) {
        out.push(Sighting::unlisted(
            Category::Command,
            label,
            format!("{} has no {} form in {}", spec.name, cmd.form, spec.section),
        ));
        return;
    }
    out.push(Sighting::listed(Category::Command, label));
    if cmd.form == Form::Set && spec.name.ends_with("RSP") {
        result_code(d, spec, cmd, out);
    }
}

/// The `<result>` argument, found by its name in the set signature. Its position is read directly
/// rather than through a full bind, so a line with the wrong number of arguments still counts.
fn result_code(d: &Dialect, spec: &CommandSpec, cmd: &Command, out: &mut Vec<Sighting>) {
    let Some(sig) = spec.set.and_then(|s| miplcheck_at::signature::Signature::parse(s).ok()) else { return };
    let Some(pos) = sig.params().iter().position(|p| *p == "result") else { return };
    let Some(code) = cmd.args.get(pos).and_then(|a| a.int()) else { return };
    let label = code.to_string();
    match u16::try_from(code).ok().filter(|c| d.result_codes.iter().any(|r| r.code == *c)) {
        Some(_) => out.push(Sighting::listed(Category::ResultCode, label)),
        None => out.push(Sighting::unlisted(
            Category::ResultCode,
            label,
            format!("not a <result> of the manual (sent with AT{})", spec.name),
        )),
    }
}

fn answer(d: &Dialect, line: &Line, in_flight: Option<&str>, out: &mut Vec<Sighting>) {
    if let Some(fin) = FinalResult::parse(&line.text) {
        let Some((family, code)) = ErrorFamily::of(&fin) else { return };
        let label = error_label(family, code);
        if family != d.error_family {
            out.push(Sighting::unlisted(Category::ErrorCode, label, "the manual reports errors in the other family"));
        } else if d.error(code).is_some() {
            out.push(Sighting::listed(Category::ErrorCode, label));
        } else {
            out.push(Sighting::unlisted(Category::ErrorCode, label, "not an error code of the manual"));
        }
        return;
    }
    let Some(resp) = Response::parse(&line.text) else { return };
    // A line named like the command in flight is its answer, unless the classifier, which saw
    // when it came, called it a URC (`+MIPLNMI:0` after `AT+MIPLNMI=0,1,0`).
    if line.class != Some(Class::Urc) && in_flight.is_some_and(|c| c.eq_ignore_ascii_case(&resp.name)) {
        return;
    }
    let Some(spec) = d.urcs.iter().find(|u| u.name.eq_ignore_ascii_case(&resp.name)) else {
        // Information responses are `+NAME:` lines too; only what the classifier called a URC
        // is a URC the manual lacks.
        if line.class == Some(Class::Urc) && d.urc(&resp.name).is_none() {
            out.push(Sighting::unlisted(Category::Urc, resp.name, "not a URC of the manual"));
        }
        return;
    };
    out.push(Sighting::listed(Category::Urc, spec.name));
    if spec.name != "+MIPLEVENT" {
        return;
    }
    let evtid = d.read_urc(&line.text).ok().and_then(|u| u.bound.get("evtid").and_then(|a| a.int()));
    let Some(code) = evtid.or_else(|| resp.args.get(1).and_then(|a| a.int())) else { return };
    let label = code.to_string();
    match u16::try_from(code).ok().and_then(|c| d.event(c)) {
        Some(_) => out.push(Sighting::listed(Category::Event, label)),
        None => out.push(Sighting::unlisted(Category::Event, label, "not an event code of the manual")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use miplcheck_at::dialect::{BC39, M5310A};
    use rstest::rstest;

    fn seen(d: &Dialect, lines: &[Line]) -> Vec<(Category, String, bool)> {
        sightings(d, lines).into_iter().map(|s| (s.category, s.label, s.unlisted.is_some())).collect()
    }

    fn te(text: &str) -> Line {
        Line::new(Dir::TeToUe, None, text)
    }

    fn ue(class: &str, text: &str) -> Line {
        Line::new(Dir::UeToTe, Class::from_name(class), text)
    }

    #[rstest]
    #[case::test_form("AT+MIPLCONFIG=?", Category::Command, "AT+MIPLCONFIG=?", false)]
    #[case::query("AT+MIPLCONFIG?", Category::Command, "AT+MIPLCONFIG?", false)]
    #[case::set("AT+MIPLCONFIG=2,1,9", Category::Command, "AT+MIPLCONFIG=…", false)]
    #[case::execute("AT+MIPLCREATE", Category::Command, "AT+MIPLCREATE", false)]
    #[case::lower_case("at+miplver?", Category::Command, "AT+MIPLVER?", false)]
    #[case::form_not_listed("AT+MIPLCREATE=?", Category::Command, "AT+MIPLCREATE=?", true)]
    #[case::unknown("AT+MIPLNOPE=1", Category::Command, "AT+MIPLNOPE=…", true)]
    fn commands_sent(#[case] line: &str, #[case] cat: Category, #[case] label: &str, #[case] unlisted: bool) {
        assert_eq!(seen(&BC39, &[te(line)]), [(cat, label.to_string(), unlisted)]);
    }

    #[rstest]
    #[case::listed("AT+MIPLWRITERSP=0,{a#1},2", "2", false)]
    #[case::refusal("AT+MIPLEXECUTERSP=0,7,12", "12", false)]
    #[case::not_a_result("AT+MIPLWRITERSP=0,7,99", "99", true)]
    #[case::too_few_arguments("AT+MIPLREADRSP=0,7,11,3311", "11", false)]
    fn result_codes_of_the_rsp_commands(#[case] line: &str, #[case] code: &str, #[case] unlisted: bool) {
        let got = seen(&BC39, &[te(line)]);
        assert_eq!(got[1..], [(Category::ResultCode, code.to_string(), unlisted)], "{got:?}");
    }

    #[rstest]
    #[case::placeholder("AT+MIPLWRITERSP=0,1,{r#1}")]
    #[case::no_result("AT+MIPLWRITERSP=0")]
    #[case::not_an_rsp("AT+QSOTARESULT=3")]
    fn no_result_code(#[case] line: &str) {
        assert!(seen(&BC39, &[te(line)]).iter().all(|s| s.0 != Category::ResultCode));
    }

    #[rstest]
    #[case::event("+MIPLEVENT: 0,6", &[(Category::Urc, "+MIPLEVENT", false), (Category::Event, "6", false)])]
    #[case::tight("+MIPLEVENT:0,26,255", &[(Category::Urc, "+MIPLEVENT", false), (Category::Event, "26", false)])]
    #[case::unknown_event("+MIPLEVENT: 0,99", &[(Category::Urc, "+MIPLEVENT", false), (Category::Event, "99", true)])]
    #[case::wrong_arity_still_counts(
        "+MIPLEVENT: 0,6,1,2,3,4,5",
        &[(Category::Urc, "+MIPLEVENT", false), (Category::Event, "6", false)]
    )]
    #[case::garbled_event("+MIPLEVENT: 0,x", &[(Category::Urc, "+MIPLEVENT", false)])]
    #[case::request("+MIPLREAD: 0,1,3311,0,5700", &[(Category::Urc, "+MIPLREAD", false)])]
    #[case::basic_urc("+CSCON:1", &[])]
    #[case::unknown_urc("+MIPLFOO: 1", &[(Category::Urc, "+MIPLFOO", true)])]
    fn urcs(#[case] line: &str, #[case] want: &[(Category, &str, bool)]) {
        let want: Vec<_> = want.iter().map(|(c, l, u)| (*c, l.to_string(), *u)).collect();
        assert_eq!(seen(&BC39, &[ue("urc", line)]), want);
    }

    #[rstest]
    #[case::cme("+CME ERROR: 50", &BC39, "+CME ERROR: 50", false)]
    #[case::cme_unknown("+CME ERROR: 999", &BC39, "+CME ERROR: 999", true)]
    #[case::cis("+CIS ERROR:601", &M5310A, "+CIS ERROR: 601", false)]
    #[case::other_family("+CIS ERROR: 601", &BC39, "+CIS ERROR: 601", true)]
    fn error_codes(#[case] line: &str, #[case] d: &Dialect, #[case] label: &str, #[case] unlisted: bool) {
        assert_eq!(seen(d, &[ue("final", line)]), [(Category::ErrorCode, label.to_string(), unlisted)]);
    }

    #[test]
    fn basics_echoes_and_information_responses_are_not_sightings() {
        let lines = [
            te("AT+CMEE=1"),
            ue("echo", "AT+MIPLCREATE"),
            ue("final", "OK"),
            ue("final", "ERROR"),
            te("AT+MIPLCONFIG?"),
            ue("info", "+MIPLCONFIG:1,183.230.40.39,5683"),
            te("not a command"),
            Line::new(Dir::UeToPf, Some(Class::Coap), "CON POST /rd"),
        ];
        assert_eq!(seen(&BC39, &lines), [(Category::Command, "AT+MIPLCONFIG?".to_string(), false)]);
    }

    #[test]
    fn a_line_named_like_the_command_in_flight_is_its_information_response() {
        let lines =
            [te("AT+MIPLEVENT?"), ue("info", "+MIPLEVENT: 0,6"), te("AT+MIPLVER?"), ue("urc", "+MIPLEVENT: 0,6")];
        let got = seen(&BC39, &lines);
        let labels: Vec<&str> = got.iter().map(|s| s.1.as_str()).collect();
        assert_eq!(labels, ["AT+MIPLEVENT?", "AT+MIPLVER?", "+MIPLEVENT", "6"], "{got:?}");
    }
}
