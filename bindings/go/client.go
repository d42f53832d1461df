package offrec

// The C shims (one per call that may run callbacks) and the C-side callback trampolines.

/*
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "offrec.h"
#include "callbatch.h"

// The Go side of the callbacks (//export functions in callbacks.go). They take the userdata
// and the current call frame as integers, never as pointers: a cgo.Handle is a small integer,
// which Go must not see in a pointer-typed slot.
extern void offrecGoSend(uintptr_t ud, uintptr_t frame, char *peer, size_t peer_len, char *text, size_t text_len);
extern void offrecGoDeliver(uintptr_t ud, uintptr_t frame, char *peer, size_t peer_len, uint32_t instance, uint8_t *text, size_t text_len, uint32_t security);
extern void offrecGoStateChanged(uintptr_t ud, uintptr_t frame, char *peer, size_t peer_len, uint32_t instance, uint32_t state);
extern void offrecGoEvent(uintptr_t ud, uintptr_t frame, struct offrec_event *event);
extern size_t offrecGoMaxMessageSize(uintptr_t ud, uintptr_t frame, char *peer, size_t peer_len);
extern uint64_t offrecGoNow(uintptr_t ud, uintptr_t frame);
extern int32_t offrecGoIsLoggedIn(uintptr_t ud, uintptr_t frame, char *peer, size_t peer_len);
extern void offrecGoFlush(uintptr_t frame);

// The Go call that is running on this thread (a cgo.Handle of its frame, 0 if none). Callbacks
// run on the thread of the call that caused them, so a callback finds its call's frame here,
// and a panic in it is re-raised by that call. Nested calls save and restore it.
static __thread uintptr_t offrec_go_frame;

#define GO_ENTER uintptr_t offrec_go_prev = offrec_go_frame; offrec_go_frame = frame
#define GO_LEAVE offrec_go_frame = offrec_go_prev; return r

// The batch of the call running on this thread (callbatch.h), if that call batches: valid only
// while its frame is offrec_go_frame (a nested call that does not batch sets another frame).
static __thread struct go_batch *offrec_go_batch;

// The running call's batch when it records callbacks of the client ud, else NULL.
static struct go_batch *go_batch_for(uintptr_t ud) {
	struct go_batch *b = offrec_go_batch;
	return b != NULL && b->frame == offrec_go_frame && b->ud == ud ? b : NULL;
}

// Runs the recorded callbacks of the running call before any other callback (order kept).
static void go_flush(void) {
	struct go_batch *b = offrec_go_batch;
	if (b != NULL && b->len != 0 && b->frame == offrec_go_frame) offrecGoFlush(b->frame);
}

// A wipe the compiler cannot drop (the buffer held plaintext).
static void *(*const volatile go_wipe)(void *, int, size_t) = memset;

// Appends one record; 0 if it cannot (no memory, absurd size): the caller then calls Go now.
static int go_push(struct go_batch *b, uint32_t kind, const char *peer, size_t peer_len, uint32_t instance,
		const void *text, size_t text_len, uint32_t security) {
	size_t body = peer_len + text_len;
	if (peer_len > ((size_t)1 << 30) || text_len > ((size_t)1 << 30)) return 0;
	size_t need = sizeof(struct go_rec) + ((body + 7) & ~(size_t)7);
	if (b->cap - b->len < need) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap - b->len < need) cap *= 2;
		unsigned char *nb = calloc(1, cap); // not realloc: the old block must be wiped before it is freed
		if (nb == NULL) return 0;
		if (b->buf != NULL) {
			memcpy(nb, b->buf, b->len);
			go_wipe(b->buf, 0, b->len);
			free(b->buf);
		}
		b->buf = nb;
		b->cap = cap;
	}
	struct go_rec h = {kind, instance, security, 0, peer_len, text_len};
	unsigned char *at = b->buf + b->len;
	memcpy(at, &h, sizeof h);
	if (peer_len) memcpy(at + sizeof h, peer, peer_len);
	if (text_len) memcpy(at + sizeof h + peer_len, text, text_len);
	b->len += need;
	return 1;
}

static void go_batch_free_buffer(struct go_batch *b) {
	if (b->buf != NULL) {
		go_wipe(b->buf, 0, b->cap);
		free(b->buf);
	}
	b->buf = NULL;
	b->len = b->cap = 0;
}
static void go_batch_free(struct go_batch *b) {
	if (b == NULL) return;
	go_batch_free_buffer(b);
	free(b);
}

static void tr_send(void *ud, const char *peer, size_t peer_len, const char *text, size_t text_len) {
	struct go_batch *b = go_batch_for((uintptr_t)ud);
	if (b != NULL && go_push(b, GO_REC_SEND, peer, peer_len, 0, text, text_len, 0)) return;
	go_flush();
	offrecGoSend((uintptr_t)ud, offrec_go_frame, (char *)peer, peer_len, (char *)text, text_len);
}
static void tr_deliver(void *ud, const char *peer, size_t peer_len, uint32_t instance, const uint8_t *text, size_t text_len, offrec_security security) {
	struct go_batch *b = go_batch_for((uintptr_t)ud);
	if (b != NULL && go_push(b, GO_REC_DELIVER, peer, peer_len, instance, text, text_len, (uint32_t)security)) return;
	go_flush();
	offrecGoDeliver((uintptr_t)ud, offrec_go_frame, (char *)peer, peer_len, instance, (uint8_t *)text, text_len, (uint32_t)security);
}
static void tr_state_changed(void *ud, const char *peer, size_t peer_len, uint32_t instance, offrec_session_state state) {
	go_flush();
	offrecGoStateChanged((uintptr_t)ud, offrec_go_frame, (char *)peer, peer_len, instance, (uint32_t)state);
}
static void tr_event(void *ud, const struct offrec_event *event) {
	go_flush();
	offrecGoEvent((uintptr_t)ud, offrec_go_frame, (struct offrec_event *)event);
}
static size_t tr_max_message_size(void *ud, const char *peer, size_t peer_len) {
	go_flush();
	return offrecGoMaxMessageSize((uintptr_t)ud, offrec_go_frame, (char *)peer, peer_len);
}
static uint64_t tr_now(void *ud) {
	go_flush();
	return offrecGoNow((uintptr_t)ud, offrec_go_frame);
}
static int32_t tr_is_logged_in(void *ud, const char *peer, size_t peer_len) {
	go_flush();
	return offrecGoIsLoggedIn((uintptr_t)ud, offrec_go_frame, (char *)peer, peer_len);
}

// Shims of the batching calls: the batch becomes the running call (frame and batch); when the
// library returns with records left, both stay set for Go to run them (see callbatch.h).
#define GO_ENTER_BATCH \
	b->prev_frame = offrec_go_frame; b->prev = offrec_go_batch; \
	offrec_go_frame = b->frame; offrec_go_batch = b
static offrec_result go_leave_batch(struct go_batch *b, offrec_result r) {
	if (b->len == 0) {
		offrec_go_frame = b->prev_frame;
		offrec_go_batch = b->prev;
	} else {
		b->frame_tls = &offrec_go_frame;
		b->batch_tls = &offrec_go_batch;
	}
	return r;
}
// The batch and the client come as integers: both are C memory, and cgo checks every pointer
// argument whose type may hold pointers for Go pointers (a cost per call, twice per message).
static offrec_result go_send_batched(uintptr_t batch, uintptr_t client, const char *peer, size_t peer_len,
		const char *text, size_t text_len, uint64_t *id) {
	struct go_batch *b = (struct go_batch *)batch;
	GO_ENTER_BATCH;
	return go_leave_batch(b, offrec_client_send((offrec_client *)client, peer, peer_len, text, text_len, id));
}
static offrec_result go_receive_batched(uintptr_t batch, uintptr_t client, const char *peer, size_t peer_len,
		const char *text, size_t text_len) {
	struct go_batch *b = (struct go_batch *)batch;
	GO_ENTER_BATCH;
	return go_leave_batch(b, offrec_client_receive((offrec_client *)client, peer, peer_len, text, text_len));
}

enum { GO_CB_STATE = 1, GO_CB_EVENT = 2, GO_CB_SIZE = 4, GO_CB_NOW = 8, GO_CB_PRESENCE = 16 };

static offrec_callbacks go_callbacks(unsigned mask) {
	offrec_callbacks cb = {0};
	cb.send = tr_send;
	cb.deliver = tr_deliver;
	if (mask & GO_CB_STATE) cb.state_changed = tr_state_changed;
	if (mask & GO_CB_EVENT) cb.event = tr_event;
	if (mask & GO_CB_SIZE) cb.max_message_size = tr_max_message_size;
	if (mask & GO_CB_NOW) cb.now = tr_now;
	if (mask & GO_CB_PRESENCE) cb.is_logged_in = tr_is_logged_in;
	return cb;
}

// Shims: set the frame for the duration of the call, and turn the userdata integer into the
// library's void * on the C side.

static offrec_result go_new(uintptr_t frame, const char *acct, size_t acct_len, const char *proto, size_t proto_len,
		uint32_t policy, unsigned mask, uintptr_t ud, offrec_client **out) {
	offrec_callbacks cb = go_callbacks(mask);
	GO_ENTER;
	offrec_result r = offrec_client_new(acct, acct_len, proto, proto_len, policy, &cb, (void *)ud, out);
	GO_LEAVE;
}
static offrec_result go_new_with_identity(uintptr_t frame, const char *acct, size_t acct_len, const char *proto, size_t proto_len,
		uint32_t policy, const uint8_t *secret, uint32_t tag, unsigned mask, uintptr_t ud, offrec_client **out) {
	offrec_callbacks cb = go_callbacks(mask);
	GO_ENTER;
	offrec_result r = offrec_client_new_with_identity(acct, acct_len, proto, proto_len, policy, secret, tag, &cb, (void *)ud, out);
	GO_LEAVE;
}
static offrec_result go_load(uintptr_t frame, const uint8_t *sealed, size_t sealed_len, const char *acct, size_t acct_len,
		const uint8_t *key, const char *pass, size_t pass_len, uint32_t policy, unsigned mask, uintptr_t ud, offrec_client **out) {
	offrec_callbacks cb = go_callbacks(mask);
	GO_ENTER;
	offrec_result r = offrec_client_load(sealed, sealed_len, acct, acct_len, key, pass, pass_len, policy, &cb, (void *)ud, out);
	GO_LEAVE;
}
static offrec_result go_load_from_dir(uintptr_t frame, const char *dir, size_t dir_len, const char *acct, size_t acct_len,
		const uint8_t *key, const char *pass, size_t pass_len, uint32_t policy, unsigned mask, uintptr_t ud, offrec_client **out) {
	offrec_callbacks cb = go_callbacks(mask);
	GO_ENTER;
	offrec_result r = offrec_client_load_from_dir(dir, dir_len, acct, acct_len, key, pass, pass_len, policy, &cb, (void *)ud, out);
	GO_LEAVE;
}
static offrec_result go_send(uintptr_t frame, offrec_client *c, const char *peer, size_t peer_len,
		const char *text, size_t text_len, uint64_t *id) {
	GO_ENTER;
	offrec_result r = offrec_client_send(c, peer, peer_len, text, text_len, id);
	GO_LEAVE;
}
static offrec_result go_send_to_instance(uintptr_t frame, offrec_client *c, const char *peer, size_t peer_len,
		uint32_t instance, const char *text, size_t text_len, uint64_t *id) {
	GO_ENTER;
	offrec_result r = offrec_client_send_to_instance(c, peer, peer_len, instance, text, text_len, id);
	GO_LEAVE;
}
static offrec_result go_receive(uintptr_t frame, offrec_client *c, const char *peer, size_t peer_len,
		const char *text, size_t text_len) {
	GO_ENTER;
	offrec_result r = offrec_client_receive(c, peer, peer_len, text, text_len);
	GO_LEAVE;
}
static offrec_result go_start_session(uintptr_t frame, offrec_client *c, const char *peer, size_t peer_len) {
	GO_ENTER;
	offrec_result r = offrec_client_start_session(c, peer, peer_len);
	GO_LEAVE;
}
static offrec_result go_end_session(uintptr_t frame, offrec_client *c, const char *peer, size_t peer_len, uint32_t instance) {
	GO_ENTER;
	offrec_result r = offrec_client_end_session(c, peer, peer_len, instance);
	GO_LEAVE;
}
static offrec_result go_accept_key(uintptr_t frame, offrec_client *c, const char *peer, size_t peer_len, uint32_t instance) {
	GO_ENTER;
	offrec_result r = offrec_client_accept_key(c, peer, peer_len, instance);
	GO_LEAVE;
}
static offrec_result go_tick(uintptr_t frame, offrec_client *c) {
	GO_ENTER;
	offrec_result r = offrec_client_tick(c);
	GO_LEAVE;
}
static offrec_result go_set_policy(uintptr_t frame, offrec_client *c, uint32_t policy) {
	GO_ENTER;
	offrec_result r = offrec_client_set_policy(c, policy);
	GO_LEAVE;
}
static offrec_result go_set_option(uintptr_t frame, offrec_client *c, uint32_t option, uint64_t value) {
	GO_ENTER;
	offrec_result r = offrec_client_set_option(c, option, value);
	GO_LEAVE;
}
static offrec_result go_set_max_message_size(uintptr_t frame, offrec_client *c, const char *peer, size_t peer_len, size_t size) {
	GO_ENTER;
	offrec_result r = offrec_client_set_max_message_size(c, peer, peer_len, size);
	GO_LEAVE;
}
static offrec_result go_set_trust(uintptr_t frame, offrec_client *c, const char *peer, size_t peer_len,
		const uint8_t *fp, uint32_t trust) {
	GO_ENTER;
	offrec_result r = offrec_client_set_trust(c, peer, peer_len, fp, trust);
	GO_LEAVE;
}
static offrec_result go_smp_start(uintptr_t frame, offrec_client *c, const char *peer, size_t peer_len, uint32_t instance,
		const uint8_t *secret, size_t secret_len, const char *question, size_t question_len) {
	GO_ENTER;
	offrec_result r = offrec_client_smp_start(c, peer, peer_len, instance, secret, secret_len, question, question_len);
	GO_LEAVE;
}
static offrec_result go_smp_respond(uintptr_t frame, offrec_client *c, const char *peer, size_t peer_len, uint32_t instance,
		const uint8_t *secret, size_t secret_len) {
	GO_ENTER;
	offrec_result r = offrec_client_smp_respond(c, peer, peer_len, instance, secret, secret_len);
	GO_LEAVE;
}
static offrec_result go_smp_abort(uintptr_t frame, offrec_client *c, const char *peer, size_t peer_len, uint32_t instance) {
	GO_ENTER;
	offrec_result r = offrec_client_smp_abort(c, peer, peer_len, instance);
	GO_LEAVE;
}
static offrec_result go_extra_symmetric_key(uintptr_t frame, offrec_client *c, const char *peer, size_t peer_len,
		uint32_t instance, uint32_t usage, const uint8_t *context, size_t context_len, uint8_t *key_out) {
	GO_ENTER;
	offrec_result r = offrec_client_extra_symmetric_key(c, peer, peer_len, instance, usage, context, context_len, key_out);
	GO_LEAVE;
}
static offrec_result go_generate_otr_key(uintptr_t frame, offrec_client *c, uint8_t *fingerprint_out) {
	GO_ENTER;
	offrec_result r = offrec_client_generate_otr_key(c, fingerprint_out);
	GO_LEAVE;
}
static offrec_result go_import_otr_key(uintptr_t frame, offrec_client *c, const char *path, size_t path_len, uint32_t format,
		const char *account, size_t account_len, const char *protocol, size_t protocol_len, bool replace, uint8_t *fp_out) {
	GO_ENTER;
	offrec_result r = offrec_client_import_otr_key(c, path, path_len, format, account, account_len, protocol, protocol_len, replace, fp_out);
	GO_LEAVE;
}
static offrec_result go_import_otr_fingerprints(uintptr_t frame, offrec_client *c, const char *path, size_t path_len, uint32_t format,
		const char *account, size_t account_len, const char *protocol, size_t protocol_len, size_t *imported_out) {
	GO_ENTER;
	offrec_result r = offrec_client_import_otr_fingerprints(c, path, path_len, format, account, account_len, protocol, protocol_len, imported_out);
	GO_LEAVE;
}
static offrec_result go_import_otr_instance_tag(uintptr_t frame, offrec_client *c, const char *path, size_t path_len,
		const char *account, size_t account_len, const char *protocol, size_t protocol_len, uint32_t *tag_out) {
	GO_ENTER;
	offrec_result r = offrec_client_import_otr_instance_tag(c, path, path_len, account, account_len, protocol, protocol_len, tag_out);
	GO_LEAVE;
}
static offrec_result go_forget_key(uintptr_t frame, offrec_client *c, const char *peer, size_t peer_len, const uint8_t *key_id) {
	GO_ENTER;
	offrec_result r = offrec_client_forget_key(c, peer, peer_len, key_id);
	GO_LEAVE;
}
static offrec_result go_forget_peer(uintptr_t frame, offrec_client *c, const char *peer, size_t peer_len) {
	GO_ENTER;
	offrec_result r = offrec_client_forget_peer(c, peer, peer_len);
	GO_LEAVE;
}
static offrec_result go_set_peer_policy(uintptr_t frame, offrec_client *c, const char *peer, size_t peer_len, uint32_t policy) {
	GO_ENTER;
	offrec_result r = offrec_client_set_peer_policy(c, peer, peer_len, policy);
	GO_LEAVE;
}
static offrec_result go_clear_peer_policy(uintptr_t frame, offrec_client *c, const char *peer, size_t peer_len) {
	GO_ENTER;
	offrec_result r = offrec_client_clear_peer_policy(c, peer, peer_len);
	GO_LEAVE;
}
static offrec_result go_set_text(uintptr_t frame, offrec_client *c, uint32_t which, const char *text, size_t text_len) {
	GO_ENTER;
	offrec_result r = offrec_client_set_text(c, which, text, text_len);
	GO_LEAVE;
}
// The frame of the call running on this thread (0 outside any call): lets Close refuse to run
// from inside one of the client's own callbacks.
static uintptr_t go_current_frame(void) { return offrec_go_frame; }
// GO_ENTER / GO_LEAVE for shims in other files of the package (tlv.go, inplace.go), whose
// preambles cannot see this file's thread-local: not static, declared extern there.
uintptr_t offrec_go_enter(uintptr_t frame) { uintptr_t prev = offrec_go_frame; offrec_go_frame = frame; return prev; }
void offrec_go_leave(uintptr_t prev) { offrec_go_frame = prev; }
*/
import "C"

