# offrec_weechat.py: Off-the-Record private messages on IRC, in WeeChat, with offrec.
#
# Encrypts your private IRC conversations (queries, never channels) with offrec's protocol,
# or classic OTR v3/v2 with people whose client only speaks OTR (weechat-otr, irssi-otr,
# Pidgin through bitlbee...). Uses the offrec Python binding (bindings/python) and liboffrec.
# Installation and use: integrations/weechat/README.md.
#
# How it hooks into WeeChat, in weechat-otr's "in-place" style:
# - `irc_out_privmsg` modifier: a line you send to a nick is replaced by the wire messages
#   offrec makes of it (fragments joined with "\n": WeeChat sends each as its own PRIVMSG);
# - `irc_in2_privmsg` modifier: a wire message from a nick is replaced by the text it carries,
#   or dropped when it is protocol traffic (handshake, fragments, SMP steps);
# - protocol replies, heartbeats and held messages go out with /quote from the binding's
#   `on_send` callback; events are printed into the conversation's buffer;
# - bar item `offrec`: the state of the conversation in the current buffer.
#
# One offrec client per (IRC server, your nick), saved sealed under
# <weechat data dir>/offrec/<server>/<nick>/ with the passphrase of option `passphrase`
# (default `${sec.data.offrec}`: `/secure set offrec <passphrase>`).
#
# SPDX-License-Identifier: MIT OR Apache-2.0

import os
import shlex
import sys
import time
import traceback

import weechat

SCRIPT_NAME = "offrec"
SCRIPT_AUTHOR = "offrec developers"
SCRIPT_VERSION = "0.1.0"
SCRIPT_LICENSE = "MIT OR Apache-2.0"
SCRIPT_DESC = "Off-the-Record private messages on IRC with offrec (offrec protocol, OTR v3/v2)"

# IRC's line limit, CRLF included, and what a server puts in front of our PRIVMSG when it
# relays it (":nick!user@host ", user up to 10 and host up to 63 characters), as
# `offrec chat --irc` counts it. WeeChat splits a /quote'd PRIVMSG that would not fit when the
# longest nick the server allows (NICKLEN) is in front, so that nick length is counted, plus
# a few bytes of margin: every wire message then goes out as one line, never cut in two.
IRC_LINE_LIMIT = 512
RELAY_PREFIX_RESERVE = 1 + 1 + 10 + 1 + 63 + 1
SPLIT_MARGIN = 4
# A failed save is retried this often (seconds).
SAVE_RETRY_SECS = 30

OPTIONS = {
    "passphrase": ("${sec.data.offrec}", "passphrase sealing the stores (evaluated; keep it in secured data: /secure set offrec ...)"),
    "policy": ("manual", "when to encrypt: never, manual (/offrec start), opportunistic (advertise and start on the peer's tag) or always"),
    "network": ("irc", "network name bound into the handshake; must be the one your peers use (offrec chat: `identity new --network irc`)"),
    "name_binding": ("on", "bind both nicks into the handshake (on) or the network only (off, survives nick changes; both sides must agree)"),
    "log": ("off", "log encrypted conversations with WeeChat's logger (off: the logger is paused in a query buffer while its conversation is encrypted)"),
    "python_path": ("", "directory holding the offrec Python package, if it is not installed for WeeChat's Python (e.g. <checkout>/bindings/python)"),
}

STATE_COLORS = {"plaintext": "default", "unverified": "yellow", "verified": "green", "finished": "lightred"}

offrec = None  # the binding, imported once the script is registered (python_path may be needed)
accounts = {}  # (server, nick lower-case) -> Account
unavailable = {}  # (server, nick lower-case) -> why it could not be opened (said once; retried on option changes)
paused_logs = {}  # query buffer full name -> its logger level option before we paused it (None: unset)
injecting = 0  # > 0 while our own /quote runs: the out-modifier lets those lines through
import_error = ""


def option(name):
    return weechat.config_get_plugin(name)


def passphrase():
    return weechat.string_eval_expression(option("passphrase"), {}, {}, {})


def policy_value():
    name = option("policy").strip().lower()
    presets = {
        "never": offrec.Policy.NEVER,
        "manual": offrec.Policy.MANUAL,
        "opportunistic": offrec.Policy.OPPORTUNISTIC,
        "always": offrec.Policy.ALWAYS,
    }
    if name not in presets:
        say("", f"unknown policy {name!r} (never, manual, opportunistic, always): using manual")
    return presets.get(name, offrec.Policy.MANUAL)


