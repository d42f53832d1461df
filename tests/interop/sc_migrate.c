/*
 * Moving between libotr and offrec (brief §5.2 M1-M3, issue 16): files libotr itself writes
 * (otrl_privkey_generate, otrl_privkey_write_fingerprints, otrl_instag_generate) are imported
 * through offrec's C API, and files offrec exports are loaded by libotr itself
 * (otrl_privkey_read, otrl_privkey_read_fingerprints); then an AKE between the two shows the
 * expected trust on both sides.
 */
#include "interop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if HAVE_OFFREC_OTR
/* A scratch directory for one scenario's files (removed at its end). */
struct scratch {
    char dir[64];
    char files[8][128];
    int n;
};

static void scratch_open(struct scratch *s) {
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/offrec-migrate-XXXXXX");
    if (mkdtemp(s->dir) == NULL) {
        perror("mkdtemp");
        exit(2);
    }
}

static const char *scratch_path(struct scratch *s, const char *name) {
    for (int i = 0; i < s->n; i++) {
        if (!strcmp(strrchr(s->files[i], '/') + 1, name)) return s->files[i];
    }
    if (s->n == (int)(sizeof s->files / sizeof s->files[0])) {
        fprintf(stderr, "scratch: too many files\n");
        exit(2);
    }
    char *out = s->files[s->n++];
    size_t dir_len = strlen(s->dir);
    memcpy(out, s->dir, dir_len);
    snprintf(out + dir_len, sizeof s->files[0] - dir_len, "/%s", name);
    return out;
}

static void scratch_close(struct scratch *s) {
    for (int i = 0; i < s->n; i++) unlink(s->files[i]);
    rmdir(s->dir);
}

static uint8_t *key_id(const uint8_t fp[20], uint8_t id[32]) {
    memcpy(id, "otr-dsa-sha1", 12);
    memcpy(id + 12, fp, 20);
    return id;
}

static uint32_t or_trust(struct party *o, const char *peer, const uint8_t fp[20]) {
    uint8_t id[32];
    offrec_trust trust = 99;
    offrec_result rc = offrec_client_trust(o->client, peer, strlen(peer), key_id(fp, id), &trust);
    CHECKF(rc == OFFREC_RESULT_OK, "offrec_client_trust: %s", offrec_result_message(rc));
    return trust;
}

static void or_otr_fingerprint(struct party *o, uint8_t out[20]) {
    offrec_result rc = offrec_client_otr_fingerprint(o->client, out);
    CHECKF(rc == OFFREC_RESULT_OK, "offrec_client_otr_fingerprint: %s", offrec_result_message(rc));
}

static uint32_t or_state(struct party *o, struct party *l) {
    struct offrec_session_info info;
    return or_session_info(o, l, &info) ? info.state : 99;
}

/* A fingerprint that is no real key's, for peers that only appear in the files. */
static void fake_fp(uint8_t fp[20], uint8_t fill) {
    memset(fp, fill, 20);
    fp[0] = 0xA0;
}

/* What a Pidgin user's libotr state holds about `user`: the key `fp` with trust `trust`. */
static void libotr_knows(OtrlUserState us, const char *user, const char *account, const uint8_t fp[20],
                         const char *trust) {
    ConnContext *c = otrl_context_find(us, user, account, OTR_PROTO, OTRL_INSTAG_MASTER, 1, NULL, NULL, NULL);
    Fingerprint *f = otrl_context_find_fingerprint(c, (unsigned char *)fp, 1, NULL);
    otrl_context_set_trust(f, trust);
}

/* The trust string libotr holds for user's key fp (NULL: not known; "" for no trust). */
static const char *libotr_trust(OtrlUserState us, const char *user, const char *account, const uint8_t fp[20]) {
    ConnContext *c = otrl_context_find(us, user, account, OTR_PROTO, OTRL_INSTAG_MASTER, 0, NULL, NULL, NULL);
    if (c == NULL) return NULL;
    Fingerprint *f = otrl_context_find_fingerprint(c, (unsigned char *)fp, 0, NULL);
    if (f == NULL) return NULL;
    return f->trust ? f->trust : "";
}

/* Gives a libotr party what its fingerprints file would say: it trusts `user`'s key fp. */
static void libotr_party_trusts(struct party *l, const char *user, const uint8_t fp[20], const char *trust,
                                struct scratch *s) {
    const char *path = scratch_path(s, "peer.fingerprints");
    FILE *f = fopen(path, "w");
    REQUIRE(f != NULL);
    fprintf(f, "%s\t%s\t%s\t", user, l->account, OTR_PROTO);
    for (int i = 0; i < 20; i++) fprintf(f, "%02x", fp[i]);
    fprintf(f, "\t%s\n", trust);
    fclose(f);
    CHECK(otrl_privkey_read_fingerprints(l->us, path, NULL, NULL) == 0);
}

