//! Tab completion: the first word of a command completes to a verb, later words to the names of
//! services, functions or triggers below the path typed so far (`cd de<Tab>`, `info /services/demo/functions/he<Tab>`).
//! Names come from the server through the session's short-lived cache, so a Tab costs at most one
//! list request every few seconds.

use std::rc::Rc;

use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

use super::Session;

pub struct ShellHelper {
    session: Rc<Session>,
    verbs: Vec<String>,
}

impl ShellHelper {
    pub fn new(session: Rc<Session>) -> ShellHelper {
        ShellHelper { session, verbs: super::verbs::names() }
    }

    /// Candidates for the word `before[start..]`, given everything typed before it.
    fn candidates(&self, before: &str, start: usize) -> Vec<Pair> {
        let word = &before[start..];
        let earlier = before[..start].trim_end();
        if earlier.is_empty() || earlier.ends_with(';') {
            return self
                .verbs
                .iter()
                .filter(|v| v.starts_with(word))
                .map(|v| Pair { display: v.clone(), replacement: format!("{v} ") })
                .collect();
        }
        if word.starts_with('-') {
            return Vec::new();
        }
        let (dir, partial) = match word.rfind('/') {
            Some(i) => (&word[..=i], &word[i + 1..]),
            None => ("", word),
        };
        let Ok(parent) = self.session.cwd().resolve(if dir.is_empty() { "." } else { dir }) else {
            return Vec::new();
        };
        self.session
            .child_names(&parent)
            .into_iter()
            .filter(|name| name.starts_with(partial))
            .map(|name| Pair { replacement: format!("{dir}{name}"), display: name })
            .collect()
    }
}

impl Completer for ShellHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let start = before
            .char_indices()
            .rev()
            .find(|(_, c)| c.is_whitespace() || *c == ';')
            .map_or(0, |(i, c)| i + c.len_utf8());
        Ok((start, self.candidates(before, start)))
    }
}

impl Hinter for ShellHelper {
    type Hint = String;
}

impl Highlighter for ShellHelper {}

impl Validator for ShellHelper {}

impl Helper for ShellHelper {}