def say(buffer, text, color="default"):
    """Prints a line of ours, prefixed `offrec`, never highlighting and never notifying."""
    prefix = weechat.color("cyan") + "offrec" + weechat.color("reset")
    for line in text.split("\n"):
        weechat.prnt_date_tags(buffer, 0, "no_highlight,notify_none,offrec", f"{prefix}\t{weechat.color(color)}{line}")


def show_error(where):
    say("", f"internal error in {where}:\n{traceback.format_exc()}", "lightred")


def clean(text):
    """Text as WeeChat takes it: valid UTF-8 (undecodable bytes from the peer become U+FFFD)."""
    return text.encode("utf-8", "replace").decode("utf-8", "replace").replace("\0", "")


def parse_irc(line):
    """(tags, prefix, command, params) of one IRC line (the trailing parameter last), or None."""
    rest, tags, prefix = line, "", ""
    if rest.startswith("@"):
        tags, _, rest = rest.partition(" ")
        rest = rest.lstrip(" ")
    if rest.startswith(":"):
        prefix, _, rest = rest[1:].partition(" ")
        rest = rest.lstrip(" ")
    head, sep, trailing = rest.partition(" :")
    words = head.split()
    if not words:
        return None
    params = words[1:] + ([trailing] if sep else [])
    return tags, prefix, words[0].upper(), params


def is_channel(server, name):
    return weechat.info_get("irc_is_channel", f"{server},{name}") == "1"


def private_buffer_peer(buffer):
    """(server, nick) when `buffer` is an IRC private buffer, else (None, None)."""
    if weechat.buffer_get_string(buffer, "localvar_plugin") != "irc":
        return None, None
    if weechat.buffer_get_string(buffer, "localvar_type") != "private":
        return None, None
    return weechat.buffer_get_string(buffer, "localvar_server"), weechat.buffer_get_string(buffer, "localvar_channel")


def peer_buffer(server, nick):
    """The query buffer with `nick`, else the server's buffer."""
    buffer = weechat.info_get("irc_buffer", f"{server},{nick}")
    if buffer and private_buffer_peer(buffer)[0] is not None:
        return buffer
    return weechat.info_get("irc_buffer", server) or ""


def protocol_name(protocol):
    return {
        offrec.Protocol.MODERN_V1: "offrec",
        offrec.Protocol.OTR_V3: "OTR v3",
        offrec.Protocol.OTR_V2: "OTR v2",
    }.get(protocol, f"protocol {int(protocol)}")


def trust_words(trust):
    if trust == offrec.Trust.VERIFIED_SMP:
        return "verified by SMP"
    if trust == offrec.Trust.VERIFIED_MANUAL:
        return "verified by you"
    return "not verified"


def path_part(name):
    """`name` as one directory name: the nick comes from the server, which must not be able to
    steer where the store goes (no separators, no `..`)."""
    safe = name.replace("/", "_").replace("\0", "_")
    return safe if safe.strip(".") else "_" + safe