static offrec_result import_key(struct party *o, const char *path, const char *account, bool replace,
                                uint8_t fp[20]) {
    return offrec_client_import_otr_key(o->client, path, strlen(path), OFFREC_OTR_FILE_FORMAT_LIBOTR, account,
                                        account ? strlen(account) : 0, NULL, 0, replace, fp);
}

/* M1: a Pidgin user's key and trust (files libotr wrote, two accounts in the key file) move
 * to offrec: the same DSA fingerprint, the trust strings mapped as documented, known keys
 * raise no new-fingerprint event; then libotr bob, whose fingerprints file trusts that key,
 * shows a trusted session with offrec, and offrec shows bob's key (trusted "smp" in the file)
 * verified. */
static void m1_import_from_libotr(void) {
    struct scratch s;
    scratch_open(&s);
    struct party *bob = party_libotr("bob", "bob", "alice", OTRL_POLICY_MANUAL, NULL);
    uint8_t bob_fp[20];
    otr_fingerprint(bob, bob_fp);

    /* Alice's Pidgin: keys for two accounts, fingerprints with every trust string, a tag. */
    OtrlUserState pidgin = otrl_userstate_create();
    const char *key_path = scratch_path(&s, "otr.private_key");
    const char *fp_path = scratch_path(&s, "otr.fingerprints");
    const char *tag_path = scratch_path(&s, "otr.instance_tags");
    REQUIRE(otrl_privkey_generate(pidgin, key_path, "alice@work.example", OTR_PROTO) == 0);
    REQUIRE(otrl_privkey_generate(pidgin, key_path, "alice", OTR_PROTO) == 0);
    uint8_t alice_fp[20], carol_fp[20], dave_fp[20], erin_fp[20], work_fp[20];
    REQUIRE(otrl_privkey_fingerprint_raw(pidgin, alice_fp, "alice", OTR_PROTO) != NULL);
    fake_fp(carol_fp, 0x11);
    fake_fp(dave_fp, 0x22);
    fake_fp(erin_fp, 0x33);
    fake_fp(work_fp, 0x44);
    libotr_knows(pidgin, "bob", "alice", bob_fp, "smp");
    libotr_knows(pidgin, "carol", "alice", carol_fp, "");
    libotr_knows(pidgin, "dave", "alice", dave_fp, "verified");
    libotr_knows(pidgin, "erin", "alice", erin_fp, "manual");
    libotr_knows(pidgin, "boss", "alice@work.example", work_fp, "smp");
    REQUIRE(otrl_privkey_write_fingerprints(pidgin, fp_path) == 0);
    REQUIRE(otrl_instag_generate(pidgin, tag_path, "alice", OTR_PROTO) == 0);
    OtrlInsTag *pidgin_tag = otrl_instag_find(pidgin, "alice", OTR_PROTO);
    REQUIRE(pidgin_tag != NULL);

    /* offrec replaces Pidgin on this device: a fresh client (it made a key of its own). */
    struct party *alice = party_offrec("m1-alice", "alice", "bob", OR_POLICY_OTR);
    uint8_t own[20], got[20], now[20];
    or_otr_fingerprint(alice, own);
    CHECK(import_key(alice, key_path, NULL, false, got) == OFFREC_RESULT_IMPORT_KEY_EXISTS);
    or_otr_fingerprint(alice, now);
    CHECK(!memcmp(now, own, 20));
    CHECK(import_key(alice, key_path, NULL, true, got) == OFFREC_RESULT_OK);
    CHECKF(!memcmp(got, alice_fp, 20), "offrec's fingerprint of the imported key differs from libotr's");
    or_otr_fingerprint(alice, now);
    CHECK(!memcmp(now, alice_fp, 20));
    /* Naming the other account takes the other key (replace again), and back. */
    CHECK(import_key(alice, key_path, "alice@work.example", true, got) == OFFREC_RESULT_OK);
    CHECK(memcmp(got, alice_fp, 20) != 0);
    CHECK(import_key(alice, key_path, NULL, true, got) == OFFREC_RESULT_OK && !memcmp(got, alice_fp, 20));

    size_t imported = 0;
    offrec_result rc = offrec_client_import_otr_fingerprints(alice->client, fp_path, strlen(fp_path),
                                                             OFFREC_OTR_FILE_FORMAT_LIBOTR, NULL, 0, NULL, 0, &imported);
    CHECKF(rc == OFFREC_RESULT_OK, "import fingerprints: %s", offrec_result_message(rc));
    CHECKF(imported == 4, "imported %zu", imported);
    CHECK(or_trust(alice, "bob", bob_fp) == OFFREC_TRUST_VERIFIED_SMP);
    CHECK(or_trust(alice, "carol", carol_fp) == OFFREC_TRUST_UNVERIFIED);
    CHECK(or_trust(alice, "dave", dave_fp) == OFFREC_TRUST_VERIFIED_MANUAL);
    CHECK(or_trust(alice, "erin", erin_fp) == OFFREC_TRUST_VERIFIED_MANUAL);
    CHECK(or_trust(alice, "boss", work_fp) == OFFREC_TRUST_UNVERIFIED); /* another account's */

    uint32_t tag = 0;
    rc = offrec_client_import_otr_instance_tag(alice->client, tag_path, strlen(tag_path), NULL, 0, NULL, 0, &tag);
    CHECKF(rc == OFFREC_RESULT_OK, "import instance tag: %s", offrec_result_message(rc));
    CHECK(tag == pidgin_tag->instag && party_instag(alice) == tag);
    otrl_userstate_free(pidgin);

    /* Bob's fingerprints file trusts Alice's Pidgin key. */
    libotr_party_trusts(bob, "alice", alice_fp, "verified", &s);
    REQUIRE(ake_offrec_asks(alice, bob));
    ConnContext *c = otr_ctx(bob, alice);
    REQUIRE(c != NULL && c->active_fingerprint != NULL);
    CHECKF(!memcmp(c->active_fingerprint->fingerprint, alice_fp, 20), "bob sees another key than Pidgin's");
    const char *trust = otr_trust(bob, alice);
    CHECKF(trust != NULL && !strcmp(trust, "verified"), "bob's trust in offrec alice: %s", trust ? trust : "(none)");
    CHECK(ev_count(bob, EV_OTR_OP, OP_NEW_FINGERPRINT) == 0);
    CHECKF(or_state(alice, bob) == OFFREC_SESSION_STATE_ENCRYPTED_VERIFIED, "offrec's state %u",
           (unsigned)or_state(alice, bob));
    CHECK(ev_count(alice, EV_OFFREC, OFFREC_EVENT_CODE_NEW_FINGERPRINT) == 0);
    CHECK(ev_count(alice, EV_OFFREC, OFFREC_EVENT_CODE_FINGERPRINT_CHANGED) == 0);
    CHECK(c->their_instance == tag);
    chat(alice, "moved from Pidgin");
    chat(bob, "same key, still trusted");
    scratch_close(&s);
}

