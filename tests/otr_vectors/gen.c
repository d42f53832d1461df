/*
 * offrec OTR vector generator: runs real libotr <-> libotr sessions in one process and dumps
 * everything the Rust tests (tests/otr_core.rs) need to check offrec's OTR core against libotr:
 * both DSA keys, every DH secret by keyid, r, instance tags, every wire message (text and
 * base64-decoded binary), the session id, extra symmetric keys and the plaintexts.
 *
 *   gen session 3 > tests/vectors/otr3_session.json     v3 (both sides allow v2 and v3)
 *   gen session 2 > tests/vectors/otr3_v2_session.json  v2 (both sides allow v2 only)
 *   gen verify FILE     each line "p q g y m sig" (hex): libotr's otrl_privkey_verify must
 *                       accept the signature sig over the 32-byte m; prints one line each
 *   gen peer 3|2        a live libotr party ("alice") driven over stdin/stdout by
 *                       tests/otr_live.rs, which plays "bob" with offrec's OTR core; commands
 *                       are listed at run_peer()
 *
 * It reads libotr's private state (context_priv.h, auth.h, dh.h are installed with
 * libotr5-dev) only to dump secrets; the protocol itself is driven through the public API.
 * Written for offrec from the libotr headers and the OTR v3 spec; no libotr code is copied.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gcrypt.h>
#include <libotr/proto.h>
#include <libotr/userstate.h>
#include <libotr/privkey.h>
#include <libotr/instag.h>
#include <libotr/message.h>
#include <libotr/context.h>
#include <libotr/context_priv.h>
#include <libotr/b64.h>
#include <libotr/tlv.h>

#define PROTOCOL "prpl-jabber"
#define MAX_QUEUE 64
#define MAX_KEYS 64

enum { ALICE = 0, BOB = 1 };
static const char *NAMES[2] = { "alice", "bob" };
static const char *ACCOUNTS[2] = { "alice@example.org", "bob@example.org" };

struct dhkey { unsigned int keyid; char *pub, *priv; };
struct party {
    OtrlUserState us;
    struct dhkey keys[MAX_KEYS];
    int nkeys;
    char *r;                 /* hex of auth.r when we sent the commit */
    int symkey_seen;
    unsigned int symkey_use;
    char *symkey_usedata, *symkey_key;
    char *ssid;              /* hex, recorded when the AKE finished */
    const char *ssid_half;
};
static struct party parties[2];
static OtrlPolicy policy_bits;

struct queued { int from, to; char *text; };
static struct queued queue[MAX_QUEUE];
static int qhead, qtail;

static int first_message = 1;
static int peer_mode;      /* gen peer: report events instead of failing */
static int message_index;

/* ---- small helpers ---- */

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static char *hex(const unsigned char *buf, size_t len)
{
    char *out = malloc(2 * len + 1);
    if (!out) die("out of memory");
    for (size_t i = 0; i < len; i++) sprintf(out + 2 * i, "%02x", buf[i]);
    out[2 * len] = '\0';
    return out;
}

static char *mpi_hex(gcry_mpi_t m)
{
    unsigned char *buf;
    size_t len;
    if (gcry_mpi_aprint(GCRYMPI_FMT_USG, &buf, &len, m)) die("mpi print");
    char *out = hex(buf, len);
    gcry_free(buf);
    return out;
}

static unsigned char *unhex(const char *s, size_t *len)
{
    size_t n = strlen(s) / 2;
    unsigned char *out = malloc(n ? n : 1);
    if (!out) die("out of memory");
    for (size_t i = 0; i < n; i++) {
        unsigned int b;
        if (sscanf(s + 2 * i, "%2x", &b) != 1) die("bad hex");
        out[i] = (unsigned char)b;
    }
    *len = n;
    return out;
}

static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

static int party_of(const char *account)
{
    return strcmp(account, ACCOUNTS[ALICE]) == 0 ? ALICE : BOB;
}

/* ---- libotr callbacks ---- */

static OtrlPolicy op_policy(void *opdata, ConnContext *context) { return policy_bits; }

static int op_is_logged_in(void *opdata, const char *accountname, const char *protocol, const char *recipient)
{
    return 1;
}

