/*
 * Moving from libotr and back through the C API (MIGRATING.md): import of libotr's own files
 * (tests/migrate/fixtures, written by libotr 4.1.1), export and re-import, the argument checks,
 * and refusals that leave the client and every output untouched. The proof against libotr
 * itself (libotr loading what offrec writes, AKEs with the moved keys) is the interop harness's
 * M1-M3 (tests/interop/sc_migrate.c).
 */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"

#include <sys/stat.h>
#include <unistd.h>

#define FIXTURES "tests/migrate/fixtures/"
/* otrl_privkey_fingerprint_raw of the fixture's alice@example.org key. */
static const uint8_t ALICE_FP[20] = {0x98, 0x2D, 0xEA, 0xE9, 0xCE, 0x05, 0xDE, 0x82, 0xBD, 0x90,
                                     0x01, 0x50, 0xE6, 0x03, 0x1B, 0x4C, 0x2F, 0xE5, 0x68, 0xC4};

static char dir[64];

static const char *tmp_path(const char *name) {
    static char paths[8][128];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, sizeof paths[0], "%s/%s", dir, name);
    return p;
}

static offrec_result import_key(struct party *p, const char *path, const char *account, const char *protocol,
                                bool replace, uint8_t *fp) {
    return offrec_client_import_otr_key(p->client, path, strlen(path), OFFREC_OTR_FILE_FORMAT_LIBOTR, account,
                                        account ? strlen(account) : 0, protocol, protocol ? strlen(protocol) : 0,
                                        replace, fp);
}

static void write_file(const char *path, const char *text, size_t len) {
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(text, 1, len, f) != len) abort();
    fclose(f);
}

static uint8_t *key_id(const char *hex40, uint8_t id[32]) {
    memcpy(id, "otr-dsa-sha1", 12);
    for (int i = 0; i < 20; i++) {
        unsigned v;
        if (sscanf(hex40 + 2 * i, "%2x", &v) != 1) abort();
        id[12 + i] = (uint8_t)v;
    }
    return id;
}