/* M2: offrec's key and trust move to libotr: otrl_privkey_read loads the exported key (same
 * fingerprint; libgcrypt signs with it in the AKE, so the sign bytes are right) and
 * otrl_privkey_read_fingerprints the exported trust; libotr carol (with offrec's files) and
 * libotr dave then trust each other; and offrec, importing its own export again, has the same
 * trust with dave. */
static void m2_export_to_libotr(void) {
    struct scratch s;
    scratch_open(&s);
    const char *key_path = scratch_path(&s, "otr.private_key");
    const char *fp_path = scratch_path(&s, "otr.fingerprints");
    uint8_t carol_fp[20], dave_fp[20], other_fp[20];
    fake_fp(other_fp, 0x77);

    /* World 1: offrec carol meets libotr dave; each verifies the other. */
    struct party *carol = party_offrec("m2-carol", "carol", "dave", OR_POLICY_OTR);
    struct party *dave = party_libotr("dave", "dave", "carol", OTRL_POLICY_MANUAL, NULL);
    or_otr_fingerprint(carol, carol_fp);
    otr_fingerprint(dave, dave_fp);
    REQUIRE(ake_offrec_asks(carol, dave));
    uint8_t id[32];
    CHECK(offrec_client_set_trust(carol->client, "dave", 4, key_id(dave_fp, id), OFFREC_TRUST_VERIFIED_MANUAL) ==
          OFFREC_RESULT_OK);
    CHECK(offrec_client_set_trust(carol->client, "frank", 5, key_id(other_fp, id), OFFREC_TRUST_VERIFIED_SMP) ==
          OFFREC_RESULT_OK);
    chat(carol, "before moving back");
    CHECK(offrec_client_export_otr_key(carol->client, key_path, strlen(key_path), OFFREC_OTR_FILE_FORMAT_LIBOTR, NULL,
                                       0, NULL, 0) == OFFREC_RESULT_OK);
    size_t written = 0;
    CHECK(offrec_client_export_otr_fingerprints(carol->client, fp_path, strlen(fp_path), OFFREC_OTR_FILE_FORMAT_LIBOTR,
                                                NULL, 0, NULL, 0, &written) == OFFREC_RESULT_OK);
    CHECKF(written == 2, "wrote %zu lines", written);
    struct stat st;
    CHECK(stat(key_path, &st) == 0 && (st.st_mode & 0777) == 0600);
    assert_global();
    parties_reset();
    net_reset();

    /* libotr loads what offrec wrote. */
    OtrlUserState us = otrl_userstate_create();
    gcry_error_t err = otrl_privkey_read(us, key_path);
    CHECKF(err == 0, "otrl_privkey_read: %s", gcry_strerror(err));
    uint8_t fp[20];
    CHECK(otrl_privkey_fingerprint_raw(us, fp, "carol", OTR_PROTO) != NULL && !memcmp(fp, carol_fp, 20));
    err = otrl_privkey_read_fingerprints(us, fp_path, NULL, NULL);
    CHECKF(err == 0, "otrl_privkey_read_fingerprints: %s", gcry_strerror(err));
    const char *t = libotr_trust(us, "dave", "carol", dave_fp);
    CHECKF(t != NULL && !strcmp(t, "verified"), "libotr's trust in dave: %s", t ? t : "(none)");
    t = libotr_trust(us, "frank", "carol", other_fp);
    CHECKF(t != NULL && !strcmp(t, "smp"), "libotr's trust in frank: %s", t ? t : "(none)");
    otrl_userstate_free(us);

    /* World 2: carol back on libotr with offrec's files; dave's file trusts her key. */
    struct party *lcarol = party_libotr("lcarol", "carol", "dave", OTRL_POLICY_MANUAL, "m2-scratch");
    REQUIRE(otrl_privkey_read(lcarol->us, key_path) == 0);
    REQUIRE(otrl_privkey_read_fingerprints(lcarol->us, fp_path, NULL, NULL) == 0);
    dave = party_libotr("dave", "dave", "carol", OTRL_POLICY_MANUAL, NULL);
    libotr_party_trusts(dave, "carol", carol_fp, "smp", &s);
    otr_query(lcarol);
    net_pump();
    REQUIRE(party_encrypted_with(lcarol, dave) && party_encrypted_with(dave, lcarol));
    ConnContext *c = otr_ctx(dave, lcarol);
    REQUIRE(c != NULL && c->active_fingerprint != NULL);
    CHECKF(!memcmp(c->active_fingerprint->fingerprint, carol_fp, 20), "libotr signs with another key");
    t = otr_trust(dave, lcarol);
    CHECK(t != NULL && !strcmp(t, "smp"));
    t = otr_trust(lcarol, dave);
    CHECKF(t != NULL && !strcmp(t, "verified"), "carol on libotr trusts dave: %s", t ? t : "(none)");
    chat(lcarol, "back on libotr");
    chat(dave, "welcome back");
    assert_global();
    parties_reset();
    net_reset();

    /* World 3: a fresh offrec client imports the export again and meets dave. */
    struct party *again = party_offrec("m2-again", "carol", "dave", OR_POLICY_OTR);
    dave = party_libotr("dave", "dave", "carol", OTRL_POLICY_MANUAL, NULL);
    libotr_party_trusts(dave, "carol", carol_fp, "smp", &s);
    CHECK(import_key(again, key_path, NULL, true, fp) == OFFREC_RESULT_OK && !memcmp(fp, carol_fp, 20));
    size_t imported = 0;
    CHECK(offrec_client_import_otr_fingerprints(again->client, fp_path, strlen(fp_path), OFFREC_OTR_FILE_FORMAT_LIBOTR,
                                                NULL, 0, NULL, 0, &imported) == OFFREC_RESULT_OK &&
          imported == 2);
    REQUIRE(ake_libotr_asks(dave, again));
    CHECK(or_state(again, dave) == OFFREC_SESSION_STATE_ENCRYPTED_VERIFIED);
    t = otr_trust(dave, again);
    CHECK(t != NULL && !strcmp(t, "smp"));
    chat(dave, "round trip");
    scratch_close(&s);
}

