/*
 * Reading OTR wire messages for white-box checks: the header of an encoded message (version,
 * type, instance tags) and the clear fields of a data message (flags, key ids, counter). The
 * base64 is undone with libotr's own decoder, since what matters is what libotr reads.
 */
#include "interop.h"

#include <libotr/b64.h>
#include <stdlib.h>
#include <string.h>

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Decodes `?OTR:...` into a malloc'd buffer; false if it is not an encoded message. */
static bool decode(const char *text, unsigned char **buf, size_t *len) {
    if (strncmp(text, "?OTR:", 5) != 0) return false;
    return otrl_base64_otr_decode(text, buf, len) == 0;
}

bool otr_wire_decode(const char *text, unsigned char **buf, size_t *len) {
    return decode(text, buf, len);
}

char *otr_wire_encode(const unsigned char *buf, size_t len) {
    return otrl_base64_otr_encode(buf, len);
}

bool otr_wire_header(const char *text, struct otr_header *out) {
    unsigned char *buf = NULL;
    size_t len = 0;
    if (!decode(text, &buf, &len)) return false;
    bool ok = len >= 3;
    if (ok) {
        memset(out, 0, sizeof *out);
        out->version = (unsigned)(buf[0] << 8 | buf[1]);
        out->type = buf[2];
        if (out->version == 3) {
            ok = len >= 11;
            if (ok) {
                out->sender = be32(buf + 3);
                out->receiver = be32(buf + 7);
            }
        }
    }
    free(buf);
    return ok;
}

/* Reads a 4-byte length and that many bytes at *off; false if they do not fit. */
static bool skip_data(const unsigned char *buf, size_t len, size_t *off, size_t *data_len) {
    if (len < 4 || *off > len - 4) return false;
    size_t n = be32(buf + *off);
    if (n > len - *off - 4) return false;
    *data_len = n;
    *off += 4 + n;
    return true;
}

/* Layout after the header: flags, sender keyid, recipient keyid, MPI next_dh, ctr(8),
 * DATA ciphertext, MAC(20), DATA old MAC keys. */
static bool parse_data(const unsigned char *buf, size_t len, struct otr_data *out) {
    if (len < 3 || buf[2] != OTR_TYPE_DATA) return false;
    size_t off = (buf[1] == 3) ? 11 : 3;
    if (len < off + 9) return false;
    memset(out, 0, sizeof *out);
    out->flags = buf[off];
    out->sender_keyid = be32(buf + off + 1);
    out->recipient_keyid = be32(buf + off + 5);
    off += 9;
    size_t n;
    if (!skip_data(buf, len, &off, &n) || len - off < 8) return false; /* next_dh */
    memcpy(out->ctr, buf + off, 8);
    off += 8;
    if (!skip_data(buf, len, &off, &n) || len - off < 20) return false; /* ciphertext */
    out->ct_len = n;
    out->mac_span = off;
    memcpy(out->mac, buf + off, 20);
    off += 20;
    if (!skip_data(buf, len, &off, &n) || n % 20 != 0 || off != len) return false;
    out->nrevealed = n / 20 < OTR_MAX_REVEALED ? n / 20 : OTR_MAX_REVEALED;
    memcpy(out->revealed, buf + off - n, out->nrevealed * 20);
    return true;
}

bool otr_wire_data(const char *text, struct otr_data *out) {
    unsigned char *buf = NULL;
    size_t len = 0;
    if (!decode(text, &buf, &len)) return false;
    bool ok = parse_data(buf, len, out);
    free(buf);
    return ok;
}

bool otr_wire_mac_verifies(const char *text, const uint8_t mac_key[20]) {
    unsigned char *buf = NULL;
    size_t len = 0;
    struct otr_data d;
    if (!decode(text, &buf, &len)) return false;
    bool ok = false;
    if (parse_data(buf, len, &d)) {
        gcry_md_hd_t h;
        if (gcry_md_open(&h, GCRY_MD_SHA1, GCRY_MD_FLAG_HMAC) == 0) {
            gcry_md_setkey(h, mac_key, 20);
            gcry_md_write(h, buf, d.mac_span);
            ok = memcmp(gcry_md_read(h, GCRY_MD_SHA1), d.mac, 20) == 0;
            gcry_md_close(h);
        }
    }
    free(buf);
    return ok;
}

size_t otr_check_reveals(const struct party *x, const struct party *y) {
    size_t verified = 0;
    for (size_t i = 0; i < net_log_count(); i++) {
        const struct wire_rec *w = net_log(i);
        struct otr_data d;
        if (w->from != x->id || w->to != y->id || !otr_wire_data(w->text, &d)) continue;
        for (size_t k = 0; k < d.nrevealed; k++) {
            bool found = false;
            for (size_t j = 0; j < i && !found; j++) {
                const struct wire_rec *e = net_log(j);
                found = e->from == y->id && e->to == x->id && otr_wire_mac_verifies(e->text, d.revealed + 20 * k);
            }
            CHECKF(found, "%s revealed a MAC key that verifies none of %s's earlier messages",
                   x->label, y->label);
            verified += found;
        }
    }
    return verified;
}

uint64_t otr_ctr_value(const struct otr_data *d) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | d->ctr[i];
    return v;
}

bool otr_wire_commit_hash(const char *text, uint8_t out[32]) {
    unsigned char *buf = NULL;
    size_t len = 0, n = 0;
    if (!decode(text, &buf, &len)) return false;
    /* header (v3: 11 bytes), DATA encrypted g^x, DATA hashed g^x (32 bytes) */
    size_t off = len >= 3 && buf[1] == 3 ? 11 : 3;
    bool ok = len >= off && buf[2] == OTR_TYPE_COMMIT && skip_data(buf, len, &off, &n) &&
              skip_data(buf, len, &off, &n) && n == 32;
    if (ok) memcpy(out, buf + off - 32, 32);
    free(buf);
    return ok;
}