class Account:
    """One offrec client: our nick on one IRC server, with its sealed store."""

    def __init__(self, server, nick):
        self.server = server
        self.nick = nick.lower()
        data_dir = weechat.info_get("weechat_data_dir", "") or weechat.info_get("weechat_dir", "")
        self.dir = os.path.join(data_dir, "offrec", path_part(server), path_part(self.nick))
        self.client = None
        # A failed save leaves the library's PERSIST_NEEDED pending (it is reported once until
        # saved, so no new notice comes for the same changes): the timer retries.
        self.save_failed = False
        self.save_retry_at = 0.0

    def open(self):
        """Loads the store, or makes a new identity and saves it. Raises OffrecError."""
        secret = passphrase()
        if not secret:
            raise RuntimeError(
                "no passphrase: run /secure set offrec <passphrase> (or /set plugins.var.python.offrec.passphrase)"
            )
        callbacks = dict(
            on_send=self.on_send,
            on_deliver=self.on_deliver,
            on_state_changed=self.on_state_changed,
            on_event=self.on_event,
            max_message_size=self.max_message_size,
        )
        try:
            self.client = offrec.Client.load_from_dir(
                self.dir, account=self.nick, passphrase=secret, policy=policy_value(), **callbacks
            )
            created = False
        except offrec.StoreNotFoundError:
            self.client = offrec.Client(self.nick, option("network"), policy_value(), **callbacks)
            created = True
        self.client.set_option(offrec.Option.NAME_BINDING, 0 if option("name_binding") == "off" else 1)
        if created:
            self.save()
            say(
                weechat.info_get("irc_buffer", self.server) or "",
                f"new identity for {self.nick} on {self.server}: {self.client.fingerprint} (saved in {self.dir})",
            )

    def save(self):
        try:
            self.client.save_to_dir(self.dir, passphrase=passphrase())
            self.save_failed = False
        except Exception as e:  # noqa: BLE001 - tell the user, keep running
            if not self.save_failed:
                say("", f"could not save {self.dir}: {e} (retrying every {SAVE_RETRY_SECS} s)", "lightred")
            self.save_failed = True
            self.save_retry_at = time.monotonic() + SAVE_RETRY_SECS

    def close(self):
        if self.client is not None:
            self.save()
            self.client.close()
            self.client = None

    # -- the binding's callbacks -----------------------------------------------------------
    def on_send(self, peer, text):
        global injecting
        injecting += 1
        try:
            weechat.command("", f"/quote -server {self.server} PRIVMSG {peer} :{text}")
        finally:
            injecting -= 1

    def on_deliver(self, peer, text, security, instance):
        # Only reached for deliveries outside receive_inplace (none today); shown all the same.
        weechat.prnt(peer_buffer(self.server, peer), f"{peer}\t{clean(text)}")

    def on_state_changed(self, peer, state, instance):
        buffer = peer_buffer(self.server, peer)
        if state == offrec.SessionState.PLAINTEXT:
            resume_logging(self.server, peer)
            say(buffer, f"the conversation with {peer} is now in plaintext")
        elif state == offrec.SessionState.FINISHED:
            resume_logging(self.server, peer)
            say(
                buffer,
                f"{peer} ended the encrypted session: nothing is sent until you /offrec end (back to plaintext) or /offrec start",
                STATE_COLORS["finished"],
            )
        else:
            off = "" if option("log") == "on" else "; not logged while it lasts (option log)"
            say(buffer, f"the conversation with {peer} is now {status_text(self, peer)}{off}")
            pause_logging(self.server, peer)
        weechat.bar_item_update(SCRIPT_NAME)

    def on_event(self, event):
        if event.code == offrec.EventCode.PERSIST_NEEDED:
            self.save()
            return
        words = event_words(event)
        if words:
            say(peer_buffer(self.server, event.peer), words)
        weechat.bar_item_update(SCRIPT_NAME)

    def max_message_size(self, peer):
        nick = weechat.info_get("irc_nick", self.server) or self.nick
        nicklen = weechat.info_get("irc_server_isupport_value", f"{self.server},NICKLEN")
        longest_nick = max(len(nick), int(nicklen) if nicklen.isdigit() else 16)
        overhead = 2 + len("PRIVMSG ") + len(peer) + len(" :") + RELAY_PREFIX_RESERVE + longest_nick + SPLIT_MARGIN
        return max(IRC_LINE_LIMIT - overhead, 64)


def account_for(server, create=True, retry=False):
    """The account of our current nick on `server` (opened on first use), or None. A failed
    open is reported once, and tried again on `retry` (a command) or an option change."""
    nick = weechat.info_get("irc_nick", server)
    if not nick or offrec is None:
        return None
    key = (server, nick.lower())
    if retry:
        unavailable.pop(key, None)
    account = accounts.get(key)
    if account is None and create and key not in unavailable:
        account = Account(server, nick)
        try:
            account.open()
        except Exception as e:  # noqa: BLE001 - a wrong passphrase, a damaged store...
            unavailable[key] = str(e)
            say(weechat.info_get("irc_buffer", server) or "", f"offrec is off for {nick} on {server}: {e}", "lightred")
            return None
        accounts[key] = account
    return account


