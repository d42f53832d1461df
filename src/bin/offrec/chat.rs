//! `offrec chat`: a line-oriented terminal chat with one peer over TCP or IRC.
//!
//! Threads: one reads stdin, one reads the network; both feed one channel that the main thread
//! drains, so the client (which does no I/O) is only ever touched by the main thread. The
//! channel wait times out every second to drive `Client::tick`.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use offrec::conversation::{Action, Client, ClientError, Event, Policy, SessionInfo, SessionState, Settings};
use offrec::store::{FileStore, StoreKey};
use offrec::trust::{format_fingerprint, format_ssid, Trust};

use crate::args::{self, Kind};
use crate::identity::trust_words;
use crate::keys::{self, KEY_FLAGS, KEY_HELP};
use crate::parse::printable;
use crate::terminal::{event_words, security_name, state_name, state_words, Screen};
use crate::{irc, tcp, CliError, CliResult};

const USAGE: &str = "\
Usage: offrec chat --store DIR [--passphrase-env VAR | --key-file FILE]
                   (--tcp-listen [ADDR:]PORT | --tcp-connect HOST:PORT | --irc HOST:PORT [--nick NICK] [--channel-less])
                   --peer NAME [--policy never|manual|opportunistic|always] [--max-message-size N]

A terminal chat with one peer. Type a line to send it; the prompt shows the conversation's
state, e.g. `[encrypted-unverified] bob> `. Incoming messages show how they were protected:
[plaintext], [encrypted-unverified] or [encrypted-verified].

Transport (one of):
  --tcp-listen [ADDR:]PORT  wait for the peer to connect (ADDR defaults to 0.0.0.0)
  --tcp-connect HOST:PORT   connect to a peer that listens (retries for 10 seconds)
  --irc HOST:PORT           a plain-text IRC server; messages go as private messages to the
                            peer's nick (--peer), no channel is joined (--channel-less, the
                            only mode, may be given for clarity). Wire messages are fragmented
                            to fit IRC's 512-byte lines automatically.
  --nick NICK               your IRC nick (default: the store's account name, which the peer
                            must use as --peer: both names are bound into the handshake)

Options:
  --store DIR               the store made by `offrec identity new` (saved on exit and
                            whenever the library reports a change worth keeping: keys, trust,
                            queued messages; after a restart each session is restarted with a
                            new handshake, never resumed)
  --peer NAME               the peer's account name (their IRC nick on IRC)
  --policy P                never | manual | opportunistic (default) | always
  --max-message-size N      largest wire line to send, in bytes (0 = unlimited; on IRC the
                            default is computed from the 512-byte line limit)

Commands:
  /start              start (or refresh) an encrypted session
  /end                end the encrypted session (back to plaintext)
  /fp                 your and the peer's fingerprints and the session id to compare
  /trust              mark the peer's current fingerprint as verified (after comparing /fp
                      over another channel: in person, by phone)
  /distrust           mark it unverified again
  /accept             send to the peer's new, unverified key although an earlier key was
                      verified (it stays unverified; held messages are sent to it)
  /smp SECRET [QUESTION...]  verify the peer with a shared secret (one word) and an optional
                      question. With a question only YOU (the asker) learn the result: the
                      peer who answers is told it was verified and must ask its own question
  /answer SECRET      answer the peer's SMP request (the rest of the line is the secret)
  /abort              abort an SMP run
  /state              show the sessions
  /help               this list
  /quit               save and leave (the next run starts a new session with the peer)
  //text              send a line that starts with `/`
";

const COMMANDS: &str = "commands: /start /end /fp /trust /distrust /accept /smp SECRET [QUESTION] /answer SECRET /abort /state /help /quit";

