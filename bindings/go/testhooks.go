//go:build offrec_testhooks

package offrec

// The library's test hooks (offrec_test_*, cargo feature test-hooks), for this package's own
// tests only: built with -tags offrec_testhooks, which links the hooks library (a debug build,
// link_testhooks.go; `make go-tests-hooks`). Nothing here is API: unexported, never in a
// normal build.

// #cgo CFLAGS: -DOFFREC_TEST_HOOKS
// #include "offrec.h"
import "C"

// testSetOTRKey gives the client the OTR DSA key with these components (big-endian).
func (c *Client) testSetOTRKey(p, q, g, y, x []byte) error {
	return c.call("testSetOTRKey", func(h *C.offrec_client, _ C.uintptr_t) C.offrec_result {
		pp, pl := cbytes(p)
		qp, ql := cbytes(q)
		gp, gl := cbytes(g)
		yp, yl := cbytes(y)
		xp, xl := cbytes(x)
		return C.offrec_test_client_set_otr_key(h, pp, pl, qp, ql, gp, gl, yp, yl, xp, xl)
	})
}

// testQueueRandom queues chunk for the next random draw of its size.
func (c *Client) testQueueRandom(chunk []byte) error {
	return c.call("testQueueRandom", func(h *C.offrec_client, _ C.uintptr_t) C.offrec_result {
		cp, cl := cbytes(chunk)
		return C.offrec_test_client_queue_random(h, cp, cl)
	})
}

// testQueuedRandomLeft says how many queued chunks no draw took.
func (c *Client) testQueuedRandomLeft() (int, error) {
	var n C.size_t
	err := c.query("testQueuedRandomLeft", func(h *C.offrec_client) C.offrec_result {
		return C.offrec_test_client_queued_random_left(h, &n)
	})
	return int(n), err
}

// testSendOTRSMP sends one raw SMP TLV on the OTR session with peer (the client's SMP state
// is not touched). Its send callback runs without a call frame (the shims that set one live in
// client.go's C preamble): a panic in it is re-raised by this call all the same (orphan).
func (c *Client) testSendOTRSMP(peer string, instance, tlvType uint32, value []byte) error {
	return c.call("testSendOTRSMP", func(h *C.offrec_client, _ C.uintptr_t) C.offrec_result {
		pp, pl := cstr(peer)
		vp, vl := cbytes(value)
		return C.offrec_test_client_send_otr_smp(h, pp, pl, C.uint32_t(instance), C.uint32_t(tlvType), vp, vl)
	})
}
