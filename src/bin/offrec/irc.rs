//! A minimal IRC client: registers (NICK/USER, waits for 001), answers PING, and carries wire
//! messages as PRIVMSGs to the peer's nick. No channel is joined.

use std::io::{self, BufReader, Write};
use std::net::TcpStream;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::chat::{Input, Transport};
use crate::parse::printable;
use crate::tcp::{check_one_line, read_line_limited};
use crate::CliError;

/// IRC's line limit, CRLF included (RFC 1459/2812).
pub const IRC_LINE_LIMIT: usize = 512;
/// What a server may put in front of our PRIVMSG when relaying it: `:nick!user@host `, with a
/// user name of up to 10 characters and a host name of up to 63.
const RELAY_PREFIX_RESERVE: usize = 1 + 1 + 10 + 1 + 63 + 1;
/// Longest line read from the server (some servers exceed 512 with message tags).
const MAX_IRC_LINE: usize = 8192;

/// The largest wire message that fits one IRC line from `nick` to `peer`, as the peer's server
/// relays it: 512 bytes minus CRLF, `PRIVMSG peer :` and the relay prefix `:nick!user@host `.
pub fn max_message_size(nick: &str, peer: &str) -> usize {
    let overhead = 2 + "PRIVMSG ".len() + peer.len() + " :".len() + RELAY_PREFIX_RESERVE + nick.len();
    IRC_LINE_LIMIT.saturating_sub(overhead)
}

/// One IRC protocol line, split.
#[derive(Debug, PartialEq, Eq)]
pub struct Line<'a> {
    /// The source (`nick!user@host` or a server name).
    pub prefix: Option<&'a str>,
    /// The command or numeric.
    pub command: &'a str,
    /// The parameters, the trailing one included.
    pub params: Vec<&'a str>,
}

/// Parses one line (without CRLF); message tags (`@...`) are skipped.
pub fn parse_line(mut line: &str) -> Option<Line<'_>> {
    if line.starts_with('@') {
        line = line.split_once(' ')?.1.trim_start_matches(' ');
    }
    let mut prefix = None;
    if let Some(rest) = line.strip_prefix(':') {
        let (p, rest) = rest.split_once(' ')?;
        prefix = Some(p);
        line = rest.trim_start_matches(' ');
    }
    let (head, trailing) = match line.split_once(" :") {
        Some((head, trailing)) => (head, Some(trailing)),
        None => (line, None),
    };
    let mut words = head.split(' ').filter(|w| !w.is_empty());
    let command = words.next()?;
    let mut params: Vec<&str> = words.collect();
    if let Some(t) = trailing {
        params.push(t);
    }
    Some(Line { prefix, command, params })
}

/// The nick in a `nick!user@host` prefix.
pub fn nick_of(prefix: &str) -> &str {
    prefix.split(['!', '@']).next().unwrap_or(prefix)
}

/// The connection to the IRC server.
pub struct Irc {
    writer: Arc<Mutex<TcpStream>>,
    peer: String,
}

fn write_line(writer: &Mutex<TcpStream>, line: &str) -> io::Result<()> {
    check_one_line(line)?;
    let mut stream = writer.lock().map_err(|_| io::Error::other("connection lock poisoned"))?;
    stream.write_all(format!("{line}\r\n").as_bytes())
}

impl Transport for Irc {
    fn send(&mut self, text: &str) -> io::Result<()> {
        check_one_line(text)?;
        write_line(&self.writer, &format!("PRIVMSG {} :{text}", self.peer))
    }

    fn close(&mut self) {
        let _ = write_line(&self.writer, "QUIT :bye");
    }
}

fn valid_nick(nick: &str) -> bool {
    !nick.is_empty()
        && !nick.starts_with(|c: char| c.is_ascii_digit() || c == '-')
        && nick.chars().all(|c| c.is_ascii_alphanumeric() || "-[]\\`^{}_|".contains(c))
}

