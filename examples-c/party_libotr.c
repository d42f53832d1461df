/*
 * party_libotr: a Pidgin-like OTR client built on libotr 4.1.1 alone (no offrec inside), on the
 * example relay or IRC, scripted over stdin and reporting JSON lines on stdout like every other
 * party (tests/cross/PARTY_PROTOCOL.md). It stands for the users offrec has to reach today:
 * `make demo` shows offrec answering it in OTR v3.
 *
 *   party_libotr (--relay HOST:PORT | --irc HOST:PORT) --name NAME [--policy manual]
 *                [--max-message-size N]
 *
 * What it does as Pidgin-OTR does: OTRL_POLICY_MANUAL (v2 and v3, no whitespace tag, no
 * automatic AKE), `start` sends libotr's default query message, every application callback is
 * implemented (Pidgin's error texts, SMP events with the same trust rule: with a question only
 * the asker marks the key verified), CHEATED/ERROR abort the SMP run, `end` disconnects all
 * instances. What it does not: nothing is saved; the DSA key is generated into a temporary file
 * at start (0.1-1 s) and the file deleted once libotr has read it.
 *
 * libotr's query message contains newlines; this transport is line-based, so every injected
 * message has its newlines turned into spaces (all OTR messages other than the query are
 * single-line base64 anyway).
 *
 * Reports use the offrec parties' names where libotr has the same notion (states,
 * smp_asked_for_secret, heartbeat_received...) plus a "libotr" field with libotr's own event
 * name; encrypted states and deliveries carry "protocol":"otr_v3" (or "otr_v2").
 *
 * Single-threaded: poll() on stdin and the relay socket; libotr's callbacks run inside its calls.
 */
#define _POSIX_C_SOURCE 200809L
#include <libotr/proto.h>

#include <libotr/context.h>
#include <libotr/instag.h>
#include <libotr/message.h>
#include <libotr/privkey.h>
#include <libotr/userstate.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { LINE_CAP = 512 * 1024, MAX_PEERS = 64 };

static int relay = -1;
static int irc_mode;
static int irc_registered;
static char my_name[256];
static const char *network = "relay"; /* libotr's "protocol" of the account */
static OtrlUserState us;
static OtrlMessageAppOps ops;
static OtrlPolicy policy = OTRL_POLICY_MANUAL;
static int max_message_size;
static unsigned int timer_interval; /* libotr's timer_control: poll every N seconds (0: off) */
static time_t next_poll;

/* What we last reported per peer, so that a state report is printed once per change. */
static struct {
    char name[256];
    char state[32];
} peers[MAX_PEERS];
static int npeers;

/* ---- output ---------------------------------------------------------------------------------- */

static void json_string(const char *s, size_t n) {
    size_t i;
    putchar('"');
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            printf("\\%c", c);
        } else if (c < 0x20) {
            printf("\\u%04x", c);
        } else {
            putchar(c);
        }
    }
    putchar('"');
}

static void json_str(const char *s) {
    json_string(s, strlen(s));
}

static void json_hex(const unsigned char *b, size_t n) {
    size_t i;
    putchar('"');
    for (i = 0; i < n; i++) {
        printf("%02x", b[i]);
    }
    putchar('"');
}

static void report_error(const char *command, const char *message) {
    printf("{\"type\":\"error\",\"command\":");
    json_str(command);
    printf(",\"code\":1,\"message\":");
    json_str(message);
    printf("}\n");
    fflush(stdout);
}

/* ---- transport ------------------------------------------------------------------------------- */

static void write_relay(const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(relay, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            perror("party_libotr: relay write");
            exit(1);
        }
        p += w;
        n -= (size_t)w;
    }
}

/* Sends one wire text to `peer` (newlines become spaces: the transport is line-based). */
static void send_wire(const char *peer, const char *text) {
    size_t len = strlen(text), i;
    char *line = malloc(len + 1);
    if (line == NULL) {
        exit(1);
    }
    for (i = 0; i < len; i++) {
        line[i] = (text[i] == '\n' || text[i] == '\r') ? ' ' : text[i];
    }
    write_relay(irc_mode ? "PRIVMSG " : "TO ", irc_mode ? 8 : 3);
    write_relay(peer, strlen(peer));
    write_relay(irc_mode ? " :" : " ", irc_mode ? 2 : 1);
    write_relay(line, len);
    write_relay(irc_mode ? "\r\n" : "\n", irc_mode ? 2 : 1);
    free(line);
    printf("{\"type\":\"sent\",\"peer\":");
    json_str(peer);
    printf(",\"bytes\":%zu}\n", len);
    fflush(stdout);
}