def pause_logging(server, nick):
    """Off the record: with option log off (the default), WeeChat's logger is paused for the
    query with `nick` while the conversation is encrypted (/logger disable on the buffer, the
    level it had kept to restore it). The query buffer is opened first if need be, so that
    the first decrypted message does not open it, logged."""
    if option("log") == "on":
        return
    buffer = weechat.info_get("irc_buffer", f"{server},{nick}")
    if not buffer or private_buffer_peer(buffer)[0] is None:
        weechat.command(weechat.info_get("irc_buffer", server) or "", f"/mute query -noswitch {nick}")
        buffer = weechat.info_get("irc_buffer", f"{server},{nick}")
        if not buffer or private_buffer_peer(buffer)[0] is None:
            return
    name = weechat.buffer_get_string(buffer, "full_name")
    if name in paused_logs:
        return
    level = weechat.config_get(f"logger.level.{name}")
    paused_logs[name] = weechat.config_integer(level) if level else None
    weechat.command(buffer, "/mute logger disable")


def resume_logging(server, nick):
    """Gives the query buffer its logger level back once the conversation is not encrypted."""
    buffer = weechat.info_get("irc_buffer", f"{server},{nick}")
    if buffer:
        restore_logging(weechat.buffer_get_string(buffer, "full_name"))


def restore_logging(name):
    if name not in paused_logs:
        return
    level = paused_logs.pop(name)
    buffer = weechat.buffer_search("==", name)
    if level is None:
        weechat.command(buffer, f"/mute unset logger.level.{name}")
    else:
        weechat.command(buffer, f"/mute logger set {level}")


def refuse_plaintext():
    """Whether private messages must not go out in the clear although offrec is unavailable
    (policy `always`: a missing passphrase must not quietly turn encryption off)."""
    return option("policy").strip().lower() == "always"


def current_session(client, peer):
    """(index, SessionInfo) of the session the conversation uses, or (None, None)."""
    state = client.session_state(peer)
    sessions = client.sessions(peer)
    for i in reversed(range(len(sessions))):
        if sessions[i].state == state and state != offrec.SessionState.PLAINTEXT:
            return i, sessions[i]
    return None, None


def status_text(account, peer):
    """What the bar item shows: plaintext, or the state and protocol of the session."""
    if account is None or account.client is None:
        return "plaintext"
    client = account.client
    state = client.session_state(peer)
    if state == offrec.SessionState.PLAINTEXT:
        return "plaintext"
    index, _ = current_session(client, peer)
    protocol = protocol_name(client.session_protocol(peer, index).protocol) if index is not None else "offrec"
    words = {
        offrec.SessionState.ENCRYPTED_UNVERIFIED: "encrypted unverified",
        offrec.SessionState.ENCRYPTED_VERIFIED: "encrypted verified",
        offrec.SessionState.FINISHED: "finished",
    }.get(state, str(state))
    return f"{words} ({protocol})"