import (
	"runtime"
	"runtime/cgo"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Client is one local account: its identity key, instance tag, policy, trust store and every
// conversation. Create it with NewClient (or NewClientWithIdentity, LoadClient,
// LoadClientFromDir) and release it with Close. Safe for use by many goroutines at once.
type Client struct {
	// calls counts the calls in progress, plus closing once Close has begun: every call
	// enters with one atomic add (no lock), and Close waits on idle until only its bit is left.
	calls atomic.Int64
	mu    sync.Mutex
	idle  sync.Cond // signalled (under mu) when the last call leaves a closing client
	ptr   *C.offrec_client

	st *clientState
	ud cgo.Handle // userdata: a handle of st

	// spare is the frame this client's last call left for its next one (frames): one atomic
	// swap per call instead of the pool's mutex. Calls park it before they release, so once
	// Close has waited for the calls, nothing parks on a closed client.
	spare atomic.Pointer[callFrame]
}

// liveClients counts clients not yet freed (tests check that finalizers free them).
var liveClients atomic.Int64

// StoreKey is what seals a saved client: a 32-byte key, or a passphrase (stretched with
// Argon2id, which takes a noticeable fraction of a second on purpose).
type StoreKey struct {
	raw        *[32]byte
	passphrase string
}

// RawKey seals with a 32-byte key.
func RawKey(key [32]byte) StoreKey { return StoreKey{raw: &key} }

// Passphrase seals with a passphrase (UTF-8, 1 to 4096 bytes).
func Passphrase(p string) StoreKey { return StoreKey{passphrase: p} }

// String hides the key: fmt never prints a store key or passphrase.
func (k StoreKey) String() string {
	if k.raw != nil {
		return "StoreKey{raw key <hidden>}"
	}
	return "StoreKey{passphrase <hidden>}"
}

// GoString is String: %#v shows no secret either.
func (k StoreKey) GoString() string { return k.String() }

func (k StoreKey) c() (*C.uint8_t, *C.char, C.size_t) {
	if k.raw != nil {
		return (*C.uint8_t)(unsafe.Pointer(&k.raw[0])), nil, 0
	}
	if k.passphrase == "" {
		return nil, nil, 0 // neither: the library says NULL_ARGUMENT
	}
	p, n := cstr(k.passphrase)
	return nil, p, n
}

// create runs one of the creation shims and wraps the result.
func create(op string, h Handler, fn func(frame C.uintptr_t, mask C.uint, ud C.uintptr_t, out **C.offrec_client) C.offrec_result) (*Client, error) {
	if h == nil {
		return nil, &Error{Code: ResultNullArgument, Message: "a Handler is required", Op: op}
	}
	st, mask := newClientState(h)
	ud := cgo.NewHandle(st)
	f := newFrame(st, ud)
	var out *C.offrec_client
	gcStress()
	r := fn(f.id(), C.uint(mask), C.uintptr_t(ud), &out)
	gcStress()
	if err := check(op, r); err != nil {
		ud.Delete()
		f.finish()
		return nil, err
	}
	liveClients.Add(1)
	c := &Client{ptr: out, st: st, ud: ud}
	c.idle.L = &c.mu
	runtime.SetFinalizer(c, (*Client).finalize)
	f.finish()
	return c, nil
}

// NewClient creates a client with a new identity key and instance tag. account is our name on
// the network and protocol names the network (1 to 1024 bytes of UTF-8 each).
func NewClient(account, protocol string, policy Policy, h Handler) (*Client, error) {
	return create("NewClient", h, func(frame C.uintptr_t, mask C.uint, ud C.uintptr_t, out **C.offrec_client) C.offrec_result {
		a, al := cstr(account)
		p, pl := cstr(protocol)
		return C.go_new(frame, a, al, p, pl, C.uint32_t(policy), mask, ud, out)
	})
}

// NewClientWithIdentity creates a client with a stored identity (see IdentitySecret and
// InstanceTag; the tag is at least 0x100).
func NewClientWithIdentity(account, protocol string, policy Policy, secret [32]byte, instanceTag uint32, h Handler) (*Client, error) {
	defer clear(secret[:])
	return create("NewClientWithIdentity", h, func(frame C.uintptr_t, mask C.uint, ud C.uintptr_t, out **C.offrec_client) C.offrec_result {
		a, al := cstr(account)
		p, pl := cstr(protocol)
		return C.go_new_with_identity(frame, a, al, p, pl, C.uint32_t(policy),
			(*C.uint8_t)(unsafe.Pointer(&secret[0])), C.uint32_t(instanceTag), mask, ud, out)
	})
}

// LoadClient creates a client from bytes made by Save. account is the account the store must
// belong to (compared byte for byte): another account's store gives ErrStoreWrongAccount.
// policy applies to the restored client (policies are not stored). Identity, trust, held
// messages and the record of sent messages come back; stored sessions are restarted with a new
// handshake, never resumed (a store cannot be proven current, and resuming a stale one would
// reuse message keys): they report StatePlaintext, a message sent to the peer is held until the
// new session is up, and a message arriving on the old session is not delivered (the peer is
// told which). SMPStart and ExtraSymmetricKey on them return ErrNoSession. The loaded client
// starts with nothing unsaved; save again on every EventPersistNeeded event (or later: it is
// reported once until saved).
// Errors: ErrStoreWrongKey, ErrStoreCorrupted, ErrStoreUnsupportedVersion, ErrStoreWrongAccount.
func LoadClient(sealed []byte, account string, key StoreKey, policy Policy, h Handler) (*Client, error) {
	return create("LoadClient", h, func(frame C.uintptr_t, mask C.uint, ud C.uintptr_t, out **C.offrec_client) C.offrec_result {
		s, sl := cbytes(sealed)
		a, al := cstr(account)
		k, p, pl := key.c()
		return C.go_load(frame, s, sl, a, al, k, p, pl, C.uint32_t(policy), mask, ud, out)
	})
}

// LoadClientFromDir loads a client saved with SaveToDir (account and policy as in
// LoadClient); ErrStoreNotFound if nothing was saved there yet, ErrStoreNotAFile if the
// store path is a symbolic link, FIFO or device (nothing is read). A load never creates,
// changes or deletes anything. Stored sessions are restarted, as with LoadClient.
func LoadClientFromDir(dir string, account string, key StoreKey, policy Policy, h Handler) (*Client, error) {
	return create("LoadClientFromDir", h, func(frame C.uintptr_t, mask C.uint, ud C.uintptr_t, out **C.offrec_client) C.offrec_result {
		d, dl := cstr(dir)
		a, al := cstr(account)
		k, p, pl := key.c()
		return C.go_load_from_dir(frame, d, dl, a, al, k, p, pl, C.uint32_t(policy), mask, ud, out)
	})
}

// closing is the bit of Client.calls that Close sets.
const closing = int64(1) << 62

// acquire marks a call in progress; Close waits for calls in progress to finish.
func (c *Client) acquire() (*C.offrec_client, error) {
	if c.calls.Add(1)&closing != 0 {
		c.release()
		return nil, ErrClosed
	}
	// Close clears ptr only after every call that got here has released.
	return c.ptr, nil
}

func (c *Client) release() {
	if c.calls.Add(-1) == closing { // the last call of a closing client
		c.mu.Lock()
		c.idle.Broadcast()
		c.mu.Unlock()
	}
}

// call runs a C call that may run callbacks (through a shim that sets the frame).
func (c *Client) call(op string, fn func(p *C.offrec_client, frame C.uintptr_t) C.offrec_result) error {
	p, err := c.acquire()
	if err != nil {
		return err
	}
	f := c.frame()
	gcStress()
	r := fn(p, f.id())
	gcStress()
	cp := c.park(f)
	c.release()
	runtime.KeepAlive(c)
	reraise(c.st, cp)
	return check(op, r)
}

// callBatched is callOut for Send (send) and Receive, whose Send and Deliver callbacks are
// recorded by the C side and run when the library returns (callbatch.go). The thread stays
// locked until they have run: the C side's record of the running call is thread-local.
func (c *Client) callBatched(op string, peer, text string, send bool) (uint64, error) {
	p, err := c.acquire()
	if err != nil {
		return 0, err
	}
	f := c.frame()
	b := f.batchFor(f.ud)
	pp, pl := cstr(peer)
	t, tl := cstr(text)
	var r C.offrec_result
	runtime.LockOSThread()
	completed := false
	defer func() {
		if !completed { // a handler called runtime.Goexit (t.FailNow, say): leave nothing behind
			if b != nil {
				f.abandonBatch(b)
			}
			runtime.UnlockOSThread()
			c.park(f)
			c.release()
		}
	}()
	gcStress()
	switch {
	case b == nil && send:
		r = C.go_send(f.id(), p, pp, pl, t, tl, &f.out)
	case b == nil:
		r = C.go_receive(f.id(), p, pp, pl, t, tl)
	case send:
		r = C.go_send_batched(C.uintptr_t(uintptr(unsafe.Pointer(b))), C.uintptr_t(uintptr(unsafe.Pointer(p))), pp, pl, t, tl, &f.out)
	default:
		r = C.go_receive_batched(C.uintptr_t(uintptr(unsafe.Pointer(b))), C.uintptr_t(uintptr(unsafe.Pointer(p))), pp, pl, t, tl)
	}
	gcStress()
	if b != nil {
		f.finishBatch(b)
	}
	completed = true
	runtime.UnlockOSThread()
	out := uint64(f.out)
	cp := c.park(f)
	c.release()
	runtime.KeepAlive(c)
	reraise(c.st, cp)
	return out, check(op, r)
}

// frame takes a call frame for a call of c: the one c's last call parked, else a pooled one.
func (c *Client) frame() *callFrame {
	if f := c.spare.Swap(nil); f != nil {
		return f
	}
	return newFrame(c.st, c.ud)
}

// park ends a call's use of its frame before the call releases the client: the frame becomes
// c's spare if none is parked, else it goes back to the pool. It returns the panic of a
// callback of the call, for reraise once the client is released.
func (c *Client) park(f *callFrame) *CallbackPanic {
	p := f.panic
	f.panic, f.out = nil, 0
	if !c.spare.CompareAndSwap(nil, f) {
		f.recycle()
	}
	return p
}

func freeBatchBuffer(b *C.struct_go_batch) { C.go_batch_free_buffer(b) }

func freeBatch(b *C.struct_go_batch) { C.go_batch_free(b) }

// callOut is call for C calls with one uint64 output, which goes in the frame (a local
// variable whose address C receives would be allocated on the heap at every call).
func (c *Client) callOut(op string, fn func(p *C.offrec_client, frame C.uintptr_t, out *C.uint64_t) C.offrec_result) (uint64, error) {
	p, err := c.acquire()
	if err != nil {
		return 0, err
	}
	f := c.frame()
	gcStress()
	r := fn(p, f.id(), &f.out)
	gcStress()
	out := uint64(f.out)
	cp := c.park(f)
	c.release()
	runtime.KeepAlive(c)
	reraise(c.st, cp)
	return out, check(op, r)
}

// query runs a C call that runs no callbacks.
func (c *Client) query(op string, fn func(p *C.offrec_client) C.offrec_result) error {
	p, err := c.acquire()
	if err != nil {
		return err
	}
	gcStress()
	r := fn(p)
	gcStress()
	c.release()
	runtime.KeepAlive(c)
	return check(op, r)
}

// Close frees the client and wipes its keys. It waits for calls in progress on other
// goroutines; later calls return ErrClosed. Closing again is a no-op. It must not be called
// from inside one of this client's callbacks (ErrCloseInCallback).
func (c *Client) Close() error {
	if fr := C.go_current_frame(); fr != 0 {
		if f, ok := cgo.Handle(fr).Value().(*callFrame); ok && f.st == c.st {
			return ErrCloseInCallback
		}
	}
	c.mu.Lock()
	for {
		n := c.calls.Load()
		if n&closing != 0 { // closed, or being closed by another goroutine
			c.mu.Unlock()
			return nil
		}
		if c.calls.CompareAndSwap(n, n|closing) {
			break
		}
	}
	for c.calls.Load() != closing {
		c.idle.Wait()
	}
	p := c.ptr
	c.ptr = nil
	c.mu.Unlock()
	if f := c.spare.Swap(nil); f != nil { // no call is left to park another
		f.recycle()
	}
	runtime.SetFinalizer(c, nil)
	C.offrec_client_free(p)
	c.ud.Delete()
	liveClients.Add(-1)
	return nil
}

func (c *Client) finalize() { _ = c.Close() }

// Send sends text to peer as the policy says: encrypted if a session is up; held (and a
// session started) if encryption is required; else in plaintext (which must be UTF-8).
// Encrypted text may be any bytes, at most 131072. It returns the message's id; events about
// the message carry the same id.
func (c *Client) Send(peer, text string) (uint64, error) {
	if batchCallbacks {
		return c.callBatched("Send", peer, text, true)
	}
	return c.callOut("Send", func(p *C.offrec_client, frame C.uintptr_t, id *C.uint64_t) C.offrec_result {
		pp, pl := cstr(peer)
		t, tl := cstr(text)
		return C.go_send(frame, p, pp, pl, t, tl, id)
	})
}

// SendToInstance sends text encrypted to one remote instance of peer (non-zero); ErrNoSession
// if there is no session with it. Naming the instance is consent to its key, exactly as
// [Client.AcceptKey] (messages held for peer are sent to it first).
func (c *Client) SendToInstance(peer string, instance uint32, text string) (uint64, error) {
	return c.callOut("SendToInstance", func(p *C.offrec_client, frame C.uintptr_t, id *C.uint64_t) C.offrec_result {
		pp, pl := cstr(peer)
		t, tl := cstr(text)
		return C.go_send_to_instance(frame, p, pp, pl, C.uint32_t(instance), t, tl, id)
	})
}

// Receive handles one wire text that arrived from peer. What it means comes through the
// handler. A malformed or unreadable message is not an error (it is reported as an event).
func (c *Client) Receive(peer, text string) error {
	if batchCallbacks {
		_, err := c.callBatched("Receive", peer, text, false)
		return err
	}
	return c.call("Receive", func(p *C.offrec_client, frame C.uintptr_t) C.offrec_result {
		pp, pl := cstr(peer)
		t, tl := cstr(text)
		return C.go_receive(frame, p, pp, pl, t, tl)
	})
}

// StartSession asks peer for an encrypted session (refreshes it when one is up).
// ErrPolicyForbids if the policy does not allow the protocol.
func (c *Client) StartSession(peer string) error {
	return c.call("StartSession", func(p *C.offrec_client, frame C.uintptr_t) C.offrec_result {
		pp, pl := cstr(peer)
		return C.go_start_session(frame, p, pp, pl)
	})
}

// EndSession ends the session with one remote instance of peer, or all of peer's sessions
// when instance is 0. Ending a session that does not exist is not an error. If a
// [PresenceChecker] handler reports peer offline, nothing is sent: the session ends here only.
func (c *Client) EndSession(peer string, instance uint32) error {
	return c.call("EndSession", func(p *C.offrec_client, frame C.uintptr_t) C.offrec_result {
		pp, pl := cstr(peer)
		return C.go_end_session(frame, p, pp, pl, C.uint32_t(instance))
	})
}

// AcceptKey lets plain [Client.Send] use peer's session with instance although its key is not
// verified while an earlier key of peer is (after [EventKeyConsentRequired]). The session
// becomes the one plain sends use and held messages are sent to it now. The key stays
// unverified (verify it with SetTrust or SMP). The consent lives in memory only: it is not
// saved. ErrNoSession if there is no such session, ErrSessionFinished if it is finished,
// ErrInvalidArgument for instance 0.
func (c *Client) AcceptKey(peer string, instance uint32) error {
	return c.call("AcceptKey", func(p *C.offrec_client, frame C.uintptr_t) C.offrec_result {
		pp, pl := cstr(peer)
		return C.go_accept_key(frame, p, pp, pl, C.uint32_t(instance))
	})
}

// Tick drives time: heartbeats, session expiry, fragment and held-message timeouts. Call it
// every few seconds. A [PresenceChecker] handler is asked about every known peer: one it
// reports offline gets no heartbeat, and no message when its session expires.
func (c *Client) Tick() error {
	return c.call("Tick", func(p *C.offrec_client, frame C.uintptr_t) C.offrec_result {
		return C.go_tick(frame, p)
	})
}

// SetPolicy replaces the policy (unknown bits: ErrInvalidPolicy).
func (c *Client) SetPolicy(policy Policy) error {
	return c.call("SetPolicy", func(p *C.offrec_client, frame C.uintptr_t) C.offrec_result {
		return C.go_set_policy(frame, p, C.uint32_t(policy))
	})
}

// SetOption sets one tunable (ErrUnknownEnumValue, ErrInvalidArgument out of range).
func (c *Client) SetOption(option Option, value uint64) error {
	return c.call("SetOption", func(p *C.offrec_client, frame C.uintptr_t) C.offrec_result {
		return C.go_set_option(frame, p, C.uint32_t(option), C.uint64_t(value))
	})
}

// SetMaxMessageSize sets the largest wire message the transport carries to peer (0 = the
// client-wide OptionMaxMessageSize; otherwise at least 64). A MaxMessageSizer handler's
// answer is used instead, for each call only (it is never stored).
func (c *Client) SetMaxMessageSize(peer string, size int) error {
	if size < 0 {
		return &Error{Code: ResultInvalidArgument, Message: "negative size", Op: "SetMaxMessageSize"}
	}
	return c.call("SetMaxMessageSize", func(p *C.offrec_client, frame C.uintptr_t) C.offrec_result {
		pp, pl := cstr(peer)
		return C.go_set_max_message_size(frame, p, pp, pl, C.size_t(size))
	})
}

// SessionState returns the state of the session a plain Send to peer would use
// (StatePlaintext if none).
func (c *Client) SessionState(peer string) (SessionState, error) {
	var s C.offrec_session_state
	err := c.query("SessionState", func(p *C.offrec_client) C.offrec_result {
		pp, pl := cstr(peer)
		return C.offrec_client_session_state(p, pp, pl, &s)
	})
	return SessionState(s), err
}

// SessionInfo is what a UI needs to know about one session.
type SessionInfo struct {
	Instance         uint32
	State            SessionState
	TheirFingerprint Fingerprint
	SSID             SSID
	WeInitiated      bool
	SMPInProgress    bool
}

// Sessions lists the sessions (one per remote instance) with peer, ordered by instance tag.
func (c *Client) Sessions(peer string) ([]SessionInfo, error) {
	var n C.size_t
	err := c.query("Sessions", func(p *C.offrec_client) C.offrec_result {
		pp, pl := cstr(peer)
		return C.offrec_client_session_count(p, pp, pl, &n)
	})
	if err != nil {
		return nil, err
	}
	out := make([]SessionInfo, 0, int(n))
	for i := C.size_t(0); i < n; i++ {
		var info C.offrec_session_info
		err := c.query("Sessions", func(p *C.offrec_client) C.offrec_result {
			pp, pl := cstr(peer)
			return C.offrec_client_session_info(p, pp, pl, i, &info)
		})
		if err != nil {
			if isCode(err, ResultInvalidArgument) {
				break // another goroutine ended a session meanwhile
			}
			return nil, err
		}
		s := SessionInfo{
			Instance:      uint32(info.instance),
			State:         SessionState(info.state),
			WeInitiated:   bool(info.we_initiated),
			SMPInProgress: bool(info.smp_in_progress),
		}
		for j := range s.TheirFingerprint {
			s.TheirFingerprint[j] = byte(info.their_fingerprint[j])
			s.SSID[j] = byte(info.ssid[j])
		}
		out = append(out, s)
	}
	return out, nil
}

func isCode(err error, code Result) bool {
	e, ok := err.(*Error)
	return ok && e.Code == code
}

// Fingerprint returns our own fingerprint.
func (c *Client) Fingerprint() (Fingerprint, error) {
	var f Fingerprint
	err := c.query("Fingerprint", func(p *C.offrec_client) C.offrec_result {
		return C.offrec_client_fingerprint(p, (*C.uint8_t)(unsafe.Pointer(&f[0])))
	})
	return f, err
}

// Account returns our account name (as created, or as restored from the store).
func (c *Client) Account() (string, error) {
	var buf [C.OFFREC_MAX_NAME_LEN + 1]C.char
	var n C.size_t
	err := c.query("Account", func(p *C.offrec_client) C.offrec_result {
		return C.offrec_client_account(p, &buf[0], C.size_t(len(buf)), &n)
	})
	if err != nil || n == 0 {
		return "", err
	}
	return C.GoStringN(&buf[0], C.int(n-1)), nil
}

// InstanceTag returns our instance tag.
func (c *Client) InstanceTag() (uint32, error) {
	var t C.uint32_t
	err := c.query("InstanceTag", func(p *C.offrec_client) C.offrec_result {
		return C.offrec_client_instance_tag(p, &t)
	})
	return uint32(t), err
}

// IdentitySecret returns our identity key's secret, for the app's own storage (restore with
// NewClientWithIdentity). Whoever has it can impersonate this account: store it encrypted and
// wipe it after use.
func (c *Client) IdentitySecret() ([32]byte, error) {
	var s [32]byte
	err := c.query("IdentitySecret", func(p *C.offrec_client) C.offrec_result {
		return C.offrec_client_identity_secret(p, (*C.uint8_t)(unsafe.Pointer(&s[0])))
	})
	return s, err
}

// Save seals the client's whole state (identity, trust, live sessions, held messages). The
// bytes reveal nothing but their length without the key. Once sealed, the client counts it as
// saved: its next change is reported by an EventPersistNeeded event again (a failed save leaves
// the notice pending). If keeping the bytes fails, save again.
func (c *Client) Save(key StoreKey) ([]byte, error) {
	var buf C.offrec_buffer
	err := c.query("Save", func(p *C.offrec_client) C.offrec_result {
		k, pp, pl := key.c()
		return C.offrec_client_save(p, k, pp, pl, &buf)
	})
	if err != nil {
		return nil, err
	}
	return takeBuffer(&buf), nil
}

// SaveToDir saves the client into dir (created 0700 if missing), replacing the previous save
// atomically. Once written, the client counts it as saved, as with Save; a failed save leaves
// the EventPersistNeeded notice pending.
func (c *Client) SaveToDir(dir string, key StoreKey) error {
	return c.query("SaveToDir", func(p *C.offrec_client) C.offrec_result {
		d, dl := cstr(dir)
		k, pp, pl := key.c()
		return C.offrec_client_save_to_dir(p, d, dl, k, pp, pl)
	})
}

// SetTrust sets (or revokes, with TrustUnverified) the trust in peer's key fp, adding the key
// if unknown. Sessions using that key report their new state through StateChanged.
func (c *Client) SetTrust(peer string, fp Fingerprint, trust Trust) error {
	return c.call("SetTrust", func(p *C.offrec_client, frame C.uintptr_t) C.offrec_result {
		pp, pl := cstr(peer)
		return C.go_set_trust(frame, p, pp, pl, (*C.uint8_t)(unsafe.Pointer(&fp[0])), C.uint32_t(trust))
	})
}

// Trust returns the trust in peer's key fp (TrustUnverified if the key is unknown).
func (c *Client) Trust(peer string, fp Fingerprint) (Trust, error) {
	var t C.offrec_trust
	err := c.query("Trust", func(p *C.offrec_client) C.offrec_result {
		pp, pl := cstr(peer)
		return C.offrec_client_trust(p, pp, pl, (*C.uint8_t)(unsafe.Pointer(&fp[0])), &t)
	})
	return Trust(t), err
}

// MaxSMPSecretLen and MaxSMPQuestionLen are the longest SMP secret and question, in bytes
// (ErrMessageTooLarge beyond).
const (
	MaxSMPSecretLen   = C.OFFREC_MAX_SMP_SECRET_LEN
	MaxSMPQuestionLen = C.OFFREC_MAX_SMP_QUESTION_LEN
)

// SMPStart starts the Socialist Millionaires' Protocol with the session with remote instance
// of peer (0 = the session Send would use), with secret and an optional question ("" = none).
// Results arrive as events (EventSMPSucceeded, ...). Errors: ErrNoSession, ErrSMPRateLimited,
// ErrMessageTooLarge (a secret or question over its limit), ErrInvalidArgument (a question
// with a NUL on an OTR session: OTR's question ends at its first NUL), ErrSMPError.
func (c *Client) SMPStart(peer string, instance uint32, secret []byte, question string) error {
	return c.call("SMPStart", func(p *C.offrec_client, frame C.uintptr_t) C.offrec_result {
		pp, pl := cstr(peer)
		s, sl := cbytes(secret)
		q, ql := cstr(question)
		return C.go_smp_start(frame, p, pp, pl, C.uint32_t(instance), s, sl, q, ql)
	})
}

// SMPRespond answers the peer's SMP request (after EventSMPAskedForSecret) with our secret.
// ErrSMPError if no request is waiting.
func (c *Client) SMPRespond(peer string, instance uint32, secret []byte) error {
	return c.call("SMPRespond", func(p *C.offrec_client, frame C.uintptr_t) C.offrec_result {
		pp, pl := cstr(peer)
		s, sl := cbytes(secret)
		return C.go_smp_respond(frame, p, pp, pl, C.uint32_t(instance), s, sl)
	})
}

// SMPAbort aborts the SMP run with peer's remote instance (0 = the current session) and tells
// the peer.
func (c *Client) SMPAbort(peer string, instance uint32) error {
	return c.call("SMPAbort", func(p *C.offrec_client, frame C.uintptr_t) C.offrec_result {
		pp, pl := cstr(peer)
		return C.go_smp_abort(frame, p, pp, pl, C.uint32_t(instance))
	})
}

// ExtraSymmetricKey derives a 32-byte key for usage (a file transfer, say) with context, from
// the session with peer's remote instance (0 = the session Send would use), and tells the peer,
// who receives the same key in EventExtraKeyReceived. ErrNoSession without an encrypted
// session. Wipe the key after use.
func (c *Client) ExtraSymmetricKey(peer string, instance, usage uint32, context []byte) ([]byte, error) {
	key := make([]byte, FingerprintLen)
	err := c.call("ExtraSymmetricKey", func(p *C.offrec_client, frame C.uintptr_t) C.offrec_result {
		pp, pl := cstr(peer)
		ctx, cl := cbytes(context)
		return C.go_extra_symmetric_key(frame, p, pp, pl, C.uint32_t(instance), C.uint32_t(usage), ctx, cl,
			(*C.uint8_t)(unsafe.Pointer(&key[0])))
	})
	if err != nil {
		return nil, err
	}
	return key, nil
}

// GenerateOTRKey makes our OTR DSA-1024 key now if there is none, and returns its fingerprint
// (the same one on every later call). It takes 0.1-0.3 s: call it at a moment of your choosing
// (account creation), off the UI goroutine, as libotr's otrl_privkey_generate. Without it the
// key is made inside the call that first needs it (the first OTR handshake). Save the client
// afterwards (an EventPersistNeeded event says so).
func (c *Client) GenerateOTRKey() (OTRFingerprint, error) {
	var f OTRFingerprint
	err := c.call("GenerateOTRKey", func(p *C.offrec_client, frame C.uintptr_t) C.offrec_result {
		return C.go_generate_otr_key(frame, p, (*C.uint8_t)(unsafe.Pointer(&f[0])))
	})
	return f, err
}

// Callers of the migration shims for migrate.go (the shims are static in this file's preamble).
func goImportOTRKey(frame C.uintptr_t, p *C.offrec_client, path *C.char, pathLen C.size_t, format C.uint32_t,
	account *C.char, accountLen C.size_t, protocol *C.char, protocolLen C.size_t, replace C.bool, fp *C.uint8_t) C.offrec_result {
	return C.go_import_otr_key(frame, p, path, pathLen, format, account, accountLen, protocol, protocolLen, replace, fp)
}

func goImportOTRFingerprints(frame C.uintptr_t, p *C.offrec_client, path *C.char, pathLen C.size_t, format C.uint32_t,
	account *C.char, accountLen C.size_t, protocol *C.char, protocolLen C.size_t, n *C.size_t) C.offrec_result {
	return C.go_import_otr_fingerprints(frame, p, path, pathLen, format, account, accountLen, protocol, protocolLen, n)
}

func goImportOTRInstanceTag(frame C.uintptr_t, p *C.offrec_client, path *C.char, pathLen C.size_t,
	account *C.char, accountLen C.size_t, protocol *C.char, protocolLen C.size_t, tag *C.uint32_t) C.offrec_result {
	return C.go_import_otr_instance_tag(frame, p, path, pathLen, account, accountLen, protocol, protocolLen, tag)
}

// The shims above are static to this file (they share its thread-local frame); the methods in
// peers.go and texts.go reach them through these.

func shimForgetKey(frame C.uintptr_t, p *C.offrec_client, peer *C.char, peerLen C.size_t, keyID *C.uint8_t) C.offrec_result {
	return C.go_forget_key(frame, p, peer, peerLen, keyID)
}

func shimForgetPeer(frame C.uintptr_t, p *C.offrec_client, peer *C.char, peerLen C.size_t) C.offrec_result {
	return C.go_forget_peer(frame, p, peer, peerLen)
}

func shimSetPeerPolicy(frame C.uintptr_t, p *C.offrec_client, peer *C.char, peerLen C.size_t, policy C.uint32_t) C.offrec_result {
	return C.go_set_peer_policy(frame, p, peer, peerLen, policy)
}

func shimClearPeerPolicy(frame C.uintptr_t, p *C.offrec_client, peer *C.char, peerLen C.size_t) C.offrec_result {
	return C.go_clear_peer_policy(frame, p, peer, peerLen)
}

func shimSetText(frame C.uintptr_t, p *C.offrec_client, which C.uint32_t, text *C.char, textLen C.size_t) C.offrec_result {
	return C.go_set_text(frame, p, which, text, textLen)
}