/* ---- contexts and states ------------------------------------------------------------------- */

static int ours(const ConnContext *c) {
    return strcmp(c->accountname, my_name) == 0 && strcmp(c->protocol, network) == 0;
}

static int trusted(const ConnContext *c) {
    return c->active_fingerprint != NULL && c->active_fingerprint->trust != NULL &&
           c->active_fingerprint->trust[0] != '\0';
}

/* The encrypted context with `peer` (v3 sessions live in per-instance children, v2 ones in the
 * master): the most recently used one if several are. NULL when none is encrypted. */
static ConnContext *encrypted_context(const char *peer) {
    ConnContext *c, *found = NULL;
    for (c = us->context_root; c != NULL; c = c->next) {
        if (ours(c) && strcmp(c->username, peer) == 0 && c->msgstate == OTRL_MSGSTATE_ENCRYPTED) {
            if (found == NULL || c == c->m_context->recent_child) {
                found = c;
            }
        }
    }
    return found;
}

static const char *protocol_name(const ConnContext *c) {
    return c->protocol_version == 3 ? "otr_v3" : c->protocol_version == 2 ? "otr_v2" : "otr_v1";
}

/* What the other parties call the state with `peer`: an encrypted context wins, then a
 * finished one (the peer ended it and we did not yet), else plaintext. */
static const char *state_with(const char *peer, const ConnContext **which) {
    const ConnContext *c;
    int finished = 0;
    *which = encrypted_context(peer);
    if (*which != NULL) {
        return trusted(*which) ? "encrypted_verified" : "encrypted_unverified";
    }
    for (c = us->context_root; c != NULL; c = c->next) {
        finished |= ours(c) && strcmp(c->username, peer) == 0 && c->msgstate == OTRL_MSGSTATE_FINISHED;
    }
    return finished ? "finished" : "plaintext";
}

/* Reports every peer whose state changed since the last report (called after every libotr
 * call and from the callbacks that say a state may have changed). */
static void report_states(void) {
    ConnContext *c;
    int i;
    for (c = us->context_root; c != NULL; c = c->next) {
        const ConnContext *which;
        const char *state;
        if (!ours(c) || c != c->m_context) {
            continue; /* one pass per peer: its master context */
        }
        for (i = 0; i < npeers && strcmp(peers[i].name, c->username) != 0; i++) {
        }
        if (i == npeers) {
            if (npeers == MAX_PEERS || strlen(c->username) >= sizeof peers[i].name) {
                continue;
            }
            snprintf(peers[i].name, sizeof peers[i].name, "%s", c->username);
            snprintf(peers[i].state, sizeof peers[i].state, "plaintext");
            npeers++;
        }
        state = state_with(c->username, &which);
        if (strcmp(state, peers[i].state) == 0) {
            continue;
        }
        snprintf(peers[i].state, sizeof peers[i].state, "%s", state);
        printf("{\"type\":\"state\",\"peer\":");
        json_str(c->username);
        printf(",\"state\":\"%s\"", state);
        if (which != NULL) {
            printf(",\"protocol\":\"%s\",\"instance\":%u", protocol_name(which), (unsigned)which->their_instance);
        }
        printf("}\n");
        fflush(stdout);
    }
}

static void report_event(const ConnContext *c, int code, const char *name, const char *libotr_name) {
    printf("{\"type\":\"event\",\"peer\":");
    json_str(c != NULL ? c->username : "");
    printf(",\"code\":%d,\"name\":\"%s\",\"libotr\":\"%s\"}\n", code, name, libotr_name);
    fflush(stdout);
}

/* ---- keys ------------------------------------------------------------------------------------ */

/* Generates our DSA key into a temporary file, lets libotr read it, and deletes the file. */
static void generate_key(const char *account, const char *protocol) {
    char dir[] = "/tmp/offrec-libotr-party-XXXXXX";
    char path[sizeof dir + 16];
    gcry_error_t err;
    if (mkdtemp(dir) == NULL) {
        perror("party_libotr: mkdtemp");
        exit(1);
    }
    snprintf(path, sizeof path, "%s/otr.key", dir);
    err = otrl_privkey_generate(us, path, account, protocol); /* also loads it into `us` */
    unlink(path);
    rmdir(dir);
    if (err) {
        fprintf(stderr, "party_libotr: otrl_privkey_generate: %s\n", gcry_strerror(err));
        exit(1);
    }
}

