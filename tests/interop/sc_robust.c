/*
 * Robustness (brief §5.2 R*): damaged libotr messages into offrec (R1) and a seeded random
 * walk over everything both ends do (R2).
 */
#include "interop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if HAVE_OFFREC_OTR
static uint32_t rd32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* ---- R1: damaged libotr messages ------------------------------------------------------- */

/* Where the 4-byte length fields (DATA and MPI) of an OTR message are: after the header, per
 * type ('1', '4', '8' fixed bytes, 'm' a 20-byte MAC, 'D' a length and that many bytes). */
static size_t length_fields(const unsigned char *b, size_t len, size_t offs[4]) {
    if (len < 3) return 0;
    size_t off = b[1] == 3 ? 11 : 3, n = 0;
    const char *layout;
    switch (b[2]) {
    case OTR_TYPE_COMMIT: layout = "DD"; break;
    case OTR_TYPE_DHKEY: layout = "D"; break;
    case OTR_TYPE_REVEALSIG: layout = "DDm"; break;
    case OTR_TYPE_SIGNATURE: layout = "Dm"; break;
    case OTR_TYPE_DATA: layout = "144D8DmD"; break;
    default: return 0;
    }
    for (const char *c = layout; *c && off <= len; c++) {
        switch (*c) {
        case '1': off += 1; break;
        case '4': off += 4; break;
        case '8': off += 8; break;
        case 'm': off += 20; break;
        default:
            if (off + 4 > len || n == 4) return n;
            offs[n++] = off;
            off += 4 + (size_t)rd32(b + off);
        }
    }
    return n;
}

/* One damaged copy: the bytes, and the lowest offset it changed (for truncation: the cut). */
struct damaged {
    unsigned char *b;
    size_t len;
    size_t first_change;
    char what[48];
};

/* Damaged copy number i of b (false when there are no more): single bit flips spread over the
 * message (header, every length field, bodies, MAC), truncations, every length field set to
 * neighbouring and absurd values, trailing bytes. */
static bool damage(const unsigned char *b, size_t len, unsigned i, struct damaged *d) {
    size_t lf[4];
    size_t nlf = length_fields(b, len, lf);
    size_t flips[40], nflips = 0;
    static const size_t fixed[] = {0, 1, 2, 3, 6, 7, 10, 11, 12, 15, 20};
    for (size_t k = 0; k < sizeof fixed / sizeof fixed[0]; k++) flips[nflips++] = fixed[k];
    for (size_t k = 0; k < nlf; k++) flips[nflips++] = lf[k], flips[nflips++] = lf[k] + 3, flips[nflips++] = lf[k] + 5;
    size_t spread[] = {len / 5, len / 3, len / 2, 2 * len / 3, 4 * len / 5, len - 30, len - 21, len - 20, len - 1};
    for (size_t k = 0; k < sizeof spread / sizeof spread[0]; k++) flips[nflips++] = spread[k];
    static const size_t cuts_fixed[] = {0, 2, 3, 10, 11, 15};
    size_t cuts[10], ncuts = 0;
    for (size_t k = 0; k < sizeof cuts_fixed / sizeof cuts_fixed[0]; k++) cuts[ncuts++] = cuts_fixed[k];
    cuts[ncuts++] = len / 2, cuts[ncuts++] = len - 21, cuts[ncuts++] = len - 1;
    static const int64_t deltas[] = {1, -1, 0x100, -0x100000000LL /* 0 */, 0x7fffffff, 0xffffffff};
    d->b = malloc(len + 8);
    if (d->b == NULL) exit(2);
    memcpy(d->b, b, len);
    d->len = len;
    if (i < nflips) {
        size_t at = flips[i] < len ? flips[i] : len - 1;
        d->b[at] ^= (unsigned char)(1u << (i % 8));
        d->first_change = at;
        snprintf(d->what, sizeof d->what, "bit flip at byte %zu", at);
        return true;
    }
    i -= (unsigned)nflips;
    if (i < ncuts) {
        d->len = cuts[i] < len ? cuts[i] : len - 1;
        d->first_change = d->len;
        snprintf(d->what, sizeof d->what, "cut to %zu bytes", d->len);
        return true;
    }
    i -= (unsigned)ncuts;
    size_t ndeltas = sizeof deltas / sizeof deltas[0];
    if (i < nlf * ndeltas) {
        size_t at = lf[i / ndeltas];
        int64_t delta = deltas[i % ndeltas];
        uint32_t v = rd32(b + at);
        uint32_t nv = delta == -0x100000000LL ? 0 : delta >= 0x7fffffff ? (uint32_t)delta : v + (uint32_t)delta;
        wr32(d->b + at, nv);
        d->first_change = at;
        snprintf(d->what, sizeof d->what, "length at %zu: %u -> %u", at, v, nv);
        return true;
    }
    i -= (unsigned)(nlf * ndeltas);
    if (i == 0) {
        memset(d->b + len, 0x5a, 7);
        d->len = len + 7;
        d->first_change = len;
        snprintf(d->what, sizeof d->what, "7 bytes appended");
        return true;
    }
    free(d->b);
    d->b = NULL;
    return false;
}

