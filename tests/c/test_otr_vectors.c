/*
 * libotr 4.1.1's frozen OTR vectors through the C API (Python and Go run the same checks).
 *
 * tests/vectors/otr3_session.json and otr3_v2_session.json are real libotr sessions (made by
 * tests/otr_vectors/gen.c). A client given a party's recorded DSA key and DH secrets (the test
 * hooks offrec_test_client_set_otr_key and offrec_test_client_queue_random) plays that party
 * through the public calls, for each party and both versions:
 *   - its OTR fingerprint is the recorded one (and shown as libotr shows it);
 *   - what it sends is libotr's bytes: the D-H Commit and D-H Key exactly, the Reveal Signature
 *     and Signature but for the DSA signature (libgcrypt signs with a random k) and the MAC
 *     over it, every data message exactly (user text, the padding TLV, the extra key's TLV 8)
 *     and the goodbye (TLV 1) exactly up to its revealed MAC keys (offrec reveals the keys it
 *     used at the end: PROTOCOL.md part B);
 *   - every libotr message is read: each plaintext delivered byte-exact, nothing else shown,
 *     the extra key equal to libotr's symkey, the ssid, bold half and peer fingerprint equal;
 *   - it drew exactly the secrets libotr drew.
 * A bit flipped in a libotr message's MAC is refused and shows nothing; other secrets give
 * other bytes. otr3_smp.json's SMP1/SMP1Q TLVs (sent raw over an OTR session between two
 * clients by offrec_test_client_send_otr_smp) reach the app with libotr's question, and every
 * tampered SMP1 is cheating.
 *
 * Needs a library built with the `test-hooks` cargo feature (c-tests.mk's c-tests-hooks).
 * Run from the repository root. Prints "test_otr_vectors: N passed, N failed".
 */
#ifndef OFFREC_TEST_HOOKS
#error "build with -DOFFREC_TEST_HOOKS against a library with the test hooks (make c-tests-hooks)"
#endif
#include "harness.h"

#include <stdbool.h>

#define OTR_POLICY_V3 (OFFREC_POLICY_ALLOW | OFFREC_POLICY_ALLOW_OTR_V3)
#define OTR_POLICY_V2 (OFFREC_POLICY_ALLOW | OFFREC_POLICY_ALLOW_OTR_V2)

/* ---- reading the vectors (one message per line; no escapes but \" and \\) ---------------- */

/* The value after `"key": ` in [from, to) (to NULL: the end), or NULL. */
static const char *json_find(const char *from, const char *to, const char *key) {
    char pattern[96];
    const char *hit;
    snprintf(pattern, sizeof pattern, "\"%s\": ", key);
    hit = strstr(from, pattern);
    if (hit == NULL || (to != NULL && hit >= to)) {
        return NULL;
    }
    return hit + strlen(pattern);
}

static const char *json_need(const char *from, const char *to, const char *key) {
    const char *v = json_find(from, to, key);
    if (v == NULL) {
        fprintf(stderr, "test_otr_vectors: no \"%s\" in the vector\n", key);
        exit(1);
    }
    return v;
}

static bool json_is_null(const char *v) { return strncmp(v, "null", 4) == 0; }

/* A string value, unescaped, malloc'd. */
static char *json_str(const char *v) {
    const char *p;
    char *out, *o;
    if (*v != '"') {
        fprintf(stderr, "test_otr_vectors: a string was expected at %.20s\n", v);
        exit(1);
    }
    for (p = v + 1; *p != '"'; p++) {
        if (*p == '\\') {
            p++;
        }
    }
    out = malloc((size_t)(p - v));
    if (out == NULL) {
        abort();
    }
    for (p = v + 1, o = out; *p != '"'; p++) {
        if (*p == '\\') {
            p++;
        }
        *o++ = *p;
    }
    *o = '\0';
    return out;
}

static unsigned long json_num(const char *v) { return strtoul(v, NULL, 10); }

/* Hex string value -> malloc'd bytes, length in *len. */
static uint8_t *json_hex(const char *v, size_t *len) {
    char *hex = json_str(v);
    size_t i, n = strlen(hex) / 2;
    uint8_t *out = malloc(n + 1);
    if (out == NULL) {
        abort();
    }
    for (i = 0; i < n; i++) {
        unsigned b = 0;
        sscanf(hex + 2 * i, "%2x", &b);
        out[i] = (uint8_t)b;
    }
    free(hex);
    *len = n;
    return out;
}

static void to_hex(const uint8_t *in, size_t n, char *out) {
    size_t i;
    for (i = 0; i < n; i++) {
        sprintf(out + 2 * i, "%02x", in[i]);
    }
    out[2 * n] = '\0';
}