static void generate_instag(const char *account, const char *protocol) {
    FILE *sink = fopen("/dev/null", "w"); /* nothing is saved: the tag lives in `us` only */
    gcry_error_t err;
    if (sink == NULL) {
        exit(1);
    }
    err = otrl_instag_generate_FILEp(us, sink, account, protocol);
    fclose(sink);
    if (err) {
        fprintf(stderr, "party_libotr: otrl_instag_generate: %s\n", gcry_strerror(err));
        exit(1);
    }
}

/* ---- libotr's application callbacks ---------------------------------------------------------- */

static OtrlPolicy op_policy(void *opdata, ConnContext *context) {
    (void)opdata;
    (void)context;
    return policy;
}

static void op_create_privkey(void *opdata, const char *account, const char *protocol) {
    (void)opdata;
    generate_key(account, protocol);
}

static int op_is_logged_in(void *opdata, const char *account, const char *protocol, const char *recipient) {
    (void)opdata;
    (void)account;
    (void)protocol;
    (void)recipient;
    return 1; /* everyone on the relay is online */
}

static void op_inject_message(void *opdata, const char *account, const char *protocol, const char *recipient,
                              const char *message) {
    (void)opdata;
    (void)account;
    (void)protocol;
    send_wire(recipient, message);
}

static void op_update_context_list(void *opdata) {
    (void)opdata;
    report_states();
}

static void op_new_fingerprint(void *opdata, OtrlUserState userstate, const char *account, const char *protocol,
                               const char *username, unsigned char fingerprint[20]) {
    (void)opdata;
    (void)userstate;
    (void)account;
    (void)protocol;
    printf("{\"type\":\"event\",\"peer\":");
    json_str(username);
    printf(",\"code\":21,\"name\":\"new_fingerprint\",\"libotr\":\"new_fingerprint\",\"fingerprint\":");
    json_hex(fingerprint, 20);
    printf("}\n");
    fflush(stdout);
}

static void op_write_fingerprints(void *opdata) {
    (void)opdata; /* nothing is saved: the demo's parties live for one run */
}

static void op_gone_secure(void *opdata, ConnContext *context) {
    (void)opdata;
    (void)context;
    report_states();
}

static void op_gone_insecure(void *opdata, ConnContext *context) {
    (void)opdata;
    (void)context;
    report_states();
}

static void op_still_secure(void *opdata, ConnContext *context, int is_reply) {
    (void)opdata;
    (void)is_reply;
    report_event(context, 18, "handshake_complete", "still_secure");
    report_states();
}

static int op_max_message_size(void *opdata, ConnContext *context) {
    (void)opdata;
    (void)context;
    return max_message_size;
}

static const char *op_account_name(void *opdata, const char *account, const char *protocol) {
    (void)opdata;
    (void)protocol;
    return strdup(account);
}

static void op_account_name_free(void *opdata, const char *account_name) {
    (void)opdata;
    free((char *)account_name);
}

static void op_received_symkey(void *opdata, ConnContext *context, unsigned int use, const unsigned char *usedata,
                               size_t usedatalen, const unsigned char *symkey) {
    (void)opdata;
    printf("{\"type\":\"event\",\"peer\":");
    json_str(context->username);
    printf(",\"code\":19,\"name\":\"extra_key_received\",\"libotr\":\"received_symkey\",\"usage\":%u,\"context\":",
           use);
    json_string((const char *)usedata, usedatalen);
    printf(",\"key\":");
    json_hex(symkey, OTRL_EXTRAKEY_BYTES);
    printf("}\n");
    fflush(stdout);
}

/* Pidgin-OTR's texts: without this callback libotr sends no OTR error messages at all. */
static const char *op_otr_error_message(void *opdata, ConnContext *context, OtrlErrorCode code) {
    char text[512];
    (void)opdata;
    switch (code) {
    case OTRL_ERRCODE_ENCRYPTION_ERROR:
        return strdup("Error occurred encrypting message.");
    case OTRL_ERRCODE_MSG_NOT_IN_PRIVATE:
        if (context == NULL) {
            return NULL;
        }
        snprintf(text, sizeof text, "You sent encrypted data to %s, who wasn't expecting it.", context->accountname);
        return strdup(text);
    case OTRL_ERRCODE_MSG_UNREADABLE:
        return strdup("You transmitted an unreadable encrypted message.");
    case OTRL_ERRCODE_MSG_MALFORMED:
        return strdup("You transmitted a malformed data message.");
    default:
        return NULL;
    }
}