/* RFC 3526's 1536-bit prime, OTR's group. */
static const char GROUP_P[] =
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA237327FFFFFFFFFFFFFFFF";

/* Whether b is a well-formed v3 D-H Key from `sender` to `receiver` whose g^y is a valid group
 * element (2 <= g^y <= p-2, in the prime-order subgroup): a different but genuine-looking D-H
 * Key, which OTR's state machine answers by design (an active attacker can always race one in). */
static bool valid_dh_key(const unsigned char *b, size_t len, uint32_t sender, uint32_t receiver) {
    if (len < 15 || b[0] != 0 || b[1] != 3 || b[2] != OTR_TYPE_DHKEY || rd32(b + 3) != sender ||
        rd32(b + 7) != receiver || (size_t)rd32(b + 11) != len - 15 || len - 15 > 192) {
        return false;
    }
    gcry_mpi_t p = NULL, y = NULL, q = gcry_mpi_new(0), r = gcry_mpi_new(0), two = gcry_mpi_set_ui(NULL, 2);
    gcry_mpi_scan(&p, GCRYMPI_FMT_HEX, GROUP_P, 0, NULL);
    gcry_mpi_scan(&y, GCRYMPI_FMT_USG, b + 15, len - 15, NULL);
    gcry_mpi_sub_ui(q, p, 1);
    gcry_mpi_rshift(q, q, 1);
    gcry_mpi_sub(r, p, two); /* p - 2 */
    bool ok = y != NULL && gcry_mpi_cmp(y, two) >= 0 && gcry_mpi_cmp(y, r) <= 0;
    if (ok) {
        gcry_mpi_powm(r, y, q, p);
        ok = gcry_mpi_cmp_ui(r, 1) == 0;
    }
    gcry_mpi_release(p), gcry_mpi_release(y), gcry_mpi_release(q), gcry_mpi_release(r), gcry_mpi_release(two);
    return ok;
}

struct r1 {
    struct party *o, *l;
    struct net_capture from_libotr;
    bool muting; /* offrec's answers to damaged input are dropped (and not tap-checked) */
    size_t injected, shown_damaged, skipped_valid_keys, text_level;
};

static char *r1_mute(const char *text, void *arg) {
    const struct r1 *r = arg;
    if (r->muting) return NULL;
    char *t = strdup(text);
    if (t == NULL) exit(2);
    return t;
}

/* Hands offrec one text as if from libotr, its answers muted. */
static void r1_inject(struct r1 *r, const char *text) {
    r->muting = true;
    net_tap_lenient = true;
    party_receive(r->o, r->l->id, r->l->account, text);
    net_pump();
    net_tap_lenient = false;
    r->muting = false;
    r->injected++;
}

/* Every damaged copy of libotr's message `text` into offrec: no copy completes an exchange or
 * is shown, except a data message damaged only after its MAC (the revealed old MAC keys are
 * outside the MAC by OTR's design), and that one exactly. */
