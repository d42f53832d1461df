/*
 * party: one offrec client on the example relay, scripted over stdin, reporting JSON lines on
 * stdout (tests/cross/PARTY_PROTOCOL.md). The C member of the cross-language tests and of
 * `make demo`; the Python and Go parties behave identically.
 *
 *   party (--relay HOST:PORT | --irc HOST:PORT) --name NAME [--policy manual] [--max-message-size N]
 *
 * On the relay a wire text goes out as "TO peer text"; on IRC as "PRIVMSG peer :text" (the
 * party is a real IRC client: NICK/USER, waits for 001, answers PING, joins #offrec).
 * Single-threaded: poll() on stdin and the relay socket; callbacks run inside the calls.
 */
#define _POSIX_C_SOURCE 200809L
#include "offrec.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { LINE_CAP = 512 * 1024 };

static int relay = -1;
static int irc_mode;
static int irc_registered;
static char my_name[256];
static offrec_client *client;
static size_t max_message_size;

static const char *const event_names[] = {
    "", "encryption_required", "held_message_sent", "message_not_sent", "unreadable", "malformed",
    "not_in_private", "for_other_instance", "reflected", "unencrypted_while_encrypted",
    "unencrypted_while_required", "peer_error", "foreign_protocol", "heartbeat_received",
    "heartbeat_sent", "peer_ended_session", "session_expired", "handshake_failed",
    "handshake_complete", "extra_key_received", "peer_could_not_read", "new_fingerprint",
    "fingerprint_changed", "smp_asked_for_secret", "smp_in_progress", "smp_succeeded", "smp_failed",
    "smp_aborted", "smp_cheated", "event_29", "persist_needed", "smp_verified_by_peer",
    "key_consent_required", "input_dropped", "legacy_session_started", "protocol_upgraded",
    "downgrade_suspected", "downgrade_detected", "legacy_with_modern_peer", "otr_key_linked",
};

static const char *protocol_name(uint32_t protocol) {
    switch (protocol) {
    case OFFREC_PROTOCOL_MODERN_V1: return "modern_v1";
    case OFFREC_PROTOCOL_OTR_V3: return "otr_v3";
    case OFFREC_PROTOCOL_OTR_V2: return "otr_v2";
    default: return "?";
    }
}

static const char *strength_name(uint32_t strength) {
    return strength == OFFREC_STRENGTH_STRONG ? "strong" : strength == OFFREC_STRENGTH_LEGACY ? "legacy" : "?";
}

static const char *state_names[] = {"plaintext", "encrypted_unverified", "encrypted_verified", "finished"};

/* Writes `s` (n bytes) as a JSON string. */
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

static void json_hex(const uint8_t *b, size_t n) {
    size_t i;
    putchar('"');
    for (i = 0; i < n; i++) {
        printf("%02x", b[i]);
    }
    putchar('"');
}

static void write_relay(const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(relay, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            perror("party: relay write");
            exit(1);
        }
        p += w;
        n -= (size_t)w;
    }
}

static void on_send(void *ud, const char *peer, size_t peer_len, const char *text, size_t len) {
    (void)ud;
    write_relay(irc_mode ? "PRIVMSG " : "TO ", irc_mode ? 8 : 3);
    write_relay(peer, peer_len);
    write_relay(irc_mode ? " :" : " ", irc_mode ? 2 : 1);
    write_relay(text, len);
    write_relay(irc_mode ? "\r\n" : "\n", irc_mode ? 2 : 1);
    printf("{\"type\":\"sent\",\"peer\":");
    json_string(peer, peer_len);
    printf(",\"bytes\":%zu}\n", len);
    fflush(stdout);
}


/* The protocol of our session with `peer`'s `instance` (callbacks may call the library). */
static int session_protocol(const char *peer, size_t peer_len, uint32_t instance, offrec_session_protocol *out) {
    size_t n = 0, i;
    if (offrec_client_session_count(client, peer, peer_len, &n) != OFFREC_RESULT_OK) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (offrec_client_session_protocol(client, peer, peer_len, i, out) == OFFREC_RESULT_OK &&
            out->instance == instance) {
            return 1;
        }
    }
    return 0;
}