static int b64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* "?OTR:<base64>." -> malloc'd bytes. */
static uint8_t *otr_binary(const char *text, size_t *len) {
    size_t n = strlen(text), i, o = 0;
    uint32_t acc = 0;
    int bits = 0;
    uint8_t *out = malloc(n);
    if (out == NULL || n < 6 || strncmp(text, "?OTR:", 5) != 0 || text[n - 1] != '.') {
        fprintf(stderr, "test_otr_vectors: not an encoded OTR message: %.30s\n", text);
        exit(1);
    }
    for (i = 5; i < n - 1 && text[i] != '='; i++) {
        acc = (acc << 6) | (uint32_t)b64_value(text[i]);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    *len = o;
    return out;
}

static const char *B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* bytes -> malloc'd "?OTR:<base64>." */
static char *otr_text(const uint8_t *in, size_t n) {
    char *out = malloc(5 + 4 * ((n + 2) / 3) + 2), *o;
    size_t i;
    if (out == NULL) {
        abort();
    }
    memcpy(out, "?OTR:", 5);
    o = out + 5;
    for (i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        *o++ = B64[v >> 18 & 63];
        *o++ = B64[v >> 12 & 63];
        *o++ = i + 1 < n ? B64[v >> 6 & 63] : '=';
        *o++ = i + 2 < n ? B64[v & 63] : '=';
    }
    *o++ = '.';
    *o = '\0';
    return out;
}

/* ---- a client playing one party ----------------------------------------------------------- */

/* The last text delivered to a player, whole (the harness keeps the first 511 bytes). */
static uint8_t last_delivered[8192];
static size_t last_len;

static void player_deliver(void *ud, const char *peer, size_t peer_len, uint32_t instance, const uint8_t *text,
                           size_t len, offrec_security security) {
    last_len = len < sizeof last_delivered ? len : 0;
    memcpy(last_delivered, text, last_len);
    cb_deliver(ud, peer, peer_len, instance, text, len, security);
}

/* Like party_new, but with a chosen instance tag (the recorded one) and the harness's callbacks,
 * which record what the client sends (to a name no party has: nothing is queued). */
static struct party *player_new(const char *account, uint32_t policy, uint32_t tag) {
    struct party *p = calloc(1, sizeof *p);
    offrec_callbacks cb;
    uint8_t secret[32];
    size_t i;
    if (p == NULL || party_count >= MAX_PARTIES) {
        abort();
    }
    for (i = 0; i < sizeof secret; i++) {
        secret[i] = (uint8_t)i;
    }
    memset(&cb, 0, sizeof cb);
    cb.send = cb_send;
    cb.deliver = player_deliver;
    cb.state_changed = cb_state;
    cb.event = cb_event;
    cb.now = cb_now;
    p->index = party_count;
    snprintf(p->name, sizeof p->name, "player-%s", account);
    pthread_mutex_init(&p->lock, NULL);
    CHECK_RC(offrec_client_new_with_identity(account, strlen(account), S("prpl-jabber"), policy, secret,
                                             tag, &cb, p, &p->client),
             OFFREC_RESULT_OK);
    if (p->client == NULL) {
        exit(1);
    }
    parties[party_count++] = p;
    return p;
}

static void set_otr_key(struct party *p, const char *party_json, const char *party_end) {
    const char *dsa = json_need(party_json, party_end, "dsa");
    const char *names[5] = {"p", "q", "g", "y", "x"};
    uint8_t *v[5];
    size_t n[5], i;
    for (i = 0; i < 5; i++) {
        v[i] = json_hex(json_need(dsa, party_end, names[i]), &n[i]);
    }
    CHECK_RC(offrec_test_client_set_otr_key(p->client, v[0], n[0], v[1], n[1], v[2], n[2], v[3], n[3],
                                            v[4], n[4]),
             OFFREC_RESULT_OK);
    for (i = 0; i < 5; i++) {
        free(v[i]);
    }
}

static void queue_secret(struct party *p, const char *value, size_t width) {
    size_t n;
    uint8_t *raw = json_hex(value, &n), padded[64];
    if (n > width || width > sizeof padded) {
        exit(1);
    }
    memset(padded, 0, width - n);
    memcpy(padded + width - n, raw, n);
    CHECK_RC(offrec_test_client_queue_random(p->client, padded, width), OFFREC_RESULT_OK);
    free(raw);
}

/* libotr's DH secrets (40 bytes, keyid 1 first), with r after the first for the commit sender. */
static void queue_secrets(struct party *p, const char *party_json, const char *party_end) {
    const char *keys = json_need(party_json, party_end, "dh_keys");
    const char *r = json_need(party_json, party_end, "r");
    const char *key = keys;
    unsigned long want = 1;
    while ((key = json_find(key, party_end, "keyid")) != NULL) {
        CHECK(json_num(key) == want); /* the generator writes them in keyid order */
        want++;
        queue_secret(p, json_need(key, party_end, "secret"), 40);
        if (want == 2 && !json_is_null(r)) {
            queue_secret(p, r, 16);
        }
    }
    CHECK(want == 6);
}

struct tlv {
    unsigned type;
    const uint8_t *value;
    size_t len;
};

/* Splits text NUL TLVs; returns the TLV count (at most `cap`), the text length in *text_len. */
static size_t split_plaintext(const uint8_t *pt, size_t n, size_t *text_len, struct tlv *tlvs, size_t cap) {
    size_t i = 0, count = 0;
    while (i < n && pt[i] != 0) {
        i++;
    }
    *text_len = i;
    i++;
    while (i + 4 <= n && count < cap) {
        tlvs[count].type = (unsigned)(pt[i] << 8 | pt[i + 1]);
        tlvs[count].len = (size_t)(pt[i + 2] << 8 | pt[i + 3]);
        tlvs[count].value = pt + i + 4;
        i += 4 + tlvs[count].len;
        count++;
    }
    return count;
}

struct replay {
    const char *json;
    const char *us_json, *us_end, *them_json, *them_end;
    const char *peer_account;
    unsigned version;
    int tamper; /* index of a libotr message to damage, -1 for none */
};

/* Makes the player send what libotr sent in `msg` (one line of the vector). */
static void produce(struct party *p, const struct replay *r, const char *msg, const char *end) {
    size_t n, text_len, ntlv;
    uint8_t *pt = json_hex(json_need(msg, end, "plaintext"), &n);
    struct tlv tlvs[4];
    const char *peer = r->peer_account;
    uint64_t id = 0;
    ntlv = split_plaintext(pt, n, &text_len, tlvs, 4);
    if (ntlv == 0) {
        CHECK_RC(offrec_client_send(p->client, peer, strlen(peer), (const char *)pt, text_len, &id), OFFREC_RESULT_OK);
    } else if (ntlv == 1 && tlvs[0].type == 0) {
        /* libotr's padding TLV: a padding block as long as the whole body makes the same one */
        CHECK_RC(offrec_client_set_option(p->client, OFFREC_OPTION_PADDING_BLOCK, n), OFFREC_RESULT_OK);
        CHECK_RC(offrec_client_send(p->client, peer, strlen(peer), (const char *)pt, text_len, &id), OFFREC_RESULT_OK);
        CHECK_RC(offrec_client_set_option(p->client, OFFREC_OPTION_PADDING_BLOCK, 0), OFFREC_RESULT_OK);
    } else if (ntlv == 1 && tlvs[0].type == 8 && tlvs[0].len >= 4) {
        const uint8_t *v = tlvs[0].value;
        uint32_t usage = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
        const char *sym = json_need(r->json, NULL, "symkey_sent");
        uint8_t key[32];
        char hex[65], *want = json_str(json_need(sym, NULL, "key")), *extra = json_str(json_need(msg, end, "extra_key"));
        CHECK(usage == json_num(json_need(sym, NULL, "use")));
        CHECK_RC(offrec_client_extra_symmetric_key(p->client, peer, strlen(peer), 0, usage, v + 4, tlvs[0].len - 4,
                                                   key),
                 OFFREC_RESULT_OK);
        to_hex(key, 32, hex);
        CHECK(strcmp(hex, want) == 0 && strcmp(hex, extra) == 0);
        free(want);
        free(extra);
    } else if (ntlv == 1 && tlvs[0].type == 1 && tlvs[0].len == 0) {
        CHECK_RC(offrec_client_end_session(p->client, peer, strlen(peer), 0), OFFREC_RESULT_OK);
    } else {
        failed++;
        fprintf(stderr, "test_otr_vectors: no public call sends this plaintext\n");
    }
    free(pt);
}

static bool is_goodbye(const char *msg, const char *end) {
    size_t n, text_len, ntlv;
    uint8_t *pt = json_hex(json_need(msg, end, "plaintext"), &n);
    struct tlv tlvs[4];
    bool yes;
    ntlv = split_plaintext(pt, n, &text_len, tlvs, 4);
    yes = ntlv == 1 && tlvs[0].type == 1 && tlvs[0].len == 0;
    free(pt);
    return yes;
}

static bool has_extra_key_tlv(const char *msg, const char *end) {
    size_t n, text_len, ntlv, i;
    uint8_t *pt = json_hex(json_need(msg, end, "plaintext"), &n);
    struct tlv tlvs[4];
    bool yes = false;
    ntlv = split_plaintext(pt, n, &text_len, tlvs, 4);
    for (i = 0; i < ntlv; i++) {
        yes = yes || tlvs[i].type == 8;
    }
    free(pt);
    return yes;
}

/* Compares what the player sent for message `index` with libotr's. */
static void compare_sent(const char *ours, const char *kind, const char *msg, const char *end, int index) {
    char *text = json_str(json_need(msg, end, "text"));
    size_t mine_n, theirs_n;
    uint8_t *mine, *theirs;
    if (strcmp(kind, "reveal_signature") == 0 || strcmp(kind, "signature") == 0) {
        /* all but the encrypted DSA signature (40 bytes) and the MAC over it (20) */
        mine = otr_binary(ours, &mine_n);
        theirs = json_hex(json_need(msg, end, "binary"), &theirs_n);
        CHECK(mine_n == theirs_n && theirs_n > 60 && memcmp(mine, theirs, theirs_n - 60) == 0);
        free(mine);
        free(theirs);
    } else if (strcmp(kind, "data") == 0 && is_goodbye(msg, end)) {
        /* everything the MAC covers is libotr's; offrec adds the MAC keys it used */
        mine = otr_binary(ours, &mine_n);
        theirs = json_hex(json_need(msg, end, "binary"), &theirs_n);
        CHECK(theirs_n > 4 && memcmp(theirs + theirs_n - 4, "\0\0\0\0", 4) == 0);
        CHECK(mine_n > theirs_n && memcmp(mine, theirs, theirs_n - 4) == 0);
        if (mine_n > theirs_n) {
            const uint8_t *l = mine + theirs_n - 4;
            size_t revealed = (size_t)l[0] << 24 | (size_t)l[1] << 16 | (size_t)l[2] << 8 | l[3];
            CHECK(revealed > 0 && revealed % 20 == 0 && mine_n == theirs_n + revealed);
        }
        free(mine);
        free(theirs);
    } else if (strcmp(ours, text) != 0) {
        failed++;
        fprintf(stderr, "test_otr_vectors: message %d (%s) differs from libotr's\n", index, kind);
    } else {
        passed++;
    }
    free(text);
}

static int count_events(struct party *p, uint32_t code) {
    int i, n = 0;
    for (i = 0; i < p->event_count; i++) {
        n += p->events[i] == code;
    }
    return n;
}

static offrec_session_state state_of_name(struct party *p, const char *peer) {
    offrec_session_state s = 99;
    CHECK_RC(offrec_client_session_state(p->client, peer, strlen(peer), &s), OFFREC_RESULT_OK);
    return s;
}

static void check_session_view(struct party *p, const struct replay *r) {
    offrec_session_protocol sp;
    char fp_hex[41], ssid_hex[17], human[64];
    char *want_fp = json_str(json_need(r->them_json, r->them_end, "fingerprint"));
    char *want_human = json_str(json_need(r->them_json, r->them_end, "fingerprint_human"));
    char *want_ssid = json_str(json_need(r->us_json, r->us_end, "ssid"));
    char *half = json_str(json_need(r->us_json, r->us_end, "ssid_half_bold"));
    size_t len = 0;
    const char *peer = r->peer_account;
    CHECK_RC(offrec_client_session_protocol(p->client, peer, strlen(peer), 0, &sp), OFFREC_RESULT_OK);
    CHECK(sp.protocol == (r->version == 3 ? OFFREC_PROTOCOL_OTR_V3 : OFFREC_PROTOCOL_OTR_V2));
    CHECK(sp.strength == OFFREC_STRENGTH_LEGACY && sp.has_otr_fingerprint);
    CHECK(sp.instance == (r->version == 3 ? json_num(json_need(r->them_json, r->them_end, "instance_tag")) : 2u));
    to_hex(sp.their_otr_fingerprint, 20, fp_hex);
    to_hex(sp.otr_ssid, 8, ssid_hex);
    CHECK(strcmp(fp_hex, want_fp) == 0);
    CHECK(strcmp(ssid_hex, want_ssid) == 0);
    CHECK(sp.otr_ssid_first_half_bold == (strcmp(half, "first") == 0));
    CHECK_RC(offrec_otr_fingerprint_format(sp.their_otr_fingerprint, human, sizeof human, &len), OFFREC_RESULT_OK);
    CHECK(strcmp(human, want_human) == 0);
    free(want_fp);
    free(want_human);
    free(want_ssid);
    free(half);
}

/* Plays `us` through the vector `path`; with tamper >= 0 that libotr message arrives with a bit
 * of its MAC flipped, and the replay stops there. */
static void replay(const char *path, const char *us, int tamper) {
    struct replay r;
    char *json = read_file(path);
    const char *parties_json = json_need(json, NULL, "parties");
    const char *alice = json_need(parties_json, NULL, "alice"), *bob = json_need(parties_json, NULL, "bob");
    bool we_are_alice = strcmp(us, "alice") == 0;
    const char *messages = json_need(json, NULL, "messages");
    const char *line;
    char *account, *peer_account, *fp_want, *human_want;
    uint8_t fp[20];
    char fp_hex[41], human[64];
    size_t len = 0, left = 99;
    int sent_used = 0, data_sent = 0, data_read = 0, established = 0;
    struct party *p;

    r.json = json;
    r.version = (unsigned)json_num(json_need(json, NULL, "version"));
    r.us_json = we_are_alice ? alice : bob;
    r.us_end = we_are_alice ? bob : NULL;
    r.them_json = we_are_alice ? bob : alice;
    r.them_end = we_are_alice ? NULL : bob;
    r.tamper = tamper;
    account = json_str(json_need(r.us_json, r.us_end, "account"));
    peer_account = json_str(json_need(r.them_json, r.them_end, "account"));
    r.peer_account = peer_account;

    p = player_new(account, r.version == 3 ? OTR_POLICY_V3 : OTR_POLICY_V2,
                   r.version == 3 ? (uint32_t)json_num(json_need(r.us_json, r.us_end, "instance_tag")) : 0x100);
    CHECK_RC(offrec_client_set_option(p->client, OFFREC_OPTION_PADDING_BLOCK, 0), OFFREC_RESULT_OK);
    set_otr_key(p, r.us_json, r.us_end);
    queue_secrets(p, r.us_json, r.us_end);

    fp_want = json_str(json_need(r.us_json, r.us_end, "fingerprint"));
    human_want = json_str(json_need(r.us_json, r.us_end, "fingerprint_human"));
    CHECK_RC(offrec_client_otr_fingerprint(p->client, fp), OFFREC_RESULT_OK);
    to_hex(fp, 20, fp_hex);
    CHECK(strcmp(fp_hex, fp_want) == 0);
    CHECK_RC(offrec_otr_fingerprint_format(fp, human, sizeof human, &len), OFFREC_RESULT_OK);
    CHECK(strcmp(human, human_want) == 0);

    for (line = strchr(messages, '\n') + 1; *line != '\0' && strncmp(line, "  ]", 3) != 0;
         line = strchr(line, '\n') + 1) {
        const char *end = strchr(line, '\n');
        char *from = json_str(json_need(line, end, "from"));
        char *kind = json_str(json_need(line, end, "kind"));
        int index = (int)json_num(json_need(line, end, "index"));
        bool data = strcmp(kind, "data") == 0;
        if (strcmp(from, us) == 0) {
            if (strcmp(kind, "query") != 0) {
                if (data) {
                    produce(p, &r, line, end);
                    data_sent++;
                }
                if (sent_used < p->sent_count) {
                    compare_sent(p->sent[sent_used++], kind, line, end, index);
                } else {
                    failed++;
                    fprintf(stderr, "test_otr_vectors: %s %s: message %d (%s) was not sent\n", path, us, index, kind);
                }
            }
        } else {
            char *text = json_str(json_need(line, end, "text"));
            int before = p->delivered_count;
            if (index == tamper) {
                size_t n;
                uint8_t *raw = otr_binary(text, &n);
                raw[n - 25] ^= 1; /* inside the MAC (the 20 bytes before the reveal length) */
                free(text);
                text = otr_text(raw, n);
                free(raw);
            }
            CHECK_RC(offrec_client_receive(p->client, peer_account, strlen(peer_account), text, strlen(text)),
                     OFFREC_RESULT_OK);
            free(text);
            if (index == tamper) {
                CHECK(p->delivered_count == before);
                CHECK(count_events(p, OFFREC_EVENT_CODE_UNREADABLE) + count_events(p, OFFREC_EVENT_CODE_MALFORMED) == 1);
                free(from);
                free(kind);
                break;
            }
            if (data) {
                size_t n, text_len, i;
                uint8_t *pt = json_hex(json_need(line, end, "plaintext"), &n);
                char *delivered = json_str(json_need(line, end, "delivered"));
                struct tlv tlvs[4];
                data_read++;
                split_plaintext(pt, n, &text_len, tlvs, 4);
                if (json_num(json_need(line, end, "ignored"))) {
                    CHECK(p->delivered_count == before);
                } else {
                    CHECK(p->delivered_count == before + 1);
                    CHECK(text_len == strlen(delivered) && memcmp(pt, delivered, text_len) == 0);
                    CHECK(last_len == text_len && memcmp(last_delivered, pt, text_len) == 0);
                }
                if (has_extra_key_tlv(line, end)) {
                    const char *sym = json_need(r.us_json, r.us_end, "symkey_received");
                    char hex[65], *want = json_str(json_need(sym, r.us_end, "key"));
                    char *usedata = json_str(json_need(sym, r.us_end, "usedata")), ctx_hex[130];
                    char *extra = json_str(json_need(line, end, "extra_key"));
                    CHECK(count_events(p, OFFREC_EVENT_CODE_EXTRA_KEY_RECEIVED) == 1);
                    to_hex(p->extra_key, 32, hex);
                    CHECK(strcmp(hex, want) == 0 && strcmp(hex, extra) == 0);
                    CHECK(p->extra_usage == json_num(json_need(sym, r.us_end, "use")));
                    for (i = 0; p->extra_context[i] != '\0' && i < 64; i++) {
                        sprintf(ctx_hex + 2 * i, "%02x", (uint8_t)p->extra_context[i]);
                    }
                    ctx_hex[2 * i] = '\0';
                    CHECK(strcmp(ctx_hex, usedata) == 0);
                    free(want);
                    free(usedata);
                    free(extra);
                }
                free(delivered);
                free(pt);
            }
        }
        if (strcmp(kind, "signature") == 0) {
            established = 1;
            check_session_view(p, &r);
        }
        free(from);
        free(kind);
    }

    if (tamper < 0) {
        CHECK(established);
        CHECK(sent_used == p->sent_count); /* offrec sent nothing libotr did not */
        CHECK(data_sent >= 4 && data_read >= 4);
        CHECK_RC(offrec_test_client_queued_random_left(p->client, &left), OFFREC_RESULT_OK);
        CHECK(left == 0); /* it drew every secret libotr drew */
        CHECK(count_events(p, OFFREC_EVENT_CODE_LEGACY_SESSION_STARTED) == 1);
        CHECK(count_events(p, OFFREC_EVENT_CODE_NEW_FINGERPRINT) == 1);
        CHECK(count_events(p, OFFREC_EVENT_CODE_HANDSHAKE_COMPLETE) == 1);
        if (we_are_alice) {
            CHECK(p->event_count == 3);
            CHECK(state_of_name(p, peer_account) == OFFREC_SESSION_STATE_PLAINTEXT);
        } else {
            /* alice's goodbye (TLV 1) ended the session, as it ended libotr's */
            CHECK(count_events(p, OFFREC_EVENT_CODE_EXTRA_KEY_RECEIVED) == 1);
            CHECK(count_events(p, OFFREC_EVENT_CODE_PEER_ENDED_SESSION) == 1);
            CHECK(p->event_count == 5);
            CHECK(state_of_name(p, peer_account) == OFFREC_SESSION_STATE_FINISHED);
        }
    }
    free(account);
    free(peer_account);
    free(fp_want);
    free(human_want);
    free(json);
    party_free_all();
}

/* The comparison means something: with another first DH secret the commit is not libotr's. */
static void test_other_secrets_give_other_bytes(void) {
    char *json = read_file("tests/vectors/otr3_session.json");
    const char *bob = json_need(json_need(json, NULL, "parties"), NULL, "bob");
    const char *commit_line = strstr(json, "\"kind\": \"dh_commit\"");
    char *commit = json_str(json_need(commit_line, NULL, "text"));
    struct party *p = player_new("bob@example.org", OTR_POLICY_V3, (uint32_t)json_num(json_need(bob, NULL, "instance_tag")));
    uint8_t other[40];
    size_t left = 99;
    memset(other, 0, sizeof other);
    other[39] = 7;
    CHECK_RC(offrec_client_set_option(p->client, OFFREC_OPTION_PADDING_BLOCK, 0), OFFREC_RESULT_OK);
    set_otr_key(p, bob, NULL);
    CHECK_RC(offrec_test_client_queue_random(p->client, other, sizeof other), OFFREC_RESULT_OK);
    queue_secret(p, json_need(bob, NULL, "r"), 16);
    CHECK_RC(offrec_client_receive(p->client, S("alice@example.org"), S("?OTRv3?")), OFFREC_RESULT_OK);
    CHECK_RC(offrec_test_client_queued_random_left(p->client, &left), OFFREC_RESULT_OK);
    CHECK(left == 0);
    CHECK(p->sent_count == 1 && strncmp(p->sent[0], "?OTR:AAMC", 9) == 0 && strcmp(p->sent[0], commit) != 0);
    free(commit);
    free(json);
    party_free_all();
}

static void test_hooks_refuse_bad_input(void) {
    struct party *p = player_new("me", OTR_POLICY_V3, 0x100);
    uint8_t one = 1, fp[20], chunk[8] = {0};
    size_t left = 0;
    CHECK_RC(offrec_test_client_set_otr_key(p->client, &one, 1, &one, 1, &one, 1, &one, 1, &one, 1),
             OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_client_otr_fingerprint(p->client, fp), OFFREC_RESULT_NO_OTR_KEY);
    CHECK_RC(offrec_test_client_set_otr_key(NULL, &one, 1, &one, 1, &one, 1, &one, 1, &one, 1),
             OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_test_client_queue_random(p->client, chunk, 0), OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_test_client_queue_random(p->client, NULL, 8), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_test_client_queue_random(p->client, chunk, 4097), OFFREC_RESULT_MESSAGE_TOO_LARGE);
    CHECK_RC(offrec_test_client_queued_random_left(p->client, NULL), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_test_client_queued_random_left(p->client, &left), OFFREC_RESULT_OK);
    CHECK(left == 0);
    CHECK_RC(offrec_test_client_send_otr_smp(p->client, S("nobody"), 0, 2, chunk, 1), OFFREC_RESULT_NO_SESSION);
    CHECK_RC(offrec_test_client_send_otr_smp(p->client, S("nobody"), 0, 8, chunk, 1), OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_test_client_send_otr_smp(p->client, S("nobody"), 0, 0x10002, chunk, 1),
             OFFREC_RESULT_INVALID_ARGUMENT);
    party_free_all();
}

/* ---- otr3_smp.json: libotr's SMP TLVs over an OTR session between two clients ------------- */

static struct party *smp_alice, *smp_bob;

static void smp_pair(void) {
    offrec_session_protocol sp;
    smp_alice = party_new("alice", OTR_POLICY_V3, 0);
    smp_bob = party_new("bob", OTR_POLICY_V3, 0);
    /* alice is handed ?OTRv3? as if bob had sent it: a query whose modern offer was stripped */
    CHECK_RC(offrec_client_receive(smp_alice->client, S("bob"), S("?OTRv3?")), OFFREC_RESULT_OK);
    pump_all();
    CHECK_RC(offrec_client_session_protocol(smp_alice->client, S("bob"), 0, &sp), OFFREC_RESULT_OK);
    CHECK(sp.protocol == OFFREC_PROTOCOL_OTR_V3);
}

static int events_since(struct party *p, int from, uint32_t code) {
    int i, n = 0;
    for (i = from; i < p->event_count; i++) {
        n += p->events[i] == code;
    }
    return n;
}

static void test_libotr_smp1_and_questions(void) {
    char *json = read_file("tests/vectors/otr3_smp.json");
    const char *run = json_need(json, NULL, "runs");
    int runs = 0;
    smp_pair();
    while ((run = json_find(run, NULL, "name")) != NULL) {
        const char *first = json_need(run, NULL, "messages");
        const char *q = json_need(run, NULL, "question");
        unsigned long type = json_num(json_need(first, NULL, "tlv_type"));
        size_t n;
        uint8_t *value = json_hex(json_need(first, NULL, "value"), &n);
        char *question = json_is_null(q) ? NULL : json_str(q);
        int before = smp_bob->event_count;
        CHECK(type == (question != NULL ? 7u : 2u));
        CHECK_RC(offrec_test_client_send_otr_smp(smp_alice->client, S("bob"), 0, (uint32_t)type, value, n),
                 OFFREC_RESULT_OK);
        pump_all();
        CHECK(events_since(smp_bob, before, OFFREC_EVENT_CODE_SMP_ASKED_FOR_SECRET) == 1);
        CHECK(strcmp(smp_bob->smp_question, question != NULL ? question : "") == 0);
        CHECK_RC(offrec_client_smp_abort(smp_bob->client, S("alice"), 0), OFFREC_RESULT_OK);
        pump_all();
        free(value);
        free(question);
        runs++;
        run = first;
    }
    CHECK(runs == 4);
    CHECK(count_events(smp_alice, OFFREC_EVENT_CODE_SMP_CHEATED) + count_events(smp_bob, OFFREC_EVENT_CODE_SMP_CHEATED) == 0);
    free(json);
    party_free_all();
}

/* SMP's prime (RFC 3526 group 5), big-endian. */
static const char *P_HEX =
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA237327FFFFFFFFFFFFFFFF";

struct mpi {
    uint8_t b[200];
    size_t n;
};

static size_t parse_mpis(const uint8_t *v, size_t n, struct mpi *out, size_t cap) {
    size_t count = (size_t)v[0] << 24 | (size_t)v[1] << 16 | (size_t)v[2] << 8 | v[3], i, at = 4;
    for (i = 0; i < count && i < cap; i++) {
        size_t len = (size_t)v[at] << 24 | (size_t)v[at + 1] << 16 | (size_t)v[at + 2] << 8 | v[at + 3];
        if (len > sizeof out[i].b || at + 4 + len > n) {
            exit(1);
        }
        memcpy(out[i].b, v + at + 4, len);
        out[i].n = len;
        at += 4 + len;
    }
    return count;
}

static size_t write_mpis(const struct mpi *m, size_t count, uint8_t *out) {
    size_t i, at = 4;
    out[0] = out[1] = out[2] = 0;
    out[3] = (uint8_t)count;
    for (i = 0; i < count; i++) {
        out[at] = out[at + 1] = 0;
        out[at + 2] = (uint8_t)(m[i].n >> 8);
        out[at + 3] = (uint8_t)m[i].n;
        memcpy(out + at + 4, m[i].b, m[i].n);
        at += 4 + m[i].n;
    }
    return at;
}

static void set_small(struct mpi *m, uint8_t v) {
    m->n = v == 0 ? 0 : 1;
    m->b[0] = v;
}

/* a = p - a (p's 192 bytes minus a's magnitude; a < p): a QR becomes a non-residue. */
static void negate_mod_p(const struct mpi *a, struct mpi *out) {
    uint8_t p[192];
    int i, borrow = 0;
    size_t k;
    for (k = 0; k < 192; k++) {
        unsigned b = 0;
        sscanf(P_HEX + 2 * k, "%2x", &b);
        p[k] = (uint8_t)b;
    }
    for (i = 191; i >= 0; i--) {
        int ai = i - (192 - (int)a->n) >= 0 ? a->b[i - (192 - (int)a->n)] : 0;
        int d = p[i] - ai - borrow;
        borrow = d < 0;
        out->b[i] = (uint8_t)(d + (borrow ? 256 : 0));
    }
    out->n = 192;
}

static void test_tampered_libotr_smp1_is_cheating(void) {
    char *json = read_file("tests/vectors/otr3_smp.json");
    const char *first = json_need(json_need(json, NULL, "runs"), NULL, "messages");
    size_t n, count, k, len, i;
    uint8_t *value = json_hex(json_need(first, NULL, "value"), &n);
    struct mpi m[8], changed[8];
    static uint8_t out[4096];
    int before;

    smp_pair();
    count = parse_mpis(value, n, m, 8);
    CHECK(count == 6); /* g2a, c2, D2, g3a, c3, D3 */
    for (k = 0; k < 9; k++) {
        memcpy(changed, m, sizeof m);
        len = 0;
        switch (k) {
        case 0: set_small(&changed[0], 1); break;                      /* g2a = 1 */
        case 1: negate_mod_p(&(struct mpi){{1}, 1}, &changed[0]); break; /* g2a = p - 1 */
        case 2: negate_mod_p(&m[0], &changed[0]); break;               /* g2a a non-residue */
        case 3: set_small(&changed[2], 0); break;                      /* D2 = 0 */
        case 4: set_small(&changed[5], 0); break;                      /* D3 = 0 */
        case 5: changed[1].b[changed[1].n - 1] ^= 1; break;            /* c2 changed */
        case 6: len = write_mpis(changed, 5, out); break;              /* 5 MPIs */
        case 7: set_small(&changed[6], 1); len = write_mpis(changed, 7, out); break; /* 7 MPIs */
        default: memcpy(out, value, n - 1); len = n - 1; break;        /* truncated */
        }
        if (len == 0) {
            len = write_mpis(changed, 6, out);
        }
        before = smp_bob->event_count;
        CHECK_RC(offrec_test_client_send_otr_smp(smp_alice->client, S("bob"), 0, 2, out, len), OFFREC_RESULT_OK);
        pump_all();
        if (events_since(smp_bob, before, OFFREC_EVENT_CODE_SMP_CHEATED) != 1 ||
            events_since(smp_bob, before, OFFREC_EVENT_CODE_SMP_ASKED_FOR_SECRET) != 0) {
            failed++;
            fprintf(stderr, "test_otr_vectors: tampered SMP1 case %zu was not cheating\n", k);
        } else {
            passed++;
        }
        CHECK(offrec_client_smp_respond(smp_bob->client, S("alice"), 0, (const uint8_t *)"x", 1) != OFFREC_RESULT_OK);
    }
    /* the untouched message still works afterwards */
    before = smp_bob->event_count;
    CHECK_RC(offrec_test_client_send_otr_smp(smp_alice->client, S("bob"), 0, 2, value, n), OFFREC_RESULT_OK);
    pump_all();
    CHECK(events_since(smp_bob, before, OFFREC_EVENT_CODE_SMP_ASKED_FOR_SECRET) == 1);
    for (i = 0; i < (size_t)smp_alice->event_count; i++) {
        CHECK(smp_alice->events[i] != OFFREC_EVENT_CODE_MALFORMED);
    }
    free(value);
    free(json);
    party_free_all();
}

int main(void) {
    const char *vectors[2] = {"tests/vectors/otr3_session.json", "tests/vectors/otr3_v2_session.json"};
    size_t i;
    for (i = 0; i < 2; i++) {
        replay(vectors[i], "alice", -1);
        replay(vectors[i], "bob", -1);
    }
    replay(vectors[0], "bob", 5);   /* alice's first data message, damaged */
    replay(vectors[0], "alice", 9); /* bob's second */
    test_other_secrets_give_other_bytes();
    test_hooks_refuse_bad_input();
    test_libotr_smp1_and_questions();
    test_tampered_libotr_smp1_is_cheating();
    printf("test_otr_vectors: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
