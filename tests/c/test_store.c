/*
 * Persistence from C: a client saved to bytes and to a directory comes back with its identity;
 * its stored sessions are restarted with a new handshake, never resumed, so no message key is
 * used twice and no replay or forgery is accepted (issue #13 item 1); the PERSIST_NEEDED event
 * says when to save; every bad input gives its own result code. Prints
 * "test_store: N passed, N failed"; exits non-zero on failure.
 */
#define _POSIX_C_SOURCE 200809L /* mkfifo, symlink */
#include "harness.h"

#include <sys/stat.h>
#include <unistd.h>

/* PERSIST_NEEDED events seen (any party), with the OR of their `reason` bitmasks, and the
 * `reason` of the latest one. */
static int persist_events;
static uint32_t persist_what;
static uint32_t persist_last;
static int persist_bad_fields;

static void cb_event_persist(void *ud, const offrec_event *e) {
    if (e->code == OFFREC_EVENT_CODE_PERSIST_NEEDED) {
        persist_events++;
        persist_what |= e->reason;
        persist_last = e->reason;
        if (e->peer_len != 0 || e->instance != 0 || e->reason == 0) {
            persist_bad_fields++;
        }
    }
    cb_event(ud, e);
}

static offrec_callbacks party_callbacks(void) {
    offrec_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.send = cb_send;
    cb.deliver = cb_deliver;
    cb.state_changed = cb_state;
    cb.event = cb_event_persist;
    cb.now = cb_now;
    return cb;
}

static void converse(struct party *a, struct party *b, const char *text) {
    uint64_t id = 0;
    int before = b->delivered_count;
    CHECK_RC(offrec_client_send(a->client, b->name, strlen(b->name), text, strlen(text), &id), OFFREC_RESULT_OK);
    pump_all();
    CHECK(b->delivered_count == before + 1);
    CHECK(b->delivered_count > 0 && strcmp(b->delivered[b->delivered_count - 1], text) == 0);
}