static void op_inject(void *opdata, const char *accountname, const char *protocol, const char *recipient,
                      const char *message)
{
    if (qtail == MAX_QUEUE) die("queue full");
    queue[qtail].from = party_of(accountname);
    queue[qtail].to = party_of(recipient);
    queue[qtail].text = strdup(message);
    qtail++;
}

static void op_nothing(void *opdata) {}
static void op_new_fingerprint(void *opdata, OtrlUserState us, const char *a, const char *p, const char *u,
                               unsigned char fp[20]) {}
static void op_context(void *opdata, ConnContext *context) {}
static void op_still_secure(void *opdata, ConnContext *context, int is_reply) {}
static int op_mms(void *opdata, ConnContext *context) { return 0; }

static void op_received_symkey(void *opdata, ConnContext *context, unsigned int use, const unsigned char *usedata,
                               size_t usedatalen, const unsigned char *symkey)
{
    struct party *p = &parties[party_of(context->accountname)];
    if (peer_mode) {
        char *d = hex(usedata, usedatalen), *k = hex(symkey, 32);
        printf("SYMKEY %u %s %s\n", use, d, k);
        free(d);
        free(k);
        return;
    }
    p->symkey_seen = 1;
    p->symkey_use = use;
    p->symkey_usedata = hex(usedata, usedatalen);
    p->symkey_key = hex(symkey, 32);
}

static const char *op_error_message(void *opdata, ConnContext *context, OtrlErrorCode code)
{
    return "You transmitted an unreadable encrypted message.";
}
static void op_error_free(void *opdata, const char *msg) {}

static void op_msg_event(void *opdata, OtrlMessageEvent event, ConnContext *context, const char *message,
                         gcry_error_t err)
{
    /* Anything but "heartbeat received/sent" or "log" means the run went wrong. */
    if (event == OTRL_MSGEVENT_LOG_HEARTBEAT_RCVD || event == OTRL_MSGEVENT_LOG_HEARTBEAT_SENT) return;
    if (peer_mode) {
        printf("EVENT %d\n", (int)event);
        return;
    }
    die("unexpected libotr message event %d for %s (err %s)", (int)event, context ? context->accountname : "?",
        gcry_strerror(err));
}

static void op_create_instag(void *opdata, const char *accountname, const char *protocol)
{
    die("instance tag missing for %s", accountname);
}

static OtrlMessageAppOps ops = {
    .policy = op_policy,
    .is_logged_in = op_is_logged_in,
    .inject_message = op_inject,
    .update_context_list = op_nothing,
    .new_fingerprint = op_new_fingerprint,
    .write_fingerprints = op_nothing,
    .gone_secure = op_context,
    .gone_insecure = op_context,
    .still_secure = op_still_secure,
    .max_message_size = op_mms,
    .received_symkey = op_received_symkey,
    .otr_error_message = op_error_message,
    .otr_error_message_free = op_error_free,
    .handle_msg_event = op_msg_event,
    .create_instag = op_create_instag,
};

/* ---- secrets ---- */

static void remember_key(struct party *p, unsigned int keyid, const DH_keypair *kp)
{
    if (!kp->pub || !kp->priv || keyid == 0) return;
    char *pub = mpi_hex(kp->pub);
    for (int i = 0; i < p->nkeys; i++) {
        if (strcmp(p->keys[i].pub, pub) == 0) {
            free(pub);
            return;
        }
    }
    if (p->nkeys == MAX_KEYS) die("too many keys");
    p->keys[p->nkeys].keyid = keyid;
    p->keys[p->nkeys].pub = pub;
    p->keys[p->nkeys].priv = mpi_hex(kp->priv);
    p->nkeys++;
}

/* Records every DH key pair (and r) the party's contexts hold right now. */
static void snapshot(int who)
{
    struct party *p = &parties[who];
    for (ConnContext *c = p->us->context_root; c; c = c->next) {
        if (c->auth.authstate != OTRL_AUTHSTATE_NONE) remember_key(p, c->auth.our_keyid, &c->auth.our_dh);
        if (c->auth.authstate == OTRL_AUTHSTATE_AWAITING_DHKEY && !p->r) p->r = hex(c->auth.r, 16);
        if (c->context_priv->our_keyid > 0) {
            remember_key(p, c->context_priv->our_keyid, &c->context_priv->our_dh_key);
            remember_key(p, c->context_priv->our_keyid - 1, &c->context_priv->our_old_dh_key);
        }
    }
}