/* libotr's files in: the named account's key, libotr's fingerprint, the trust mapping. */
static void test_import_libotr_files(void) {
    struct party *p = party_new("mover", OFFREC_POLICY_MANUAL, 0);
    uint8_t fp[20], now[20], untouched[20];
    memset(untouched, 0xee, sizeof untouched);
    memcpy(fp, untouched, sizeof fp);
    /* "mover" on "testnet" is not in the file. */
    CHECK_RC(import_key(p, FIXTURES "otr.private_key", NULL, NULL, false, fp), OFFREC_RESULT_IMPORT_NO_ACCOUNT);
    CHECK(memcmp(fp, untouched, 20) == 0);
    CHECK_RC(offrec_client_otr_fingerprint(p->client, now), OFFREC_RESULT_NO_OTR_KEY);
    int persist = p->persist_events;
    CHECK_RC(import_key(p, FIXTURES "otr.private_key", "alice@example.org", "prpl-jabber", false, fp),
             OFFREC_RESULT_OK);
    CHECK(memcmp(fp, ALICE_FP, 20) == 0);
    CHECK(p->persist_events == persist + 1);
    CHECK_RC(offrec_client_otr_fingerprint(p->client, now), OFFREC_RESULT_OK);
    CHECK(memcmp(now, ALICE_FP, 20) == 0);
    /* The other account's key: refused without replace, the key stays. */
    memcpy(fp, untouched, sizeof fp);
    CHECK_RC(import_key(p, FIXTURES "otr.private_key", "bob", "IRC", false, fp), OFFREC_RESULT_IMPORT_KEY_EXISTS);
    CHECK(memcmp(fp, untouched, 20) == 0);
    CHECK_RC(offrec_client_otr_fingerprint(p->client, now), OFFREC_RESULT_OK);
    CHECK(memcmp(now, ALICE_FP, 20) == 0);
    /* The same key again: fine, fingerprint NULL allowed. */
    CHECK_RC(import_key(p, FIXTURES "otr.private_key", "alice@example.org", "xmpp", false, NULL), OFFREC_RESULT_OK);

    size_t n = 99;
    CHECK_RC(offrec_client_import_otr_fingerprints(p->client, S(FIXTURES "otr.fingerprints"),
                                                   OFFREC_OTR_FILE_FORMAT_LIBOTR, S("alice@example.org"),
                                                   S("prpl-jabber"), &n),
             OFFREC_RESULT_OK);
    CHECK(n == 5);
    uint8_t id[32];
    offrec_trust t = 99;
    CHECK_RC(offrec_client_trust(p->client, S("dave@example.org"),
                                 key_id("a022222222222222222222222222222222222278", id), &t),
             OFFREC_RESULT_OK);
    CHECK(t == OFFREC_TRUST_VERIFIED_SMP);
    CHECK_RC(offrec_client_trust(p->client, S("erin@example.org"),
                                 key_id("a033333333333333333333333333333333333369", id), &t),
             OFFREC_RESULT_OK);
    CHECK(t == OFFREC_TRUST_VERIFIED_MANUAL);
    CHECK_RC(offrec_client_trust(p->client, S("frank@example.org"),
                                 key_id("a04444444444444444444444444444444444441e", id), &t),
             OFFREC_RESULT_OK);
    CHECK(t == OFFREC_TRUST_VERIFIED_MANUAL); /* irssi-otr's "manual" */
    CHECK_RC(offrec_client_import_otr_fingerprints(p->client, S(FIXTURES "otr.fingerprints"),
                                                   OFFREC_OTR_FILE_FORMAT_LIBOTR, NULL, 0, NULL, 0, NULL),
             OFFREC_RESULT_IMPORT_NO_ACCOUNT);

    uint32_t tag = 0;
    CHECK_RC(offrec_client_import_otr_instance_tag(p->client, S(FIXTURES "otr.instance_tags"), S("bob"), S("IRC"),
                                                   &tag),
             OFFREC_RESULT_OK);
    uint32_t have = 0;
    CHECK_RC(offrec_client_instance_tag(p->client, &have), OFFREC_RESULT_OK);
    CHECK(tag == 0xe2e480be && have == tag);
}

