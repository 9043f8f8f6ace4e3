package batch

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
)

// unreachableRule stops a run that reaches nothing: when the first rows
// to settle (Config.MinSample of them, at most Config.Concurrency, at
// least one) all ended with every attempt failing to connect (a DNS
// error, a refused connection, a connect timeout, a failed TLS
// handshake) and no attempt of the
// run has connected at all, the host is wrong or down, and retrying each
// row for minutes would only say so later. One attempt that connects
// turns the rule off for the run: failures after that are the failure
// rule's. It is safe for concurrent use.
type unreachableRule struct {
	need      int
	connected atomic.Bool // an attempt of the run connected

	mu      sync.Mutex
	rows    int // rows settled so far that never connected
	tripped bool
}

func newUnreachableRule(cfg Config) *unreachableRule {
	return &unreachableRule{need: max(1, min(cfg.MinSample, cfg.Concurrency))}
}

// reached records that an attempt of the run connected. Every attempt
// calls it: after the first, it only reads.
func (u *unreachableRule) reached() {
	if !u.connected.Load() {
		u.connected.Store(true)
	}
}

// add counts a settled row and returns ErrUnreachable, once, when the
// rule trips. A row one of whose attempts connected called reached first.
func (u *unreachableRule) add(r Result, host string) error {
	if r.Attempts == 0 || u.connected.Load() {
		return nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.tripped {
		return nil
	}
	u.rows++
	if u.rows < u.need {
		return nil
	}
	u.tripped = true
	return fmt.Errorf("%w: %s: every attempt of the first %d IDs failed to connect (%s); check the base URL, DNS, the network and the host's certificate",
		ErrUnreachable, host, u.rows, r.Error)
}

// connectFailure reports whether an attempt failed before its request
// was written because no connection could be made: a DNS error, a dial
// that was refused or timed out, or a TLS handshake that failed (a
// certificate not trusted or not for this host, or no TLS at the other
// end).
func connectFailure(a Attempt) bool {
	if a.Err == nil || a.Written || a.HTTPStatus > 0 {
		return false
	}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	return errors.As(a.Err, &dnsErr) || (errors.As(a.Err, &opErr) && opErr.Op == "dial") ||
		errors.As(a.Err, &certErr) || errors.As(a.Err, &recErr)
}