/* The context `who` uses with the other party's instance `their_instance` (0 for v2). */
static ConnContext *context_with(int who, otrl_instag_t their_instance)
{
    for (ConnContext *c = parties[who].us->context_root; c; c = c->next) {
        if (c->their_instance == their_instance) return c;
    }
    return NULL;
}

static unsigned int be32(const unsigned char *b)
{
    return ((unsigned int)b[0] << 24) | ((unsigned int)b[1] << 16) | ((unsigned int)b[2] << 8) | b[3];
}

/* ---- delivering and recording ---- */

static void begin_message(int from, int to, const char *kind, const char *text)
{
    printf("%s\n    {\"index\": %d, \"from\": \"%s\", \"to\": \"%s\", \"kind\": \"%s\", \"text\": ",
           first_message ? "" : ",", message_index++, NAMES[from], NAMES[to], kind);
    first_message = 0;
    json_string(text);
}

static const char *kind_of(const unsigned char *bin, size_t len)
{
    if (len < 3) return "unknown";
    switch (bin[2]) {
    case 0x02: return "dh_commit";
    case 0x0a: return "dh_key";
    case 0x11: return "reveal_signature";
    case 0x12: return "signature";
    case 0x03: return "data";
    default: return "unknown";
    }
}

/* Delivers one message to its recipient and records it (and what the recipient made of it). */
static void deliver(int from, int to, const char *text)
{
    unsigned char *bin = NULL;
    size_t binlen = 0;
    const char *kind = "text";
    char *extra = NULL;
    ConnContext *rctx = NULL;

    if (strncmp(text, "?OTR:", 5) == 0) {
        if (otrl_base64_otr_decode(text, &bin, &binlen)) die("base64");
        kind = kind_of(bin, binlen);
    } else if (strncmp(text, "?OTR", 4) == 0) {
        kind = "query";
    }
    if (bin && strcmp(kind, "data") == 0) {
        int v3 = bin[1] == 3;
        size_t off = v3 ? 12 : 4;
        otrl_instag_t sender_instance = v3 ? be32(bin + 3) : 0;
        rctx = context_with(to, sender_instance);
        if (!rctx || binlen < off + 8) die("no receiving context");
        unsigned int sender_keyid = be32(bin + off), recipient_keyid = be32(bin + off + 4);
        unsigned int i = rctx->context_priv->our_keyid - recipient_keyid;
        unsigned int j = rctx->context_priv->their_keyid - sender_keyid;
        if (i > 1 || j > 1) die("message under unknown keys");
        extra = hex(rctx->context_priv->sesskeys[i][j].extrakey, 32);
    }

    begin_message(from, to, kind, text);
    if (bin) {
        char *h = hex(bin, binlen);
        printf(", \"binary\": \"%s\"", h);
        free(h);
    }

    char *newmsg = NULL;
    OtrlTLV *tlvs = NULL;
    ConnContext *ctx = NULL;
    int ignore = otrl_message_receiving(parties[to].us, &ops, NULL, ACCOUNTS[to], PROTOCOL, ACCOUNTS[from], text,
                                        &newmsg, &tlvs, &ctx, NULL, NULL);
    if (extra) {
        printf(", \"extra_key\": \"%s\", \"flags\": %d", extra, bin[bin[1] == 3 ? 11 : 3]);
        /* What the receiver got: text up to the NUL, then the TLVs, as libotr writes them. */
        size_t textlen = newmsg ? strlen(newmsg) : 0;
        size_t total = textlen + 1 + otrl_tlv_seriallen(tlvs);
        unsigned char *plain = calloc(1, total);
        if (!plain) die("out of memory");
        if (textlen) memcpy(plain, newmsg, textlen);
        otrl_tlv_serialize(plain + textlen + 1, tlvs);
        char *h = hex(plain, total);
        printf(", \"plaintext\": \"%s\", \"delivered\": ", h);
        free(h);
        free(plain);
        json_string(newmsg ? newmsg : "");
        printf(", \"ignored\": %d", ignore);
        free(extra);
        rctx = context_with(to, bin[1] == 3 ? be32(bin + 3) : 0);
        printf(", \"receiver_keyids_after\": [%u, %u]", rctx->context_priv->our_keyid,
               rctx->context_priv->their_keyid);
    } else if (ignore == 0 && newmsg) {
        printf(", \"delivered\": ");
        json_string(newmsg);
    }
    printf("}");
    otrl_message_free(newmsg);
    otrl_tlv_free(tlvs);
    free(bin);
    snapshot(ALICE);
    snapshot(BOB);
}