def event_words(event):
    """An event put into words for the user; None for those not worth showing."""
    E, peer = offrec.EventCode, event.peer
    code = event.code
    fp = str(event.fingerprint) if event.fingerprint is not None else ""
    if code == E.ENCRYPTION_REQUIRED:
        return "your message is held until the conversation is encrypted; starting a session"
    if code == E.HELD_MESSAGE_SENT:
        return "a held message was sent encrypted"
    if code == E.MESSAGE_NOT_SENT:
        why = {
            offrec.NotSentReason.ENCRYPTION_TIMEOUT: "no encrypted session came up in time",
            offrec.NotSentReason.SESSION_FINISHED: f"{peer} ended the session (/offrec end or /offrec start)",
            offrec.NotSentReason.KEY_CHANGED: f"{peer}'s key changed from the verified one",
            offrec.NotSentReason.SESSION_ENDED: "you ended the session first",
            offrec.NotSentReason.QUEUE_FULL: "too many messages wait for encryption",
            offrec.NotSentReason.TOO_LARGE: "it is too large",
        }.get(event.not_sent_reason, "unknown reason")
        return f"a message was NOT sent: {why}"
    if code == E.UNREADABLE:
        return f"an encrypted message from {peer} could not be read; {peer} is told"
    if code == E.MALFORMED:
        return f"{peer} sent a malformed message (ignored)"
    if code == E.NOT_IN_PRIVATE:
        return f"{peer} sent an encrypted message for a session we do not have: /offrec start"
    if code == E.UNENCRYPTED_WHILE_ENCRYPTED:
        return f"warning: the next message from {peer} came in the clear although the conversation is encrypted"
    if code == E.UNENCRYPTED_WHILE_REQUIRED:
        return f"warning: {peer} sent a message in the clear, but your policy requires encryption"
    if code == E.PEER_ERROR:
        return f"{peer} reports an error: {clean(event.text or '')}"
    if code == E.FOREIGN_PROTOCOL:
        return f"{peer} sent OTR traffic offrec does not answer (OTR v1/v4, or OTR off in your policy)"
    if code == E.SESSION_EXPIRED:
        return "the encrypted session expired after a long silence: /offrec start a new one"
    if code == E.HANDSHAKE_FAILED:
        why = {
            offrec.HandshakeFailure.NAMES_DIFFER: "the two sides bind different names (nicks, or option network)",
            offrec.HandshakeFailure.UNSENDABLE: "a handshake message does not fit an IRC line",
            offrec.HandshakeFailure.OTR_FAILED: "an OTR signature, MAC or key did not verify",
        }.get(event.handshake_failure, "a handshake message was malformed or did not authenticate")
        return f"the handshake with {peer} failed: {why}; try /offrec start again"
    if code == E.HANDSHAKE_COMPLETE:
        return f"handshake with {peer} complete"
    if code == E.PEER_COULD_NOT_READ:
        return f"{peer} could not read one of your messages (they lost the session): send it again"
    if code == E.NEW_FINGERPRINT:
        return f"first key seen for {peer}: {fp}\ncompare it over another channel (/offrec fingerprint, /offrec trust) or verify with /offrec smp"
    if code == E.FINGERPRINT_CHANGED:
        old = str(event.old_fingerprint) if event.old_fingerprint is not None else "?"
        was = "was verified" if event.old_was_verified else "was not verified"
        return f"WARNING: {peer}'s key CHANGED\nold: {old} ({was})\nnew: {fp}\nverify again before trusting"
    if code == E.SMP_ASKED_FOR_SECRET:
        question = f" Question: {clean(event.text)}" if event.text else ""
        return f"{peer} asks you to prove you share a secret.{question}\nanswer with /offrec smp respond <secret>"
    if code == E.SMP_IN_PROGRESS:
        return "SMP in progress..."
    if code == E.SMP_SUCCEEDED:
        return f"SMP succeeded: {peer} is verified"
    if code == E.SMP_VERIFIED_BY_PEER:
        return f"you answered {peer}'s question: {peer} has verified YOU (ask your own question to verify {peer})"
    if code == E.SMP_FAILED:
        return f"SMP failed: the secrets differ; {peer} is not verified"
    if code == E.SMP_ABORTED:
        return "SMP aborted"
    if code == E.SMP_CHEATED:
        return "SMP failed: a proof did not check out; someone may be tampering with the conversation"
    if code == E.KEY_CONSENT_REQUIRED:
        return f"{peer} uses a NEW key {fp} while an earlier key is verified: verify it (/offrec smp, /offrec trust)"
    if code == E.INPUT_DROPPED:
        return f"messages from {peer} were dropped (too much unauthenticated input)"
    if code == E.LEGACY_SESSION_STARTED:
        return f"encrypted with classic OTR ({protocol_name(event.protocol)}): weaker than offrec's protocol"
    if code == E.PROTOCOL_UPGRADED:
        return f"{peer} runs offrec too: the session now uses offrec's protocol"
    if code == E.DOWNGRADE_SUSPECTED:
        return f"warning: {peer} announced offrec inside OTR but offrec's handshake did not get through; staying on OTR"
    return None  # heartbeats, other instances, peer-ended (the state change says it), TLVs


# -- modifiers -----------------------------------------------------------------------------
def modifier_out_cb(data, modifier, server, line):
    """`irc_out_privmsg`: our line to a nick becomes offrec's wire messages ("\n"-joined)."""
    if injecting:
        return line
    try:
        return encrypt_line(server, line)
    except Exception:  # noqa: BLE001 - never let a line through unencrypted by accident
        show_error("irc_out_privmsg")
        return ""


