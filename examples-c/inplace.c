/*
 * inplace: the two ways to wire offrec into a chat program, side by side in one process.
 *
 *   alice  the callback style (as hello.c): offrec calls `send` to put wire text on the
 *          transport and `deliver` to show a message.
 *   bob    the in-place style of Pidgin's sending/receiving hooks, irssi signals and weechat
 *          modifiers: the program's own hooks see every outgoing and incoming line and rewrite
 *          it. offrec_client_send_inplace turns the line the user typed into the wire lines
 *          to send instead; offrec_client_receive_inplace turns a received line into the text
 *          to show, or says to hide it.
 *
 * Which output goes where, for bob:
 *   - send_inplace:    the wire messages of that call come back (not through `send`);
 *                      events still arrive through `event`, during the call.
 *   - receive_inplace: the text to show comes back (not through `deliver`); protocol replies
 *                      (handshake, heartbeats, SMP) still go out through `send`, and events
 *                      through `event`, during the call.
 * So an in-place program still gives `send` (its transport) and `event` (its UI notices); its
 * `deliver` is only a fallback (a line that carries two texts, which does not happen today).
 *
 * Exits non-zero on any unexpected result.  Build: see `make examples`.
 */
#include "offrec.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S(lit) (lit), (sizeof(lit) - 1)

/* --- a toy transport: one FIFO of lines between the two --------------------------------- */
struct line {
    struct line *next;
    int to; /* 0 = alice, 1 = bob */
    size_t len;
    char text[];
};
static struct line *head, *tail;

static void transport_put(int to, const char *text, size_t len) {
    struct line *l = malloc(sizeof *l + len + 1);
    if (l == NULL) {
        exit(1);
    }
    l->next = NULL;
    l->to = to;
    l->len = len;
    memcpy(l->text, text, len);
    l->text[len] = '\0';
    if (tail) {
        tail->next = l;
    } else {
        head = l;
    }
    tail = l;
}

static offrec_client *alice, *bob;
static int alice_shown, bob_shown, bob_hidden;

static void die(const char *what, offrec_result rc) {
    fprintf(stderr, "inplace: %s: %s\n", what, offrec_result_message(rc));
    exit(1);
}

/* --- alice: the callback style ---------------------------------------------------------- */
static void alice_send(void *ud, const char *peer, size_t peer_len, const char *text, size_t len) {
    (void)ud;
    (void)peer;
    (void)peer_len;
    transport_put(1, text, len);
}

static void alice_deliver(void *ud, const char *peer, size_t peer_len, uint32_t instance,
                          const uint8_t *text, size_t len, offrec_security security) {
    (void)ud;
    (void)instance;
    printf("alice shows  <%.*s> %.*s%s\n", (int)peer_len, peer, (int)len, (const char *)text,
           security == OFFREC_SECURITY_PLAINTEXT ? "" : "   [encrypted]");
    alice_shown++;
}

/* --- bob: the in-place style -------------------------------------------------------------- */

/* Protocol replies made while bob receives (handshake answers) still come through `send`. */
static void bob_send(void *ud, const char *peer, size_t peer_len, const char *text, size_t len) {
    (void)ud;
    (void)peer;
    (void)peer_len;
    transport_put(0, text, len);
}

/* Not called for the lines bob's hook receives in place (see the header comment). */
static void bob_deliver(void *ud, const char *peer, size_t peer_len, uint32_t instance,
                        const uint8_t *text, size_t len, offrec_security security) {
    (void)ud;
    (void)instance;
    (void)security;
    printf("bob (deliver) <%.*s> %.*s\n", (int)peer_len, peer, (int)len, (const char *)text);
}

static void bob_event(void *ud, const offrec_event *e) {
    (void)ud;
    if (e->code == OFFREC_EVENT_CODE_HANDSHAKE_COMPLETE) {
        printf("bob notice:  encrypted session with %.*s\n", (int)e->peer_len, e->peer);
    }
}

