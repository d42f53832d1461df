//! The user's side of `offrec chat`. On a terminal, rustyline reads lines in a thread of its
//! own (editing, history in memory only: chat lines are never written to disk), and the main
//! thread prints through rustyline's external printer, so an incoming message appears above
//! the line being typed and the half-typed text is redrawn intact below it. Without a terminal
//! (pipes, scripts, tests), plain lines are read from standard input.

use std::borrow::Cow;
use std::io::{self, IsTerminal};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

use nix::sys::termios::{self, SetArg, Termios};
use rustyline::completion::Completer;
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{ColorMode, Config, Editor, ExternalPrinter, Helper};

use crate::chat::{Input, SECRET_COMMANDS};
use crate::tcp;

/// The longest line read from a pipe.
const MAX_INPUT_LINE: usize = 64 * 1024;
/// Lines kept for Up/Down.
const HISTORY_LINES: usize = 500;

/// Whether the chat runs on a terminal (both ends: keys in, text out).
pub fn on_terminal() -> bool {
    io::stdin().is_terminal() && io::stdout().is_terminal()
}

/// Reads plain lines from standard input (not a terminal) into `tx`.
pub fn spawn_plain(tx: Sender<Input>) {
    std::thread::spawn(move || {
        let stdin = io::stdin();
        let mut lock = stdin.lock();
        loop {
            match tcp::read_line_limited(&mut lock, MAX_INPUT_LINE) {
                Ok(Some(Ok(line))) => {
                    if tx.send(Input::Line(line)).is_err() {
                        return;
                    }
                }
                Ok(Some(Err(why))) => {
                    let _ = tx.send(Input::Notice(format!("* your input was not used: {why}")));
                }
                Ok(None) | Err(_) => {
                    let _ = tx.send(Input::StdinClosed);
                    return;
                }
            }
        }
    });
}

/// The prompt the main thread sets and the editor shows, redrawn whenever the editor redraws
/// the line (after every printed message). rustyline measures the prompt once per line, so
/// every prompt the chat shows is padded to one width (`LineEditor::fit`).
struct LivePrompt(Arc<Mutex<String>>);

impl Highlighter for LivePrompt {
    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(&'s self, prompt: &'p str, default: bool) -> Cow<'b, str> {
        if !default {
            return Cow::Borrowed(prompt); // rustyline's own prompts (history search)
        }
        match self.0.lock() {
            // Only a prompt of the same width: a wider one would put the cursor in the wrong place.
            Ok(live) if live.chars().count() == prompt.chars().count() => Cow::Owned(live.clone()),
            _ => Cow::Borrowed(prompt),
        }
    }
}

impl Completer for LivePrompt {
    type Candidate = String;
}

impl Hinter for LivePrompt {
    type Hint = String;
}

impl Validator for LivePrompt {}

impl Helper for LivePrompt {}

/// The terminal side while the editor runs.
pub struct LineEditor {
    printer: Box<dyn ExternalPrinter + Send>,
    prompt: Arc<Mutex<String>>,
    width: usize,
    /// The terminal's mode before the editor started: put back on the way out, since the
    /// editor's thread may be in the middle of reading a line (raw mode) when the chat ends.
    saved: Option<Termios>,
}

impl LineEditor {
    /// Starts the editor's thread, which sends each line to `tx`. Every prompt is padded to
    /// `width` characters. `None` if the terminal cannot be set up (the caller reads plainly).
    pub fn start(tx: Sender<Input>, first_prompt: &str, width: usize) -> Option<Self> {
        let config = Config::builder()
            .max_history_size(HISTORY_LINES)
            .ok()?
            .history_ignore_dups(true)
            .ok()?
            .auto_add_history(false)
            .color_mode(ColorMode::Forced)
            .build();
        let mut editor: Editor<LivePrompt, DefaultHistory> = Editor::with_config(config).ok()?;
        let prompt = Arc::new(Mutex::new(pad(first_prompt, width)));
        editor.set_helper(Some(LivePrompt(Arc::clone(&prompt))));
        let printer = Box::new(editor.create_external_printer().ok()?);
        let saved = termios::tcgetattr(io::stdin()).ok();
        let shown = Arc::clone(&prompt);
        std::thread::spawn(move || loop {
            let prompt = shown.lock().map(|p| p.clone()).unwrap_or_default();
            let input = match editor.readline(&prompt) {
                Ok(line) => {
                    if worth_recalling(&line) {
                        let _ = editor.add_history_entry(line.as_str());
                    }
                    Input::Line(line)
                }
                Err(ReadlineError::Interrupted) => Input::Interrupted,
                Err(ReadlineError::Eof) => Input::StdinClosed,
                Err(e) => {
                    let _ = tx.send(Input::Notice(format!("* the terminal cannot be read: {e}")));
                    Input::StdinClosed
                }
            };
            let last = matches!(input, Input::StdinClosed | Input::Interrupted);
            if tx.send(input).is_err() || last {
                return;
            }
        });
        Some(LineEditor { printer, prompt, width, saved })
    }

    /// Prints `text` (one or more lines) above the line being typed.
    pub fn print(&mut self, text: &str) {
        let mut message = text.to_owned();
        message.push('\n');
        if self.printer.print(message).is_err() {
            println!("{text}");
        }
    }

    /// Sets the prompt; shown the next time the editor redraws (every printed line redraws).
    pub fn set_prompt(&mut self, text: &str) {
        if let Ok(mut prompt) = self.prompt.lock() {
            *prompt = pad(text, self.width);
        }
    }
}

impl Drop for LineEditor {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            let _ = termios::tcsetattr(io::stdin(), SetArg::TCSANOW, saved);
            println!();
        }
    }
}

/// Whether Up may show `line` again: not a blank one, and never one that carries an SMP secret
/// (it would be shown on the screen again).
fn worth_recalling(line: &str) -> bool {
    let command = line.split_whitespace().next().unwrap_or("");
    !line.trim().is_empty() && !SECRET_COMMANDS.contains(&command)
}

/// `[state] peer> ` padded after the state to `width` characters, so that the text typed
/// starts in the same column whatever the state.
fn pad(prompt: &str, width: usize) -> String {
    let length = prompt.chars().count();
    if length >= width {
        return prompt.to_owned();
    }
    match prompt.find("] ") {
        Some(at) => format!("{}{}{}", &prompt[..at + 1], " ".repeat(width - length), &prompt[at + 1..]),
        None => format!("{prompt}{}", " ".repeat(width - length)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_not_recalled() {
        assert!(worth_recalling("hello") && worth_recalling("/start"));
        assert!(!worth_recalling("  ") && !worth_recalling("/smp secret question") && !worth_recalling("/answer x"));
    }

    #[test]
    fn prompts_pad_to_one_width() {
        assert_eq!(pad("[plaintext] bob> ", 20), "[plaintext]    bob> ");
        assert_eq!(pad("[encrypted-unverified] bob> ", 20), "[encrypted-unverified] bob> ");
        assert_eq!(pad("bob> ", 7), "bob>   ");
    }
}