static void op_otr_error_message_free(void *opdata, const char *message) {
    (void)opdata;
    free((char *)message);
}

static const char *op_resent_msg_prefix(void *opdata, ConnContext *context) {
    (void)opdata;
    (void)context;
    return strdup("[resent]");
}

static void op_resent_msg_prefix_free(void *opdata, const char *prefix) {
    (void)opdata;
    free((char *)prefix);
}

/* The context of the SMP request we were asked to answer (`answer PEER SECRET`). */
static ConnContext *smp_request;

static void op_handle_smp_event(void *opdata, OtrlSMPEvent event, ConnContext *context,
                                unsigned short progress_percent, char *question) {
    (void)opdata;
    (void)progress_percent;
    switch (event) {
    case OTRL_SMPEVENT_ASK_FOR_SECRET:
    case OTRL_SMPEVENT_ASK_FOR_ANSWER:
        smp_request = context;
        printf("{\"type\":\"event\",\"peer\":");
        json_str(context->username);
        printf(",\"code\":23,\"name\":\"smp_asked_for_secret\",\"libotr\":\"%s\"",
               event == OTRL_SMPEVENT_ASK_FOR_ANSWER ? "ask_for_answer" : "ask_for_secret");
        if (question != NULL) {
            printf(",\"question\":");
            json_str(question);
        }
        printf("}\n");
        fflush(stdout);
        break;
    case OTRL_SMPEVENT_IN_PROGRESS:
        report_event(context, 24, "smp_in_progress", "in_progress");
        break;
    case OTRL_SMPEVENT_SUCCESS:
        /* libotr marks the key verified only when no question was received: with a question,
         * only the asker learns something (Pidgin then says "your buddy has authenticated you"). */
        if (context->smstate->received_question) {
            report_event(context, 31, "smp_verified_by_peer", "success");
        } else {
            report_event(context, 25, "smp_succeeded", "success");
        }
        break;
    case OTRL_SMPEVENT_FAILURE:
        report_event(context, 26, "smp_failed", "failure");
        break;
    case OTRL_SMPEVENT_ABORT:
        report_event(context, 27, "smp_aborted", "abort");
        break;
    case OTRL_SMPEVENT_CHEATED:
    case OTRL_SMPEVENT_ERROR:
        report_event(context, 28, "smp_cheated", event == OTRL_SMPEVENT_CHEATED ? "cheated" : "error");
        otrl_message_abort_smp(us, &ops, NULL, context); /* as Pidgin-OTR does */
        break;
    case OTRL_SMPEVENT_NONE:
    default:
        break;
    }
    report_states();
}

/* libotr's message events, under the name and code offrec's parties use for the same thing. */
static const struct {
    OtrlMessageEvent event;
    int code;
    const char *name;
    const char *libotr_name;
} msg_events[] = {
    {OTRL_MSGEVENT_ENCRYPTION_REQUIRED, 1, "encryption_required", "encryption_required"},
    {OTRL_MSGEVENT_ENCRYPTION_ERROR, 3, "message_not_sent", "encryption_error"},
    {OTRL_MSGEVENT_CONNECTION_ENDED, 3, "message_not_sent", "connection_ended"},
    {OTRL_MSGEVENT_SETUP_ERROR, 17, "handshake_failed", "setup_error"},
    {OTRL_MSGEVENT_MSG_REFLECTED, 8, "reflected", "msg_reflected"},
    {OTRL_MSGEVENT_MSG_RESENT, 0, "message_resent", "msg_resent"},
    {OTRL_MSGEVENT_RCVDMSG_NOT_IN_PRIVATE, 6, "not_in_private", "rcvdmsg_not_in_private"},
    {OTRL_MSGEVENT_RCVDMSG_UNREADABLE, 4, "unreadable", "rcvdmsg_unreadable"},
    {OTRL_MSGEVENT_RCVDMSG_MALFORMED, 5, "malformed", "rcvdmsg_malformed"},
    {OTRL_MSGEVENT_LOG_HEARTBEAT_RCVD, 13, "heartbeat_received", "log_heartbeat_rcvd"},
    {OTRL_MSGEVENT_LOG_HEARTBEAT_SENT, 14, "heartbeat_sent", "log_heartbeat_sent"},
    {OTRL_MSGEVENT_RCVDMSG_GENERAL_ERR, 11, "peer_error", "rcvdmsg_general_err"},
    {OTRL_MSGEVENT_RCVDMSG_UNENCRYPTED, 9, "unencrypted_while_encrypted", "rcvdmsg_unencrypted"},
    {OTRL_MSGEVENT_RCVDMSG_UNRECOGNIZED, 12, "foreign_protocol", "rcvdmsg_unrecognized"},
    {OTRL_MSGEVENT_RCVDMSG_FOR_OTHER_INSTANCE, 7, "for_other_instance", "rcvdmsg_for_other_instance"},
};