/* The program's "sending" hook: the user typed `line` for `peer`; it goes out as the wire
 * lines offrec hands back (an IRC client would replace the PRIVMSG text with the first and
 * send the others after it). */
static void bob_outgoing_hook(const char *peer, const char *line) {
    offrec_wire_messages wire;
    uint64_t id;
    size_t i;
    offrec_result rc = offrec_client_send_inplace(bob, peer, strlen(peer), line, strlen(line), &wire, &id);
    if (rc != OFFREC_RESULT_OK) {
        die("send_inplace", rc);
    }
    for (i = 0; i < wire.count; i++) {
        transport_put(0, (const char *)wire.messages[i].data, wire.messages[i].len);
    }
    offrec_wire_messages_free(&wire);
}

/* The program's "receiving" hook: `line` arrived from `peer`; returns whether to hide it, or
 * shows the text offrec hands back in its place. */
static bool bob_incoming_hook(const char *peer, const char *line, size_t len) {
    offrec_incoming in;
    offrec_result rc = offrec_client_receive_inplace(bob, peer, strlen(peer), line, len, &in);
    if (rc != OFFREC_RESULT_OK) {
        die("receive_inplace", rc);
    }
    if (in.ignore) {
        bob_hidden++;
        return true;
    }
    printf("bob shows    <%s> %.*s%s\n", peer, (int)in.text.len, (const char *)in.text.data,
           in.security == OFFREC_SECURITY_PLAINTEXT ? "" : "   [encrypted]");
    bob_shown++;
    offrec_buffer_free(&in.text); /* wipes the plaintext */
    return false;
}

/* Runs the transport until it is quiet. */
static void run(void) {
    struct line *l;
    while ((l = head) != NULL) {
        head = l->next;
        if (head == NULL) {
            tail = NULL;
        }
        if (l->to == 1) {
            (void)bob_incoming_hook("alice", l->text, l->len);
        } else {
            offrec_result rc = offrec_client_receive(alice, S("bob"), l->text, l->len);
            if (rc != OFFREC_RESULT_OK) {
                die("receive", rc);
            }
        }
        free(l);
    }
}

int main(void) {
    offrec_callbacks a, b;
    offrec_result rc;
    uint64_t id;

    memset(&a, 0, sizeof a);
    a.send = alice_send;
    a.deliver = alice_deliver;
    memset(&b, 0, sizeof b);
    b.send = bob_send;
    b.deliver = bob_deliver;
    b.event = bob_event;
    if ((rc = offrec_client_new(S("alice"), S("toy-net"), OFFREC_POLICY_MANUAL, &a, NULL, &alice)) !=
            OFFREC_RESULT_OK ||
        (rc = offrec_client_new(S("bob"), S("toy-net"), OFFREC_POLICY_MANUAL, &b, NULL, &bob)) !=
            OFFREC_RESULT_OK) {
        die("offrec_client_new", rc);
    }

    /* In the clear first: bob's hook passes the line through unchanged. */
    bob_outgoing_hook("alice", "hi alice (in the clear)");
    run();
    /* Alice asks for a session; bob's receiving hook hides the handshake lines and his answers
     * go out through `send`. */
    if ((rc = offrec_client_start_session(alice, S("bob"))) != OFFREC_RESULT_OK) {
        die("start_session", rc);
    }
    run();
    bob_outgoing_hook("alice", "now this is private");
    if ((rc = offrec_client_send(alice, S("bob"), S("and so is this"), &id)) != OFFREC_RESULT_OK) {
        die("send", rc);
    }
    run();

    offrec_client_free(alice);
    offrec_client_free(bob);
    if (alice_shown != 2 || bob_shown != 1 || bob_hidden < 2) {
        fprintf(stderr, "inplace: unexpected outcome (alice showed %d, bob showed %d, hid %d)\n",
                alice_shown, bob_shown, bob_hidden);
        return 1;
    }
    printf("inplace: ok (bob hid %d protocol lines)\n", bob_hidden);
    return 0;
}
