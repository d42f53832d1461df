/*
 * The network: one FIFO per direction (sender party -> receiver party), fault rules per link
 * (drop, duplicate, reorder, delay, rewrite, split), a log of every text, and a wire tap that
 * checks what each party puts on the wire:
 *   - OTR encoded messages must be `?OTR:AAM<type>...` / `?OTR:AAI<type>...` with padded
 *     base64 and a final `.`;
 *   - OTR fragments must be libotr's format, `?OTR|%08x|%08x,%05u,%05u,piece,` (v3) or
 *     `?OTR,%05u,%05u,piece,` (v2);
 *   - the base64 of an encoded message is padded (libotr drops an unpadded tail);
 *   - a v3 message names its sender's instance tag (>= 0x100) and, except a D-H Commit, one of
 *     the recipient account's instance tags (never 0);
 *   - nothing offrec-modern (`?OFR:`, `?OFR|`) ever reaches a libotr party;
 *   - an offrec party never puts an OTR encoded message or fragment longer than its
 *     max_message_size on the wire (libotr's own oversize messages are observed, not failed).
 * A message sent to an account name reaches every party with that account (two logins).
 */
#include "interop.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_RULES 8
/* A pump that delivers more than this many messages is an error-message or AKE loop. */
#define PUMP_LIMIT 200000

struct wire_msg {
    struct wire_msg *next;
    unsigned long seq;
    time_t deliver_at;
    char *text;
};

struct link {
    struct wire_msg *head, *tail;
    struct wire_msg *held; /* RULE_REORDER: released after the next message */
    unsigned long entered; /* messages that entered this link */
    struct net_rule rules[MAX_RULES];
    int nrules;
};

static struct link links[MAX_PARTIES][MAX_PARTIES];
static unsigned long next_seq;
static struct wire_rec *wlog;
static size_t nlog, caplog;
static size_t tap_violations;
static int pumping;
bool net_autopump = true;
bool net_tap_lenient;

/* ---- the wire tap ------------------------------------------------------------------------ */

static regex_t re_encoded, re_frag_v3, re_frag_v2;
static bool tap_ready;

static void tap_init(void) {
    if (tap_ready) return;
    int rc = regcomp(&re_encoded, "^\\?OTR:AA[MI][CKRSD][A-Za-z0-9+/]+=*\\.$", REG_EXTENDED | REG_NOSUB);
    rc |= regcomp(&re_frag_v3, "^\\?OTR\\|[0-9a-f]{8}\\|[0-9a-f]{8},[0-9]{5},[0-9]{5},[^,]+,$",
                  REG_EXTENDED | REG_NOSUB);
    rc |= regcomp(&re_frag_v2, "^\\?OTR,[0-9]{5},[0-9]{5},[^,]+,$", REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        fprintf(stderr, "interop: regcomp failed\n");
        exit(2);
    }
    tap_ready = true;
}

static bool matches(regex_t *re, const char *text) {
    return regexec(re, text, 0, NULL, 0) == 0;
}

/* Whether the text is an OTR encoded message or fragment (the kinds that are fragmented). */
static bool is_otr_transport(const char *text) {
    return !strncmp(text, "?OTR:", 5) || !strncmp(text, "?OTR|", 5) || !strncmp(text, "?OTR,", 5);
}

static void tap_violation(const struct party *from, const struct party *to, const char *why,
                          const char *text) {
    tap_violations++;
    if (net_tap_lenient) {
        trace("  wire tap (tolerated): %s from %s", why, from ? from->label : "(injected)");
        return;
    }
    check_fail(__FILE__, __LINE__, "wire tap: %s -> %s: %s: %.80s%s", from ? from->label : "(injected)",
               to->label, why, text, strlen(text) > 80 ? "..." : "");
}

static bool account_has_tag(const char *account, uint32_t tag) {
    for (int i = 0; i < nparties; i++) {
        if (!strcmp(parties[i]->account, account) && party_instag(parties[i]) == tag) return true;
    }
    return false;
}