def encrypt_line(server, line):
    parsed = parse_irc(line)
    if parsed is None or len(parsed[3]) < 2:
        return line
    _, _, _, params = parsed
    target, text = params[0], params[-1]
    if is_channel(server, target):
        return line
    account = account_for(server)
    if account is None:
        if refuse_plaintext():
            say(peer_buffer(server, target), "NOT sent: offrec is unavailable and the policy is `always`", "lightred")
            return ""
        return line
    client, peer = account.client, target.lower()
    if text.startswith("\x01"):
        # CTCP: /me becomes "/me ..." inside an encrypted session; the rest stays as it is.
        if not (text.startswith("\x01ACTION ") and client.session_state(peer) != offrec.SessionState.PLAINTEXT):
            return line
        text = "/me " + text[len("\x01ACTION ") :].rstrip("\x01")
    buffer = peer_buffer(server, target)
    try:
        out = client.send_inplace(peer, text)
    except offrec.SessionFinishedError:
        say(buffer, f"NOT sent: {target} ended the encrypted session; /offrec end (plaintext) or /offrec start", "lightred")
        return ""
    except offrec.OffrecError as e:
        say(buffer, f"NOT sent: {e}", "lightred")
        return ""
    if not out.wire:
        say(buffer, "held: it is sent once the encrypted session is up")
        return ""
    if client.session_state(peer) in (offrec.SessionState.ENCRYPTED_UNVERIFIED, offrec.SessionState.ENCRYPTED_VERIFIED):
        pause_logging(server, target)  # before WeeChat shows (and would log) the line you typed
    return "\n".join(f"PRIVMSG {target} :{wire}" for wire in out.wire)


def modifier_in_cb(data, modifier, server, line):
    """`irc_in2_privmsg`: a wire message from a nick becomes its text, or nothing."""
    try:
        return decrypt_line(server, line)
    except Exception:  # noqa: BLE001
        show_error("irc_in2_privmsg")
        return ""


def decrypt_line(server, line):
    parsed = parse_irc(line)
    if parsed is None or len(parsed[3]) < 2:
        return line
    tags, prefix, _, params = parsed
    target, text = params[0], params[-1]
    nick = prefix.split("!", 1)[0].split("@", 1)[0]
    if not nick or is_channel(server, target) or text.startswith("\x01"):
        return line
    account = account_for(server)
    if account is None:
        return line
    try:
        incoming = account.client.receive_inplace(nick.lower(), text)
    except offrec.OffrecError as e:
        say(peer_buffer(server, nick), f"a message from {nick} could not be handled: {e}", "lightred")
        return ""
    if incoming.ignore:
        return ""
    if incoming.security != offrec.Security.PLAINTEXT:
        pause_logging(server, nick)  # already paused unless this line opens the query
    shown = clean(incoming.text or "")
    if incoming.security != offrec.Security.PLAINTEXT and shown.startswith("/me "):
        shown = "\x01ACTION " + shown[4:] + "\x01"
    head = (tags + " " if tags else "") + (":" + prefix + " " if prefix else "") + f"PRIVMSG {target} :"
    lines = [head + piece for piece in shown.replace("\r", "").split("\n") if piece]
    return "\n".join(lines)


# -- the bar item and the command --------------------------------------------------------------
def bar_item_cb(data, item, window, buffer, extra_info):
    server, nick = private_buffer_peer(buffer)
    if server is None or offrec is None:
        return ""
    account = account_for(server, create=False)
    try:
        text = status_text(account, nick.lower())
    except offrec.OffrecError:
        return ""
    kind = "plaintext"
    if text.startswith("encrypted unverified"):
        kind = "unverified"
    elif text.startswith("encrypted verified"):
        kind = "verified"
    elif text.startswith("finished"):
        kind = "finished"
    return weechat.color(STATE_COLORS[kind]) + text + weechat.color("reset")


def refresh_cb(data, signal, signal_data):
    weechat.bar_item_update(SCRIPT_NAME)
    return weechat.WEECHAT_RC_OK


def timer_cb(data, remaining):
    """Heartbeats, timeouts and held-message expiry (Client.tick), once a second; a save that
    failed is retried every SAVE_RETRY_SECS."""
    for account in list(accounts.values()):
        try:
            account.client.tick()
        except Exception:  # noqa: BLE001
            show_error("tick")
        if account.save_failed and account.client is not None and time.monotonic() >= account.save_retry_at:
            account.save()
    return weechat.WEECHAT_RC_OK