/* Export, then import into another client: the same key and trust; files 0600; NO_OTR_KEY. */
static void test_export_round_trip(void) {
    struct party *a = party_new("exporter", OFFREC_POLICY_MANUAL, 0);
    struct party *b = party_new("importer", OFFREC_POLICY_MANUAL, 0);
    const char *key = tmp_path("otr.private_key");
    const char *fps = tmp_path("otr.fingerprints");
    const char *key3 = tmp_path("exporter.key3");
    CHECK_RC(offrec_client_export_otr_key(a->client, key, strlen(key), OFFREC_OTR_FILE_FORMAT_LIBOTR, NULL, 0, NULL, 0),
             OFFREC_RESULT_NO_OTR_KEY);
    CHECK(access(key, F_OK) != 0);
    uint8_t fp[20], fp2[20], id[32];
    CHECK_RC(offrec_client_generate_otr_key(a->client, fp), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_set_trust(a->client, S("carol"), key_id("0102030405060708090a0b0c0d0e0f1011121314", id),
                                     OFFREC_TRUST_VERIFIED_SMP),
             OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_export_otr_key(a->client, key, strlen(key), OFFREC_OTR_FILE_FORMAT_LIBOTR, NULL, 0, NULL, 0),
             OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_export_otr_key(a->client, key3, strlen(key3), OFFREC_OTR_FILE_FORMAT_POTR, NULL, 0, NULL, 0),
             OFFREC_RESULT_OK);
    size_t written = 0;
    CHECK_RC(offrec_client_export_otr_fingerprints(a->client, fps, strlen(fps), OFFREC_OTR_FILE_FORMAT_LIBOTR, NULL, 0,
                                                   NULL, 0, &written),
             OFFREC_RESULT_OK);
    CHECK(written == 1);
    struct stat st;
    CHECK(stat(key, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(stat(key3, &st) == 0 && (st.st_mode & 0777) == 0600);

    /* The file names "exporter" on "prpl-testnet": the importer names that account. */
    CHECK_RC(import_key(b, key, "exporter", "prpl-testnet", false, fp2), OFFREC_RESULT_OK);
    CHECK(memcmp(fp, fp2, 20) == 0);
    CHECK_RC(offrec_client_import_otr_key(b->client, key3, strlen(key3), OFFREC_OTR_FILE_FORMAT_POTR, NULL, 0, NULL, 0,
                                          false, fp2),
             OFFREC_RESULT_OK);
    CHECK(memcmp(fp, fp2, 20) == 0);
    size_t n = 0;
    CHECK_RC(offrec_client_import_otr_fingerprints(b->client, fps, strlen(fps), OFFREC_OTR_FILE_FORMAT_LIBOTR,
                                                   S("exporter"), S("prpl-testnet"), &n),
             OFFREC_RESULT_OK);
    offrec_trust t = 99;
    CHECK_RC(offrec_client_trust(b->client, S("carol"), id, &t), OFFREC_RESULT_OK);
    CHECK(n == 1 && t == OFFREC_TRUST_VERIFIED_SMP);
    unlink(key);
    unlink(fps);
    unlink(key3);
}

/* Bad arguments and hostile files: clear codes, nothing changes, outputs untouched. */
static void test_refusals(void) {
    struct party *p = party_new("refuser", OFFREC_POLICY_MANUAL, 0);
    uint8_t fp[20], untouched[20];
    memset(untouched, 0xee, sizeof untouched);
    memcpy(fp, untouched, sizeof fp);
    const char *path = FIXTURES "otr.private_key";
    CHECK_RC(offrec_client_import_otr_key(NULL, path, strlen(path), 1, NULL, 0, NULL, 0, false, fp),
             OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_import_otr_key(p->client, NULL, 5, 1, NULL, 0, NULL, 0, false, fp),
             OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_import_otr_key(p->client, path, 0, 1, NULL, 0, NULL, 0, false, fp),
             OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_client_import_otr_key(p->client, "a\0b", 3, 1, NULL, 0, NULL, 0, false, fp),
             OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_client_import_otr_key(p->client, path, strlen(path), 3, NULL, 0, NULL, 0, false, fp),
             OFFREC_RESULT_UNKNOWN_ENUM_VALUE);
    CHECK_RC(offrec_client_import_otr_key(p->client, path, strlen(path), 1, NULL, 4, NULL, 0, false, fp),
             OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_import_otr_key(p->client, path, strlen(path), 1, "", 0, NULL, 0, false, fp),
             OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_client_import_otr_key(p->client, path, strlen(path), 1, "\xff", 1, NULL, 0, false, fp),
             OFFREC_RESULT_INVALID_UTF8);
    CHECK_RC(offrec_client_import_otr_key(p->client, path, 5000, 1, NULL, 0, NULL, 0, false, fp),
             OFFREC_RESULT_MESSAGE_TOO_LARGE);

    /* Files: missing, a directory, a FIFO, deep nesting, a huge number, cut, wrong x. */
    const char *fifo = tmp_path("fifo");
    CHECK(mkfifo(fifo, 0600) == 0);
    CHECK_RC(offrec_client_import_otr_key(p->client, S(FIXTURES "missing"), 1, NULL, 0, NULL, 0, false, fp),
             OFFREC_RESULT_IMPORT_IO);
    CHECK_RC(offrec_client_import_otr_key(p->client, dir, strlen(dir), 1, NULL, 0, NULL, 0, false, fp),
             OFFREC_RESULT_IMPORT_IO);
    CHECK_RC(offrec_client_import_otr_key(p->client, fifo, strlen(fifo), 1, NULL, 0, NULL, 0, false, fp),
             OFFREC_RESULT_IMPORT_IO);
    unlink(fifo);

    const char *bad = tmp_path("bad.private_key");
    size_t big = 300000;
    char *text = malloc(big + 256);
    if (text == NULL) abort();
    size_t len = (size_t)sprintf(text, "(privkeys ");
    memset(text + len, '(', 10000);
    memset(text + len + 10000, ')', 10001);
    write_file(bad, text, len + 20001);
    CHECK_RC(import_key(p, bad, NULL, NULL, false, fp), OFFREC_RESULT_IMPORT_MALFORMED);
    len = (size_t)sprintf(text, "(privkeys (account (name refuser) (protocol testnet) (private-key (dsa (p #");
    memset(text + len, 'A', big);
    len += big;
    len += (size_t)sprintf(text + len, "#)))))");
    write_file(bad, text, len);
    CHECK_RC(import_key(p, bad, NULL, NULL, false, fp), OFFREC_RESULT_IMPORT_MALFORMED);
    free(text);

    FILE *f = fopen(path, "rb");
    if (f == NULL) abort();
    char whole[8192];
    size_t whole_len = fread(whole, 1, sizeof whole, f);
    fclose(f);
    write_file(bad, whole, whole_len / 2);
    CHECK_RC(import_key(p, bad, "alice@example.org", "prpl-jabber", false, fp), OFFREC_RESULT_IMPORT_MALFORMED);
    /* Flip a hex digit of alice's x: the key no longer matches its public part. */
    char *alice = strstr(whole, "(name \"alice@example.org\")");
    char *x = alice ? strstr(alice, "(x #") : NULL;
    if (x == NULL) abort();
    x[6] = x[6] == '0' ? '1' : '0';
    write_file(bad, whole, whole_len);
    CHECK_RC(import_key(p, bad, "alice@example.org", "prpl-jabber", false, fp), OFFREC_RESULT_IMPORT_INVALID_KEY);
    unlink(bad);

    CHECK(memcmp(fp, untouched, 20) == 0);
    uint8_t now[20];
    CHECK_RC(offrec_client_otr_fingerprint(p->client, now), OFFREC_RESULT_NO_OTR_KEY);
    /* Export into something that is not a key file: refused, the file is kept. */
    CHECK_RC(offrec_client_generate_otr_key(p->client, NULL), OFFREC_RESULT_OK);
    write_file(bad, "not a key file\n", 15);
    CHECK_RC(offrec_client_export_otr_key(p->client, bad, strlen(bad), 1, NULL, 0, NULL, 0),
             OFFREC_RESULT_IMPORT_MALFORMED);
    f = fopen(bad, "rb");
    char back[32] = {0};
    CHECK(f != NULL && fread(back, 1, sizeof back, f) == 15 && !memcmp(back, "not a key file\n", 15));
    if (f) fclose(f);
    unlink(bad);
    /* A client that has talked to someone keeps its instance tag. */
    struct party *peer = party_new("somebody", OFFREC_POLICY_MANUAL, 0);
    (void)peer;
    CHECK_RC(offrec_client_start_session(p->client, S("somebody")), OFFREC_RESULT_OK);
    pump_all();
    uint32_t before = 0, after = 1, tag = 7;
    CHECK_RC(offrec_client_instance_tag(p->client, &before), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_import_otr_instance_tag(p->client, S(FIXTURES "otr.instance_tags"), S("bob"), S("IRC"), &tag),
             OFFREC_RESULT_IMPORT_IN_USE);
    CHECK_RC(offrec_client_instance_tag(p->client, &after), OFFREC_RESULT_OK);
    CHECK(before == after && tag == 7);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/offrec-test-migrate-XXXXXX");
    if (mkdtemp(dir) == NULL) return 2;
    test_import_libotr_files();
    test_export_round_trip();
    test_refusals();
    party_free_all();
    rmdir(dir);
    printf("test_migrate: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