/* Padding and instance tags of a whole encoded message. */
static void tap_encoded(const struct party *from, const struct party *to, const char *text) {
    if ((strlen(text) - 6) % 4 != 0) tap_violation(from, to, "base64 without its padding", text);
    struct otr_header h;
    if (from == NULL || !otr_wire_header(text, &h) || h.version != 3) return;
    if (h.sender < 0x100 || h.sender != party_instag(from)) {
        tap_violation(from, to, "sender instance tag is not the sender's", text);
    }
    if (h.receiver == 0 && h.type != OTR_TYPE_COMMIT) {
        tap_violation(from, to, "receiver instance tag 0 outside a D-H Commit", text);
    }
    if (h.receiver != 0 && !account_has_tag(to->account, h.receiver)) {
        tap_violation(from, to, "receiver instance tag names no instance of the recipient", text);
    }
}

static void tap(const struct party *from, const struct party *to, const char *text) {
    tap_init();
    if (!strncmp(text, "?OTR:", 5)) {
        if (!matches(&re_encoded, text)) tap_violation(from, to, "malformed OTR encoded message", text);
        tap_encoded(from, to, text);
    }
    if (!strncmp(text, "?OTR|", 5) && !matches(&re_frag_v3, text)) {
        tap_violation(from, to, "not libotr's v3 fragment format", text);
    }
    if (!strncmp(text, "?OTR,", 5) && !matches(&re_frag_v2, text)) {
        tap_violation(from, to, "not libotr's v2 fragment format", text);
    }
    if (to->kind == PARTY_LIBOTR && (strstr(text, "?OFR:") || strstr(text, "?OFR|"))) {
        tap_violation(from, to, "offrec-modern message sent to a libotr party", text);
    }
    if (from != NULL && from->mms > 0 && is_otr_transport(text) && strlen(text) > (size_t)from->mms) {
        if (from->kind == PARTY_OFFREC) {
            tap_violation(from, to, "longer than the sender's max_message_size", text);
        } else {
            trace("  libotr %s sent %zu chars over its max_message_size %d (see T12)", from->label,
                  strlen(text), from->mms);
        }
    }
}

size_t net_tap_violations(void) {
    return tap_violations;
}

/* ---- links ------------------------------------------------------------------------------- */

static void log_text(int from, int to, const char *text) {
    if (nlog == caplog) {
        caplog = caplog ? caplog * 2 : 256;
        wlog = realloc(wlog, caplog * sizeof *wlog);
        if (wlog == NULL) exit(2);
    }
    wlog[nlog].from = from;
    wlog[nlog].to = to;
    wlog[nlog].at = clock_now();
    wlog[nlog].text = strdup(text);
    nlog++;
}

static void push(struct link *l, char *text, time_t deliver_at) {
    struct wire_msg *m = calloc(1, sizeof *m);
    if (m == NULL) exit(2);
    m->seq = next_seq++;
    m->deliver_at = deliver_at;
    m->text = text;
    if (l->tail) {
        l->tail->next = m;
    } else {
        l->head = m;
    }
    l->tail = m;
}

static void release_held(struct link *l) {
    if (l->held == NULL) return;
    struct wire_msg *m = l->held;
    l->held = NULL;
    push(l, m->text, m->deliver_at);
    free(m);
}

static bool rule_applies(struct net_rule *r, unsigned long n, const char *text) {
    if (r->nth != 0 && r->nth != n) return false;
    if (r->match != NULL && strstr(text, r->match) == NULL) return false;
    if (r->times != 0 && r->applied >= r->times) return false;
    return true;
}

/* Passes one message through the link's rules and queues what comes out. */
static void enter_link(struct link *l, char *text) {
    unsigned long n = ++l->entered;
    time_t at = clock_now();
    bool reorder = false;
    bool duplicate = false;
    size_t split = 0;
    for (int i = 0; i < l->nrules; i++) {
        struct net_rule *r = &l->rules[i];
        if (!rule_applies(r, n, text)) continue;
        r->applied++;
        switch (r->action) {
        case RULE_DROP:
            trace("  net: dropped message %lu", n);
            free(text);
            return;
        case RULE_DUPLICATE:
            duplicate = true;
            break;
        case RULE_REORDER:
            reorder = true;
            break;
        case RULE_DELAY:
            at += r->delay;
            break;
        case RULE_REWRITE: {
            char *rewritten = r->rewrite(text, r->arg);
            free(text);
            if (rewritten == NULL) return;
            text = rewritten;
            break;
        }
        case RULE_SPLIT:
            split = r->split_at;
            break;
        }
    }
    if (split > 0 && strlen(text) > split) {
        for (size_t off = 0; off < strlen(text); off += split) push(l, strndup(text + off, split), at);
        free(text);
        return;
    }
    if (reorder && l->held == NULL) {
        l->held = calloc(1, sizeof *l->held);
        if (l->held == NULL) exit(2);
        l->held->text = text;
        l->held->deliver_at = at;
        return;
    }
    if (duplicate) push(l, strdup(text), at);
    push(l, text, at);
    release_held(l); /* a message held back for reordering goes right after this one */
}