/* M3: every trust string libotr writes survives libotr -> offrec -> libotr as documented
 * ("" stays "", smp stays smp, verified and manual and any other string come back as
 * verified), and exporting into libotr's own file keeps the other account's lines. */
static void m3_trust_round_trip(void) {
    struct scratch s;
    scratch_open(&s);
    const char *fp_path = scratch_path(&s, "otr.fingerprints");
    static const struct {
        const char *user, *in, *out;
        uint32_t offrec;
    } cases[] = {
        {"u-none", "", "", OFFREC_TRUST_UNVERIFIED},
        {"u-smp", "smp", "smp", OFFREC_TRUST_VERIFIED_SMP},
        {"u-verified", "verified", "verified", OFFREC_TRUST_VERIFIED_MANUAL},
        {"u-manual", "manual", "verified", OFFREC_TRUST_VERIFIED_MANUAL},
        {"u-other", "yes please", "verified", OFFREC_TRUST_VERIFIED_MANUAL},
    };
    const size_t n = sizeof cases / sizeof cases[0];
    OtrlUserState us = otrl_userstate_create();
    uint8_t fp[20];
    for (size_t i = 0; i < n; i++) {
        fake_fp(fp, (uint8_t)(0x10 + i));
        libotr_knows(us, cases[i].user, "erin", fp, cases[i].in);
    }
    fake_fp(fp, 0x99);
    libotr_knows(us, "colleague", "erin@work", fp, "smp");
    REQUIRE(otrl_privkey_write_fingerprints(us, fp_path) == 0);
    otrl_userstate_free(us);

    struct party *erin = party_offrec("m3-erin", "erin", "nobody", OR_POLICY_OTR);
    size_t count = 0;
    CHECK(offrec_client_import_otr_fingerprints(erin->client, fp_path, strlen(fp_path), OFFREC_OTR_FILE_FORMAT_LIBOTR,
                                                NULL, 0, NULL, 0, &count) == OFFREC_RESULT_OK);
    CHECK(count == n);
    for (size_t i = 0; i < n; i++) {
        fake_fp(fp, (uint8_t)(0x10 + i));
        CHECKF(or_trust(erin, cases[i].user, fp) == cases[i].offrec, "%s", cases[i].user);
    }
    CHECK(offrec_client_export_otr_fingerprints(erin->client, fp_path, strlen(fp_path), OFFREC_OTR_FILE_FORMAT_LIBOTR,
                                                NULL, 0, NULL, 0, &count) == OFFREC_RESULT_OK);
    CHECK(count == n);

    us = otrl_userstate_create();
    CHECK(otrl_privkey_read_fingerprints(us, fp_path, NULL, NULL) == 0);
    for (size_t i = 0; i < n; i++) {
        fake_fp(fp, (uint8_t)(0x10 + i));
        const char *t = libotr_trust(us, cases[i].user, "erin", fp);
        CHECKF(t != NULL && !strcmp(t, cases[i].out), "%s: libotr reads %s", cases[i].user, t ? t : "(none)");
    }
    fake_fp(fp, 0x99);
    const char *t = libotr_trust(us, "colleague", "erin@work", fp);
    CHECKF(t != NULL && !strcmp(t, "smp"), "the other account's line: %s", t ? t : "(none)");
    otrl_userstate_free(us);

    /* A damaged file changes nothing: cut in the middle of a line. */
    FILE *f = fopen(fp_path, "a");
    REQUIRE(f != NULL);
    fputs("late\terin\tprpl-jabber\ta0ff", f);
    fclose(f);
    CHECK(offrec_client_import_otr_fingerprints(erin->client, fp_path, strlen(fp_path), OFFREC_OTR_FILE_FORMAT_LIBOTR,
                                                NULL, 0, NULL, 0, &count) == OFFREC_RESULT_IMPORT_MALFORMED);
    size_t keys = 99;
    CHECK(offrec_client_known_key_count(erin->client, "late", 4, &keys) == OFFREC_RESULT_OK && keys == 0);
    scratch_close(&s);
}
#endif

const struct scenario migrate_scenarios[] = {
    OTR_SCENARIO("M1", "libotr's key, fingerprints and instance tag into offrec; trusted AKE", m1_import_from_libotr),
    OTR_SCENARIO("M2", "offrec's key and trust into libotr (otrl_privkey_read); trusted AKEs", m2_export_to_libotr),
    OTR_SCENARIO("M3", "trust strings libotr -> offrec -> libotr; other accounts kept", m3_trust_round_trip),
    {NULL, NULL, NULL},
};