COMMAND_ARGS = "start || end || fingerprint || trust || distrust || smp <secret> [<question>] || smp respond <secret> || smp abort || status"
COMMAND_HELP = """\
In a private (query) buffer with a nick:
      start: start (or refresh) an encrypted session
        end: end it (back to plaintext; also after the peer ended theirs)
fingerprint: your fingerprints, the peer's and the session id to compare over another channel
      trust: mark the peer's current key as verified (after comparing fingerprints)
   distrust: mark it unverified again
        smp: verify the peer with a secret you both know, optionally asking a question
             (with a question, only you learn the result; the peer must ask their own);
             quote secrets and questions with spaces: /offrec smp "our place" "where did we meet?"
smp respond: answer the peer's SMP request with the secret
  smp abort: abort an SMP run
     status: the conversation's state, as the bar item `offrec` shows it

Setup: /secure set offrec <passphrase>, then add the item to a bar:
  /set weechat.bar.status.items "<items>,offrec"
Options: /set plugins.var.python.offrec.*"""


def command_cb(data, buffer, args):
    try:
        run_command(buffer, args)
    except Exception:  # noqa: BLE001
        show_error("/offrec")
    return weechat.WEECHAT_RC_OK


def run_command(buffer, args):
    if offrec is None:
        say(buffer, f"the offrec Python binding is not loaded: {import_error}", "lightred")
        return
    try:
        words = shlex.split(args)
    except ValueError as e:
        say(buffer, f"cannot read the arguments ({e}): close your quotes", "lightred")
        return
    if not words:
        say(buffer, "usage: /offrec " + COMMAND_ARGS.replace(" || ", " | "))
        return
    server, nick = private_buffer_peer(buffer)
    if server is None:
        say(buffer, "run /offrec in a private buffer with a nick (/query <nick>)", "lightred")
        return
    account = account_for(server, retry=True)
    if account is None:
        return
    client, peer, verb = account.client, nick.lower(), words[0].lower()
    try:
        if verb == "start":
            client.start_session(peer)
            say(buffer, f"asking {nick} for an encrypted session...")
        elif verb in ("end", "finish"):
            client.end_session(peer)
            say(buffer, f"ended the encrypted session with {nick}")
            account.save()
        elif verb in ("fingerprint", "fp"):
            show_fingerprints(buffer, account, nick)
        elif verb in ("trust", "distrust"):
            _, session = current_session(client, peer)
            if session is None:
                say(buffer, f"no encrypted session with {nick}: /offrec start one first", "lightred")
                return
            trust = offrec.Trust.VERIFIED_MANUAL if verb == "trust" else offrec.Trust.UNVERIFIED
            client.set_trust(peer, session.their_fingerprint, trust)
            say(buffer, f"{nick}'s key {session.their_fingerprint} is now {trust_words(trust)}")
            account.save()
        elif verb == "smp":
            smp_command(buffer, client, nick, words[1:])
        elif verb == "status":
            # Exactly what the bar item shows for this buffer.
            shown = weechat.string_remove_color(bar_item_cb("", SCRIPT_NAME, "", buffer, {}), "")
            say(buffer, f"status with {nick}: {shown}")
            for i, s in enumerate(client.sessions(peer)):
                protocol = protocol_name(client.session_protocol(peer, i).protocol)
                smp = ", SMP in progress" if s.smp_in_progress else ""
                say(buffer, f"  instance {s.instance:08x}: {s.state.name.lower()} ({protocol}){smp}")
        else:
            say(buffer, f"unknown subcommand {verb!r}: /help offrec", "lightred")
    except offrec.OffrecError as e:
        say(buffer, f"{verb}: {e}", "lightred")
    weechat.bar_item_update(SCRIPT_NAME)


def smp_command(buffer, client, nick, words):
    peer = nick.lower()
    sub = words[0].lower() if words else ""
    if sub == "abort" and len(words) == 1:
        client.smp_abort(peer)
        say(buffer, "SMP aborted")
    elif sub == "respond":
        if len(words) != 2 or not words[1]:
            say(buffer, 'usage: /offrec smp respond <secret> (quote a secret with spaces: "two words")', "lightred")
            return
        client.smp_respond(peer, words[1])
        say(buffer, "answered; checking...")
    else:
        if sub == "ask":  # for a secret that is literally "respond" or "abort"
            words = words[1:]
        if len(words) not in (1, 2) or not words[0]:
            say(buffer, 'usage: /offrec smp <secret> [<question>] (quote each one with spaces: "our place" "where?")', "lightred")
            return
        question = words[1] if len(words) == 2 and words[1] else None
        client.smp_start(peer, words[0], question)
        asked = f" (question: {question})" if question else ""
        say(buffer, f"asked {nick} to prove they know the secret{asked}; waiting for the answer")