static void pump(void)
{
    while (qhead < qtail) {
        struct queued m = queue[qhead++];
        deliver(m.from, m.to, m.text);
        free(m.text);
    }
}

static ConnContext *session_context(int who)
{
    otrl_instag_t peer = policy_bits & OTRL_POLICY_ALLOW_V3
                             ? otrl_instag_find(parties[!who].us, ACCOUNTS[!who], PROTOCOL)->instag
                             : 0;
    ConnContext *c = context_with(who, peer);
    if (!c || c->msgstate != OTRL_MSGSTATE_ENCRYPTED) die("%s is not encrypted", NAMES[who]);
    return c;
}

static void send_text(int from, const char *text, OtrlTLV *tlvs)
{
    char *out = NULL;
    ConnContext *c = session_context(from);
    gcry_error_t err = otrl_message_sending(parties[from].us, &ops, NULL, ACCOUNTS[from], PROTOCOL, ACCOUNTS[!from],
                                            c->their_instance, text, tlvs, &out, OTRL_FRAGMENT_SEND_SKIP, NULL,
                                            NULL, NULL);
    if (err || !out) die("sending failed");
    op_inject(NULL, ACCOUNTS[from], PROTOCOL, ACCOUNTS[!from], out);
    otrl_message_free(out);
    snapshot(from);
    pump();
}

/* ---- output ---- */

static void dump_dsa(int who)
{
    OtrlPrivKey *k = otrl_privkey_find(parties[who].us, ACCOUNTS[who], PROTOCOL);
    const char *names[] = { "p", "q", "g", "y", "x" };
    printf("\"dsa\": {");
    for (int i = 0; i < 5; i++) {
        gcry_sexp_t t = gcry_sexp_find_token(k->privkey, names[i], 0);
        gcry_mpi_t m = gcry_sexp_nth_mpi(t, 1, GCRYMPI_FMT_USG);
        char *h = mpi_hex(m);
        printf("%s\"%s\": \"%s\"", i ? ", " : "", names[i], h);
        free(h);
        gcry_mpi_release(m);
        gcry_sexp_release(t);
    }
    unsigned char fp[20];
    otrl_privkey_fingerprint_raw(parties[who].us, fp, ACCOUNTS[who], PROTOCOL);
    char *h = hex(fp, 20);
    char human[OTRL_PRIVKEY_FPRINT_HUMAN_LEN];
    otrl_privkey_hash_to_human(human, fp);
    printf("}, \"fingerprint\": \"%s\", \"fingerprint_human\": \"%s\"", h, human);
    free(h);
}

static void dump_party(int who, int last)
{
    struct party *p = &parties[who];
    printf("    \"%s\": {\"account\": \"%s\", \"instance_tag\": %u, ", NAMES[who], ACCOUNTS[who],
           otrl_instag_find(p->us, ACCOUNTS[who], PROTOCOL)->instag);
    dump_dsa(who);
    printf(",\n      \"r\": ");
    if (p->r) printf("\"%s\"", p->r);
    else printf("null");
    printf(", \"ssid\": \"%s\", \"ssid_half_bold\": \"%s\"", p->ssid, p->ssid_half);
    printf(",\n      \"symkey_received\": ");
    if (p->symkey_seen)
        printf("{\"use\": %u, \"usedata\": \"%s\", \"key\": \"%s\"}", p->symkey_use, p->symkey_usedata,
               p->symkey_key);
    else
        printf("null");
    printf(",\n      \"dh_keys\": [");
    for (int i = 0; i < p->nkeys; i++) {
        printf("%s\n        {\"keyid\": %u, \"public\": \"%s\", \"secret\": \"%s\"}", i ? "," : "",
               p->keys[i].keyid, p->keys[i].pub, p->keys[i].priv);
    }
    printf("\n      ]}%s\n", last ? "" : ",");
}

