//! Terminal output for `offrec chat`: lines that do not collide with the prompt, the prompt
//! itself, and every state and event put into words. Nothing here panics if stdout is gone.

use std::io::{IsTerminal, Write};

use offrec::ake::AkeError;
use offrec::conversation::{
    handshake_failure_code, Event, NotSentReason, Security, SessionState, HANDSHAKE_OTR_FAILED, HANDSHAKE_UNSENDABLE,
};
use offrec::trust::format_fingerprint;

use crate::line_editor::LineEditor;
use crate::parse::printable;
use crate::sent_messages::SentMessages;

/// The chat's output: plain lines and a prompt on standard output, or, on a terminal, through
/// the line editor (messages above the line being typed).
pub struct Screen {
    tty: bool,
    prompt_shown: bool,
    last_prompt: String,
    editor: Option<LineEditor>,
}

impl Screen {
    /// Output to stdout.
    pub fn new() -> Self {
        Screen { tty: std::io::stdout().is_terminal(), prompt_shown: false, last_prompt: String::new(), editor: None }
    }

    /// Output through the line editor.
    pub fn with_editor(editor: LineEditor) -> Self {
        Screen { editor: Some(editor), ..Screen::new() }
    }

    /// Prints one line, first moving past (or erasing, on a terminal) a shown prompt.
    pub fn line(&mut self, text: &str) {
        if let Some(editor) = &mut self.editor {
            editor.print(text);
            return;
        }
        let mut out = std::io::stdout().lock();
        if self.prompt_shown {
            let _ = out.write_all(if self.tty { b"\r\x1b[K" } else { b"\n" });
            self.prompt_shown = false;
        }
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }

    /// Shows the prompt.
    pub fn prompt(&mut self, text: &str) {
        if let Some(editor) = &mut self.editor {
            editor.set_prompt(text);
            return;
        }
        if self.prompt_shown && self.last_prompt == text {
            return;
        }
        self.last_prompt = text.to_owned();
        let mut out = std::io::stdout().lock();
        if self.prompt_shown && self.tty {
            let _ = out.write_all(b"\r\x1b[K");
        } else if self.prompt_shown {
            let _ = out.write_all(b"\n");
        }
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
        self.prompt_shown = true;
    }

    /// Gives the line editor (if any) the prompt to show under the next printed line.
    pub fn update_live_prompt(&mut self, text: &str) {
        if let Some(editor) = &mut self.editor {
            editor.set_prompt(text);
        }
    }

    /// The user pressed Enter: the prompt line is finished.
    pub fn input_done(&mut self) {
        if !self.tty && self.prompt_shown && self.editor.is_none() {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(b"\n");
            let _ = out.flush();
        }
        self.prompt_shown = false;
    }
}

/// A session state as the prompt shows it.
pub fn state_name(state: SessionState) -> &'static str {
    match state {
        SessionState::Plaintext => "plaintext",
        SessionState::EncryptedUnverified => "encrypted-unverified",
        SessionState::EncryptedVerified => "encrypted-verified",
        SessionState::Finished => "finished",
    }
}

/// How a delivered message was protected.
pub fn security_name(security: Security) -> &'static str {
    match security {
        Security::Plaintext => "plaintext",
        Security::EncryptedUnverified => "encrypted-unverified",
        Security::EncryptedVerified => "encrypted-verified",
    }
}

/// What a state change means for the user.
pub fn state_words(peer: &str, state: SessionState) -> String {
    match state {
        SessionState::Plaintext => format!("* the conversation with {peer} is now in plaintext: /start to encrypt it"),
        SessionState::EncryptedUnverified => format!(
            "* the conversation with {peer} is now encrypted-unverified: compare fingerprints with /fp and /trust, or verify with /smp SECRET"
        ),
        SessionState::EncryptedVerified => format!("* the conversation with {peer} is now encrypted-verified"),
        SessionState::Finished => {
            format!("* {peer} ended the encrypted session: nothing is sent until you /end it (back to plaintext) or /start a new one")
        }
    }
}

