/*
 * Parties: libotr 4.1.1 users (an OtrlUserState with the full set of application callbacks,
 * behaving as Pidgin-OTR does where it matters) and offrec clients (the C API with callbacks
 * that queue sends and record what they are told). Every party records its deliveries and
 * events; scenarios read them and the global asserts check them.
 */
#include "interop.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct party *parties[MAX_PARTIES];
int nparties;

static void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fatal(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("interop: fatal: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n, size);
    if (p == NULL) fatal("out of memory");
    return p;
}

static char *xmemdup(const void *src, size_t len) {
    char *p = xcalloc(1, len + 1);
    if (len > 0) memcpy(p, src, len);
    return p;
}

/* Grows an array of `size`-byte items so that one more fits. */
static void *grow(void *array, size_t *cap, size_t count, size_t size) {
    if (count < *cap) return array;
    *cap = *cap ? *cap * 2 : 16;
    array = realloc(array, *cap * size);
    if (array == NULL) fatal("out of memory");
    return array;
}

/* ---- DSA key cache: one key per (slot, account), generated at first need ---------------- */

struct cached_key {
    char slot[NAME_LEN];
    char account[NAME_LEN];
    char path[160];
};
static struct cached_key keys[16];
static int nkeys;
static char keydir[64];

static const char *key_file(const char *slot, const char *account) {
    for (int i = 0; i < nkeys; i++) {
        if (!strcmp(keys[i].slot, slot) && !strcmp(keys[i].account, account)) return keys[i].path;
    }
    if (nkeys == (int)(sizeof keys / sizeof keys[0])) fatal("too many DSA keys");
    if (keydir[0] == '\0') {
        snprintf(keydir, sizeof keydir, "/tmp/offrec-interop-XXXXXX");
        if (mkdtemp(keydir) == NULL) fatal("mkdtemp");
    }
    struct cached_key *k = &keys[nkeys++];
    snprintf(k->slot, sizeof k->slot, "%s", slot);
    snprintf(k->account, sizeof k->account, "%s", account);
    snprintf(k->path, sizeof k->path, "%s/%s.%s.key", keydir, slot, account);
    OtrlUserState us = otrl_userstate_create();
    gcry_error_t err = otrl_privkey_generate(us, k->path, account, OTR_PROTO);
    otrl_userstate_free(us);
    if (err) fatal("otrl_privkey_generate(%s): %s", account, gcry_strerror(err));
    trace("generated DSA key %s/%s", slot, account);
    return k->path;
}

static void stores_cleanup(void);

void keys_cleanup(void) {
    stores_cleanup();
    for (int i = 0; i < nkeys; i++) unlink(keys[i].path);
    if (keydir[0] != '\0') rmdir(keydir);
    nkeys = 0;
    keydir[0] = '\0';
}

/* ---- records ------------------------------------------------------------------------------ */

static struct evrec *add_event(struct party *p, enum ev_src src, int code, uint32_t instance) {
    p->ev = grow(p->ev, &p->capev, p->nev, sizeof *p->ev);
    struct evrec *e = &p->ev[p->nev++];
    memset(e, 0, sizeof *e);
    e->src = src;
    e->code = code;
    e->instance = instance;
    e->at = clock_now();
    return e;
}

static void set_event_text(struct evrec *e, const char *text, size_t len) {
    if (text == NULL) return;
    e->text = xmemdup(text, len);
    e->text_len = len;
}

static void add_delivery(struct party *p, int from, const char *text, size_t len, bool encrypted,
                         uint32_t instance) {
    p->del = grow(p->del, &p->capdel, p->ndel, sizeof *p->del);
    struct delivery *d = &p->del[p->ndel++];
    d->text = xmemdup(text, len);
    d->len = len;
    d->encrypted = encrypted;
    d->instance = instance;
    d->from = from;
    d->at = clock_now();
    trace("  %s shown (%s, %zu B): %.60s", p->label, encrypted ? "encrypted" : "plain", len, text);
}

size_t ev_count(const struct party *p, enum ev_src src, int code) {
    size_t n = 0;
    for (size_t i = 0; i < p->nev; i++) n += p->ev[i].src == src && p->ev[i].code == code;
    return n;
}

const struct evrec *ev_last(const struct party *p, enum ev_src src, int code) {
    for (size_t i = p->nev; i-- > 0;) {
        if (p->ev[i].src == src && p->ev[i].code == code) return &p->ev[i];
    }
    return NULL;
}

size_t delivered_count(const struct party *p) {
    return p->ndel;
}

bool delivered(const struct party *p, const char *text, size_t len) {
    for (size_t i = 0; i < p->ndel; i++) {
        if (p->del[i].len == len && !memcmp(p->del[i].text, text, len)) return true;
    }
    return false;
}

const struct delivery *last_delivery(const struct party *p) {
    return p->ndel ? &p->del[p->ndel - 1] : NULL;
}

void expect_delivery(struct party *to, const char *text, size_t len, enum sec_want security) {
    to->exp = grow(to->exp, &to->capexp, to->nexp, sizeof *to->exp);
    struct expectation *x = &to->exp[to->nexp++];
    x->text = xmemdup(text, len);
    x->len = len;
    x->security = security;
}

void allow_otr_event(struct party *p, OtrlMessageEvent ev) {
    p->allowed_otr_msg_events |= (uint64_t)1 << ev;
}

struct party *party_by_id(int id) {
    return id >= 0 && id < nparties ? parties[id] : NULL;
}

/* ---- libotr callbacks (what Pidgin-OTR does, minus the UI) --------------------------------- */

static OtrlMessageAppOps otr_ops;

static struct party *P(void *opdata) {
    return opdata;
}

static uint32_t ctx_instance(const ConnContext *c) {
    return c ? c->their_instance : 0;
}

static void load_key(struct party *p, const char *account) {
    gcry_error_t err = otrl_privkey_read(p->us, key_file(p->keyslot, account));
    if (err) fatal("otrl_privkey_read: %s", gcry_strerror(err));
}

/* Gives p's userstate the instance tag `tag` (as if read from its otr.instance_tags). */
static void set_instag(struct party *p, uint32_t tag) {
    FILE *f = tmpfile();
    if (f == NULL) fatal("tmpfile");
    fprintf(f, "%s\t%s\t%08x\n", p->account, OTR_PROTO, tag);
    rewind(f);
    gcry_error_t err = otrl_instag_read_FILEp(p->us, f);
    fclose(f);
    if (err) fatal("otrl_instag_read: %s", gcry_strerror(err));
}

static void new_instag(struct party *p, const char *account) {
    FILE *devnull = fopen("/dev/null", "w");
    if (devnull == NULL) fatal("/dev/null");
    gcry_error_t err = otrl_instag_generate_FILEp(p->us, devnull, account, OTR_PROTO);
    fclose(devnull);
    if (err) fatal("otrl_instag_generate: %s", gcry_strerror(err));
}

static OtrlPolicy op_policy(void *opdata, ConnContext *c) {
    (void)c;
    return P(opdata)->otr_policy;
}

static void op_create_privkey(void *opdata, const char *account, const char *protocol) {
    (void)protocol;
    add_event(P(opdata), EV_OTR_OP, OP_CREATE_PRIVKEY, 0);
    load_key(P(opdata), account);
}

static int op_is_logged_in(void *opdata, const char *a, const char *pr, const char *r) {
    (void)a, (void)pr, (void)r;
    return P(opdata)->logged_in;
}

static void op_inject(void *opdata, const char *a, const char *pr, const char *recipient,
                      const char *message) {
    (void)a, (void)pr;
    net_send(P(opdata), recipient, message);
}

static void op_new_fingerprint(void *opdata, OtrlUserState us, const char *a, const char *pr,
                               const char *user, unsigned char fp[20]) {
    (void)us, (void)a, (void)pr, (void)user;
    struct evrec *e = add_event(P(opdata), EV_OTR_OP, OP_NEW_FINGERPRINT, 0);
    memcpy(e->key, fp, 20);
    e->has_key = true;
}

static void op_gone_secure(void *opdata, ConnContext *c) {
    add_event(P(opdata), EV_OTR_OP, OP_GONE_SECURE, ctx_instance(c));
    trace("  %s: gone_secure (v%u, instance %08x)", P(opdata)->label, c->protocol_version,
          c->their_instance);
}

static void op_gone_insecure(void *opdata, ConnContext *c) {
    add_event(P(opdata), EV_OTR_OP, OP_GONE_INSECURE, ctx_instance(c));
}

static void op_still_secure(void *opdata, ConnContext *c, int is_reply) {
    add_event(P(opdata), EV_OTR_OP, OP_STILL_SECURE, ctx_instance(c))->usage = (uint32_t)is_reply;
}

static int op_max_message_size(void *opdata, ConnContext *c) {
    (void)c;
    return P(opdata)->mms;
}

static const char *op_account_name(void *opdata, const char *account, const char *protocol) {
    (void)opdata, (void)protocol;
    return strdup(account);
}

static void op_account_name_free(void *opdata, const char *name) {
    (void)opdata;
    free((char *)name);
}

static void op_received_symkey(void *opdata, ConnContext *c, unsigned int use,
                               const unsigned char *usedata, size_t usedatalen,
                               const unsigned char *symkey) {
    struct evrec *e = add_event(P(opdata), EV_OTR_OP, OP_RECEIVED_SYMKEY, ctx_instance(c));
    e->usage = use;
    e->data = (uint8_t *)xmemdup(usedata, usedatalen);
    e->data_len = usedatalen;
    memcpy(e->key, symkey, 32);
    e->has_key = true;
}

/* Pidgin-OTR's texts; without this callback libotr sends no error messages at all. */
static const char *op_otr_error_message(void *opdata, ConnContext *c, OtrlErrorCode code) {
    add_event(P(opdata), EV_OTR_OP, OP_ERROR_TEXT, ctx_instance(c))->usage = (uint32_t)code;
    char buf[256];
    switch (code) {
    case OTRL_ERRCODE_ENCRYPTION_ERROR:
        snprintf(buf, sizeof buf, "Error occurred encrypting message.");
        break;
    case OTRL_ERRCODE_MSG_NOT_IN_PRIVATE:
        snprintf(buf, sizeof buf, "You sent encrypted data to %s, who wasn't expecting it.",
                 c ? c->accountname : "?");
        break;
    case OTRL_ERRCODE_MSG_UNREADABLE:
        snprintf(buf, sizeof buf, "You transmitted an unreadable encrypted message.");
        break;
    case OTRL_ERRCODE_MSG_MALFORMED:
        snprintf(buf, sizeof buf, "You transmitted a malformed data message.");
        break;
    default:
        return NULL;
    }
    return strdup(buf);
}

static void op_otr_error_message_free(void *opdata, const char *msg) {
    (void)opdata;
    free((char *)msg);
}

/* Records the event; like Pidgin-OTR, aborts the run on CHEATED and ERROR (libotr itself
 * does not). */
static void op_handle_smp_event(void *opdata, OtrlSMPEvent ev, ConnContext *c,
                                unsigned short progress, char *question) {
    struct party *p = P(opdata);
    struct evrec *e = add_event(p, EV_OTR_SMP, (int)ev, ctx_instance(c));
    e->usage = progress;
    if (question != NULL) set_event_text(e, question, strlen(question));
    trace("  %s: SMP event %d (%u%%)", p->label, (int)ev, progress);
    switch (ev) {
    case OTRL_SMPEVENT_ASK_FOR_SECRET:
    case OTRL_SMPEVENT_ASK_FOR_ANSWER:
        p->smp_ctx = c;
        p->smp_pending = true;
        break;
    case OTRL_SMPEVENT_CHEATED:
    case OTRL_SMPEVENT_ERROR:
        otrl_message_abort_smp(p->us, &otr_ops, p, c);
        break;
    default:
        break;
    }
}

static void op_handle_msg_event(void *opdata, OtrlMessageEvent ev, ConnContext *c,
                                const char *message, gcry_error_t err) {
    struct party *p = P(opdata);
    struct evrec *e = add_event(p, EV_OTR_MSG, (int)ev, ctx_instance(c));
    if (message != NULL) set_event_text(e, message, strlen(message));
    e->usage = (uint32_t)err;
    trace("  %s: message event %d%s%s", p->label, (int)ev, message ? ": " : "",
          message ? message : "");
}

static void op_create_instag(void *opdata, const char *account, const char *protocol) {
    (void)protocol;
    add_event(P(opdata), EV_OTR_OP, OP_CREATE_INSTAG, 0);
    new_instag(P(opdata), account);
}

static void op_timer_control(void *opdata, unsigned int interval) {
    struct party *p = P(opdata);
    add_event(p, EV_OTR_OP, OP_TIMER_CONTROL, 0)->usage = interval;
    p->timer_interval = interval;
    p->next_poll = clock_now() + (time_t)interval;
}

static void otr_ops_init(void) {
    memset(&otr_ops, 0, sizeof otr_ops);
    otr_ops.policy = op_policy;
    otr_ops.create_privkey = op_create_privkey;
    otr_ops.is_logged_in = op_is_logged_in;
    otr_ops.inject_message = op_inject;
    otr_ops.new_fingerprint = op_new_fingerprint;
    otr_ops.gone_secure = op_gone_secure;
    otr_ops.gone_insecure = op_gone_insecure;
    otr_ops.still_secure = op_still_secure;
    otr_ops.max_message_size = op_max_message_size;
    otr_ops.account_name = op_account_name;
    otr_ops.account_name_free = op_account_name_free;
    otr_ops.received_symkey = op_received_symkey;
    otr_ops.otr_error_message = op_otr_error_message;
    otr_ops.otr_error_message_free = op_otr_error_message_free;
    otr_ops.handle_smp_event = op_handle_smp_event;
    otr_ops.handle_msg_event = op_handle_msg_event;
    otr_ops.create_instag = op_create_instag;
    otr_ops.timer_control = op_timer_control;
    /* update_context_list, write_fingerprints, resent_msg_prefix (default "[resent]"),
     * convert_msg: not needed. */
}

/* ---- offrec callbacks ---------------------------------------------------------------------- */

static void name_copy(char out[NAME_LEN], const char *name, size_t len) {
    if (len >= NAME_LEN) len = NAME_LEN - 1;
    memcpy(out, name, len);
    out[len] = '\0';
}

static void or_cb_send(void *ud, const char *peer, size_t peer_len, const char *text,
                       size_t text_len) {
    char to[NAME_LEN];
    name_copy(to, peer, peer_len);
    char *copy = xmemdup(text, text_len);
    net_send(ud, to, copy);
    free(copy);
}

static int id_of_account(const char *name, size_t len) {
    for (int i = 0; i < nparties; i++) {
        if (strlen(parties[i]->account) == len && !memcmp(parties[i]->account, name, len)) return i;
    }
    return -1;
}

static void or_cb_deliver(void *ud, const char *peer, size_t peer_len, uint32_t instance,
                          const uint8_t *text, size_t text_len, offrec_security security) {
    add_delivery(ud, id_of_account(peer, peer_len), (const char *)text, text_len,
                 security != OFFREC_SECURITY_PLAINTEXT, instance);
}

static void or_cb_state(void *ud, const char *peer, size_t peer_len, uint32_t instance,
                        offrec_session_state state) {
    (void)peer, (void)peer_len;
    add_event(ud, EV_OFFREC_STATE, (int)state, instance);
    trace("  %s: state %u (instance %08x)", ((struct party *)ud)->label, (unsigned)state, instance);
}

static void or_cb_event(void *ud, const struct offrec_event *ev) {
    struct party *p = ud;
    if (ev->code == OFFREC_EVENT_CODE_PERSIST_NEEDED) return; /* comes with nearly every call */
    struct evrec *e = add_event(p, EV_OFFREC, (int)ev->code, ev->instance);
    set_event_text(e, ev->text, ev->text_len);
    e->usage = ev->code == OFFREC_EVENT_CODE_EXTRA_KEY_RECEIVED || ev->code == OFFREC_EVENT_CODE_TLV_RECEIVED
                   ? ev->usage
                   : ev->reason;
    if (ev->context != NULL) {
        e->data = (uint8_t *)xmemdup(ev->context, ev->context_len);
        e->data_len = ev->context_len;
    }
    if (ev->key != NULL) {
        memcpy(e->key, ev->key, 32);
        e->has_key = true;
    }
    trace("  %s: offrec event %u%s%.*s", p->label, (unsigned)ev->code, ev->text ? ": " : "",
          (int)(ev->text ? ev->text_len : 0), ev->text ? ev->text : "");
    if (ev->code == OFFREC_EVENT_CODE_SMP_ASKED_FOR_SECRET) p->smp_pending = true;
}

static size_t or_cb_mms(void *ud, const char *peer, size_t peer_len) {
    (void)peer, (void)peer_len;
    return (size_t)((struct party *)ud)->mms;
}

static uint64_t or_cb_now(void *ud) {
    (void)ud;
    return (uint64_t)clock_now();
}

/* ---- creating and freeing ------------------------------------------------------------------ */

static struct party *party_alloc(enum party_kind kind, const char *label, const char *account,
                                 const char *peer) {
    if (nparties == MAX_PARTIES) fatal("too many parties");
    struct party *p = xcalloc(1, sizeof *p);
    p->kind = kind;
    p->id = nparties;
    snprintf(p->label, sizeof p->label, "%s", label);
    snprintf(p->account, sizeof p->account, "%s", account);
    snprintf(p->peer, sizeof p->peer, "%s", peer);
    parties[nparties++] = p;
    return p;
}

struct party *party_libotr(const char *label, const char *account, const char *peer,
                           OtrlPolicy policy, const char *keyslot) {
    static bool ops_ready;
    if (!ops_ready) {
        otr_ops_init();
        ops_ready = true;
    }
    struct party *p = party_alloc(PARTY_LIBOTR, label, account, peer);
    p->otr_policy = policy;
    p->logged_in = 1;
    snprintf(p->keyslot, sizeof p->keyslot, "%s", keyslot ? keyslot : account);
    p->us = otrl_userstate_create();
    load_key(p, account);
    new_instag(p, account);
    return p;
}

static offrec_callbacks or_callbacks(void) {
    offrec_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.send = or_cb_send;
    cb.deliver = or_cb_deliver;
    cb.state_changed = or_cb_state;
    cb.event = or_cb_event;
    cb.max_message_size = or_cb_mms;
    cb.now = or_cb_now;
    return cb;
}

/* ---- offrec store cache: one fresh client per (label, account), saved once ----------------- */

/* An offrec client makes its OTR DSA key at first need, which takes 0.05-0.9 s; the harness
 * builds dozens of worlds. So each (label, account) gets its client made once, with its key,
 * and saved before it meets anyone; every later world loads that store (under a millisecond):
 * the same identity, DSA key and instance tag, and nothing else (no trust, no sessions). */
struct cached_store {
    char label[NAME_LEN];
    char account[NAME_LEN];
    uint8_t *bytes;
    size_t len;
};
static struct cached_store stores[16];
static int nstores;
static const uint8_t store_key[32] = {'i', 'n', 't', 'e', 'r', 'o', 'p'};

static struct cached_store *store_find(const char *label, const char *account) {
    for (int i = 0; i < nstores; i++) {
        if (!strcmp(stores[i].label, label) && !strcmp(stores[i].account, account)) return &stores[i];
    }
    return NULL;
}

static void store_remember(const char *label, const char *account, offrec_client *client) {
    if (nstores == (int)(sizeof stores / sizeof stores[0])) return; /* just not cached */
    struct offrec_buffer buf;
    offrec_result rc = offrec_client_save(client, store_key, NULL, 0, &buf);
    if (rc != OFFREC_RESULT_OK) fatal("offrec_client_save: %s", offrec_result_message(rc));
    struct cached_store *s = &stores[nstores++];
    snprintf(s->label, sizeof s->label, "%s", label);
    snprintf(s->account, sizeof s->account, "%s", account);
    s->bytes = (uint8_t *)xmemdup(buf.data, buf.len);
    s->len = buf.len;
    offrec_buffer_free(&buf);
}

static void stores_cleanup(void) {
    for (int i = 0; i < nstores; i++) free(stores[i].bytes);
    nstores = 0;
}

struct party *party_offrec(const char *label, const char *account, const char *peer,
                           uint32_t policy) {
    struct party *p = party_alloc(PARTY_OFFREC, label, account, peer);
    p->or_policy = policy;
    offrec_callbacks cb = or_callbacks();
    const struct cached_store *s = store_find(label, account);
    offrec_result rc;
    if (s != NULL) {
        rc = offrec_client_load(s->bytes, s->len, account, strlen(account), store_key, NULL, 0, policy, &cb,
                                p, &p->client);
        if (rc != OFFREC_RESULT_OK) fatal("offrec_client_load: %s", offrec_result_message(rc));
        return p;
    }
    rc = offrec_client_new(account, strlen(account), OFFREC_NETWORK, strlen(OFFREC_NETWORK), policy, &cb, p,
                           &p->client);
    if (rc != OFFREC_RESULT_OK) fatal("offrec_client_new: %s", offrec_result_message(rc));
#if HAVE_OFFREC_OTR
    rc = offrec_client_generate_otr_key(p->client, NULL);
    if (rc != OFFREC_RESULT_OK) fatal("offrec_client_generate_otr_key: %s", offrec_result_message(rc));
#endif
    store_remember(label, account, p->client);
    return p;
}

void party_offrec_restart(struct party *p) {
    /* What an application does: it saved the client (store), quits, and loads the store. OTR
     * sessions are never stored, so they are gone; identity, DSA key, instance tag and trust
     * come back. */
    struct offrec_buffer buf;
    offrec_result rc = offrec_client_save(p->client, store_key, NULL, 0, &buf);
    if (rc != OFFREC_RESULT_OK) fatal("offrec_client_save: %s", offrec_result_message(rc));
    offrec_client_free(p->client);
    p->client = NULL;
    offrec_callbacks cb = or_callbacks();
    rc = offrec_client_load(buf.data, buf.len, p->account, strlen(p->account), store_key, NULL, 0, p->or_policy,
                            &cb, p, &p->client);
    offrec_buffer_free(&buf);
    if (rc != OFFREC_RESULT_OK) fatal("offrec_client_load: %s", offrec_result_message(rc));
}

void party_libotr_restart(struct party *p) {
    uint32_t tag = party_instag(p);
    otrl_userstate_free(p->us);
    p->us = otrl_userstate_create();
    p->smp_ctx = NULL;
    p->smp_pending = false;
    p->timer_interval = 0;
    load_key(p, p->account);
    set_instag(p, tag);
}

void parties_reset(void) {
    for (int i = 0; i < nparties; i++) {
        struct party *p = parties[i];
        if (p->us) otrl_userstate_free(p->us);
        if (p->client) offrec_client_free(p->client);
        for (size_t j = 0; j < p->ndel; j++) free(p->del[j].text);
        for (size_t j = 0; j < p->nev; j++) {
            free(p->ev[j].text);
            free(p->ev[j].data);
        }
        for (size_t j = 0; j < p->nexp; j++) free(p->exp[j].text);
        free(p->del);
        free(p->ev);
        free(p->exp);
        free(p);
        parties[i] = NULL;
    }
    nparties = 0;
}

/* ---- sending and receiving ----------------------------------------------------------------- */

static long libotr_send(struct party *p, otrl_instag_t instag, const char *text) {
    char *out = NULL;
    gcry_error_t err = otrl_message_sending(p->us, &otr_ops, p, p->account, OTR_PROTO, p->peer,
                                            instag, text, NULL, &out, OTRL_FRAGMENT_SEND_ALL,
                                            NULL, NULL, NULL);
    if (!err && out == NULL) {
        /* libotr left the message alone (plaintext, no tag): the application sends it. */
        net_send(p, p->peer, text);
    }
    /* Otherwise libotr injected whatever it made of it (possibly nothing: "" when FINISHED). */
    otrl_message_free(out);
    return (long)err;
}

long party_send(struct party *p, const char *text) {
    long rc;
    if (p->kind == PARTY_LIBOTR) {
        rc = libotr_send(p, OTRL_INSTAG_BEST, text);
    } else {
        uint64_t id;
        p->last_rc = offrec_client_send(p->client, p->peer, strlen(p->peer), text, strlen(text), &id);
        rc = p->last_rc;
    }
    net_settle();
    return rc;
}

long party_send_to(struct party *p, uint32_t instance, const char *text) {
    long rc;
    if (p->kind == PARTY_LIBOTR) {
        rc = libotr_send(p, instance, text);
    } else {
        uint64_t id;
        p->last_rc = offrec_client_send_to_instance(p->client, p->peer, strlen(p->peer), instance,
                                                    text, strlen(text), &id);
        rc = p->last_rc;
    }
    net_settle();
    return rc;
}

/* libotr shows a message as encrypted only when it came out of a data message (or its
 * fragments, which may follow other text: F2). */
static bool libotr_was_encrypted(const char *wire, const char *shown, const ConnContext *c) {
    return shown != NULL && c != NULL && c->msgstate == OTRL_MSGSTATE_ENCRYPTED && strstr(wire, "?OTR") != NULL;
}

/* libotr's receive, as an application does it; with `find` non-NULL it also looks up TLV
 * `find->type` in the handed-back list with otrl_tlv_find (copying its value into `find`). */
struct tlv_lookup {
    unsigned short type;
    bool found;
    uint8_t *data;
    size_t len;
};

static void libotr_receive_finding(struct party *p, int from_id, const char *from_account,
                                   const char *text, struct tlv_lookup *find) {
    char *shown = NULL;
    OtrlTLV *tlvs = NULL;
    ConnContext *c = NULL;
    int ignore = otrl_message_receiving(p->us, &otr_ops, p, p->account, OTR_PROTO, from_account,
                                        text, &shown, &tlvs, &c, NULL, NULL);
    if (!ignore) {
        const char *msg = shown ? shown : text;
        add_delivery(p, from_id, msg, strlen(msg), libotr_was_encrypted(text, shown, c),
                     ctx_instance(c));
    }
    for (OtrlTLV *t = tlvs; t != NULL; t = t->next) {
        struct evrec *e = add_event(p, EV_OTR_TLV, t->type, ctx_instance(c));
        e->data = (uint8_t *)xmemdup(t->data, t->len);
        e->data_len = t->len;
    }
    if (find != NULL) {
        OtrlTLV *t = otrl_tlv_find(tlvs, find->type);
        find->found = t != NULL;
        if (t != NULL) {
            find->data = (uint8_t *)xmemdup(t->data, t->len);
            find->len = t->len;
        }
    }
    otrl_message_free(shown);
    otrl_tlv_free(tlvs);
    if (p->smp_pending && p->smp_auto_secret != NULL) {
        otr_smp_respond(p, p->smp_auto_secret);
    }
}

static void libotr_receive(struct party *p, int from_id, const char *from_account,
                           const char *text) {
    libotr_receive_finding(p, from_id, from_account, text, NULL);
}

bool otr_receive_find_tlv(struct party *p, struct party *from, const char *text,
                          unsigned short type, uint8_t **value, size_t *len) {
    struct tlv_lookup find = {.type = type};
    libotr_receive_finding(p, from->id, from->account, text, &find);
    *value = find.data;
    *len = find.len;
    return find.found;
}

long otr_send_tlvs(struct party *p, const char *text, OtrlTLV *tlvs) {
    char *out = NULL;
    gcry_error_t err = otrl_message_sending(p->us, &otr_ops, p, p->account, OTR_PROTO, p->peer,
                                            OTRL_INSTAG_BEST, text, tlvs, &out,
                                            OTRL_FRAGMENT_SEND_ALL, NULL, NULL, NULL);
    otrl_message_free(out);
    net_settle();
    return (long)err;
}

void party_receive(struct party *p, int from_id, const char *from_account, const char *text) {
    if (p->kind == PARTY_LIBOTR) {
        libotr_receive(p, from_id, from_account, text);
        return;
    }
    offrec_result rc = offrec_client_receive(p->client, from_account, strlen(from_account), text,
                                             strlen(text));
    CHECKF(rc == OFFREC_RESULT_OK, "%s: offrec_client_receive returned %u (%s)", p->label,
           (unsigned)rc, offrec_result_message(rc));
    if (p->smp_pending && p->smp_auto_secret != NULL) {
        p->smp_pending = false;
        p->last_rc = offrec_client_smp_respond(p->client, from_account, strlen(from_account), 0,
                                               (const uint8_t *)p->smp_auto_secret,
                                               strlen(p->smp_auto_secret));
        CHECKF(p->last_rc == OFFREC_RESULT_OK, "%s: smp_respond returned %u", p->label, p->last_rc);
    }
}

/* ---- queries about parties ----------------------------------------------------------------- */

uint32_t party_instag(const struct party *p) {
    if (p->kind == PARTY_LIBOTR) {
        OtrlInsTag *t = otrl_instag_find(p->us, p->account, OTR_PROTO);
        return t ? t->instag : 0;
    }
    uint32_t tag = 0;
    offrec_client_instance_tag(p->client, &tag);
    return tag;
}

ConnContext *otr_master(struct party *p) {
    return otrl_context_find(p->us, p->peer, p->account, OTR_PROTO, OTRL_INSTAG_MASTER, 0, NULL,
                             NULL, NULL);
}

/* v3 sessions live in per-instance child contexts, v2 sessions in the master context. */
ConnContext *otr_ctx(struct party *p, struct party *q) {
    if (p->kind != PARTY_LIBOTR) return NULL;
    ConnContext *child = otrl_context_find(p->us, q->account, p->account, OTR_PROTO,
                                           party_instag(q), 0, NULL, NULL, NULL);
    if (child != NULL && child->msgstate != OTRL_MSGSTATE_PLAINTEXT) return child;
    ConnContext *master = otrl_context_find(p->us, q->account, p->account, OTR_PROTO,
                                            OTRL_INSTAG_MASTER, 0, NULL, NULL, NULL);
    if (master != NULL && master->msgstate != OTRL_MSGSTATE_PLAINTEXT &&
        master->protocol_version == 2) {
        return master;
    }
    return child;
}

/* Index of offrec p's session with q: the one with q's instance tag, or (OTR v2 carries no
 * tags) its OTR v2 session when q is a libotr party. -1 if none. */
static long or_session_index(struct party *p, struct party *q) {
    size_t n = 0;
    if (p->kind != PARTY_OFFREC ||
        offrec_client_session_count(p->client, q->account, strlen(q->account), &n) != OFFREC_RESULT_OK) {
        return -1;
    }
    uint32_t want = party_instag(q);
    for (size_t i = 0; i < n; i++) {
        struct offrec_session_info info;
        if (offrec_client_session_info(p->client, q->account, strlen(q->account), i, &info) ==
                OFFREC_RESULT_OK &&
            info.instance == want) {
            return (long)i;
        }
    }
#if HAVE_OFFREC_OTR
    for (size_t i = 0; i < n && q->kind == PARTY_LIBOTR; i++) {
        struct offrec_session_protocol sp;
        if (offrec_client_session_protocol(p->client, q->account, strlen(q->account), i, &sp) ==
                OFFREC_RESULT_OK &&
            sp.protocol == OR_PROTO_OTR_V2) {
            return (long)i;
        }
    }
#endif
    return -1;
}

bool or_session_info(struct party *p, struct party *q, struct offrec_session_info *out) {
    long i = or_session_index(p, q);
    return i >= 0 && offrec_client_session_info(p->client, q->account, strlen(q->account), (size_t)i,
                                                out) == OFFREC_RESULT_OK;
}

bool party_encrypted_with(struct party *p, struct party *q) {
    if (p->kind == PARTY_LIBOTR) {
        ConnContext *c = otr_ctx(p, q);
        return c != NULL && c->msgstate == OTRL_MSGSTATE_ENCRYPTED;
    }
    struct offrec_session_info info;
    return or_session_info(p, q, &info) && (info.state == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED ||
                                            info.state == OFFREC_SESSION_STATE_ENCRYPTED_VERIFIED);
}

/* ---- scenario helpers ---------------------------------------------------------------------- */

void chat_n(struct party *from, const char *text, size_t len) {
    struct party *to = NULL;
    int receivers = 0;
    for (int i = 0; i < nparties; i++) {
        if (parties[i] != from && !strcmp(parties[i]->account, from->peer)) {
            to = parties[i];
            receivers++;
        }
    }
    CHECKF(receivers == 1, "chat() needs exactly one party named %s (found %d): use party_send",
           from->peer, receivers);
    if (receivers != 1) return;
    char *copy = xmemdup(text, len); /* NUL-terminated for libotr */
    bool enc = party_encrypted_with(from, to);
    expect_delivery(to, text, len, enc ? SEC_ENCRYPTED : SEC_PLAIN);
    long rc = party_send(from, copy);
    CHECKF(rc == 0, "%s: send failed (%ld)", from->label, rc);
    free(copy);
    net_pump();
}

void chat(struct party *from, const char *text) {
    chat_n(from, text, strlen(text));
}

void otr_query(struct party *p) {
    party_send(p, "?OTR?");
}

void otr_poll(struct party *p) {
    otrl_message_poll(p->us, &otr_ops, p);
}

void otr_disconnect(struct party *p, struct party *q) {
    otrl_message_disconnect(p->us, &otr_ops, p, p->account, OTR_PROTO, q->account, party_instag(q));
    net_settle();
}

void otr_smp_start(struct party *p, struct party *q, const char *question, const char *secret) {
    ConnContext *c = otr_ctx(p, q);
    CHECKF(c != NULL && c->msgstate == OTRL_MSGSTATE_ENCRYPTED, "%s: SMP without a session", p->label);
    if (c == NULL) return;
    if (question != NULL) {
        otrl_message_initiate_smp_q(p->us, &otr_ops, p, c, question,
                                    (const unsigned char *)secret, strlen(secret));
    } else {
        otrl_message_initiate_smp(p->us, &otr_ops, p, c, (const unsigned char *)secret,
                                  strlen(secret));
    }
    net_settle();
}

void otr_smp_respond(struct party *p, const char *secret) {
    CHECKF(p->smp_pending && p->smp_ctx != NULL, "%s: no SMP request to answer", p->label);
    if (p->smp_ctx == NULL) return;
    p->smp_pending = false;
    otrl_message_respond_smp(p->us, &otr_ops, p, p->smp_ctx, (const unsigned char *)secret,
                             strlen(secret));
    net_settle();
}

void otr_smp_abort(struct party *p, struct party *q) {
    ConnContext *c = otr_ctx(p, q);
    if (c == NULL) return;
    p->smp_pending = false;
    otrl_message_abort_smp(p->us, &otr_ops, p, c);
    net_settle();
}

size_t otr_encrypted_contexts(struct party *p, struct party *q) {
    size_t n = 0;
    for (ConnContext *c = p->us->context_root; c != NULL; c = c->next) {
        n += !strcmp(c->username, q->account) && !strcmp(c->accountname, p->account) &&
             c->msgstate == OTRL_MSGSTATE_ENCRYPTED;
    }
    return n;
}

gcry_error_t otr_symkey(struct party *p, struct party *q, unsigned use, const uint8_t *data,
                        size_t len, uint8_t key[32]) {
    ConnContext *c = otr_ctx(p, q);
    gcry_error_t err = otrl_message_symkey(p->us, &otr_ops, p, c, use, data, len, key);
    net_settle();
    return err;
}

void otr_fingerprint(struct party *p, uint8_t out[20]) {
    if (otrl_privkey_fingerprint_raw(p->us, out, p->account, OTR_PROTO) == NULL) {
        memset(out, 0, 20);
    }
}

const char *otr_trust(struct party *p, struct party *q) {
    ConnContext *c = otr_ctx(p, q);
    return c && c->active_fingerprint ? c->active_fingerprint->trust : NULL;
}

offrec_result or_start(struct party *p) {
    p->last_rc = offrec_client_start_session(p->client, p->peer, strlen(p->peer));
    net_settle();
    return p->last_rc;
}

#if HAVE_OFFREC_OTR
/* ---- offrec with OTR ----------------------------------------------------------------------- */

bool or_protocol(struct party *p, struct party *q, struct offrec_session_protocol *out) {
    long i = or_session_index(p, q);
    return i >= 0 && offrec_client_session_protocol(p->client, q->account, strlen(q->account),
                                                    (size_t)i, out) == OFFREC_RESULT_OK;
}

void otr_pair(struct party **o, struct party **l, uint32_t or_extra, OtrlPolicy policy, int mms) {
    *o = party_offrec("alice", "alice", "bob", OR_POLICY_OTR | or_extra);
    *l = party_libotr("bob", "bob", "alice", policy, NULL);
    (*o)->mms = (*l)->mms = mms;
}

bool ake_offrec_asks(struct party *o, struct party *l) {
    offrec_result rc = or_start(o);
    CHECKF(rc == OFFREC_RESULT_OK, "start_session: %s", offrec_result_message(rc));
    net_pump();
    return party_encrypted_with(o, l) && party_encrypted_with(l, o);
}

bool ake_libotr_asks(struct party *l, struct party *o) {
    otr_query(l);
    net_pump();
    return party_encrypted_with(o, l) && party_encrypted_with(l, o);
}
#endif
