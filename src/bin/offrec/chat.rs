//! `offrec chat`: a line-oriented terminal chat with one peer over TCP or IRC.
//!
//! Threads: one reads the user's lines (line_editor.rs), one reads the network; both feed one
//! channel that the main thread drains, so the client (which does no I/O) is only ever touched
//! by the main thread. The channel wait times out every half second to drive `Client::tick`.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use offrec::conversation::{Action, Client, ClientError, Event, Policy, SessionInfo, SessionState, Settings};
use offrec::store::{FileStore, StoreKey};
use offrec::trust::{format_fingerprint, format_ssid, Trust};
use zeroize::Zeroizing;

use crate::args::{usage_error, ChatArgs, PolicyChoice};
use crate::identity::trust_words;
use crate::keys::{self, Purpose};
use crate::line_editor::{self, LineEditor};
use crate::parse::printable;
use crate::quoting::{first_word, rest_argument};
use crate::sent_messages::SentMessages;
use crate::terminal::{event_words, security_name, state_name, state_words, Screen};
use crate::wire_log::{Direction, WireLog};
use crate::{irc, tcp, CliError, CliResult};

/// The chat's commands, one line each, as /help shows them.
const HELP: &[(&str, &str)] = &[
    ("/start", "start (or refresh) an encrypted session"),
    ("/end", "end the encrypted session (back to plaintext)"),
    ("/fp", "fingerprints and session id, to compare elsewhere"),
    ("/trust", "mark the peer's key verified (after comparing /fp)"),
    ("/distrust", "mark the peer's key unverified again"),
    ("/accept", "use the peer's new, unverified key anyway"),
    ("/smp SECRET [QUESTION]", "verify the peer by a secret you share (see below)"),
    ("/answer SECRET", "answer the peer's SMP request (rest of the line)"),
    ("/abort", "abort an SMP run"),
    ("/state", "show the sessions with the peer"),
    ("/wire [on [FILE]|off]", "log every wire message to FILE, or pause the log"),
    ("/help", "this list"),
    ("/quit", "save and leave (Ctrl-D too)"),
    ("//text", "send a line that starts with /"),
];

/// The commands whose line carries a secret (the line editor does not keep them for Up).
pub const SECRET_COMMANDS: [&str; 2] = ["/smp", "/answer"];

/// How SMP's arguments are written, after the list.
const SMP_HELP: &str = "\
Quote a secret with spaces: /smp \"our dog\" what is its name? (the question is the
rest of the line, or one quoted text). With a question only YOU, the asker, learn
the result; the peer who answers must ask its own question to verify you.";

/// The commands, one per line, aligned.
fn help_lines() -> String {
    let width = HELP.iter().map(|(command, _)| command.len()).max().unwrap_or(0);
    HELP.iter().map(|(command, what)| format!("  {command:<width$}  {what}")).collect::<Vec<_>>().join("\n")
}

/// The end of `offrec chat --help`: the commands, as /help lists them.
pub fn long_help() -> String {
    format!(
        "Commands in the chat (as /help lists them):\n{}\n{SMP_HELP}\n\n\
         Exit status: 0 success, 1 failure at run time, 2 usage error or malformed input.",
        help_lines()
    )
}

/// What the main loop waits for.
pub enum Input {
    /// A line typed by the user.
    Line(String),
    /// Standard input ended (Ctrl-D on the terminal).
    StdinClosed,
    /// Ctrl-C on the line editor's terminal.
    Interrupted,
    /// A wire message from the peer.
    Net(String),
    /// The transport is gone: why, and whether it failed (rather than was closed cleanly).
    NetClosed(String, bool),
    /// Something the transport wants to tell the user.
    Notice(String),
}