static void test_bytes_round_trip(void) {
    struct party *alice = party_new("alice", OFFREC_POLICY_MANUAL, 0);
    struct party *bob = party_new("bob", OFFREC_POLICY_MANUAL, 0);
    offrec_callbacks cb = party_callbacks();
    offrec_buffer sealed = {NULL, 0};
    offrec_buffer other = {NULL, 0};
    uint8_t key[32], wrong[32], fp_before[32], fp_after[32];
    offrec_client *restored = NULL;
    offrec_client *sentinel = (offrec_client *)&restored;
    offrec_client *out = sentinel;
    size_t n = 0;

    memset(key, 7, sizeof key);
    memset(wrong, 8, sizeof wrong);
    CHECK_RC(offrec_client_start_session(alice->client, S("bob")), OFFREC_RESULT_OK);
    pump_all();
    converse(alice, bob, "before the restart");
    CHECK_RC(offrec_client_fingerprint(alice->client, fp_before), OFFREC_RESULT_OK);

    CHECK_RC(offrec_client_save(alice->client, key, NULL, 0, &sealed), OFFREC_RESULT_OK);
    CHECK(sealed.data != NULL && sealed.len > 100);
    /* Exactly one of key and passphrase. */
    CHECK_RC(offrec_client_save(alice->client, NULL, NULL, 0, &other), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_save(alice->client, key, S("pw"), &other), OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_client_save(alice->client, NULL, "", 0, &other), OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_client_save(NULL, key, NULL, 0, &other), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_save(alice->client, key, NULL, 0, NULL), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK(other.data == NULL);

    /* Bad loads: each names its problem and writes nothing. */
    CHECK_RC(offrec_client_load(sealed.data, sealed.len, S("alice"), wrong, NULL, 0, OFFREC_POLICY_MANUAL, &cb, alice, &out),
             OFFREC_RESULT_STORE_WRONG_KEY);
    CHECK_RC(offrec_client_load(sealed.data, sealed.len, S("alice"), NULL, S("pw"), OFFREC_POLICY_MANUAL, &cb, alice, &out),
             OFFREC_RESULT_STORE_WRONG_KEY);
    CHECK_RC(offrec_client_load(sealed.data, sealed.len / 2, S("alice"), key, NULL, 0, OFFREC_POLICY_MANUAL, &cb, alice, &out),
             OFFREC_RESULT_STORE_CORRUPTED);
    CHECK_RC(offrec_client_load((const uint8_t *)"garbage!", 8, S("alice"), key, NULL, 0, OFFREC_POLICY_MANUAL, &cb, alice, &out),
             OFFREC_RESULT_STORE_CORRUPTED);
    sealed.data[sealed.len - 1] ^= 1;
    CHECK_RC(offrec_client_load(sealed.data, sealed.len, S("alice"), key, NULL, 0, OFFREC_POLICY_MANUAL, &cb, alice, &out),
             OFFREC_RESULT_STORE_CORRUPTED);
    sealed.data[sealed.len - 1] ^= 1;
    sealed.data[9] ^= 0x40; /* a future format version */
    CHECK_RC(offrec_client_load(sealed.data, sealed.len, S("alice"), key, NULL, 0, OFFREC_POLICY_MANUAL, &cb, alice, &out),
             OFFREC_RESULT_STORE_UNSUPPORTED_VERSION);
    sealed.data[9] ^= 0x40;
    CHECK_RC(offrec_client_load(NULL, 5, S("alice"), key, NULL, 0, OFFREC_POLICY_MANUAL, &cb, alice, &out), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_load(sealed.data, sealed.len, S("alice"), key, NULL, 0, 1u << 9, &cb, alice, &out),
             OFFREC_RESULT_INVALID_POLICY);
    CHECK_RC(offrec_client_load(sealed.data, sealed.len, S("alice"), key, NULL, 0, OFFREC_POLICY_MANUAL, NULL, alice, &out),
             OFFREC_RESULT_NULL_ARGUMENT);
    CHECK(out == sentinel);

    /* The restart: the old client goes, the restored one takes its place. */
    CHECK_RC(offrec_client_load(sealed.data, sealed.len, S("alice"), key, NULL, 0, OFFREC_POLICY_MANUAL, &cb, alice, &restored),
             OFFREC_RESULT_OK);
    offrec_client_free(alice->client);
    alice->client = restored;
    CHECK_RC(offrec_client_fingerprint(alice->client, fp_after), OFFREC_RESULT_OK);
    CHECK(memcmp(fp_before, fp_after, 32) == 0);
    CHECK_RC(offrec_client_session_count(alice->client, S("bob"), &n), OFFREC_RESULT_OK);
    CHECK(n == 1);
    /* The stored session is listed but restarted, never resumed: not shown as encrypted. */
    CHECK(state_of(alice, bob) == OFFREC_SESSION_STATE_PLAINTEXT);
    converse(alice, bob, "after the restart"); /* held, sent on the new session */
    CHECK(party_has_event(alice, OFFREC_EVENT_CODE_ENCRYPTION_REQUIRED));
    CHECK(party_has_event(alice, OFFREC_EVENT_CODE_HELD_MESSAGE_SENT));
    CHECK(state_of(alice, bob) == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED);
    converse(bob, alice, "welcome back");

    offrec_buffer_free(&sealed);
    CHECK(sealed.data == NULL && sealed.len == 0);
    party_free_all();
}

static void test_directory_store(void) {
    struct party *alice = party_new("alice", OFFREC_POLICY_MANUAL, 0);
    struct party *bob = party_new("bob", OFFREC_POLICY_MANUAL, 0);
    offrec_callbacks cb = party_callbacks();
    offrec_client *restored = NULL;
    char dir[128], file[192];
    struct stat st;

    snprintf(dir, sizeof dir, "/tmp/offrec-c-store-%ld", (long)getpid());
    snprintf(file, sizeof file, "%s/offrec.store", dir);
    CHECK_RC(offrec_client_load_from_dir(dir, strlen(dir), S("alice"), NULL, S("a passphrase"), OFFREC_POLICY_MANUAL, &cb, alice,
                                         &restored),
             OFFREC_RESULT_STORE_NOT_FOUND);
    CHECK_RC(offrec_client_start_session(alice->client, S("bob")), OFFREC_RESULT_OK);
    pump_all();
    CHECK_RC(offrec_client_save_to_dir(alice->client, dir, strlen(dir), NULL, S("a passphrase")), OFFREC_RESULT_OK);
    CHECK(stat(file, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
    CHECK_RC(offrec_client_save_to_dir(alice->client, "", 0, NULL, S("pw")), OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_client_save_to_dir(alice->client, NULL, 3, NULL, S("pw")), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_load_from_dir(dir, strlen(dir), S("alice"), NULL, S("not it"), OFFREC_POLICY_MANUAL, &cb, alice,
                                         &restored),
             OFFREC_RESULT_STORE_WRONG_KEY);
    CHECK(restored == NULL);
    CHECK_RC(offrec_client_load_from_dir(dir, strlen(dir), S("alice"), NULL, S("a passphrase"), OFFREC_POLICY_MANUAL, &cb, alice,
                                         &restored),
             OFFREC_RESULT_OK);
    offrec_client_free(alice->client);
    alice->client = restored;
    CHECK(state_of(alice, bob) == OFFREC_SESSION_STATE_PLAINTEXT);
    converse(alice, bob, "saved in a directory");
    converse(bob, alice, "and restarted");
    unlink(file);
    rmdir(dir);
    party_free_all();
}

/* --- issue #13 item 1 ------------------------------------------------------------------------ */

static int b64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* The (ratchet key, message number) of a data message's header (PROTOCOL.md), as 36 bytes;
 * 0 if `text` is not an unfragmented data message. */
static int data_key_and_number(const char *text, uint8_t out[36]) {
    uint8_t bin[64];
    size_t n = 0, i;
    uint32_t acc = 0;
    int bits = 0;
    if (strncmp(text, "?OFR:", 5) != 0) {
        return 0;
    }
    for (i = 5; text[i] != '\0' && text[i] != '.' && n < sizeof bin; i++) {
        int v = b64_value(text[i]);
        if (v < 0) {
            break; /* '=' padding */
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            bin[n++] = (uint8_t)(acc >> bits);
        }
    }
    /* version(2) type(1) sender(4) receiver(4) flags(1) ratchet key(32) PN(4) N(4) */
    if (n < 52 || bin[2] != 0x03) {
        return 0;
    }
    memcpy(out, bin + 12, 32);
    memcpy(out + 32, bin + 48, 4);
    return 1;
}

/* No two data messages `p` ever sent share a (ratchet key, N): no key+nonce used twice. */
static void check_no_key_reuse(struct party *p) {
    uint8_t ids[MAX_LOG][36];
    int count = 0, i, j, reused = 0;
    for (i = 0; i < p->sent_count; i++) {
        if (data_key_and_number(p->sent[i], ids[count])) {
            count++;
        }
    }
    for (i = 0; i < count; i++) {
        for (j = i + 1; j < count; j++) {
            if (memcmp(ids[i], ids[j], 36) == 0) {
                reused++;
            }
        }
    }
    CHECK(count >= 2);
    CHECK(reused == 0);
}

static offrec_client *load_or_die(const offrec_buffer *sealed, const uint8_t key[32], struct party *p) {
    offrec_callbacks cb = party_callbacks();
    offrec_client *c = NULL;
    CHECK_RC(offrec_client_load(sealed->data, sealed->len, p->name, strlen(p->name), key, NULL, 0, OFFREC_POLICY_MANUAL, &cb, p, &c),
             OFFREC_RESULT_OK);
    if (c == NULL) {
        abort();
    }
    return c;
}

static void test_restored_sender_never_reuses_a_key(void) {
    struct party *alice = party_new("alice", OFFREC_POLICY_MANUAL, 0);
    struct party *bob = party_new("bob", OFFREC_POLICY_MANUAL, 0);
    offrec_buffer sealed = {NULL, 0};
    uint8_t key[32];
    uint64_t id = 0;
    int sent_before;

    memset(key, 3, sizeof key);
    CHECK_RC(offrec_client_start_session(alice->client, S("bob")), OFFREC_RESULT_OK);
    pump_all();
    CHECK_RC(offrec_client_save(alice->client, key, NULL, 0, &sealed), OFFREC_RESULT_OK);
    converse(alice, bob, "first, after the save");
    /* kill -9: everything after the save is gone */
    offrec_client_free(alice->client);
    alice->client = load_or_die(&sealed, key, alice);
    sent_before = alice->sent_count;
    CHECK_RC(offrec_client_send(alice->client, S("bob"), S("second, after the load"), &id), OFFREC_RESULT_OK);
    /* Nothing went out on the stored chain: only a query for a new session (the preset offers
     * OTR v2/v3 as well, so OTR's query comes first). */
    CHECK(alice->sent_count == sent_before + 1 &&
          strncmp(alice->sent[sent_before], "?OTRv23? ?OFRv1?", 16) == 0);
    CHECK(party_has_event(alice, OFFREC_EVENT_CODE_ENCRYPTION_REQUIRED));
    CHECK_RC(offrec_client_smp_start(alice->client, S("bob"), 0, (const uint8_t *)"secret", 6, NULL, 0),
             OFFREC_RESULT_NO_SESSION);
    pump_all();
    CHECK(party_has_event(alice, OFFREC_EVENT_CODE_HELD_MESSAGE_SENT));
    CHECK(bob->delivered_count == 2 && strcmp(bob->delivered[1], "second, after the load") == 0);
    check_no_key_reuse(alice);
    offrec_buffer_free(&sealed);
    party_free_all();
}

/* Issue #13 item 6: a store of another account is refused; the account can be read back. */
static void test_wrong_account_and_account_getter(void) {
    struct party *alice = party_new("alice", OFFREC_POLICY_MANUAL, 0);
    offrec_callbacks cb = party_callbacks();
    offrec_buffer sealed = {NULL, 0};
    offrec_client *sentinel = (offrec_client *)&sealed;
    offrec_client *out = sentinel;
    uint8_t key[32];
    char name[OFFREC_MAX_NAME_LEN + 1];
    size_t n = 0;

    memset(key, 3, sizeof key);
    CHECK_RC(offrec_client_save(alice->client, key, NULL, 0, &sealed), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_load(sealed.data, sealed.len, S("mallory"), key, NULL, 0, OFFREC_POLICY_MANUAL, &cb, alice, &out),
             OFFREC_RESULT_STORE_WRONG_ACCOUNT);
    CHECK(out == sentinel);
    CHECK_RC(offrec_client_load(sealed.data, sealed.len, NULL, 5, key, NULL, 0, OFFREC_POLICY_MANUAL, &cb, alice, &out),
             OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_load(sealed.data, sealed.len, "", 0, key, NULL, 0, OFFREC_POLICY_MANUAL, &cb, alice, &out),
             OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK(out == sentinel);
    CHECK(strcmp(offrec_result_message(OFFREC_RESULT_STORE_WRONG_ACCOUNT), "the store belongs to another account") == 0);
    CHECK_RC(offrec_client_load(sealed.data, sealed.len, S("alice"), key, NULL, 0, OFFREC_POLICY_MANUAL, &cb, alice, &out),
             OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_account(out, name, sizeof name, &n), OFFREC_RESULT_OK);
    CHECK(n == 6 && strcmp(name, "alice") == 0);
    /* Buffer rules as the other text getters. */
    CHECK_RC(offrec_client_account(out, name, 3, &n), OFFREC_RESULT_BUFFER_TOO_SMALL);
    CHECK(n == 6);
    CHECK_RC(offrec_client_account(out, NULL, 0, &n), OFFREC_RESULT_BUFFER_TOO_SMALL);
    CHECK_RC(offrec_client_account(out, name, sizeof name, NULL), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_account(NULL, name, sizeof name, &n), OFFREC_RESULT_NULL_ARGUMENT);
    offrec_client_free(out);
    offrec_buffer_free(&sealed);
    party_free_all();
}

static void test_restored_receiver_rejects_replay_and_forgery(void) {
    struct party *alice = party_new("alice", OFFREC_POLICY_MANUAL, 0);
    struct party *bob = party_new("bob", OFFREC_POLICY_MANUAL, 0);
    offrec_buffer sealed = {NULL, 0};
    offrec_buffer forged = {NULL, 0};
    uint8_t key[32];
    const char *later[1];
    size_t later_lens[1];
    char *pay;
    int i, pay_index = -1, reply_index = -1;

    memset(key, 4, sizeof key);
    CHECK_RC(offrec_client_start_session(alice->client, S("bob")), OFFREC_RESULT_OK);
    pump_all();
    CHECK_RC(offrec_client_save(bob->client, key, NULL, 0, &sealed), OFFREC_RESULT_OK);
    converse(alice, bob, "pay 10 EUR");
    converse(bob, alice, "ok"); /* its header reveals the key of "pay 10 EUR" */
    for (i = 0; i < alice->sent_count; i++) {
        if (strncmp(alice->sent[i], "?OFR:", 5) == 0) {
            pay_index = i; /* the last data message alice sent */
        }
    }
    for (i = 0; i < bob->sent_count; i++) {
        if (strncmp(bob->sent[i], "?OFR:", 5) == 0) {
            reply_index = i;
        }
    }
    CHECK(pay_index >= 0 && reply_index >= 0);
    if (pay_index < 0 || reply_index < 0) {
        party_free_all();
        offrec_buffer_free(&sealed);
        return;
    }
    pay = alice->sent[pay_index];
    later[0] = bob->sent[reply_index];
    later_lens[0] = strlen(later[0]);
    CHECK_RC(offrec_forge(pay, strlen(pay), later, later_lens, 1, (const uint8_t *)"pay 10 EUR", 10,
                          (const uint8_t *)"pay 99 EUR", 10, &forged),
             OFFREC_RESULT_OK);

    offrec_client_free(bob->client);
    bob->client = load_or_die(&sealed, key, bob);
    CHECK_RC(offrec_client_receive(bob->client, S("alice"), pay, strlen(pay)), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_receive(bob->client, S("alice"), (const char *)forged.data, forged.len), OFFREC_RESULT_OK);
    CHECK(bob->delivered_count == 1); /* neither the replay nor the forgery */
    CHECK(party_has_event(bob, OFFREC_EVENT_CODE_NOT_IN_PRIVATE));
    pump_all(); /* bob asked for a new session */
    CHECK(state_of(bob, alice) == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED);
    converse(alice, bob, "after the restart");
    CHECK_RC(offrec_client_receive(bob->client, S("alice"), (const char *)forged.data, forged.len), OFFREC_RESULT_OK);
    pump_all();
    CHECK(bob->delivered_count == 2);
    offrec_buffer_free(&forged);
    offrec_buffer_free(&sealed);
    party_free_all();
}

/* Issue #19: the policy given to a load is the restored client's policy. */
static void test_load_applies_its_policy(void) {
    struct party *alice = party_new("alice", OFFREC_POLICY_MANUAL, 0);
    struct party *bob = party_new("bob", OFFREC_POLICY_MANUAL, 0);
    offrec_callbacks cb = party_callbacks();
    offrec_buffer sealed = {NULL, 0};
    offrec_client *restored = NULL;
    uint8_t key[32];
    uint64_t id = 0;
    int before;

    memset(key, 4, sizeof key);
    CHECK_RC(offrec_client_save(alice->client, key, NULL, 0, &sealed), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_load(sealed.data, sealed.len, S("alice"), key, NULL, 0, OFFREC_POLICY_ALWAYS, &cb, alice, &restored),
             OFFREC_RESULT_OK);
    offrec_client_free(alice->client);
    alice->client = restored;
    /* ALWAYS: no plaintext reaches bob; the message waits for the session and then goes
     * encrypted. With the saved MANUAL policy it would have gone out in the clear. */
    before = bob->delivered_count;
    CHECK_RC(offrec_client_send(alice->client, S("bob"), S("secret words"), &id), OFFREC_RESULT_OK);
    pump_all();
    CHECK(bob->delivered_count == before + 1);
    CHECK(bob->delivered_count > 0 && strcmp(bob->delivered[bob->delivered_count - 1], "secret words") == 0);
    CHECK(state_of(alice, bob) == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED);
    CHECK(bob->delivered_count > 0 && bob->delivered_security[bob->delivered_count - 1] == OFFREC_SECURITY_ENCRYPTED_UNVERIFIED);
    offrec_buffer_free(&sealed);
    party_free_all();
}

static void reset_persist(void) {
    persist_events = 0;
    persist_what = 0;
    persist_last = 0;
}

/* PERSIST_NEEDED is reported once until saved: a call reports only a kind of change not made
 * since the last successful save, with every kind unsaved since. */
static void test_persist_needed_event(void) {
    struct party *alice;
    struct party *bob;
    offrec_callbacks cb = party_callbacks();
    uint8_t fp[32];
    uint8_t key[32];
    uint64_t id = 0;
    char dir[128], blocker[192];
    const uint32_t sent = OFFREC_PERSIST_FLAG_SENT_LOG | OFFREC_PERSIST_FLAG_OTHER;

    memset(key, 8, sizeof key);
    alice = party_new("alice", OFFREC_POLICY_MANUAL, 0);
    bob = party_new("bob", OFFREC_POLICY_MANUAL, 0);
    /* party_new installs the harness callbacks; use ours (with the persist recorder). */
    offrec_client_free(alice->client);
    offrec_client_free(bob->client);
    CHECK_RC(offrec_client_new(S("alice"), S("testnet"), OFFREC_POLICY_MANUAL, &cb, alice, &alice->client),
             OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_new(S("bob"), S("testnet"), OFFREC_POLICY_MANUAL, &cb, bob, &bob->client),
             OFFREC_RESULT_OK);
    reset_persist();
    persist_bad_fields = 0;
    CHECK_RC(offrec_client_start_session(alice->client, S("bob")), OFFREC_RESULT_OK);
    CHECK(persist_events == 0); /* a query changes nothing stored */
    pump_all();
    CHECK(persist_events >= 2); /* each side installed a session */
    CHECK((persist_what & OFFREC_PERSIST_FLAG_SESSIONS) != 0 && (persist_what & OFFREC_PERSIST_FLAG_TRUST) != 0);

    /* Saved: the first send reports what it changed. */
    save_now(alice);
    reset_persist();
    CHECK_RC(offrec_client_send(alice->client, S("bob"), S("hi"), &id), OFFREC_RESULT_OK);
    CHECK(persist_events == 1 && persist_last == sent);
    pump_all();
    /* Not saved since: a second send reports nothing (bob's receive stores nothing either). */
    reset_persist();
    CHECK_RC(offrec_client_send(alice->client, S("bob"), S("again"), &id), OFFREC_RESULT_OK);
    pump_all();
    CHECK(persist_events == 0);
    /* A new kind while the send is unsaved: one event naming both. */
    CHECK_RC(offrec_client_fingerprint(bob->client, fp), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_set_trust(alice->client, S("bob"), fp, OFFREC_TRUST_VERIFIED_MANUAL), OFFREC_RESULT_OK);
    CHECK(persist_events == 1 && persist_last == (sent | OFFREC_PERSIST_FLAG_TRUST));

    /* A failed save (the store file's place is a directory) leaves the notice pending: the
     * next send still reports nothing. */
    snprintf(dir, sizeof dir, "/tmp/offrec-c-persist-%ld", (long)getpid());
    snprintf(blocker, sizeof blocker, "%s/offrec.store", dir);
    CHECK(mkdir(dir, 0700) == 0 && mkdir(blocker, 0700) == 0);
    CHECK(offrec_client_save_to_dir(alice->client, dir, strlen(dir), key, NULL, 0) != OFFREC_RESULT_OK);
    reset_persist();
    CHECK_RC(offrec_client_send(alice->client, S("bob"), S("after a failed save"), &id), OFFREC_RESULT_OK);
    pump_all();
    CHECK(persist_events == 0);
    /* A successful save to the directory: the next send reports again. */
    CHECK(rmdir(blocker) == 0);
    CHECK_RC(offrec_client_save_to_dir(alice->client, dir, strlen(dir), key, NULL, 0), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_send(alice->client, S("bob"), S("after a save"), &id), OFFREC_RESULT_OK);
    CHECK(persist_events == 1 && persist_last == sent);
    pump_all();
    CHECK(unlink(blocker) == 0 && rmdir(dir) == 0);
    CHECK(persist_bad_fields == 0);
    party_free_all();
}

/* Issue #13 item 6: a load never creates the directory, and reads only a regular file. */
static void test_load_is_read_only_and_reads_only_files(void) {
    struct party *alice = party_new("alice", OFFREC_POLICY_MANUAL, 0);
    offrec_callbacks cb = party_callbacks();
    offrec_client *out = NULL;
    char dir[128], file[192], temp[192];
    uint8_t key[32];
    struct stat st;

    memset(key, 5, sizeof key);
    snprintf(dir, sizeof dir, "/tmp/offrec-c-readonly-%ld", (long)getpid());
    snprintf(file, sizeof file, "%s/offrec.store", dir);
    snprintf(temp, sizeof temp, "%s/.offrec.store.00112233aabbccdd.tmp", dir);
    CHECK_RC(offrec_client_load_from_dir(dir, strlen(dir), S("alice"), key, NULL, 0, OFFREC_POLICY_MANUAL, &cb, alice, &out),
             OFFREC_RESULT_STORE_NOT_FOUND);
    CHECK(stat(dir, &st) != 0); /* not created */
    CHECK(mkdir(dir, 0700) == 0);
    CHECK(mkfifo(file, 0600) == 0);
    CHECK_RC(offrec_client_load_from_dir(dir, strlen(dir), S("alice"), key, NULL, 0, OFFREC_POLICY_MANUAL, &cb, alice, &out),
             OFFREC_RESULT_STORE_NOT_A_FILE);
    unlink(file);
    CHECK(symlink("/dev/zero", file) == 0);
    CHECK_RC(offrec_client_load_from_dir(dir, strlen(dir), S("alice"), key, NULL, 0, OFFREC_POLICY_MANUAL, &cb, alice, &out),
             OFFREC_RESULT_STORE_NOT_A_FILE);
    unlink(file);
    CHECK(out == NULL);
    /* A wrong-key load leaves another saver's temporary file alone. */
    CHECK_RC(offrec_client_save_to_dir(alice->client, dir, strlen(dir), key, NULL, 0), OFFREC_RESULT_OK);
    {
        FILE *f = fopen(temp, "w");
        CHECK(f != NULL);
        if (f) fclose(f);
    }
    key[0] ^= 1;
    CHECK_RC(offrec_client_load_from_dir(dir, strlen(dir), S("alice"), key, NULL, 0, OFFREC_POLICY_MANUAL, &cb, alice, &out),
             OFFREC_RESULT_STORE_WRONG_KEY);
    CHECK(stat(temp, &st) == 0);
    unlink(temp);
    unlink(file);
    rmdir(dir);
    party_free_all();
}

int main(void) {
    test_bytes_round_trip();
    test_directory_store();
    test_restored_sender_never_reuses_a_key();
    test_restored_receiver_rejects_replay_and_forgery();
    test_persist_needed_event();
    test_wrong_account_and_account_getter();
    test_load_applies_its_policy();
    test_load_is_read_only_and_reads_only_files();
    printf("test_store: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