fn reason_words(reason: NotSentReason) -> &'static str {
    match reason {
        NotSentReason::EncryptionTimeout => "no encrypted session came up in time; /start one and send it again",
        NotSentReason::SessionFinished => "the peer ended the session; /end or /start first",
        NotSentReason::KeyChanged => "the peer's key changed from the verified one and you did not accept the new key; verify it (/fp, /smp) or /accept it, then send again",
        NotSentReason::SessionEnded => "you ended the session before it could be sent",
        NotSentReason::QueueFull => "too many messages are waiting for encryption",
        NotSentReason::TooLarge => "it is larger than the peer accepts; send it in smaller pieces",
    }
}

/// Why a handshake failed (`Event::HandshakeFailed`'s reason), in the library's words for it,
/// with what to do.
pub fn handshake_failure_words(reason: u32) -> String {
    let known = [
        AkeError::Malformed,
        AkeError::WrongInstance,
        AkeError::VersionMismatch,
        AkeError::AuthenticationFailed,
        AkeError::NonContributory,
        AkeError::Random,
        AkeError::NamesDiffer,
    ];
    if let Some(error) = known.into_iter().find(|e| handshake_failure_code(*e) == reason) {
        let advice = match error {
            AkeError::NamesDiffer => {
                "each side must name the other by the account the other's store has (--peer), on the same network (identity new --network)"
            }
            AkeError::Malformed => "the transport may alter messages, or the peer is broken; try /start again",
            AkeError::WrongInstance => "it was meant for another program using the same account; usually harmless",
            AkeError::VersionMismatch => "check both sides' --policy; someone may be rewriting the offer",
            AkeError::AuthenticationFailed | AkeError::NonContributory => {
                "someone may be tampering with the conversation, or the peer is broken: do not retry blindly"
            }
            _ => "try /start again",
        };
        return format!("{error}: {advice}");
    }
    match reason {
        HANDSHAKE_UNSENDABLE => {
            "a handshake message does not fit the transport's size limit: raise --max-message-size (fragments need 64 bytes or more)".to_owned()
        }
        HANDSHAKE_OTR_FAILED => {
            "an OTR signature, MAC or key did not verify: someone may be tampering with the conversation, or the peer is broken".to_owned()
        }
        _ => "a reason this version of offrec chat does not know (upgrade it); try /start again".to_owned(),
    }
}