static void on_deliver(void *ud, const char *peer, size_t peer_len, uint32_t instance, const uint8_t *text,
                       size_t len, offrec_security security) {
    offrec_session_protocol sp;
    (void)ud;
    printf("{\"type\":\"deliver\",\"peer\":");
    json_string(peer, peer_len);
    printf(",\"text\":");
    json_string((const char *)text, len);
    printf(",\"security\":\"%s\"", security <= 2 ? state_names[security] : "?");
    if (security != OFFREC_SECURITY_PLAINTEXT && session_protocol(peer, peer_len, instance, &sp)) {
        printf(",\"protocol\":\"%s\"", protocol_name(sp.protocol));
    }
    printf("}\n");
    fflush(stdout);
}

static void on_state(void *ud, const char *peer, size_t peer_len, uint32_t instance, offrec_session_state state) {
    offrec_session_protocol sp;
    (void)ud;
    printf("{\"type\":\"state\",\"peer\":");
    json_string(peer, peer_len);
    printf(",\"state\":\"%s\"", state <= 3 ? state_names[state] : "?");
    if ((state == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED || state == OFFREC_SESSION_STATE_ENCRYPTED_VERIFIED) &&
        session_protocol(peer, peer_len, instance, &sp)) {
        printf(",\"protocol\":\"%s\",\"strength\":\"%s\"", protocol_name(sp.protocol), strength_name(sp.strength));
    }
    printf("}\n");
    fflush(stdout);
}

/* {"type":"protocol","peer":P,"sessions":[{instance, protocol, strength, OTR details}]} */
static offrec_result print_protocol(const char *peer) {
    size_t n = 0, i;
    offrec_session_protocol sp;
    offrec_result rc = offrec_client_session_count(client, peer, strlen(peer), &n);
    if (rc != OFFREC_RESULT_OK) {
        return rc;
    }
    printf("{\"type\":\"protocol\",\"peer\":");
    json_string(peer, strlen(peer));
    printf(",\"sessions\":[");
    for (i = 0; i < n; i++) {
        rc = offrec_client_session_protocol(client, peer, strlen(peer), i, &sp);
        if (rc != OFFREC_RESULT_OK) {
            break;
        }
        printf("%s{\"instance\":%u,\"protocol\":\"%s\",\"strength\":\"%s\"", i ? "," : "", sp.instance,
               protocol_name(sp.protocol), strength_name(sp.strength));
        if (sp.has_otr_fingerprint) {
            printf(",\"their_otr_fingerprint\":");
            json_hex(sp.their_otr_fingerprint, 20);
            printf(",\"otr_ssid\":\"%02x%02x%02x%02x %02x%02x%02x%02x\",\"bold\":\"%s\"", sp.otr_ssid[0],
                   sp.otr_ssid[1], sp.otr_ssid[2], sp.otr_ssid[3], sp.otr_ssid[4], sp.otr_ssid[5], sp.otr_ssid[6],
                   sp.otr_ssid[7], sp.otr_ssid_first_half_bold ? "first" : "second");
        }
        printf("}");
    }
    printf("]}\n");
    return rc;
}

static void on_event(void *ud, const offrec_event *e) {
    (void)ud;
    printf("{\"type\":\"event\",\"peer\":");
    json_string(e->peer, e->peer_len);
    printf(",\"code\":%u,\"name\":\"%s\"", e->code,
           e->code < sizeof event_names / sizeof event_names[0] ? event_names[e->code] : "unknown");
    if (e->code == OFFREC_EVENT_CODE_SMP_ASKED_FOR_SECRET && e->text != NULL) {
        printf(",\"question\":");
        json_string(e->text, e->text_len);
    }
    if (e->code == OFFREC_EVENT_CODE_LEGACY_SESSION_STARTED) {
        printf(",\"protocol\":\"%s\"", protocol_name(e->reason));
    }
    if (e->code == OFFREC_EVENT_CODE_EXTRA_KEY_RECEIVED && e->key != NULL) {
        printf(",\"usage\":%u,\"key\":", e->usage);
        json_hex(e->key, 32);
    }
    printf("}\n");
    fflush(stdout);
}