static void r1_damage_all(struct r1 *r, const char *text) {
    unsigned char *b = NULL;
    size_t len = 0;
    if (!otr_wire_decode(text, &b, &len) || len < 11) {
        free(b);
        return;
    }
    struct otr_data data;
    bool is_data = otr_wire_data(text, &data);
    size_t mac_end = is_data ? data.mac_span + 20 : len;
    size_t started = ev_count(r->o, EV_OFFREC, OFFREC_EVENT_CODE_LEGACY_SESSION_STARTED);
    struct damaged d;
    for (unsigned i = 0; damage(b, len, i, &d); i++) {
        if (b[2] == OTR_TYPE_DHKEY && valid_dh_key(d.b, d.len, party_instag(r->l), party_instag(r->o))) {
            r->skipped_valid_keys++;
            free(d.b);
            continue;
        }
        char *t = otr_wire_encode(d.b, d.len);
        size_t shown = delivered_count(r->o);
        r1_inject(r, t);
        if (delivered_count(r->o) > shown) {
            r->shown_damaged++;
            CHECKF(is_data && d.first_change >= mac_end,
                   "offrec accepted a %s message damaged inside its MAC (%s)", is_data ? "data" : "exchange", d.what);
        }
        CHECKF(ev_count(r->o, EV_OFFREC, OFFREC_EVENT_CODE_LEGACY_SESSION_STARTED) == started,
               "a damaged message (%s) completed an exchange", d.what);
        free(t);
        free(d.b);
    }
    free(b);
    /* damage at the text level: no final '.', a non-base64 character, the base64 cut short */
    size_t tl = strlen(text);
    char *t = strdup(text);
    if (t == NULL) exit(2);
    t[tl - 1] = '\0';
    r1_inject(r, t);
    strcpy(t, text);
    t[tl / 2] = '*';
    r1_inject(r, t);
    strcpy(t, text);
    t[tl / 2] = '\0';
    r1_inject(r, t);
    free(t);
    r->text_level += 3;
    CHECK(ev_count(r->o, EV_OFFREC, OFFREC_EVENT_CODE_LEGACY_SESSION_STARTED) == started);
}

/* Passes what libotr sent on, damaging each encoded message first; stops when nothing is left. */
static void r1_drive(struct r1 *r) {
    char *t;
    while ((t = net_capture_take(&r->from_libotr)) != NULL) {
        if (!strncmp(t, "?OTR:", 5)) r1_damage_all(r, t);
        party_receive(r->o, r->l->id, r->l->account, t); /* the genuine message */
        net_pump();
        free(t);
    }
}

/* R1: every libotr message type (D-H Commit, Reveal Signature, D-H Key, Signature, data) reaches
 * offrec first in damaged copies (bit flips, truncations, length fields changed, trailing bytes,
 * broken base64), then intact: no crash (and every receive returns OK), no damaged copy
 * completes an exchange or is shown (but for damage outside a data message's MAC), and the
 * intact message then does what it would have done: the exchanges complete, each text is shown
 * exactly once, the session keeps its SSID. */
static void r1_damaged_messages(void) {
    static struct r1 r;
    memset(&r, 0, sizeof r);
    otr_pair(&r.o, &r.l, 0, OTRL_POLICY_MANUAL, 0);
    struct party *o = r.o, *l = r.l;
    o->allow_offrec_malformed = true;
    net_rule_add(l, o, (struct net_rule){.action = RULE_REWRITE, .rewrite = rewrite_capture, .arg = &r.from_libotr});
    net_rule_add(o, l, (struct net_rule){.action = RULE_REWRITE, .rewrite = r1_mute, .arg = &r});
    r.from_libotr.on = true;

    /* offrec asks: libotr's D-H Commit and Reveal Signature */
    CHECK(or_start(o) == OFFREC_RESULT_OK);
    r1_drive(&r);
    REQUIRE(party_encrypted_with(o, l) && party_encrypted_with(l, o));
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_LEGACY_SESSION_STARTED) == 1);
    struct offrec_session_protocol sp0, sp1;
    REQUIRE(or_protocol(o, l, &sp0));

    /* data messages, the later ones revealing old MAC keys */
    for (int i = 0; i < 3; i++) {
        char text[48];
        snprintf(text, sizeof text, "intact message %d", i);
        expect_delivery(o, text, strlen(text), SEC_ENCRYPTED);
        party_send(l, text);
        r1_drive(&r);
        CHECKF(delivered(o, text, strlen(text)), "\"%s\" was not shown", text);
        chat(o, "turn the keys");
    }
    REQUIRE(or_protocol(o, l, &sp1));
    CHECK(!memcmp(sp0.otr_ssid, sp1.otr_ssid, 8));
    size_t n = 0;
    CHECK(offrec_client_session_count(o->client, "bob", 3, &n) == OFFREC_RESULT_OK && n == 1);

    /* libotr asks: its D-H Key and Signature */
    otr_query(l);
    r1_drive(&r);
    REQUIRE(party_encrypted_with(o, l) && party_encrypted_with(l, o));
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_LEGACY_SESSION_STARTED) == 2);
    r.from_libotr.on = false;
    chat(l, "honest traffic after all that");
    chat(o, "reads fine");
    CHECK(r.injected > 300);
    observe("R1: offrec's reports: MALFORMED %zu, UNREADABLE %zu, HANDSHAKE_FAILED %zu, FOR_OTHER_INSTANCE %zu, "
            "REFLECTED %zu, NOT_IN_PRIVATE %zu",
            ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_MALFORMED), ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_UNREADABLE),
            ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_HANDSHAKE_FAILED),
            ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_FOR_OTHER_INSTANCE), ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_REFLECTED),
            ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_NOT_IN_PRIVATE));
    observe("R1: %zu damaged libotr messages into offrec (%zu at the text level): none completed an exchange; %zu "
            "damaged only in the revealed MAC keys were shown (outside the MAC by design); %zu bit flips that "
            "left a valid D-H Key were not sent",
            r.injected, r.text_level, r.shown_damaged, r.skipped_valid_keys);
    net_capture_free(&r.from_libotr);
}