static void op_handle_msg_event(void *opdata, OtrlMessageEvent event, ConnContext *context, const char *message,
                                gcry_error_t err) {
    size_t i;
    (void)opdata;
    for (i = 0; i < sizeof msg_events / sizeof msg_events[0] && msg_events[i].event != event; i++) {
    }
    if (i == sizeof msg_events / sizeof msg_events[0]) {
        return; /* OTRL_MSGEVENT_NONE */
    }
    printf("{\"type\":\"event\",\"peer\":");
    json_str(context != NULL ? context->username : "");
    printf(",\"code\":%d,\"name\":\"%s\",\"libotr\":\"%s\"", msg_events[i].code, msg_events[i].name,
           msg_events[i].libotr_name);
    if (message != NULL) {
        printf(",\"text\":");
        json_str(message);
    }
    if (err) {
        printf(",\"error\":");
        json_str(gcry_strerror(err));
    }
    printf("}\n");
    fflush(stdout);
}

static void op_create_instag(void *opdata, const char *account, const char *protocol) {
    (void)opdata;
    generate_instag(account, protocol);
}

static void op_timer_control(void *opdata, unsigned int interval) {
    (void)opdata;
    timer_interval = interval;
    next_poll = time(NULL) + (time_t)interval;
}

static void ops_init(void) {
    memset(&ops, 0, sizeof ops);
    ops.policy = op_policy;
    ops.create_privkey = op_create_privkey;
    ops.is_logged_in = op_is_logged_in;
    ops.inject_message = op_inject_message;
    ops.update_context_list = op_update_context_list;
    ops.new_fingerprint = op_new_fingerprint;
    ops.write_fingerprints = op_write_fingerprints;
    ops.gone_secure = op_gone_secure;
    ops.gone_insecure = op_gone_insecure;
    ops.still_secure = op_still_secure;
    ops.max_message_size = op_max_message_size;
    ops.account_name = op_account_name;
    ops.account_name_free = op_account_name_free;
    ops.received_symkey = op_received_symkey;
    ops.otr_error_message = op_otr_error_message;
    ops.otr_error_message_free = op_otr_error_message_free;
    ops.resent_msg_prefix = op_resent_msg_prefix;
    ops.resent_msg_prefix_free = op_resent_msg_prefix_free;
    ops.handle_smp_event = op_handle_smp_event;
    ops.handle_msg_event = op_handle_msg_event;
    ops.create_instag = op_create_instag;
    ops.convert_msg = NULL; /* texts are shown as they are, as Pidgin does for plain IMs */
    ops.convert_free = NULL;
    ops.timer_control = op_timer_control;
}

/* ---- receiving ------------------------------------------------------------------------------- */

static void receive(const char *from, const char *text) {
    char *shown = NULL;
    OtrlTLV *tlvs = NULL;
    ConnContext *context = NULL;
    int internal = otrl_message_receiving(us, &ops, NULL, my_name, network, from, text, &shown, &tlvs, &context,
                                          NULL, NULL);
    if (!internal) {
        /* libotr shows a text as encrypted only when it came out of a data message. */
        const char *message = shown != NULL ? shown : text;
        int encrypted = shown != NULL && context != NULL && context->msgstate == OTRL_MSGSTATE_ENCRYPTED &&
                        strncmp(text, "?OTR", 4) == 0;
        printf("{\"type\":\"deliver\",\"peer\":");
        json_str(from);
        printf(",\"text\":");
        json_str(message);
        printf(",\"security\":\"%s\"",
               !encrypted ? "plaintext" : trusted(context) ? "encrypted_verified" : "encrypted_unverified");
        if (encrypted) {
            printf(",\"protocol\":\"%s\"", protocol_name(context));
        }
        printf("}\n");
        fflush(stdout);
    }
    otrl_tlv_free(tlvs);
    otrl_message_free(shown);
    report_states();
}

/* ---- commands -------------------------------------------------------------------------------- */