/// A way to send one wire message to the peer.
pub trait Transport {
    /// Sends one wire message.
    fn send(&mut self, text: &str) -> io::Result<()>;
    /// Says goodbye, if the protocol has a way to.
    fn close(&mut self) {}
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Ctrl-C, SIGTERM and SIGHUP only raise a flag; the chat loop saves the store and leaves.
/// (The `ctrlc` crate owns the signal handler, so this crate has no `unsafe` outside the FFI.)
fn catch_signals() {
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn policy_of(choice: PolicyChoice) -> Policy {
    match choice {
        PolicyChoice::Never => Policy::NEVER,
        PolicyChoice::Manual => Policy::MANUAL,
        PolicyChoice::Opportunistic => Policy::OPPORTUNISTIC,
        PolicyChoice::Always => Policy::ALWAYS,
    }
}

/// The prompt: the conversation's state and the peer.
fn prompt_text(state: SessionState, peer: &str) -> String {
    format!("[{}] {peer}> ", state_name(state))
}

/// The widest prompt any state gives (the line editor pads every prompt to it).
fn widest_prompt(peer: &str) -> usize {
    [
        SessionState::Plaintext,
        SessionState::EncryptedUnverified,
        SessionState::EncryptedVerified,
        SessionState::Finished,
    ]
    .into_iter()
    .map(|state| prompt_text(state, peer).chars().count())
    .max()
    .unwrap_or(0)
}

/// Runs `offrec chat`.
pub fn run(args: ChatArgs) -> CliResult {
    if args.irc.is_none() && (args.nick.is_some() || args.channel_less) {
        return Err(usage_error(&["chat"], "--nick and --channel-less are for --irc"));
    }
    let dir = args.store.as_str();
    let peer = args.peer.clone();
    let policy = policy_of(args.policy);
    let max_size = args.max_message_size;
    let key = keys::store_key(&args.secret, dir, Purpose::Open)?;
    let (store, mut client) = keys::load(dir, &key, Settings { policy, ..Settings::default() })?;
    if peer == client.account() {
        return Err(CliError::input(format!("--peer {peer} is this store's own account: name the other person")));
    }
    let wire = match &args.log_wire {
        Some(path) => WireLog::open(path).map_err(|e| {
            CliError::fail(format!(
                "cannot write the wire log {}: {e} (check the directory and permissions)",
                path.display()
            ))
        })?,
        None => WireLog::default(),
    };

    let (tx, rx) = mpsc::channel();
    let terminal = line_editor::on_terminal();
    if !terminal {
        // Lines piped in before the connection is up wait in the channel.
        line_editor::spawn_plain(tx.clone());
    }
    let transport: Box<dyn Transport> = if let Some(addr) = &args.tcp_listen {
        Box::new(tcp::listen(addr, &peer, tx.clone())?)
    } else if let Some(addr) = &args.tcp_connect {
        Box::new(tcp::connect(addr, tx.clone())?)
    } else {
        let addr = args.irc.as_deref().unwrap_or_default();
        let nick = args.nick.clone().unwrap_or_else(|| client.account().to_owned());
        if !nick.eq_ignore_ascii_case(client.account()) {
            println!(
                "* note: your nick {nick} differs from the store's account {}: the peer must use --peer {} for the handshake to succeed",
                client.account(),
                client.account()
            );
        }
        let limit = irc::max_message_size(&nick, &peer);
        let size = match max_size {
            Some(n) if n > 0 && n <= limit => n,
            Some(n) => {
                println!("* --max-message-size {n} does not fit IRC lines; using {limit}");
                limit
            }
            None => limit,
        };
        client.set_max_message_size(&peer, size).map_err(|e| CliError::input(format!("--peer: {e}")))?;
        Box::new(irc::connect(addr, &nick, &peer, tx.clone())?)
    };
    if let (Some(n), None) = (max_size, &args.irc) {
        client.set_max_message_size(&peer, n).map_err(|e| CliError::input(format!("--peer: {e}")))?;
    }
    catch_signals();
    // The start-up lines are printed before the line editor starts: printed through it, they
    // could land after its first prompt with no prompt drawn under them (a race between its
    // thread drawing the prompt and our external print).
    let mut greeting = Screen::new();
    if let Some(path) = wire.active() {
        greeting.line(&format!("* every wire message in and out is logged to {} (/wire off pauses)", path.display()));
    }
    greeting.line(&format!("* chatting with {peer} (type /help for the commands)"));
    let first_prompt = prompt_text(client.session_state(&peer), &peer);
    let screen = if terminal {
        match LineEditor::start(tx.clone(), &first_prompt, widest_prompt(&peer)) {
            Some(editor) => Screen::with_editor(editor),
            None => {
                line_editor::spawn_plain(tx);
                Screen::new()
            }
        }
    } else {
        drop(tx);
        Screen::new()
    };
    let mut chat = Chat {
        client,
        store,
        key,
        dir: dir.to_owned(),
        peer,
        transport,
        screen,
        wire,
        sent: SentMessages::default(),
        quit: false,
        failed: false,
        save_failed: false,
    };
    chat.main_loop(&rx);
    chat.transport.close();
    chat.save();
    if chat.failed {
        return Err(CliError::fail(
            "the connection is gone; your sessions are saved: run the same command again to reconnect",
        ));
    }
    Ok(())
}

struct Chat {
    client: Client,
    store: FileStore,
    key: StoreKey,
    dir: String,
    peer: String,
    transport: Box<dyn Transport>,
    screen: Screen,
    wire: WireLog,
    sent: SentMessages,
    quit: bool,
    failed: bool,
    /// The last save failed: `PersistNeeded` is reported once until saved, so no new notice
    /// comes for the same changes; the next call's actions retry it.
    save_failed: bool,
}

impl Chat {
    fn main_loop(&mut self, rx: &mpsc::Receiver<Input>) {
        let mut last_tick = Instant::now();
        self.prompt();
        while !self.quit {
            if INTERRUPTED.load(Ordering::SeqCst) {
                self.say("* interrupted: saving and leaving");
                break;
            }
            match rx.recv_timeout(Duration::from_millis(500)) {
                Ok(Input::Line(line)) => {
                    self.screen.input_done();
                    self.command(&line);
                }
                Ok(Input::StdinClosed) => {
                    self.screen.input_done();
                    break;
                }
                Ok(Input::Interrupted) => {
                    self.say("* interrupted: saving and leaving");
                    break;
                }
                Ok(Input::Net(text)) => {
                    self.log_wire(Direction::In, &text);
                    let actions = self.client.receive(&self.peer, &text, now());
                    self.perform(actions);
                }
                Ok(Input::NetClosed(why, failed)) => {
                    self.say(&format!("* {why}; your sessions are saved: run the same command again to reconnect"));
                    self.failed = failed;
                    break;
                }
                Ok(Input::Notice(text)) => self.say(&text),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if last_tick.elapsed() >= Duration::from_secs(1) {
                last_tick = Instant::now();
                let actions = self.client.tick(now());
                if !actions.is_empty() {
                    self.perform(actions);
                }
            }
            if !self.quit {
                self.prompt();
            }
        }
    }

    fn say(&mut self, text: &str) {
        // The line editor redraws its prompt under every printed line: give it the state now.
        let prompt = prompt_text(self.client.session_state(&self.peer), &self.peer);
        self.screen.update_live_prompt(&prompt);
        self.screen.line(text);
    }

    fn prompt(&mut self) {
        let text = prompt_text(self.client.session_state(&self.peer), &self.peer);
        self.screen.prompt(&text);
    }

    fn log_wire(&mut self, direction: Direction, text: &str) {
        if let Err(e) = self.wire.write(direction, &self.peer, text) {
            let message = format!("* the wire log cannot be written ({e}); logging stopped");
            self.say(&message);
        }
    }

    fn save(&mut self) {
        let result = self.store.save(&self.client, &self.key);
        self.save_failed = result.is_err();
        if let Err(e) = result {
            let message = format!(
                "* could not save the store: {} (check the disk and the permissions of {})",
                keys::explain(&e, &self.dir),
                self.dir
            );
            self.say(&message);
        }
    }

    fn perform(&mut self, actions: Vec<Action>) {
        let mut save = false;
        for action in actions {
            match action {
                Action::Send { text, .. } => {
                    let sent = self.transport.send(&text);
                    if sent.is_ok() {
                        self.log_wire(Direction::Out, &text);
                    }
                    if let Err(e) = sent {
                        let message = format!("* sending failed: {e}; the connection is probably gone: run the command again to reconnect");
                        self.say(&message);
                        if e.kind() != io::ErrorKind::InvalidInput {
                            self.failed = true;
                            self.quit = true;
                        }
                    }
                }
                Action::Deliver { text, security, .. } => {
                    let text = printable(&String::from_utf8_lossy(&text));
                    let line = format!("[{}] <{}> {text}", security_name(security), self.peer);
                    self.say(&line);
                }
                Action::StateChanged { state, .. } => {
                    let line = state_words(&self.peer, state);
                    self.say(&line);
                }
                Action::Event { event, .. } => {
                    // The library says when stored state changed (at most once per call, last;
                    // once until saved).
                    if matches!(event, Event::PersistNeeded { .. }) {
                        save = true;
                    }
                    if let Some(words) = event_words(&self.peer, &event, &self.sent) {
                        self.say(&words);
                    }
                }
            }
        }
        if save || self.save_failed {
            self.save();
        }
    }

    fn current_session(&self) -> Option<SessionInfo> {
        let sessions = self.client.sessions(&self.peer);
        let state = self.client.session_state(&self.peer);
        sessions
            .iter()
            .rev()
            .find(|s| s.state == state && state.is_encrypted())
            .or_else(|| sessions.iter().rev().find(|s| s.state != SessionState::Finished))
            .cloned()
    }

    fn client_result(&mut self, result: Result<Vec<Action>, ClientError>, done: &str) {
        match result {
            Ok(actions) => {
                if !done.is_empty() {
                    self.say(done);
                }
                self.perform(actions);
            }
            Err(e) => {
                let hint = match e {
                    ClientError::NoSession => " (type /start)",
                    ClientError::PolicyForbids => " (restart with --policy manual or opportunistic)",
                    ClientError::SessionFinished => " (type /end or /start)",
                    _ => "",
                };
                let line = format!("* {e}{hint}");
                self.say(&line);
            }
        }
    }

    fn command(&mut self, line: &str) {
        let now = now();
        let peer = self.peer.clone();
        if line.is_empty() {
            return;
        }
        if !line.starts_with('/') || line.starts_with("//") {
            let text = if line.starts_with("//") { &line[1..] } else { line };
            let result = self.client.send(&peer, text.as_bytes(), now).map(|(id, actions)| {
                self.sent.remember(id, text);
                actions
            });
            self.client_result(result, "");
            return;
        }
        let (command, rest) = line.split_once(' ').unwrap_or((line, ""));
        let rest = rest.trim();
        match command {
            "/quit" | "/exit" => self.quit = true,
            "/help" => self.help(),
            "/wire" => self.wire_command(rest),
            "/start" => {
                let result = self.client.start_session(&peer, now);
                self.client_result(result, &format!("* asking {peer} for an encrypted session..."));
            }
            "/end" => {
                let actions = self.client.end_session(&peer, None, now);
                self.say(&format!("* ended the encrypted session with {peer}"));
                self.perform(actions);
                self.save();
            }
            "/fp" => self.fingerprints(),
            "/trust" | "/distrust" => {
                let Some(session) = self.current_session() else {
                    self.say(&format!("* no encrypted session with {peer}: /start one first"));
                    return;
                };
                let trust = if command == "/trust" { Trust::VerifiedManual } else { Trust::Unverified };
                let actions = self.client.set_trust(&peer, session.their_fingerprint, trust);
                self.say(&format!(
                    "* {peer}'s fingerprint {} is now {}",
                    format_fingerprint(&session.their_fingerprint),
                    trust_words(trust)
                ));
                self.perform(actions);
                self.save();
            }
            "/accept" => {
                let waiting = self
                    .client
                    .sessions(&peer)
                    .into_iter()
                    .rev()
                    .find(|s| s.state == SessionState::EncryptedUnverified);
                let Some(session) = waiting else {
                    self.say(&format!("* no session with an unverified key of {peer} to accept"));
                    return;
                };
                let result = self.client.accept_key(&peer, session.instance, now);
                let done = format!(
                    "* your messages now go to {peer}'s key {} (still unverified)",
                    format_fingerprint(&session.their_fingerprint)
                );
                self.client_result(result, &done);
            }
            "/smp" => {
                let (secret, question) = match first_word(rest) {
                    Ok(Some((secret, question))) => (Zeroizing::new(secret), rest_argument(question)),
                    Ok(None) => (Zeroizing::new(String::new()), String::new()),
                    Err(e) => {
                        self.say(&format!("* {e}: /smp \"a secret with spaces\" and a question"));
                        return;
                    }
                };
                if secret.is_empty() {
                    self.say("* usage: /smp SECRET [QUESTION] (quote a secret with spaces: /smp \"our dog\" what is its name?; the question, if any, is shown to the peer)");
                    return;
                }
                let question = Some(question.as_str()).filter(|q| !q.is_empty());
                let result = self.client.smp_start(&peer, None, secret.as_bytes(), question, now);
                self.client_result(
                    result,
                    &format!("* asked {peer} to prove they know the secret; waiting for their answer"),
                );
            }
            "/answer" => {
                let secret = Zeroizing::new(rest_argument(rest));
                if secret.is_empty() {
                    self.say("* usage: /answer SECRET (the rest of the line, or one quoted secret)");
                    return;
                }
                let result = self.client.smp_respond(&peer, None, secret.as_bytes(), now);
                self.client_result(result, "* answered; checking...");
            }
            "/abort" => {
                let result = self.client.smp_abort(&peer, None, now);
                self.client_result(result, "* SMP aborted");
            }
            "/state" => self.state(),
            other => self.say(&format!(
                "* unknown command {}: type /help for the commands (start a line with // to send a line that starts with /)",
                printable(other)
            )),
        }
    }

    fn help(&mut self) {
        self.say(&format!("* commands:\n{}\n{SMP_HELP}", help_lines()));
    }

    /// `/wire`, `/wire on [FILE]`, `/wire off`.
    fn wire_command(&mut self, rest: &str) {
        let (word, file) = rest.split_once(' ').map_or((rest, ""), |(w, f)| (w, f.trim()));
        match (word, file) {
            ("on", "") if self.wire.path().is_some() => self.wire.set_paused(false),
            ("on", "") => {
                self.say("* no wire log yet: /wire on FILE (or start with --log-wire FILE)");
                return;
            }
            ("on", file) => match WireLog::open(std::path::Path::new(&rest_argument(file))) {
                Ok(log) => self.wire = log,
                Err(e) => {
                    self.say(&format!("* cannot write the wire log {}: {e}", printable(file)));
                    return;
                }
            },
            ("off", "") => self.wire.set_paused(true),
            ("", "") => {}
            _ => {
                self.say("* usage: /wire (is it on?), /wire on [FILE], /wire off");
                return;
            }
        }
        let line = match (self.wire.active(), self.wire.path()) {
            (Some(path), _) => format!("* logging every wire message to {}", path.display()),
            (None, Some(path)) => format!("* the wire log {} is paused (/wire on resumes it)", path.display()),
            (None, None) => "* the wire is not logged (/wire on FILE starts a log)".to_owned(),
        };
        self.say(&line);
    }

    fn fingerprints(&mut self) {
        let ours = format!("* you ({}): {}", self.client.account(), format_fingerprint(&self.client.fingerprint()));
        self.say(&ours);
        if let Some(otr) = self.client.otr_fingerprint() {
            let line = format!(
                "* you, for OTR users (as Pidgin shows it): {}",
                offrec::otr::identity::human_fingerprint(&otr)
            );
            self.say(&line);
        }
        match self.current_session() {
            Some(s) => {
                let trust = self.client.trust_store().trust(&self.peer, &s.their_fingerprint);
                let (first, second) = format_ssid(&s.ssid);
                let session_id = match s.otr {
                    // OTR's own session id, shown as Pidgin shows it (the bold half in brackets).
                    Some(otr) => {
                        let word = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
                        let (a, b) = (word(&otr.ssid[..4]), word(&otr.ssid[4..]));
                        if otr.first_half_bold {
                            format!("[{a}] {b}")
                        } else {
                            format!("{a} [{b}]")
                        }
                    }
                    None => format!("[{first}] {second}"),
                };
                let protocol = match s.protocol {
                    offrec::conversation::Protocol::ModernV1 => "offrec",
                    offrec::conversation::Protocol::OtrV3 => "classic OTR v3, weaker",
                    offrec::conversation::Protocol::OtrV2 => "classic OTR v2, weaker",
                };
                let lines = format!(
                    "* {} (instance {:08x}, {protocol}): {} ({})\n* session id: {session_id} (both sides see the same; read the bracketed half aloud)",
                    self.peer,
                    s.instance,
                    format_fingerprint(&s.their_fingerprint),
                    trust_words(trust)
                );
                self.say(&lines);
            }
            None => {
                let known: Vec<String> = self
                    .client
                    .trust_store()
                    .keys(&self.peer)
                    .iter()
                    .map(|k| format!("*   {} ({})", format_fingerprint(&k.fingerprint), trust_words(k.trust)))
                    .collect();
                let line = format!("* no encrypted session with {}: /start one to see the key they use", self.peer);
                self.say(&line);
                if !known.is_empty() {
                    self.say(&format!("* keys seen before for {}:\n{}", self.peer, known.join("\n")));
                }
            }
        }
    }

    fn state(&mut self) {
        let state = self.client.session_state(&self.peer);
        let mut lines = vec![format!("* conversation with {}: {}", self.peer, state_name(state))];
        for s in self.client.sessions(&self.peer) {
            lines.push(format!(
                "*   instance {:08x}: {}{}{}",
                s.instance,
                state_name(s.state),
                if s.we_initiated { ", we started it" } else { "" },
                if s.smp_in_progress { ", SMP in progress" } else { "" }
            ));
        }
        self.say(&lines.join("\n"));
    }
}