/// Connects to `addr`, registers as `nick` and relays the peer's PRIVMSGs to `tx`.
pub fn connect(addr: &str, nick: &str, peer: &str, tx: Sender<Input>) -> Result<Irc, CliError> {
    if !addr.contains(':') {
        return Err(CliError::input(format!("--irc needs HOST:PORT, e.g. irc.example.org:6667, not {addr:?}")));
    }
    for (what, name) in [("--nick", nick), ("--peer", peer)] {
        if !valid_nick(name) {
            return Err(CliError::input(format!(
                "{what} {name:?} is not a valid IRC nick (letters, digits and -[]\\`^{{}}_|)"
            )));
        }
    }
    let stream = TcpStream::connect(addr)
        .map_err(|e| CliError::fail(format!("cannot connect to the IRC server {addr}: {e} (check host and port)")))?;
    let _ = stream.set_write_timeout(Some(Duration::from_secs(30)));
    let reader = stream.try_clone().map_err(|e| CliError::fail(format!("cannot use the connection: {e}")))?;
    let writer = Arc::new(Mutex::new(stream));
    let fail = |e: io::Error| CliError::fail(format!("IRC server {addr}: {e}"));
    write_line(&writer, &format!("NICK {nick}")).map_err(fail)?;
    write_line(&writer, &format!("USER {nick} 0 * :offrec")).map_err(fail)?;
    println!("* connecting to {addr} as {nick}...");

    // Registration, synchronously: nothing is sent to the peer before the server says 001.
    let _ = reader.set_read_timeout(Some(Duration::from_secs(60)));
    let mut reader = BufReader::new(reader);
    loop {
        let line = match read_line_limited(&mut reader, MAX_IRC_LINE) {
            Ok(Some(Ok(line))) => line,
            Ok(Some(Err(_))) => continue,
            Ok(None) => {
                return Err(CliError::fail(format!("the IRC server {addr} closed the connection during registration")))
            }
            Err(e) => return Err(CliError::fail(format!("no welcome from the IRC server {addr}: {e}"))),
        };
        let Some(msg) = parse_line(&line) else { continue };
        match msg.command {
            "001" => break,
            "PING" => {
                write_line(&writer, &format!("PONG :{}", msg.params.first().copied().unwrap_or(""))).map_err(fail)?
            }
            "433" => {
                return Err(CliError::fail(format!(
                    "the nick {nick} is already in use on {addr}: choose another with --nick"
                )))
            }
            "432" => {
                return Err(CliError::fail(format!("the server refuses the nick {nick}: choose another with --nick")))
            }
            "ERROR" => {
                return Err(CliError::fail(format!(
                    "the IRC server refused us: {}",
                    printable(msg.params.last().copied().unwrap_or(""))
                )))
            }
            _ => {}
        }
    }
    let _ = reader.get_ref().set_read_timeout(None);
    println!("* registered on {addr} as {nick}; talking privately with {peer} (no channel)");

    let pong = Arc::clone(&writer);
    let peer_name = peer.to_owned();
    std::thread::spawn(move || loop {
        let line = match read_line_limited(&mut reader, MAX_IRC_LINE) {
            Ok(Some(Ok(line))) => line,
            Ok(Some(Err(why))) => {
                let _ = tx.send(Input::Notice(format!("* {why}")));
                continue;
            }
            Ok(None) => {
                let _ = tx.send(Input::NetClosed("the IRC server closed the connection".to_owned(), false));
                return;
            }
            Err(e) => {
                let _ = tx.send(Input::NetClosed(format!("the IRC connection failed: {e}"), true));
                return;
            }
        };
        let Some(msg) = parse_line(&line) else { continue };
        let sent = match msg.command {
            "PING" => {
                let _ = write_line(&pong, &format!("PONG :{}", msg.params.first().copied().unwrap_or("")));
                Ok(())
            }
            "PRIVMSG" => {
                let from = msg.prefix.map(nick_of).unwrap_or("");
                let text = msg.params.get(1).copied().unwrap_or("");
                if text.starts_with('\u{1}') {
                    Ok(()) // CTCP (VERSION, ACTION...): not ours
                } else if from.eq_ignore_ascii_case(&peer_name) {
                    tx.send(Input::Net(text.to_owned()))
                } else {
                    tx.send(Input::Notice(format!(
                        "* ignored a message from {} (this chat is with {peer_name})",
                        printable(from)
                    )))
                }
            }
            "ERROR" => {
                let _ = tx.send(Input::NetClosed(
                    format!("the IRC server closed the link: {}", printable(msg.params.last().copied().unwrap_or(""))),
                    true,
                ));
                return;
            }
            "401" => tx.send(Input::Notice(format!(
                "* {peer_name} is not on the IRC server right now: messages to them are lost until they connect"
            ))),
            "NICK" if msg.prefix.map(nick_of).is_some_and(|n| n.eq_ignore_ascii_case(&peer_name)) => {
                tx.send(Input::Notice(format!(
                    "* {peer_name} changed nick to {}; this chat still talks to {peer_name}",
                    printable(msg.params.first().copied().unwrap_or(""))
                )))
            }
            numeric if numeric.len() == 3 && numeric.starts_with(['4', '5']) => {
                tx.send(Input::Notice(format!("* server: {}", printable(&msg.params[1..].join(" ")))))
            }
            _ => Ok(()),
        };
        if sent.is_err() {
            return;
        }
    });
    Ok(Irc { writer, peer: peer.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_limits() {
        let l = parse_line(":bob!b@h PRIVMSG alice :?OFR:AAAA.").unwrap();
        assert_eq!(l.prefix, Some("bob!b@h"));
        assert_eq!(l.command, "PRIVMSG");
        assert_eq!(l.params, ["alice", "?OFR:AAAA."]);
        assert_eq!(nick_of("bob!b@h"), "bob");
        let l = parse_line("PING :irc.example").unwrap();
        assert_eq!((l.command, l.params[0]), ("PING", "irc.example"));
        let l = parse_line("@time=x :srv 001 alice :Welcome").unwrap();
        assert_eq!(l.command, "001");
        // What we send and what the server relays both fit in 512 bytes.
        let size = max_message_size("alice", "bob");
        let sent = format!("PRIVMSG bob :{}\r\n", "x".repeat(size));
        let relayed = format!(":alice!{}@{} {sent}", "u".repeat(10), "h".repeat(63));
        assert!(sent.len() <= 512 && relayed.len() <= 512);
        assert!(!valid_nick("1abc") && valid_nick("alice_") && !valid_nick("a b"));
    }
}