/* Splits off the next space-separated word of *rest (in place). */
static char *word(char **rest) {
    char *start = *rest, *space;
    if (start == NULL || *start == '\0') {
        return NULL;
    }
    space = strchr(start, ' ');
    if (space != NULL) {
        *space = '\0';
        *rest = space + 1;
    } else {
        *rest = start + strlen(start);
    }
    return start;
}

static void print_fingerprint_fields(void) {
    unsigned char raw[20];
    char human[OTRL_PRIVKEY_FPRINT_HUMAN_LEN];
    if (otrl_privkey_fingerprint_raw(us, raw, my_name, network) == NULL ||
        otrl_privkey_fingerprint(us, human, my_name, network) == NULL) {
        memset(raw, 0, sizeof raw);
        human[0] = '\0';
    }
    printf("\"fingerprint\":");
    json_hex(raw, sizeof raw);
    printf(",\"otr_fingerprint\":");
    json_str(human);
}

/* {"type":"protocol","peer":P,"sessions":[{instance, protocol, strength, state, ssid, ...}]} */
static void print_protocol(const char *peer) {
    ConnContext *c;
    int first = 1;
    printf("{\"type\":\"protocol\",\"peer\":");
    json_str(peer);
    printf(",\"sessions\":[");
    for (c = us->context_root; c != NULL; c = c->next) {
        if (!ours(c) || strcmp(c->username, peer) != 0 || c->msgstate != OTRL_MSGSTATE_ENCRYPTED) {
            continue;
        }
        printf("%s{\"instance\":%u,\"protocol\":\"%s\",\"strength\":\"legacy\",\"state\":\"%s\"",
               first ? "" : ",", (unsigned)c->their_instance, protocol_name(c),
               trusted(c) ? "encrypted_verified" : "encrypted_unverified");
        if (c->active_fingerprint != NULL && c->active_fingerprint->fingerprint != NULL) {
            printf(",\"their_otr_fingerprint\":");
            json_hex(c->active_fingerprint->fingerprint, 20);
        }
        if (c->sessionid_len == 8) {
            printf(",\"otr_ssid\":\"%02x%02x%02x%02x %02x%02x%02x%02x\",\"bold\":\"%s\"", c->sessionid[0],
                   c->sessionid[1], c->sessionid[2], c->sessionid[3], c->sessionid[4], c->sessionid[5],
                   c->sessionid[6], c->sessionid[7],
                   c->sessionid_half == OTRL_SESSIONID_FIRST_HALF_BOLD ? "first" : "second");
        }
        printf("}");
        first = 0;
    }
    printf("]}\n");
}

