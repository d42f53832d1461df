/*
 * hello: two offrec clients in one process, wired through an in-memory queue. Alice starts an
 * encrypted session, they exchange messages, and both print their state and fingerprints.
 * Exits non-zero on any unexpected result.  Build: see `make examples`.
 */
#include "offrec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S(lit) (lit), (sizeof(lit) - 1)

struct msg {
    struct msg *next;
    int to; /* 0 = alice, 1 = bob */
    size_t len;
    char text[];
};

static struct msg *head, *tail;
static offrec_client *clients[2];
static const char *names[2] = {"alice", "bob"};
static int delivered;

static void die(const char *what, offrec_result rc) {
    fprintf(stderr, "hello: %s: %s\n", what, offrec_result_message(rc));
    exit(1);
}

static void on_send(void *ud, const char *peer, size_t peer_len, const char *text, size_t len) {
    struct msg *m = malloc(sizeof *m + len + 1);
    (void)ud;
    if (m == NULL) {
        exit(1);
    }
    m->next = NULL;
    m->to = (peer_len == 3 && memcmp(peer, "bob", 3) == 0) ? 1 : 0;
    m->len = len;
    memcpy(m->text, text, len + 1);
    if (tail) {
        tail->next = m;
    } else {
        head = m;
    }
    tail = m;
}

static void on_deliver(void *ud, const char *peer, size_t peer_len, uint32_t instance,
                       const uint8_t *text, size_t len, offrec_security security) {
    (void)instance;
    printf("%s <- %.*s: \"%.*s\" (%s)\n", (const char *)ud, (int)peer_len, peer, (int)len,
           (const char *)text, security == OFFREC_SECURITY_PLAINTEXT ? "plaintext" : "encrypted");
    delivered++;
}

static void run(void) {
    struct msg *m;
    while ((m = head) != NULL) {
        offrec_result rc;
        head = m->next;
        if (head == NULL) {
            tail = NULL;
        }
        rc = offrec_client_receive(clients[m->to], names[1 - m->to], strlen(names[1 - m->to]),
                                   m->text, m->len);
        free(m);
        if (rc != OFFREC_RESULT_OK) {
            die("receive", rc);
        }
    }
}

static void show(int who) {
    uint8_t fp[32];
    char text[OFFREC_FINGERPRINT_TEXT_SIZE];
    size_t len;
    offrec_session_state state;
    offrec_result rc;
    const char *peer = names[1 - who];
    static const char *state_names[] = {"plaintext", "encrypted (unverified)",
                                        "encrypted (verified)", "finished"};
    if ((rc = offrec_client_fingerprint(clients[who], fp)) != OFFREC_RESULT_OK ||
        (rc = offrec_fingerprint_format(fp, text, sizeof text, &len)) != OFFREC_RESULT_OK ||
        (rc = offrec_client_session_state(clients[who], peer, strlen(peer), &state)) !=
            OFFREC_RESULT_OK) {
        die("show", rc);
    }
    printf("%-5s fingerprint %s, session with %s: %s\n", names[who], text, peer,
           state < 4 ? state_names[state] : "?");
}

int main(void) {
    offrec_callbacks cb;
    uint64_t id;
    offrec_result rc;
    offrec_session_state state;
    int i;

    printf("offrec %s\n", offrec_version());
    memset(&cb, 0, sizeof cb);
    cb.send = on_send;
    cb.deliver = on_deliver;
    for (i = 0; i < 2; i++) {
        rc = offrec_client_new(names[i], strlen(names[i]), S("hello-net"), OFFREC_POLICY_MANUAL, &cb,
                               (void *)names[i], &clients[i]);
        if (rc != OFFREC_RESULT_OK) {
            die("offrec_client_new", rc);
        }
    }
    if ((rc = offrec_client_start_session(clients[0], S("bob"))) != OFFREC_RESULT_OK) {
        die("start_session", rc);
    }
    run();
    show(0);
    show(1);
    if ((rc = offrec_client_send(clients[0], S("bob"), S("Hello Bob, this is private."), &id)) !=
            OFFREC_RESULT_OK ||
        (rc = offrec_client_send(clients[1], S("alice"), S("Hi Alice, loud and clear."), &id)) !=
            OFFREC_RESULT_OK) {
        die("send", rc);
    }
    run();
    if ((rc = offrec_client_session_state(clients[1], S("alice"), &state)) != OFFREC_RESULT_OK) {
        die("session_state", rc);
    }
    for (i = 0; i < 2; i++) {
        offrec_client_free(clients[i]);
    }
    if (delivered != 2 || state != OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED) {
        fprintf(stderr, "hello: unexpected outcome (delivered %d, state %u)\n", delivered,
                (unsigned)state);
        return 1;
    }
    printf("hello: ok\n");
    return 0;
}