static size_t on_max_size(void *ud, const char *peer, size_t peer_len) {
    (void)ud;
    (void)peer;
    (void)peer_len;
    return max_message_size;
}

static void report_error(const char *command, offrec_result rc) {
    printf("{\"type\":\"error\",\"command\":\"%s\",\"code\":%u,\"message\":", command, (unsigned)rc);
    json_string(offrec_result_message(rc), strlen(offrec_result_message(rc)));
    printf("}\n");
    fflush(stdout);
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

static uint32_t policy_named(const char *name) {
    if (strcmp(name, "never") == 0) return OFFREC_POLICY_NEVER;
    if (strcmp(name, "opportunistic") == 0) return OFFREC_POLICY_OPPORTUNISTIC;
    if (strcmp(name, "always") == 0) return OFFREC_POLICY_ALWAYS;
    return OFFREC_POLICY_MANUAL;
}

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

static int run_command(char *line) {
    char *rest = line;
    char *cmd = word(&rest);
    char *peer;
    offrec_result rc = OFFREC_RESULT_OK;
    if (cmd == NULL) {
        return 1;
    }
    if (strcmp(cmd, "quit") == 0) {
        return 0;
    }
    if (strcmp(cmd, "tick") == 0) {
        rc = offrec_client_tick(client);
    } else if (strcmp(cmd, "fingerprint") == 0) {
        uint8_t fp[32];
        rc = offrec_client_fingerprint(client, fp);
        if (rc == OFFREC_RESULT_OK) {
            printf("{\"type\":\"fingerprint\",\"fingerprint\":");
            json_hex(fp, 32);
            printf("}\n");
        }
    } else if ((peer = word(&rest)) == NULL) {
        rc = OFFREC_RESULT_INVALID_ARGUMENT;
    } else if (strcmp(cmd, "start") == 0) {
        rc = offrec_client_start_session(client, peer, strlen(peer));
    } else if (strcmp(cmd, "send") == 0) {
        uint64_t id;
        rc = offrec_client_send(client, peer, strlen(peer), rest, strlen(rest), &id);
    } else if (strcmp(cmd, "smp") == 0 || strcmp(cmd, "answer") == 0) {
        char *secret = word(&rest);
        if (secret == NULL) {
            rc = OFFREC_RESULT_INVALID_ARGUMENT;
        } else if (cmd[0] == 's') {
            rc = offrec_client_smp_start(client, peer, strlen(peer), 0, (const uint8_t *)secret, strlen(secret),
                                         *rest ? rest : NULL, strlen(rest));
        } else {
            rc = offrec_client_smp_respond(client, peer, strlen(peer), 0, (const uint8_t *)secret, strlen(secret));
        }
    } else if (strcmp(cmd, "abort") == 0) {
        rc = offrec_client_smp_abort(client, peer, strlen(peer), 0);
    } else if (strcmp(cmd, "esk") == 0) {
        char *usage = word(&rest);
        uint8_t key[32];
        if (usage == NULL) {
            rc = OFFREC_RESULT_INVALID_ARGUMENT;
        } else {
            unsigned long u = strtoul(usage, NULL, 10);
            rc = offrec_client_extra_symmetric_key(client, peer, strlen(peer), 0, (uint32_t)u, (const uint8_t *)rest,
                                                   strlen(rest), key);
            if (rc == OFFREC_RESULT_OK) {
                printf("{\"type\":\"esk\",\"peer\":");
                json_string(peer, strlen(peer));
                printf(",\"usage\":%lu,\"key\":", u);
                json_hex(key, 32);
                printf("}\n");
            }
        }
    } else if (strcmp(cmd, "end") == 0) {
        rc = offrec_client_end_session(client, peer, strlen(peer), 0);
    } else if (strcmp(cmd, "protocol") == 0) {
        rc = print_protocol(peer);
    } else {
        rc = OFFREC_RESULT_INVALID_ARGUMENT;
    }
    if (rc != OFFREC_RESULT_OK) {
        report_error(cmd, rc);
    }
    fflush(stdout);
    return 1;
}

/* Feeds complete lines from a buffer to `handle`; keeps the partial tail. */
struct line_buffer {
    char *data;
    size_t len;
};

static int read_lines(int fd, struct line_buffer *b, int (*handle)(char *line)) {
    ssize_t n;
    char *start, *nl;
    if (b->len >= LINE_CAP - 1) {
        fprintf(stderr, "party: line too long; dropped\n");
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
    uint8_t fp[32];
    offrec_client_fingerprint(client, fp);
    printf("{\"type\":\"ready\",\"name\":");
    json_string(my_name, strlen(my_name));
    printf(",\"fingerprint\":");
    json_hex(fp, 32);
    printf("}\n");
    fflush(stdout);
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
        fprintf(stderr, "party: the nickname %s is taken\n", my_name);
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
        rest++;
        offrec_client_receive(client, prefix, strlen(prefix), rest, strlen(rest));
    }
    return 1;
}

static int relay_line(char *line) {
    char *rest = line;
    char *cmd = word(&rest);
    char *from = word(&rest);
    if (cmd == NULL || from == NULL || strcmp(cmd, "FROM") != 0) {
        return 1;
    }
    if (offrec_client_receive(client, from, strlen(from), rest, strlen(rest)) != OFFREC_RESULT_OK) {
        report_error("receive", OFFREC_RESULT_INVALID_ARGUMENT);
    }
    return 1;
}

int main(int argc, char **argv) {
    const char *relay_addr = NULL, *name = NULL, *policy = "manual";
    offrec_callbacks cb;
    struct line_buffer in = {NULL, 0}, net = {NULL, 0};
    char hello[600];
    int i, running = 1;

    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--relay") == 0) relay_addr = argv[i + 1];
        else if (strcmp(argv[i], "--irc") == 0) { relay_addr = argv[i + 1]; irc_mode = 1; max_message_size = 380; }
        else if (strcmp(argv[i], "--name") == 0) name = argv[i + 1];
        else if (strcmp(argv[i], "--policy") == 0) policy = argv[i + 1];
        else if (strcmp(argv[i], "--max-message-size") == 0) max_message_size = strtoul(argv[i + 1], NULL, 10);
    }
    if (relay_addr == NULL || name == NULL || strlen(name) > 200) {
        fprintf(stderr, "usage: party (--relay|--irc) HOST:PORT --name NAME [--policy manual] [--max-message-size N]\n");
        return 2;
    }
    relay = connect_relay(relay_addr);
    if (relay < 0) {
        fprintf(stderr, "party: cannot connect to the relay at %s\n", relay_addr);
        return 1;
    }
    snprintf(my_name, sizeof my_name, "%s", name);
    if (irc_mode) {
        snprintf(hello, sizeof hello, "NICK %s\r\nUSER %s 0 * :offrec party\r\n", name, name);
    } else {
        snprintf(hello, sizeof hello, "HELLO %s\n", name);
    }
    write_relay(hello, strlen(hello));

    memset(&cb, 0, sizeof cb);
    cb.send = on_send;
    cb.deliver = on_deliver;
    cb.state_changed = on_state;
    cb.event = on_event;
    cb.max_message_size = on_max_size;
    if (offrec_client_new(name, strlen(name), irc_mode ? "irc" : "relay", irc_mode ? 3 : 5, policy_named(policy), &cb,
                          NULL, &client) != OFFREC_RESULT_OK) {
        fprintf(stderr, "party: cannot create the client\n");
        return 1;
    }
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
    }
    offrec_client_free(client);
    free(in.data);
    free(net.data);
    close(relay);
    return 0;
}