/* ---- R2: a seeded random walk ------------------------------------------------------------ */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

/* The walk's network: while `active`, 1 % of the messages entering either link are dropped. */
struct r2 {
    struct party *o, *l;
    bool active;
    unsigned drops;
    unsigned sends, lost, rekeys, failed_rekeys, smp_runs, smp_checked, mms_changes, waits, heals;
};

static char *r2_lossy(const char *text, void *arg) {
    struct r2 *w = arg;
    if (w->active && rnd(100) == 0) {
        w->drops++;
        trace("  net: R2 dropped a message");
        return NULL;
    }
    char *t = strdup(text);
    if (t == NULL) exit(2);
    return t;
}

#define R2_ACTIONS 300
#define R2_SEED 0x0ff5ec0ffeeULL

/* Both ends encrypted with the same SSID (libotr's child context, offrec's v3 session). */
static bool r2_in_step(struct r2 *w) {
    struct offrec_session_protocol sp;
    ConnContext *c = otr_ctx(w->l, w->o);
    return party_encrypted_with(w->o, w->l) && party_encrypted_with(w->l, w->o) && c != NULL &&
           c->sessionid_len == 8 && or_protocol(w->o, w->l, &sp) && !memcmp(sp.otr_ssid, c->sessionid, 8);
}

/* A clean re-key by offrec's query (nothing dropped) after a loss left the ends apart. */
static void r2_heal(struct r2 *w, unsigned seq) {
    w->heals++;
    clock_advance(3);
    CHECK(or_start(w->o) == OFFREC_RESULT_OK);
    net_pump();
    CHECKF(r2_in_step(w), "R2 #%u: a clean re-key did not bring the ends back in step", seq);
}

static void r2_send(struct r2 *w, struct party *from, struct party *to, unsigned seq) {
    static const char *const fill[] = {"word ", "<b>&amp;</b> ", "\xc3\xa9t\xc3\xa9 ", "1 < 2 ", "\xf0\x9f\x94\x90 "};
    size_t want = rnd(100) < 70 ? 1 + rnd(60) : rnd(100) < 85 ? 60 + rnd(540) : 600 + rnd(3400);
    char *t = malloc(want + 64);
    if (t == NULL) exit(2);
    int len = snprintf(t, 64, "#%u %s: ", seq, from->label);
    while ((size_t)len < want) {
        const char *f = fill[rnd(5)];
        memcpy(t + len, f, strlen(f) + 1);
        len += (int)strlen(f);
    }
    unsigned drops = w->drops;
    long rc = party_send(from, t);
    net_pump();
    CHECKF(rc == 0, "R2 #%u: %s could not send (%ld)", seq, from->label, rc);
    w->sends++;
    /* a text may be lost only if something was dropped while it was sent */
    bool lost = w->drops != drops;
    if (delivered(to, t, (size_t)len)) {
        expect_delivery(to, t, (size_t)len, SEC_ENCRYPTED);
    } else {
        CHECKF(lost, "R2 #%u: %zu B from %s not shown although nothing of it was lost", seq, (size_t)len, from->label);
        w->lost++;
    }
    free(t);
}