def show_fingerprints(buffer, account, nick):
    client, peer = account.client, nick.lower()
    say(buffer, f"you ({account.nick} on {account.server}): {client.fingerprint}")
    otr = client.otr_fingerprint()
    if otr is not None:
        say(buffer, f"you, for OTR users: {offrec.format_otr_fingerprint(otr)}")
    index, session = current_session(client, peer)
    if session is None:
        say(buffer, f"no encrypted session with {nick}: /offrec start one to see their key")
        for known in client.known_keys(peer):
            say(buffer, f"  key seen before: {known.fingerprint} ({trust_words(known.trust)})")
        return
    protocol = client.session_protocol(peer, index)
    trust = trust_words(client.trust(peer, session.their_fingerprint))
    if protocol.otr is not None:
        words = protocol.otr.ssid_words
        bold = protocol.otr.bold_word
        ssid = " ".join(f"[{w}]" if w == bold else w for w in words)
        say(buffer, f"{nick} ({protocol_name(protocol.protocol)}): {protocol.otr.their_fingerprint_text} ({trust})")
    else:
        ssid = session.ssid_text
        say(buffer, f"{nick} (offrec): {session.their_fingerprint} ({trust})")
    say(buffer, f"session id: {ssid} (both sides see the same)")


def config_cb(data, name, value):
    unavailable.clear()  # a new passphrase or path may fix what failed: try again
    if offrec is None:
        return weechat.WEECHAT_RC_OK
    if name.endswith(".policy"):
        for account in accounts.values():
            account.client.set_policy(policy_value())
    elif name.endswith(".log") and value == "on":
        for buffer_name in list(paused_logs):
            restore_logging(buffer_name)
    elif name.endswith(".name_binding"):
        for account in accounts.values():
            account.client.set_option(offrec.Option.NAME_BINDING, 0 if value == "off" else 1)
    return weechat.WEECHAT_RC_OK


def unload_cb():
    for account in list(accounts.values()):
        try:
            account.close()
        except Exception:  # noqa: BLE001
            show_error("unload")
    accounts.clear()
    for name in list(paused_logs):
        restore_logging(name)  # sessions end with the script: log as before
    return weechat.WEECHAT_RC_OK


def import_binding():
    global offrec, import_error
    path = weechat.string_eval_path_home(option("python_path"), {}, {}, {}) if option("python_path") else ""
    if path and path not in sys.path:
        sys.path.insert(0, path)
    try:
        import offrec as binding

        binding.version()  # loads liboffrec now: a missing library is reported at load time
    except Exception as e:  # noqa: BLE001 - ImportError, LibraryNotFoundError
        import_error = (
            f"{e} (install the binding for WeeChat's Python, or /set plugins.var.python.offrec.python_path "
            "<checkout>/bindings/python; point OFFREC_LIB at liboffrec.so, or install it)"
        )
        say("", f"cannot load offrec: {import_error}", "lightred")
        return
    offrec = binding


if __name__ == "__main__" and weechat.register(
    SCRIPT_NAME, SCRIPT_AUTHOR, SCRIPT_VERSION, SCRIPT_LICENSE, SCRIPT_DESC, "unload_cb", ""
):
    for name, (default, description) in OPTIONS.items():
        if not weechat.config_is_set_plugin(name):
            weechat.config_set_plugin(name, default)
        weechat.config_set_desc_plugin(name, f"{description} (default: {default!r})")
    import_binding()
    weechat.hook_modifier("irc_out_privmsg", "modifier_out_cb", "")
    weechat.hook_modifier("irc_in2_privmsg", "modifier_in_cb", "")
    weechat.hook_command(SCRIPT_NAME, SCRIPT_DESC, COMMAND_ARGS, COMMAND_HELP,
                         "start|end|fingerprint|trust|distrust|status || smp respond|abort", "command_cb", "")
    weechat.bar_item_new("(extra)" + SCRIPT_NAME, "bar_item_cb", "")
    weechat.hook_config(f"plugins.var.python.{SCRIPT_NAME}.*", "config_cb", "")
    weechat.hook_config("sec.data.*", "config_cb", "")
    for signal in ("buffer_switch", "window_switch"):
        weechat.hook_signal(signal, "refresh_cb", "")
    weechat.hook_timer(1000, 0, 0, "timer_cb", "")
    if offrec is not None:
        say("", f"offrec {offrec.version()} loaded ({offrec.loaded_from()}); /help offrec")
