package offrec

// The //export trampolines live in this file on their own: cgo allows only declarations in the
// preamble of a file with //export. The C side (offrec.go) passes the userdata and the current
// call frame as integers (cgo.Handle values).

/*
#include <stdint.h>
#include <stddef.h>
#include "offrec.h"
#include "callbatch.h"
*/
import "C"

import (
	"fmt"
	"runtime/cgo"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Handler receives a client's callbacks. Send and Deliver are required.
//
// The client also uses these optional interfaces when the handler implements them:
// [StateHandler], [EventHandler], [MaxMessageSizer], [Clock], [PresenceChecker]. (Optional interfaces, as
// net/http does with http.Flusher, rather than a struct of funcs: the handler is usually one
// application object holding the transport and the UI, a method set documents each callback's
// signature, and which optional callbacks the library gets is decided once, at creation, by
// what the type implements; a nil func would otherwise have to mean "not supplied".)
//
// Callbacks run on the goroutine whose Client call caused them, before that call returns, with
// no library lock held: they may call any method of any client, including the one calling them
// (reply from Deliver, say), but must not Close it. When several goroutines use one client,
// callbacks run concurrently: make them goroutine-safe. A panic is recovered and re-raised by
// the Client method that caused the callback (see [CallbackPanic]); the library finishes its
// call first, so later callbacks of the same call still run.
type Handler interface {
	// Send sends a wire text (one message or fragment; protocol messages are ASCII, plaintext and
	// the query's explanation UTF-8, no newline of ours) to peer over the transport, in order.
	Send(peer, text string)
	// Deliver shows a message from peer (remote instance, 0 for plaintext) to the user. text
	// is a copy the handler may keep.
	Deliver(peer string, instance uint32, text []byte, security Security)
}

// StateHandler is told when the session with a peer's remote instance changes state.
type StateHandler interface {
	StateChanged(peer string, instance uint32, state SessionState)
}

// EventHandler receives events (SMP, fingerprints, errors, held messages, extra keys, ...).
type EventHandler interface {
	Event(ev Event)
}

// MaxMessageSizer says how large a wire message the transport carries to peer (0 = no per-peer
// limit); longer messages are fragmented. Its answer replaces Client.SetMaxMessageSize.
type MaxMessageSizer interface {
	MaxMessageSize(peer string) int
}

// Clock gives the current time in seconds: a clock that does not go backwards and keeps counting
// across restarts of the program, such as wall-clock seconds (a saved client stores times from
// it; a clock that starts again from zero makes a loaded client misjudge how long held messages
// and idle sessions have waited). Without it the library uses the wall clock.
type Clock interface {
	Now() uint64
}

// Presence is what a [PresenceChecker] answers about a peer (libotr's is_logged_in).
type Presence int32

const (
	// PresenceUnknown: not known; messages are sent as without the callback.
	PresenceUnknown Presence = -1
	// PresenceOffline: the peer is offline; heartbeats and session ends are not sent to it.
	PresenceOffline Presence = 0
	// PresenceOnline: the peer is online.
	PresenceOnline Presence = 1
)

// PresenceChecker says whether peer is online (libotr's is_logged_in). It is asked by
// [Client.Tick] (for every known peer) and [Client.EndSession]; when it answers
// PresenceOffline, heartbeats and the message that ends a session are not sent to that peer
// (the session still ends here, its remaining keys wiped unrevealed). PresenceUnknown and
// PresenceOnline send.
type PresenceChecker interface {
	IsLoggedIn(peer string) Presence
}

// CallbackPanic is what a Client method panics with when one of its callbacks panicked: the
// original value, and the callback's stack at the time.
type CallbackPanic struct {
	Value    any
	Callback string // "Send", "Deliver", "StateChanged", "Event", "MaxMessageSize", "Now", "IsLoggedIn"
	Stack    []byte
}

// Error describes the panic, its callback and the callback's stack.
func (p *CallbackPanic) Error() string {
	return fmt.Sprintf("offrec: panic in %s callback: %v\n\ncallback stack:\n%s", p.Callback, p.Value, p.Stack)
}

// Unwrap returns the original value when it is an error.
func (p *CallbackPanic) Unwrap() error {
	if err, ok := p.Value.(error); ok {
		return err
	}
	return nil
}

// clientState is what the callbacks reach through the userdata handle. It does not refer to
// the *Client, so an unreachable Client can still be finalized.
type clientState struct {
	handler  Handler
	state    StateHandler
	event    EventHandler
	sizer    MaxMessageSizer
	clock    Clock
	presence PresenceChecker

	mu      sync.Mutex
	orphan  *CallbackPanic // a panic from a callback outside any framed call (should not happen)
	orphans atomic.Int32   // 1 while orphan is set: lets every call skip mu

	lastPeer atomic.Pointer[string] // the peer name the callbacks gave last (peerName)
}

// peerName copies a peer name from C, or returns the previous copy when the bytes are the same
// (a client's callbacks name the same few peers over and over; strings are immutable).
func (st *clientState) peerName(p *C.char, n C.size_t) string {
	if p == nil || n == 0 {
		return ""
	}
	return st.peerNameBytes(unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n)))
}