static void r2_rekey(struct r2 *w, unsigned seq) {
    uint8_t before[8] = {0}, after[8] = {0};
    ConnContext *x = otr_ctx(w->l, w->o);
    if (x != NULL) memcpy(before, x->sessionid, 8);
    w->active = false;
    clock_advance(3); /* offrec sends no D-H Commit within 2 s of its last one (N7g) */
    w->active = true;
    /* libotr's own query survives its fragmenting only from mms 341 up (T10) */
    bool libotr_asks = (w->l->mms == 0 || w->l->mms >= 417) && rnd(2) == 0;
    unsigned drops = w->drops;
    size_t log_from = net_log_count();
    if (libotr_asks) {
        otr_query(w->l);
    } else {
        CHECK(or_start(w->o) == OFFREC_RESULT_OK);
    }
    net_pump();
    w->rekeys++;
    x = otr_ctx(w->l, w->o);
    if (x != NULL) memcpy(after, x->sessionid, 8);
    if (w->drops == drops) {
        CHECKF(r2_in_step(w), "R2 #%u: re-key by %s failed without loss", seq, libotr_asks ? "libotr" : "offrec");
        if (memcmp(before, after, 8) == 0) {
            /* the pattern of N6L: offrec answered with a Reveal Signature, libotr still waits
             * for one that opens the commit it holds */
            size_t reveals = 0;
            for (size_t i = log_from; i < net_log_count(); i++) {
                reveals += net_log(i)->from == w->o->id && strstr(net_log(i)->text, "?OTR:AAMR") != NULL;
            }
            bool n6l = x != NULL && x->auth.authstate == OTRL_AUTHSTATE_AWAITING_REVEALSIG;
            CHECKF(false, "R2 #%u: the re-key by %s kept the SSID%s", seq, libotr_asks ? "libotr" : "offrec",
                   !n6l ? ""
                   : reveals > 0 ? " (OFFREC BUG, see N6L: offrec answered libotr's D-H Key with an older exchange's "
                                   "Reveal Signature, which libotr ignores)"
                                 : " (OFFREC BUG, see N6L: offrec ignored libotr's D-H Key, an older exchange of "
                                   "its waits for a Reveal Signature)");
        }
    } else if (!r2_in_step(w)) {
        w->failed_rekeys++;
    }
}

/* Ends any SMP run a loss left half done, on both sides. */
static void r2_smp_reset(struct r2 *w) {
    struct offrec_session_info info;
    if (or_session_info(w->o, w->l, &info) && info.smp_in_progress) {
        CHECK(offrec_client_smp_abort(w->o->client, "bob", 3, 0) == OFFREC_RESULT_OK);
        net_pump();
    }
    ConnContext *c = otr_ctx(w->l, w->o);
    if (c != NULL && c->smstate->nextExpected != OTRL_SMP_EXPECT1) otr_smp_abort(w->l, w->o);
    w->o->smp_pending = w->l->smp_pending = false;
}

static void r2_smp(struct r2 *w, unsigned seq) {
    struct party *o = w->o, *l = w->l;
    bool same = rnd(4) != 0, offrec_starts = rnd(2) == 0;
    const char *mine = "r2 secret", *theirs = same ? "r2 secret" : "not the secret";
    w->active = false;
    r2_smp_reset(w);
    clock_advance(11); /* offrec's SMP rate limit */
    w->active = true;
    size_t ok_o = ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_SMP_SUCCEEDED);
    size_t fail_o = ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_SMP_FAILED);
    size_t ok_l = ev_count(l, EV_OTR_SMP, OTRL_SMPEVENT_SUCCESS), fail_l = ev_count(l, EV_OTR_SMP, OTRL_SMPEVENT_FAILURE);
    unsigned drops = w->drops;
    if (offrec_starts) {
        l->smp_auto_secret = theirs;
        offrec_result rc = offrec_client_smp_start(o->client, "bob", 3, 0, (const uint8_t *)mine, strlen(mine), NULL, 0);
        net_pump();
        l->smp_auto_secret = NULL;
        if (rc == OFFREC_RESULT_SMP_RATE_LIMITED) return; /* five failures in this session */
        CHECKF(rc == OFFREC_RESULT_OK, "R2 #%u: smp_start %u", seq, (unsigned)rc);
    } else {
        o->smp_auto_secret = theirs;
        otr_smp_start(l, o, NULL, mine);
        o->smp_auto_secret = NULL;
    }
    w->smp_runs++;
    if (w->drops != drops) return; /* a lost SMP message: the run stalls (reset before the next) */
    w->smp_checked++;
    CHECKF(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_SMP_SUCCEEDED) == ok_o + same &&
               ev_count(l, EV_OTR_SMP, OTRL_SMPEVENT_SUCCESS) == ok_l + same,
           "R2 #%u: SMP (%s starts, %s secrets) did not succeed on both sides", seq, offrec_starts ? "offrec" : "libotr",
           same ? "same" : "different");
    CHECKF(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_SMP_FAILED) == fail_o + !same &&
               ev_count(l, EV_OTR_SMP, OTRL_SMPEVENT_FAILURE) == fail_l + !same,
           "R2 #%u: SMP with different secrets did not fail on both sides", seq);
}