static int run_command(char *line) {
    char *rest = line;
    char *cmd = word(&rest);
    char *peer;
    ConnContext *c;
    if (cmd == NULL) {
        return 1;
    }
    if (strcmp(cmd, "quit") == 0) {
        return 0;
    }
    if (strcmp(cmd, "tick") == 0) {
        otrl_message_poll(us, &ops, NULL);
    } else if (strcmp(cmd, "fingerprint") == 0) {
        printf("{\"type\":\"fingerprint\",");
        print_fingerprint_fields();
        printf("}\n");
    } else if ((peer = word(&rest)) == NULL) {
        report_error(cmd, "a peer name is needed");
    } else if (strcmp(cmd, "start") == 0) {
        /* Pidgin's "Start private conversation": libotr's query message, injected as is. */
        char *query = otrl_proto_default_query_msg(my_name, policy);
        send_wire(peer, query != NULL ? query : "?OTRv23?");
        free(query);
    } else if (strcmp(cmd, "send") == 0) {
        char *out = NULL;
        gcry_error_t err = otrl_message_sending(us, &ops, NULL, my_name, network, peer, OTRL_INSTAG_BEST, rest, NULL,
                                                &out, OTRL_FRAGMENT_SEND_ALL, NULL, NULL, NULL);
        if (err) {
            report_error(cmd, gcry_strerror(err));
        } else if (out == NULL) {
            send_wire(peer, rest); /* left alone by libotr (plaintext): the application sends it */
        }
        /* Otherwise libotr injected all of it (possibly nothing, when the session is finished). */
        otrl_message_free(out);
    } else if (strcmp(cmd, "smp") == 0) {
        char *secret = word(&rest);
        if (secret == NULL || (c = encrypted_context(peer)) == NULL) {
            report_error(cmd, secret == NULL ? "a secret is needed" : "no encrypted session");
        } else if (*rest != '\0') {
            otrl_message_initiate_smp_q(us, &ops, NULL, c, rest, (const unsigned char *)secret, strlen(secret));
        } else {
            otrl_message_initiate_smp(us, &ops, NULL, c, (const unsigned char *)secret, strlen(secret));
        }
    } else if (strcmp(cmd, "answer") == 0) {
        char *secret = word(&rest);
        if (secret == NULL || smp_request == NULL || strcmp(smp_request->username, peer) != 0) {
            report_error(cmd, secret == NULL ? "a secret is needed" : "no SMP request from this peer");
        } else {
            otrl_message_respond_smp(us, &ops, NULL, smp_request, (const unsigned char *)secret, strlen(secret));
            smp_request = NULL;
        }
    } else if (strcmp(cmd, "abort") == 0) {
        if ((c = encrypted_context(peer)) == NULL) {
            report_error(cmd, "no encrypted session");
        } else {
            otrl_message_abort_smp(us, &ops, NULL, c);
        }
    } else if (strcmp(cmd, "esk") == 0) {
        char *usage = word(&rest);
        unsigned char key[OTRL_EXTRAKEY_BYTES];
        gcry_error_t err;
        if (usage == NULL || (c = encrypted_context(peer)) == NULL) {
            report_error(cmd, usage == NULL ? "a usage number is needed" : "no encrypted session");
        } else {
            unsigned long u = strtoul(usage, NULL, 10);
            err = otrl_message_symkey(us, &ops, NULL, c, (unsigned int)u, (const unsigned char *)rest, strlen(rest),
                                      key);
            if (err) {
                report_error(cmd, gcry_strerror(err));
            } else {
                printf("{\"type\":\"esk\",\"peer\":");
                json_str(peer);
                printf(",\"usage\":%lu,\"key\":", u);
                json_hex(key, sizeof key);
                printf("}\n");
            }
        }
    } else if (strcmp(cmd, "end") == 0) {
        /* Pidgin's "End private conversation" (every instance of the buddy). */
        otrl_message_disconnect_all_instances(us, &ops, NULL, my_name, network, peer);
    } else if (strcmp(cmd, "protocol") == 0) {
        print_protocol(peer);
    } else {
        report_error(cmd, "unknown command");
    }
    fflush(stdout);
    report_states();
    return 1;
}

/* ---- the loop -------------------------------------------------------------------------------- */

struct line_buffer {
    char *data;
    size_t len;
};

/* Feeds complete lines from `fd` to `handle`; keeps the partial tail. */
static int read_lines(int fd, struct line_buffer *b, int (*handle)(char *line)) {
    ssize_t n;
    char *start, *nl;
    if (b->len >= LINE_CAP - 1) {
        fprintf(stderr, "party_libotr: line too long; dropped\n");
        b->len = 0;
    }
    n = read(fd, b->data + b->len, LINE_CAP - 1 - b->len);
    if (n < 0 && errno == EINTR) {
        return 1;
    }
    if (n <= 0) {
        return 0;
    }
    b->len += (size_t)n;
    start = b->data;
    while ((nl = memchr(start, '\n', b->len - (size_t)(start - b->data))) != NULL) {
        *nl = '\0';
        if (nl > start && nl[-1] == '\r') {
            nl[-1] = '\0';
        }
        if (!handle(start)) {
            return 0;
        }
        start = nl + 1;
    }
    b->len -= (size_t)(start - b->data);
    memmove(b->data, start, b->len);
    return 1;
}

static void print_ready(void) {
    printf("{\"type\":\"ready\",\"name\":");
    json_str(my_name);
    printf(",");
    print_fingerprint_fields();
    printf(",\"libotr\":\"%s\"}\n", otrl_version());
    fflush(stdout);
}

static int relay_line(char *line) {
    char *rest = line;
    char *cmd = word(&rest);
    char *from = word(&rest);
    if (cmd != NULL && from != NULL && strcmp(cmd, "FROM") == 0) {
        receive(from, rest);
    }
    return 1;
}