/* ---- modes ---- */

static void setup(const char *dir)
{
    for (int who = 0; who < 2; who++) {
        char keyfile[512], tagfile[512];
        parties[who].us = otrl_userstate_create();
        snprintf(keyfile, sizeof keyfile, "%s/%s.key", dir, NAMES[who]);
        snprintf(tagfile, sizeof tagfile, "%s/%s.instag", dir, NAMES[who]);
        if (otrl_privkey_generate(parties[who].us, keyfile, ACCOUNTS[who], PROTOCOL)) die("keygen");
        if (otrl_instag_generate(parties[who].us, tagfile, ACCOUNTS[who], PROTOCOL)) die("instag");
    }
}

static int run_session(int version)
{
    char dir[] = "/tmp/offrec-otr-vectors-XXXXXX";
    if (!mkdtemp(dir)) die("mkdtemp");
    policy_bits = version == 3 ? (OTRL_POLICY_ALLOW_V2 | OTRL_POLICY_ALLOW_V3) : OTRL_POLICY_ALLOW_V2;
    setup(dir);

    printf("{\n  \"generator\": \"tests/otr_vectors/gen.c session %d\",\n  \"libotr\": \"%s\",\n"
           "  \"libgcrypt\": \"%s\",\n  \"version\": %d,\n  \"messages\": [",
           version, otrl_version(), gcry_check_version(NULL), version);

    /* Alice advertises; Bob starts the AKE. */
    op_inject(NULL, ACCOUNTS[ALICE], PROTOCOL, ACCOUNTS[BOB], version == 3 ? "?OTRv3?" : "?OTRv2?");
    pump();
    for (int who = 0; who < 2; who++) {
        ConnContext *c = session_context(who);
        parties[who].ssid = hex(c->sessionid, c->sessionid_len);
        parties[who].ssid_half = c->sessionid_half == OTRL_SESSIONID_FIRST_HALF_BOLD ? "first" : "second";
    }

    send_text(ALICE, "Hello Bob! <b>HTML</b> &amp; UTF-8: h\xc3\xa9llo \xe2\x98\x83", NULL);
    send_text(ALICE, "A second message under the same key pair.", NULL);
    send_text(BOB, "Hi Alice.", NULL);
    /* TLV 8: the extra symmetric key, sent by libotr in an empty message. */
    unsigned char symkey[32];
    if (otrl_message_symkey(parties[ALICE].us, &ops, NULL, session_context(ALICE), 0x01020304,
                            (const unsigned char *)"file.txt", 8, symkey))
        die("symkey");
    snapshot(ALICE);
    pump();
    char long_text[3001];
    for (int i = 0; i < 3000; i++) long_text[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[i % 36];
    long_text[3000] = '\0';
    send_text(BOB, long_text, NULL);
    send_text(ALICE, "After a rotation.", NULL);
    OtrlTLV *padding = otrl_tlv_new(0, 7, (const unsigned char *)"\0\0\0\0\0\0\0");
    send_text(BOB, "With a padding TLV.", padding);
    otrl_tlv_free(padding);
    send_text(BOB, "Two in a row.", NULL);
    send_text(ALICE, "Bye.", NULL);
    /* TLV 1: Alice ends the session. */
    otrl_message_disconnect(parties[ALICE].us, &ops, NULL, ACCOUNTS[ALICE], PROTOCOL, ACCOUNTS[BOB],
                            session_context(ALICE)->their_instance);
    pump();

    char *sym = hex(symkey, 32);
    printf("\n  ],\n  \"symkey_sent\": {\"use\": %u, \"usedata\": \"%s\", \"key\": \"%s\"},\n  \"parties\": {\n",
           0x01020304, "66696c652e747874", sym);
    free(sym);
    dump_party(ALICE, 0);
    dump_party(BOB, 1);
    printf("  }\n}\n");

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) die("cleanup");
    return 0;
}

