/*
 * Persistence from C: a client saved to bytes and to a directory comes back with its live
 * session (no new handshake), and every bad input gives its own result code. Prints
 * "test_store: N passed, N failed"; exits non-zero on failure.
 */
#define _POSIX_C_SOURCE 200809L /* mkfifo, symlink */
#include "harness.h"

#include <sys/stat.h>
#include <unistd.h>

static offrec_callbacks party_callbacks(void) {
    offrec_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.send = cb_send;
    cb.deliver = cb_deliver;
    cb.state_changed = cb_state;
    cb.event = cb_event;
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
    CHECK(state_of(alice, bob) == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED);
    converse(alice, bob, "after the restart");
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
    converse(bob, alice, "saved in a directory");
    unlink(file);
    rmdir(dir);
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
    test_wrong_account_and_account_getter();
    test_load_applies_its_policy();
    test_load_is_read_only_and_reads_only_files();
    printf("test_store: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