void net_send(struct party *from, const char *to_account, const char *text) {
    if (text[0] == '\0') {
        /* libotr hands "" to inject_message when a send is refused (FINISHED): nothing goes out. */
        trace("  net: %s sent an empty message (not transmitted)", from->label);
        return;
    }
    int receivers = 0;
    for (int i = 0; i < nparties; i++) {
        struct party *to = parties[i];
        if (to == from || strcmp(to->account, to_account) != 0) continue;
        receivers++;
        trace("  net: %s -> %s (%zu B): %.70s", from->label, to->label, strlen(text), text);
        log_text(from->id, to->id, text);
        tap(from, to, text);
        enter_link(&links[from->id][to->id], strdup(text));
    }
    if (receivers == 0) trace("  net: %s -> %s: nobody has that name", from->label, to_account);
}

void net_inject(struct party *from, struct party *to, const char *text) {
    trace("  net: injected %s -> %s (%zu B): %.70s", from->label, to->label, strlen(text), text);
    log_text(-1, to->id, text);
    tap(NULL, to, text);
    push(&links[from->id][to->id], strdup(text), clock_now());
}

void net_rule_add(struct party *from, struct party *to, struct net_rule rule) {
    struct link *l = &links[from->id][to->id];
    if (l->nrules == MAX_RULES) {
        check_fail(__FILE__, __LINE__, "too many rules on %s -> %s", from->label, to->label);
        return;
    }
    rule.applied = 0;
    l->rules[l->nrules++] = rule;
}

char *rewrite_flip_middle(const char *text, void *arg) {
    (void)arg;
    char *t = strdup(text);
    if (t == NULL) exit(2);
    size_t i = strlen(t) / 2;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    return t;
}

char *rewrite_capture(const char *text, void *arg) {
    struct net_capture *c = arg;
    if (!c->on || c->n == CAPTURE_MAX) {
        if (c->on) check_fail(__FILE__, __LINE__, "capture full: message passes");
        char *t = strdup(text);
        if (t == NULL) exit(2);
        return t;
    }
    c->texts[c->n] = strdup(text);
    if (c->texts[c->n] == NULL) exit(2);
    c->n++;
    trace("  net: captured (%zu B)", strlen(text));
    return NULL;
}

char *net_capture_take(struct net_capture *c) {
    if (c->n == 0) return NULL;
    char *t = c->texts[0];
    memmove(c->texts, c->texts + 1, (c->n - 1) * sizeof c->texts[0]);
    c->n--;
    return t;
}

void net_capture_free(struct net_capture *c) {
    for (size_t i = 0; i < c->n; i++) free(c->texts[i]);
    c->n = 0;
    c->on = false;
}

/* The first message of a link that may be delivered now. Sequence numbers grow along a
 * link's list, so it is also the link's lowest deliverable one. */
static struct wire_msg **first_deliverable(struct link *l) {
    for (struct wire_msg **pp = &l->head; *pp; pp = &(*pp)->next) {
        if ((*pp)->deliver_at <= clock_now()) return pp;
    }
    return NULL;
}

/* The deliverable message with the lowest sequence number over all links, unlinked. */
static char *next_message(int *from, int *to) {
    struct wire_msg **best = NULL;
    struct link *best_link = NULL;
    for (int i = 0; i < nparties; i++) {
        for (int j = 0; j < nparties; j++) {
            struct wire_msg **pp = first_deliverable(&links[i][j]);
            if (pp != NULL && (best == NULL || (*pp)->seq < (*best)->seq)) {
                best = pp;
                best_link = &links[i][j];
                *from = i;
                *to = j;
            }
        }
    }
    if (best == NULL) return NULL;
    struct wire_msg *m = *best;
    *best = m->next;
    if (best_link->tail == m) {
        best_link->tail = NULL;
        for (struct wire_msg *t = best_link->head; t; t = t->next) best_link->tail = t;
    }
    char *text = m->text;
    free(m);
    return text;
}