/* R2: a seeded random walk of 300 actions on one offrec-libotr pair, 1 % of all wire messages
 * lost: texts either way (1 B to 4 kB, UTF-8 and HTML characters), re-keys by either side's
 * query, SMP runs either side starts with the same or different secrets, mms changes (0, 120,
 * 417, 1409), waits (heartbeats). Checked: every text shown is exact and shown once, every text
 * none of whose pieces was lost is shown; re-keys and SMP runs that lost nothing end as they
 * must (new SSID; success or failure on both sides); the ends fall out of step only when a
 * loss hit an exchange, and a clean re-key then brings them back (counted as heals); offrec
 * reports nothing unreadable or malformed and nobody sends an error message while in step. */
static void r2_random_walk(void) {
    /* INTEROP_R2_SEED=<n> walks another path (to explore; the default is fixed) */
    const char *env = getenv("INTEROP_R2_SEED");
    uint64_t seed = env != NULL ? strtoull(env, NULL, 0) : R2_SEED;
    if (seed == 0) seed = R2_SEED;
    rng_state = seed;
    static const int mmss[] = {0, 120, 417, 1409};
    static struct r2 w;
    memset(&w, 0, sizeof w);
    otr_pair(&w.o, &w.l, 0, OTRL_POLICY_MANUAL, 0);
    struct party *o = w.o, *l = w.l;
    net_rule_add(o, l, (struct net_rule){.action = RULE_REWRITE, .rewrite = r2_lossy, .arg = &w});
    net_rule_add(l, o, (struct net_rule){.action = RULE_REWRITE, .rewrite = r2_lossy, .arg = &w});
    REQUIRE(ake_offrec_asks(o, l));
    for (unsigned seq = 1; seq <= R2_ACTIONS; seq++) {
        uint32_t a = rnd(1000);
        unsigned drops = w.drops;
        w.active = true;
        if (a < 420) {
            r2_send(&w, o, l, seq);
        } else if (a < 840) {
            r2_send(&w, l, o, seq);
        } else if (a < 880) {
            r2_rekey(&w, seq);
        } else if (a < 892) {
            r2_smp(&w, seq);
        } else if (a < 930) {
            o->mms = l->mms = mmss[rnd(4)];
            w.mms_changes++;
        } else {
            clock_advance(1 + (long)rnd(70));
            w.waits++;
        }
        w.active = false;
        if (!r2_in_step(&w)) {
            CHECKF(w.drops != drops, "R2 #%u: the ends fell out of step without any loss", seq);
            r2_heal(&w, seq);
        }
    }
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_UNREADABLE) == 0);
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_MALFORMED) == 0);
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_NOT_IN_PRIVATE) == 0);
    CHECK(ev_count(l, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_UNREADABLE) == 0);
    CHECK(net_count_containing(o, l, "?OTR Error:") == 0 && net_count_containing(l, o, "?OTR Error:") == 0);
    if (seed == R2_SEED) CHECK(w.rekeys > 0 && w.smp_checked > 0 && w.lost > 0 && w.heals > 0);
    observe("R2 (seed %#llx): %u texts (%u lost), %u drops, %u re-keys (%u left the ends apart: %u heals), %u SMP "
            "runs (%u checked), %u mms changes, %u waits; libotr NOT_IN_PRIVATE %zu",
            (unsigned long long)seed, w.sends, w.lost, w.drops, w.rekeys, w.failed_rekeys, w.heals, w.smp_runs,
            w.smp_checked, w.mms_changes, w.waits, ev_count(l, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_NOT_IN_PRIVATE));
    chat(o, "end of the walk");
    chat(l, "still in step");
}
#endif

const struct scenario robust_scenarios[] = {
    OTR_SCENARIO("R1", "damaged libotr messages of every type into offrec, then intact", r1_damaged_messages),
    OTR_SCENARIO("R2", "seeded random walk: 300 actions, 1 % loss, re-keys, SMP, mms", r2_random_walk),
    {NULL, NULL, NULL},
};