// peerNameBytes is peerName for a name in C memory given as a slice (a batch record).
func (st *clientState) peerNameBytes(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if last := st.lastPeer.Load(); last != nil && *last == string(b) {
		return *last
	}
	s := string(b)
	st.lastPeer.Store(&s)
	return s
}

// Which optional callbacks the library gets (GO_CB_* in offrec.go).
const (
	cbState    = 1
	cbEvent    = 2
	cbSize     = 4
	cbNow      = 8
	cbPresence = 16
)

func newClientState(h Handler) (*clientState, uint) {
	st := &clientState{handler: h}
	var mask uint
	if s, ok := h.(StateHandler); ok {
		st.state = s
		mask |= cbState
	}
	if e, ok := h.(EventHandler); ok {
		st.event = e
		mask |= cbEvent
	}
	if m, ok := h.(MaxMessageSizer); ok {
		st.sizer = m
		mask |= cbSize
	}
	if c, ok := h.(Clock); ok {
		st.clock = c
		mask |= cbNow
	}
	if p, ok := h.(PresenceChecker); ok {
		st.presence = p
		mask |= cbPresence
	}
	return st, mask
}

// callFrame is one Client call in progress; the C side knows it by its handle (thread-local,
// set by the shims in offrec.go) and hands it back to every callback of that call.
//
// Frames are recycled with their handle: a call takes the one its client's last call parked
// (Client.spare), else one from the pool, instead of registering a new cgo.Handle (an insert
// and a delete in the runtime's handle map per call). A frame is parked or pooled only between
// calls, when no C thread-local names it; a parked frame keeps its client's st and ud, a
// pooled one is cleared.
type callFrame struct {
	st     *clientState
	ud     C.uintptr_t        // the handle of st, which the callbacks also receive
	handle cgo.Handle         // of this frame, for its whole life
	panic  *CallbackPanic     // the first panic of a callback of this call
	out    C.uint64_t         // an output of the call (Send's message id): no allocation per call
	batch  *C.struct_go_batch // C memory of Send / Receive's recorded callbacks (callbatch.go), kept with the frame
}

// framePool holds idle frames; at most maxIdleFrames, the rest are released.
var framePool struct {
	mu   sync.Mutex
	idle []*callFrame
}

const maxIdleFrames = 64

func newFrame(st *clientState, ud cgo.Handle) *callFrame {
	var f *callFrame
	framePool.mu.Lock()
	if n := len(framePool.idle); n > 0 {
		f = framePool.idle[n-1]
		framePool.idle[n-1] = nil
		framePool.idle = framePool.idle[:n-1]
	}
	framePool.mu.Unlock()
	if f == nil {
		f = &callFrame{}
		f.handle = cgo.NewHandle(f)
	}
	f.st, f.ud = st, C.uintptr_t(ud)
	return f
}

func (f *callFrame) id() C.uintptr_t { return C.uintptr_t(f.handle) }

// finish returns the frame to the pool and re-raises a callback's panic.
func (f *callFrame) finish() {
	st, p := f.st, f.panic
	f.recycle()
	reraise(st, p)
}

// recycle returns the frame to the pool, cleared (or releases it when the pool is full).
func (f *callFrame) recycle() {
	*f = callFrame{handle: f.handle, batch: f.batch}
	framePool.mu.Lock()
	if len(framePool.idle) < maxIdleFrames {
		framePool.idle = append(framePool.idle, f)
		f = nil
	}
	framePool.mu.Unlock()
	if f != nil {
		f.handle.Delete()
		if f.batch != nil {
			freeBatch(f.batch)
		}
	}
}