static int run_verify(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) die("cannot open %s", path);
    char line[4096];
    int failures = 0, count = 0;
    while (fgets(line, sizeof line, f)) {
        char *fields[6];
        int n = 0;
        if (line[0] == '#' || line[0] == '\n') continue;
        for (char *tok = strtok(line, " \t\n"); tok && n < 6; tok = strtok(NULL, " \t\n")) fields[n++] = tok;
        if (n != 6) die("bad line");
        gcry_mpi_t v[4];
        for (int i = 0; i < 4; i++) {
            size_t len;
            unsigned char *b = unhex(fields[i], &len);
            if (gcry_mpi_scan(&v[i], GCRYMPI_FMT_USG, b, len, NULL)) die("mpi scan");
            free(b);
        }
        gcry_sexp_t pubs;
        if (gcry_sexp_build(&pubs, NULL, "(public-key (dsa (p %m)(q %m)(g %m)(y %m)))", v[0], v[1], v[2], v[3]))
            die("sexp");
        size_t mlen, siglen;
        unsigned char *m = unhex(fields[4], &mlen), *sig = unhex(fields[5], &siglen);
        gcry_error_t err = otrl_privkey_verify(sig, siglen, OTRL_PUBKEY_TYPE_DSA, pubs, m, mlen);
        printf("%s %s\n", err ? "FAIL" : "ok", fields[4]);
        failures += err != 0;
        count++;
        free(m);
        free(sig);
        gcry_sexp_release(pubs);
        for (int i = 0; i < 4; i++) gcry_mpi_release(v[i]);
    }
    fclose(f);
    fprintf(stderr, "libotr verified %d of %d offrec signatures\n", count - failures, count);
    return failures || count == 0;
}

/* ---- live peer ---- */

/* Alice's context with Bob's instance (v3) or the master context (v2). */
static ConnContext *peer_context(void)
{
    ConnContext *found = NULL;
    for (ConnContext *c = parties[ALICE].us->context_root; c; c = c->next) {
        if (strcmp(c->username, ACCOUNTS[BOB]) != 0) continue;
        if (policy_bits & OTRL_POLICY_ALLOW_V3 ? c->their_instance != 0 : c->their_instance == 0) found = c;
    }
    return found;
}

static void flush_sends(void)
{
    while (qhead < qtail) {
        printf("SEND %s\n", queue[qhead].text);
        free(queue[qhead].text);
        qhead++;
    }
}

static unsigned char *unhex_text(const char *s)
{
    size_t len;
    unsigned char *b = unhex(s, &len);
    unsigned char *out = realloc(b, len + 1);
    if (!out) die("out of memory");
    out[len] = '\0';
    return out;
}

/*
 * Commands, one per line; each answer ends with a line "END":
 *   RECV <text>         Alice receives <text> from Bob: "SEND <text>" per message she sends
 *                       back, "MSG <hex>" for text shown to her, "SYMKEY <use> <hex> <key>" for
 *                       a TLV 8, "EVENT <n>" for a libotr message event, "TLV <type>" per TLV
 *   SENDMSG <hex>       Alice sends the text: "SEND <text>"
 *   SYMKEY <use> <hex>  Alice sends a TLV 8: "SEND <text>", "KEY <hex>"
 *   DISCONNECT          Alice ends the session: "SEND <text>"
 *   STATUS              "STATUS <msgstate> <ssid> <first|second> <our_keyid> <their_keyid> <fp>"
 * At start: "READY <alice instance tag> <alice fingerprint>".
 */