size_t net_pump(void) {
    return net_pump_n(PUMP_LIMIT);
}

size_t net_pump_n(size_t max) {
    if (pumping) return 0; /* a nested send: the outer pump delivers it */
    pumping = 1;
    size_t delivered = 0;
    while (delivered < max) {
        int from, to;
        char *text = next_message(&from, &to);
        if (text == NULL) break;
        party_receive(parties[to], from, parties[from]->account, text);
        free(text);
        if (++delivered == PUMP_LIMIT && max == PUMP_LIMIT) {
            check_fail(__FILE__, __LINE__, "the network did not settle after %d messages (a loop)",
                       PUMP_LIMIT);
            break;
        }
    }
    pumping = 0;
    return delivered;
}

void net_release_held(void) {
    for (int i = 0; i < MAX_PARTIES; i++) {
        for (int j = 0; j < MAX_PARTIES; j++) release_held(&links[i][j]);
    }
    net_settle();
}

void net_settle(void) {
    if (net_autopump) net_pump();
}

void net_reset(void) {
    for (int i = 0; i < MAX_PARTIES; i++) {
        for (int j = 0; j < MAX_PARTIES; j++) {
            struct link *l = &links[i][j];
            while (l->head) {
                struct wire_msg *m = l->head;
                l->head = m->next;
                free(m->text);
                free(m);
            }
            if (l->held) {
                free(l->held->text);
                free(l->held);
            }
            memset(l, 0, sizeof *l);
        }
    }
    for (size_t i = 0; i < nlog; i++) free(wlog[i].text);
    free(wlog);
    wlog = NULL;
    nlog = caplog = 0;
    tap_violations = 0;
    next_seq = 0;
    net_autopump = true;
    net_tap_lenient = false;
}

/* ---- the log ----------------------------------------------------------------------------- */

size_t net_log_count(void) {
    return nlog;
}

const struct wire_rec *net_log(size_t i) {
    return i < nlog ? &wlog[i] : NULL;
}

const char *net_last(const struct party *from, const struct party *to) {
    for (size_t i = nlog; i-- > 0;) {
        if (wlog[i].from == from->id && wlog[i].to == to->id) return wlog[i].text;
    }
    return NULL;
}

size_t net_count(const struct party *from, const struct party *to) {
    size_t n = 0;
    for (size_t i = 0; i < nlog; i++) n += wlog[i].from == from->id && wlog[i].to == to->id;
    return n;
}

size_t net_count_containing(const struct party *from, const struct party *to, const char *needle) {
    size_t n = 0;
    for (size_t i = 0; i < nlog; i++) {
        n += wlog[i].from == from->id && wlog[i].to == to->id && strstr(wlog[i].text, needle) != NULL;
    }
    return n;
}

size_t net_max_otr_len(const struct party *from) {
    size_t max = 0;
    for (size_t i = 0; i < nlog; i++) {
        if (wlog[i].from == from->id && is_otr_transport(wlog[i].text) && strlen(wlog[i].text) > max) {
            max = strlen(wlog[i].text);
        }
    }
    return max;
}

void net_dump_tail(size_t n) {
    size_t start = nlog > n ? nlog - n : 0;
    fprintf(stderr, "    last %zu of %zu wire messages:\n", nlog - start, nlog);
    for (size_t i = start; i < nlog; i++) {
        const struct party *f = party_by_id(wlog[i].from), *t = party_by_id(wlog[i].to);
        fprintf(stderr, "    [t+%ld] %s -> %s (%zu B): %.90s\n", (long)(wlog[i].at - CLOCK_START),
                f ? f->label : "(injected)", t ? t->label : "?", strlen(wlog[i].text),
                wlog[i].text);
    }
    /* libotr's own dissector on the last whole OTR message (libotr5-bin's otr_parse). */
    for (size_t i = nlog; i-- > start;) {
        if (strncmp(wlog[i].text, "?OTR:", 5) != 0) continue;
        if (access("/usr/bin/otr_parse", X_OK) != 0) break;
        fprintf(stderr, "    otr_parse of message %zu:\n", i);
        fflush(stderr);
        FILE *p = popen("/usr/bin/otr_parse 1>&2", "w");
        if (p != NULL) {
            fprintf(p, "%s\n", wlog[i].text);
            pclose(p);
        }
        break;
    }
}