/// An event in words; `None` for events not worth showing (heartbeats).
pub fn event_words(peer: &str, event: &Event, sent: &SentMessages) -> Option<String> {
    let fp = |f: &[u8; 32]| format_fingerprint(f);
    Some(match event {
        Event::EncryptionRequired { message } => {
            format!("* {} is held until the session is encrypted; starting one", sent.name(*message))
        }
        Event::HeldMessageSent { message } => format!("* {} (held) was sent encrypted", sent.name(*message)),
        Event::MessageNotSent { message, reason } => {
            format!("* {} was not sent: {}", sent.name(*message), reason_words(*reason))
        }
        Event::Unreadable => format!("* an encrypted message from {peer} could not be read (no session for it, or it was damaged); {peer} is told"),
        Event::Malformed => format!("* {peer} sent a malformed message (ignored)"),
        Event::NotInPrivate => format!("* {peer} sent an encrypted message for a session we do not have; /start a new one"),
        Event::ForOtherInstance => return None,
        Event::Reflected => "* a message we sent came back to us (ignored)".to_owned(),
        Event::UnencryptedWhileEncrypted => format!("* warning: {peer} sent a message in the clear although the session is encrypted"),
        Event::UnencryptedWhileRequired => format!("* warning: {peer} sent a message in the clear, but your policy requires encryption"),
        Event::PeerError { text } => format!("* {peer} reports an error: {}", printable(text)),
        Event::ForeignProtocol => format!("* {peer} sent OTR traffic this program does not answer (OTR v1/v4, or OTR is off in your policy)"),
        Event::LegacySessionStarted { protocol } => format!(
            "* encrypted with classic OTR ({}): compatible with Pidgin, Adium and irssi-otr, but weaker than offrec's protocol (1024-bit signing key, 1536-bit key exchange, SHA-1); compare fingerprints with /fp",
            if *protocol == offrec::conversation::Protocol::OtrV2 { "v2" } else { "v3" }
        ),
        Event::ProtocolUpgraded => format!("* {peer} runs offrec too: the session now uses offrec's own protocol"),
        Event::DowngradeSuspected => format!(
            "* warning: {peer} announced offrec inside classic OTR, but offrec's own handshake did not get through; someone may be blocking it. The conversation stays on classic OTR"
        ),
        Event::DowngradeDetected => format!(
            "* warning: {peer} uses offrec, but this session came up in classic OTR with {peer}'s own key: someone removed offrec's offer. Your messages are held while offrec's own handshake runs"
        ),
        Event::LegacyWithModernPeer => format!(
            "* {peer} usually uses offrec; this conversation uses classic OTR from another device or key"
        ),
        Event::OtrKeyLinked { fingerprint } => format!(
            "* {peer}'s offrec key and classic OTR key {} belong together (one named the other in its encrypted session; a verified key passes its trust on)",
            fp(fingerprint)
        ),
        Event::HeartbeatReceived | Event::HeartbeatSent => return None,
        Event::PeerEndedSession => return None, // reported by the state change to finished
        Event::SessionExpired => "* the encrypted session expired after a long silence; /start a new one".to_owned(),
        Event::HandshakeFailed { reason } => {
            format!("* the handshake with {peer} failed: {}; any previous session is kept", handshake_failure_words(*reason))
        }
        Event::HandshakeComplete => format!("* handshake with {peer} complete"),
        Event::ExtraKeyReceived { usage, .. } => format!("* {peer} derived an extra symmetric key (usage {usage}); this program does not use it"),
        Event::PeerCouldNotRead { message } => {
            format!("* {peer} could not read {} (they lost the session); a new one is being started: send it again", sent.name(*message))
        }
        Event::NewFingerprint { fingerprint } => {
            format!("* first key seen for {peer}: {}\n  verify it: compare with /fp over another channel, then /trust; or /smp SECRET", fp(fingerprint))
        }
        Event::FingerprintChanged { old, new, old_was_verified } => format!(
            "* WARNING: {peer}'s key CHANGED\n  old: {} ({})\n  new: {}\n  a new device, or someone in the middle: verify again (/fp, /smp) before trusting",
            fp(old),
            if *old_was_verified { "was verified" } else { "was not verified" },
            fp(new)
        ),
        Event::SmpAskedForSecret { question: Some(q) } => {
            format!("* {peer} asks you to prove you share a secret. Question: {}\n  answer with /answer SECRET", printable(q))
        }
        Event::SmpAskedForSecret { question: None } => format!("* {peer} asks you to prove you share a secret; answer with /answer SECRET"),
        Event::SmpInProgress => "* SMP in progress...".to_owned(),
        Event::SmpSucceeded => format!("* SMP succeeded: {peer}'s fingerprint is now verified"),
        Event::SmpVerifiedByPeer => format!(
            "* you answered {peer}'s question correctly: {peer} has verified YOU.\n  {peer} is NOT verified by this (they chose the question); to verify them, ask your own: /smp SECRET QUESTION"
        ),
        Event::KeyConsentRequired { message: 0, fingerprint } => format!(
            "* {peer}'s session with the NEW key {} is not used for your messages: an earlier key of {peer} is verified.\n  verify it (/fp then /trust, or /smp), or send to it anyway with /accept",
            fp(fingerprint)
        ),
        Event::KeyConsentRequired { message, fingerprint } => format!(
            "* {} is held: {peer}'s only session uses the new, unverified key {}.\n  verify it (/fp then /trust, or /smp) or /accept it to send; otherwise the message is dropped after a while",
            sent.name(*message),
            fp(fingerprint)
        ),
        Event::SmpFailed => format!("* SMP failed: the secrets did not match; {peer} is not verified"),
        Event::SmpAborted => "* SMP aborted".to_owned(),
        Event::SmpCheated => "* SMP failed: a proof did not check out; someone may be tampering with the conversation".to_owned(),
        Event::PersistNeeded { .. } => return None, // the chat saves the store
        Event::InputDropped => format!(
            "* a message from {peer} was dropped: too much unauthenticated input arrived at once (a flood?); if a session does not come up, /start again"
        ),
        Event::TlvReceived { .. } => format!("* {peer} sent application data inside the session that this program does not use"),
        _ => format!("* {peer}: something happened that this version of offrec chat has no words for (upgrade it)"),
    })
}