// reraise panics with a callback's panic p of a finished call, or with one recorded outside
// any call of st's client.
func reraise(st *clientState, p *CallbackPanic) {
	if p != nil {
		panic(p)
	}
	if st.orphans.Load() == 0 {
		return
	}
	st.mu.Lock()
	p = st.orphan
	st.orphan = nil
	st.orphans.Store(0)
	st.mu.Unlock()
	if p != nil {
		panic(p)
	}
}

// enterCallback finds the state and frame; guard recovers a panic into the frame. The frame
// of the running call normally belongs to the calling client (same userdata): then it also
// gives the state, and only one handle is looked up.
func enterCallback(ud, frame C.uintptr_t) (*clientState, *callFrame) {
	gcStress()
	if frame != 0 {
		if f, ok := cgo.Handle(frame).Value().(*callFrame); ok && f.ud == ud {
			return f.st, f
		}
	}
	return cgo.Handle(ud).Value().(*clientState), nil
}

func guard(st *clientState, f *callFrame, name string) {
	v := recover()
	gcStress()
	if v == nil {
		return
	}
	p := &CallbackPanic{Value: v, Callback: name, Stack: debug.Stack()}
	if f != nil {
		if f.panic == nil {
			f.panic = p
		}
		return
	}
	st.mu.Lock()
	if st.orphan == nil {
		st.orphan = p
		st.orphans.Store(1)
	}
	st.mu.Unlock()
}

//export offrecGoSend
func offrecGoSend(ud, frame C.uintptr_t, peer *C.char, peerLen C.size_t, text *C.char, textLen C.size_t) {
	st, f := enterCallback(ud, frame)
	defer guard(st, f, "Send")
	st.handler.Send(st.peerName(peer, peerLen), goString(text, textLen))
}

//export offrecGoDeliver
func offrecGoDeliver(ud, frame C.uintptr_t, peer *C.char, peerLen C.size_t, instance C.uint32_t, text *C.uint8_t, textLen C.size_t, security C.uint32_t) {
	st, f := enterCallback(ud, frame)
	defer guard(st, f, "Deliver")
	msg := goBytes(text, textLen)
	if msg == nil {
		msg = []byte{}
	}
	st.handler.Deliver(st.peerName(peer, peerLen), uint32(instance), msg, Security(security))
}

//export offrecGoStateChanged
func offrecGoStateChanged(ud, frame C.uintptr_t, peer *C.char, peerLen C.size_t, instance C.uint32_t, state C.uint32_t) {
	st, f := enterCallback(ud, frame)
	defer guard(st, f, "StateChanged")
	if st.state != nil {
		st.state.StateChanged(st.peerName(peer, peerLen), uint32(instance), SessionState(state))
	}
}

//export offrecGoEvent
func offrecGoEvent(ud, frame C.uintptr_t, event *C.struct_offrec_event) {
	st, f := enterCallback(ud, frame)
	defer guard(st, f, "Event")
	if st.event != nil && event != nil {
		st.event.Event(eventFromC(st, event))
	}
}

//export offrecGoMaxMessageSize
func offrecGoMaxMessageSize(ud, frame C.uintptr_t, peer *C.char, peerLen C.size_t) (size C.size_t) {
	st, f := enterCallback(ud, frame)
	defer guard(st, f, "MaxMessageSize")
	if st.sizer != nil {
		if n := st.sizer.MaxMessageSize(goString(peer, peerLen)); n > 0 {
			size = C.size_t(n)
		}
	}
	return size
}

//export offrecGoNow
func offrecGoNow(ud, frame C.uintptr_t) (now C.uint64_t) {
	st, f := enterCallback(ud, frame)
	defer guard(st, f, "Now")
	if st.clock != nil {
		now = C.uint64_t(st.clock.Now())
	}
	return now
}

//export offrecGoIsLoggedIn
func offrecGoIsLoggedIn(ud, frame C.uintptr_t, peer *C.char, peerLen C.size_t) (answer C.int32_t) {
	answer = C.int32_t(PresenceUnknown) // also after a panic: send, as without the callback
	st, f := enterCallback(ud, frame)
	defer guard(st, f, "IsLoggedIn")
	if st.presence != nil {
		answer = C.int32_t(st.presence.IsLoggedIn(goString(peer, peerLen)))
	}
	return answer
}
