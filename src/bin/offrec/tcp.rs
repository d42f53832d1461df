//! TCP transport: one connection, one wire message per line (`\n`-terminated).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use crate::chat::{Input, Transport};
use crate::CliError;

/// The longest line read from the network: an armoured message at its limit, with room.
pub const MAX_LINE: usize = offrec::wire::MAX_ENCODED_LEN + 1024;

/// Reads one line of at most `limit` bytes (without its `\n` or `\r\n`). `Ok(None)` at end of
/// stream; `Ok(Some(Err(why)))` for a line that was skipped.
pub fn read_line_limited<R: BufRead>(reader: &mut R, limit: usize) -> io::Result<Option<Result<String, &'static str>>> {
    let mut buf = Vec::new();
    let n = reader.by_ref().take(limit as u64 + 1).read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    } else if buf.len() > limit {
        loop {
            let mut skip = Vec::new();
            let m = reader.by_ref().take(64 * 1024).read_until(b'\n', &mut skip)?;
            if m == 0 || skip.last() == Some(&b'\n') {
                break;
            }
        }
        return Ok(Some(Err("a line longer than the limit was dropped")));
    }
    Ok(Some(String::from_utf8(buf).map_err(|_| "a line that is not UTF-8 was dropped")))
}

/// Refuses text that would break line framing (or inject IRC commands).
pub fn check_one_line(text: &str) -> io::Result<()> {
    if text.contains(['\r', '\n', '\0']) {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "message contains a line break"));
    }
    Ok(())
}

/// A TCP connection to the peer.
pub struct Tcp {
    stream: TcpStream,
}

impl Transport for Tcp {
    fn send(&mut self, text: &str) -> io::Result<()> {
        check_one_line(text)?;
        let mut line = String::with_capacity(text.len() + 1);
        line.push_str(text);
        line.push('\n');
        self.stream.write_all(line.as_bytes())
    }
}

fn start(stream: TcpStream, tx: Sender<Input>) -> Result<Tcp, CliError> {
    let reader = stream.try_clone().map_err(|e| CliError::fail(format!("cannot use the connection: {e}")))?;
    let _ = stream.set_write_timeout(Some(Duration::from_secs(30)));
    let _ = stream.set_nodelay(true);
    std::thread::spawn(move || {
        let mut reader = BufReader::new(reader);
        loop {
            match read_line_limited(&mut reader, MAX_LINE) {
                Ok(Some(Ok(line))) => {
                    if tx.send(Input::Net(line)).is_err() {
                        return;
                    }
                }
                Ok(Some(Err(why))) => {
                    let _ = tx.send(Input::Notice(format!("* {why}")));
                }
                Ok(None) => {
                    let _ = tx.send(Input::NetClosed("the peer closed the connection".to_owned(), false));
                    return;
                }
                Err(e) => {
                    let _ = tx.send(Input::NetClosed(format!("the connection failed: {e}"), true));
                    return;
                }
            }
        }
    });
    Ok(Tcp { stream })
}

/// Where `--tcp-listen VALUE` listens: a bare PORT means the loopback address (this machine
/// only); anything else is ADDR:PORT as given (e.g. `0.0.0.0:5000`, `[::]:5000`).
pub fn listen_address(value: &str) -> String {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        format!("127.0.0.1:{value}")
    } else {
        value.to_owned()
    }
}

/// Listens on `addr` (`PORT` on loopback, or `ADDR:PORT`) and takes the first connection.
pub fn listen(addr: &str, peer: &str, tx: Sender<Input>) -> Result<Tcp, CliError> {
    let addr = listen_address(addr);
    let listener = TcpListener::bind(&addr).map_err(|e| {
        CliError::fail(format!(
            "cannot listen on {addr}: {e} (is the port in use? pick another with --tcp-listen PORT; an address must be ADDR:PORT)"
        ))
    })?;
    let local = listener.local_addr().map_or(addr.clone(), |a| a.to_string());
    let reach = match listener.local_addr() {
        Ok(a) if a.ip().is_loopback() => {
            " (this machine only: give --tcp-listen 0.0.0.0:PORT to accept other machines)"
        }
        _ => "",
    };
    println!("* listening on {local}{reach}; waiting for {peer} to connect");
    let (stream, from) =
        listener.accept().map_err(|e| CliError::fail(format!("accepting a connection failed: {e}")))?;
    println!("* connected: {from}");
    start(stream, tx)
}

/// Connects to `addr` (`HOST:PORT`), retrying for a few seconds while nobody listens yet.
pub fn connect(addr: &str, tx: Sender<Input>) -> Result<Tcp, CliError> {
    if !addr.contains(':') {
        return Err(CliError::input(format!("--tcp-connect needs HOST:PORT, not {addr:?}")));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut said = false;
    loop {
        match TcpStream::connect(addr) {
            Ok(stream) => {
                println!("* connected to {addr}");
                return start(stream, tx);
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused && Instant::now() < deadline => {
                if !said {
                    println!("* waiting for {addr} to accept connections...");
                    said = true;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => {
                return Err(CliError::fail(format!(
                    "cannot connect to {addr}: {e} (is the peer running `offrec chat --tcp-listen PORT`? check host and port)"
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_limited() {
        let mut input = io::Cursor::new(b"one\r\ntoolongline\nthree\n\xff\nlast".to_vec());
        assert_eq!(read_line_limited(&mut input, 8).unwrap(), Some(Ok("one".to_owned())));
        assert!(matches!(read_line_limited(&mut input, 8).unwrap(), Some(Err(_))));
        assert_eq!(read_line_limited(&mut input, 8).unwrap(), Some(Ok("three".to_owned())));
        assert!(matches!(read_line_limited(&mut input, 8).unwrap(), Some(Err(_))));
        assert_eq!(read_line_limited(&mut input, 8).unwrap(), Some(Ok("last".to_owned())));
        assert_eq!(read_line_limited(&mut input, 8).unwrap(), None);
        assert!(check_one_line("a\nb").is_err());
        assert_eq!(listen_address("5000"), "127.0.0.1:5000");
        assert_eq!(listen_address("0.0.0.0:5000"), "0.0.0.0:5000");
        assert_eq!(listen_address("[::1]:5000"), "[::1]:5000");
    }
}