static int run_peer(int version)
{
    char dir[] = "/tmp/offrec-otr-peer-XXXXXX";
    if (!mkdtemp(dir)) die("mkdtemp");
    peer_mode = 1;
    policy_bits = version == 3 ? (OTRL_POLICY_ALLOW_V2 | OTRL_POLICY_ALLOW_V3) : OTRL_POLICY_ALLOW_V2;
    setup(dir);
    setvbuf(stdout, NULL, _IOLBF, 0);
    unsigned char fp[20];
    otrl_privkey_fingerprint_raw(parties[ALICE].us, fp, ACCOUNTS[ALICE], PROTOCOL);
    char *fph = hex(fp, 20);
    printf("READY %u %s\n", otrl_instag_find(parties[ALICE].us, ACCOUNTS[ALICE], PROTOCOL)->instag, fph);
    free(fph);

    static char line[1 << 20];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "RECV ", 5) == 0) {
            char *newmsg = NULL;
            OtrlTLV *tlvs = NULL;
            int ignore = otrl_message_receiving(parties[ALICE].us, &ops, NULL, ACCOUNTS[ALICE], PROTOCOL,
                                                ACCOUNTS[BOB], line + 5, &newmsg, &tlvs, NULL, NULL, NULL);
            flush_sends();
            if (!ignore && newmsg) {
                char *h = hex((const unsigned char *)newmsg, strlen(newmsg));
                printf("MSG %s\n", h);
                free(h);
            }
            for (OtrlTLV *t = tlvs; t; t = t->next) printf("TLV %u\n", t->type);
            otrl_message_free(newmsg);
            otrl_tlv_free(tlvs);
        } else if (strncmp(line, "SENDMSG ", 8) == 0) {
            ConnContext *c = peer_context();
            unsigned char *text = unhex_text(line + 8);
            char *out = NULL;
            gcry_error_t err = otrl_message_sending(parties[ALICE].us, &ops, NULL, ACCOUNTS[ALICE], PROTOCOL,
                                                    ACCOUNTS[BOB], c ? c->their_instance : OTRL_INSTAG_BEST,
                                                    (const char *)text, NULL, &out, OTRL_FRAGMENT_SEND_SKIP,
                                                    NULL, NULL, NULL);
            if (err || !out) printf("ERROR sending\n");
            else printf("SEND %s\n", out);
            otrl_message_free(out);
            free(text);
        } else if (strncmp(line, "SYMKEY ", 7) == 0) {
            unsigned int use;
            char data[1024];
            if (sscanf(line + 7, "%u %1023s", &use, data) != 2) die("bad SYMKEY");
            size_t len;
            unsigned char *d = unhex(data, &len), key[32];
            if (otrl_message_symkey(parties[ALICE].us, &ops, NULL, peer_context(), use, d, len, key))
                printf("ERROR symkey\n");
            flush_sends();
            char *h = hex(key, 32);
            printf("KEY %s\n", h);
            free(h);
            free(d);
        } else if (strcmp(line, "DISCONNECT") == 0) {
            ConnContext *c = peer_context();
            otrl_message_disconnect(parties[ALICE].us, &ops, NULL, ACCOUNTS[ALICE], PROTOCOL, ACCOUNTS[BOB],
                                    c ? c->their_instance : 0);
            flush_sends();
        } else if (strcmp(line, "STATUS") == 0) {
            ConnContext *c = peer_context();
            if (!c) {
                printf("STATUS none\n");
            } else {
                char *ssid = hex(c->sessionid, c->sessionid_len);
                char *their = c->active_fingerprint ? hex(c->active_fingerprint->fingerprint, 20) : strdup("-");
                printf("STATUS %d %s %s %u %u %s\n", (int)c->msgstate, c->sessionid_len ? ssid : "-",
                       c->sessionid_half == OTRL_SESSIONID_FIRST_HALF_BOLD ? "first" : "second",
                       c->context_priv->our_keyid, c->context_priv->their_keyid, their);
                free(ssid);
                free(their);
            }
        } else {
            printf("ERROR unknown command\n");
        }
        printf("END\n");
    }
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) != 0;
}

int main(int argc, char **argv)
{
    OTRL_INIT;
    if (argc == 3 && strcmp(argv[1], "session") == 0) return run_session(atoi(argv[2]) == 2 ? 2 : 3);
    if (argc == 3 && strcmp(argv[1], "verify") == 0) return run_verify(argv[2]);
    if (argc == 3 && strcmp(argv[1], "peer") == 0) return run_peer(atoi(argv[2]) == 2 ? 2 : 3);
    fprintf(stderr, "usage: %s session 3|2 | verify FILE | peer 3|2\n", argv[0]);
    return 2;
}