/* One line from the IRC server: registration, PING, and private messages to us. */
static int irc_line(char *line) {
    char *rest = line, *prefix = NULL, *command, *target, *bang;
    if (*rest == ':') {
        prefix = word(&rest) + 1;
    }
    command = word(&rest);
    if (command == NULL) {
        return 1;
    }
    if (strcmp(command, "PING") == 0) {
        write_relay("PONG ", 5);
        write_relay(rest, strlen(rest));
        write_relay("\r\n", 2);
    } else if (strcmp(command, "001") == 0 && !irc_registered) {
        irc_registered = 1;
        write_relay("JOIN #offrec\r\n", 14);
        print_ready();
    } else if (strcmp(command, "433") == 0) {
        fprintf(stderr, "party_libotr: the nickname %s is taken\n", my_name);
        exit(1);
    } else if (strcmp(command, "PRIVMSG") == 0 && prefix != NULL) {
        target = word(&rest);
        if (target == NULL || strcmp(target, my_name) != 0 || *rest != ':') {
            return 1; /* channel chatter, not for us */
        }
        bang = strchr(prefix, '!');
        if (bang != NULL) {
            *bang = '\0';
        }
        receive(prefix, rest + 1);
    }
    return 1;
}

static int connect_relay(const char *hostport) {
    char host[256];
    const char *colon = strrchr(hostport, ':');
    struct addrinfo hints, *res, *ai;
    int fd = -1;
    if (colon == NULL || (size_t)(colon - hostport) >= sizeof host) {
        return -1;
    }
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = '\0';
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0) {
        return -1;
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            break;
        }
        if (fd >= 0) {
            close(fd);
        }
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static OtrlPolicy policy_named(const char *name) {
    if (strcmp(name, "never") == 0) return OTRL_POLICY_NEVER;
    if (strcmp(name, "opportunistic") == 0) return OTRL_POLICY_OPPORTUNISTIC;
    if (strcmp(name, "always") == 0) return OTRL_POLICY_ALWAYS;
    return OTRL_POLICY_MANUAL;
}

int main(int argc, char **argv) {
    const char *relay_addr = NULL, *name = NULL;
    struct line_buffer in = {NULL, 0}, net = {NULL, 0};
    char hello[600];
    int i, running = 1;

    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--relay") == 0) relay_addr = argv[i + 1];
        else if (strcmp(argv[i], "--irc") == 0) { relay_addr = argv[i + 1]; irc_mode = 1; max_message_size = 380; }
        else if (strcmp(argv[i], "--name") == 0) name = argv[i + 1];
        else if (strcmp(argv[i], "--policy") == 0) policy = policy_named(argv[i + 1]);
        else if (strcmp(argv[i], "--max-message-size") == 0) max_message_size = atoi(argv[i + 1]);
    }
    if (relay_addr == NULL || name == NULL || strlen(name) > 200) {
        fprintf(stderr, "usage: party_libotr (--relay|--irc) HOST:PORT --name NAME [--policy manual] "
                        "[--max-message-size N]\n");
        return 2;
    }
    snprintf(my_name, sizeof my_name, "%s", name);
    network = irc_mode ? "irc" : "relay";

    OTRL_INIT;
    us = otrl_userstate_create();
    ops_init();
    generate_key(my_name, network); /* before connecting: the key takes a moment */
    generate_instag(my_name, network);

    relay = connect_relay(relay_addr);
    if (relay < 0) {
        fprintf(stderr, "party_libotr: cannot connect to %s\n", relay_addr);
        return 1;
    }
    if (irc_mode) {
        snprintf(hello, sizeof hello, "NICK %s\r\nUSER %s 0 * :offrec party (libotr)\r\n", name, name);
    } else {
        snprintf(hello, sizeof hello, "HELLO %s\n", name);
    }
    write_relay(hello, strlen(hello));
    if (!irc_mode) {
        print_ready(); /* on IRC: after the server's welcome */
    }

    in.data = malloc(LINE_CAP);
    net.data = malloc(LINE_CAP);
    if (in.data == NULL || net.data == NULL) {
        return 1;
    }
    while (running) {
        struct pollfd fds[2] = {{0, POLLIN, 0}, {relay, POLLIN, 0}};
        if (poll(fds, 2, 1000) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (fds[1].revents & (POLLIN | POLLHUP)) {
            running = read_lines(relay, &net, irc_mode ? irc_line : relay_line);
        }
        if (running && (fds[0].revents & (POLLIN | POLLHUP))) {
            running = read_lines(0, &in, run_command);
        }
        if (timer_interval > 0 && time(NULL) >= next_poll) {
            next_poll = time(NULL) + (time_t)timer_interval;
            otrl_message_poll(us, &ops, NULL); /* wipes stale keys (forward secrecy) */
            report_states();
        }
    }
    otrl_userstate_free(us);
    free(in.data);
    free(net.data);
    close(relay);
    return 0;
}