/// What the main loop waits for.
pub enum Input {
    /// A line typed by the user.
    Line(String),
    /// Standard input ended.
    StdinClosed,
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

fn parse_policy(text: &str) -> Result<Policy, CliError> {
    match text {
        "never" => Ok(Policy::NEVER),
        "manual" => Ok(Policy::MANUAL),
        "opportunistic" => Ok(Policy::OPPORTUNISTIC),
        "always" => Ok(Policy::ALWAYS),
        other => {
            Err(CliError::usage(format!("unknown policy {other:?}: use never, manual, opportunistic or always"), USAGE))
        }
    }
}

fn spawn_stdin(tx: Sender<Input>) {
    std::thread::spawn(move || {
        let stdin = io::stdin();
        let mut lock = stdin.lock();
        loop {
            match tcp::read_line_limited(&mut lock, 64 * 1024) {
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

/// Runs `offrec chat`.
pub fn run(args: &[String]) -> CliResult {
    let usage = format!("{USAGE}\n{KEY_HELP}");
    if args::wants_help(args) {
        print!("{usage}");
        return Ok(());
    }
    let mut spec = vec![
        ("--store", Kind::Value),
        ("--tcp-listen", Kind::Value),
        ("--tcp-connect", Kind::Value),
        ("--irc", Kind::Value),
        ("--nick", Kind::Value),
        ("--channel-less", Kind::Switch),
        ("--peer", Kind::Value),
        ("--policy", Kind::Value),
        ("--max-message-size", Kind::Value),
    ];
    spec.extend(KEY_FLAGS);
    let parsed = args::parse(args, &spec, 0, &usage)?;
    let dir = parsed.required("--store", &usage)?;
    let peer = parsed.required("--peer", &usage)?.to_owned();
    let transports = ["--tcp-listen", "--tcp-connect", "--irc"].iter().filter(|f| parsed.has(f)).count();
    if transports != 1 {
        return Err(CliError::usage("give exactly one of --tcp-listen, --tcp-connect or --irc", &usage));
    }
    if !parsed.has("--irc") && (parsed.has("--nick") || parsed.has("--channel-less")) {
        return Err(CliError::usage("--nick and --channel-less are for --irc", &usage));
    }
    let policy = parse_policy(parsed.value("--policy").unwrap_or("opportunistic"))?;
    let max_size =
        match parsed.value("--max-message-size") {
            Some(n) => Some(n.parse::<usize>().map_err(|_| {
                CliError::usage(format!("--max-message-size needs a number of bytes, not {n:?}"), &usage)
            })?),
            None => None,
        };
    let key = keys::store_key(&parsed)?;
    let (store, mut client) = keys::load(dir, &key, Settings { policy, ..Settings::default() })?;
    if peer == client.account() {
        return Err(CliError::input(format!("--peer {peer} is this store's own account: name the other person")));
    }

    let (tx, rx) = mpsc::channel();
    spawn_stdin(tx.clone());
    let transport: Box<dyn Transport> = if let Some(addr) = parsed.value("--tcp-listen") {
        Box::new(tcp::listen(addr, &peer, tx)?)
    } else if let Some(addr) = parsed.value("--tcp-connect") {
        Box::new(tcp::connect(addr, tx)?)
    } else {
        let addr = parsed.value("--irc").unwrap_or_default();
        let nick = parsed.value("--nick").unwrap_or(client.account()).to_owned();
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
        Box::new(irc::connect(addr, &nick, &peer, tx)?)
    };
    if let (Some(n), false) = (max_size, parsed.has("--irc")) {
        client.set_max_message_size(&peer, n).map_err(|e| CliError::input(format!("--peer: {e}")))?;
    }
    catch_signals();
    let mut chat = Chat {
        client,
        store,
        key,
        dir: dir.to_owned(),
        peer,
        transport,
        screen: Screen::new(),
        quit: false,
        failed: false,
    };
    chat.screen.line(&format!("* chatting with {} ({COMMANDS})", chat.peer));
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
    quit: bool,
    failed: bool,
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
                Ok(Input::Net(text)) => {
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
        self.screen.line(text);
    }

    fn prompt(&mut self) {
        let state = state_name(self.client.session_state(&self.peer));
        let text = format!("[{state}] {}> ", self.peer);
        self.screen.prompt(&text);
    }

    fn save(&mut self) {
        if let Err(e) = self.store.save(&self.client, &self.key) {
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
                    if let Err(e) = self.transport.send(&text) {
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
                    // The library says when stored state changed (at most once per call, last).
                    if matches!(event, Event::PersistNeeded { .. }) {
                        save = true;
                    }
                    if let Some(words) = event_words(&self.peer, &event) {
                        self.say(&words);
                    }
                }
            }
        }
        if save {
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
            let result = self.client.send(&peer, text.as_bytes(), now).map(|(_, actions)| actions);
            self.client_result(result, "");
            return;
        }
        let (command, rest) = line.split_once(' ').unwrap_or((line, ""));
        let rest = rest.trim();
        match command {
            "/quit" | "/exit" => self.quit = true,
            "/help" => self.say(COMMANDS),
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
                let (secret, question) = rest.split_once(' ').map_or((rest, None), |(s, q)| (s, Some(q.trim())));
                if secret.is_empty() {
                    self.say("* usage: /smp SECRET [QUESTION...] (the secret is one word; the question, if any, is shown to the peer)");
                    return;
                }
                let result =
                    self.client.smp_start(&peer, None, secret.as_bytes(), question.filter(|q| !q.is_empty()), now);
                self.client_result(
                    result,
                    &format!("* asked {peer} to prove they know the secret; waiting for their answer"),
                );
            }
            "/answer" => {
                if rest.is_empty() {
                    self.say("* usage: /answer SECRET");
                    return;
                }
                let result = self.client.smp_respond(&peer, None, rest.as_bytes(), now);
                self.client_result(result, "* answered; checking...");
            }
            "/abort" => {
                let result = self.client.smp_abort(&peer, None, now);
                self.client_result(result, "* SMP aborted");
            }
            "/state" => self.state(),
            other => self
                .say(&format!("* unknown command {}: {COMMANDS} (start a line with // to send a /)", printable(other))),
        }
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
