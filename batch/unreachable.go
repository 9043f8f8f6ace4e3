package batch

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
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
	need int

	mu        sync.Mutex
	connected bool // an attempt of the run connected
	rows      int  // rows settled so far that never connected
	tripped   bool
}

func newUnreachableRule(cfg Config) *unreachableRule {
	return &unreachableRule{need: max(1, min(cfg.MinSample, cfg.Concurrency))}
}

// reached records that an attempt of the run connected.
func (u *unreachableRule) reached() {
	u.mu.Lock()
	u.connected = true
	u.mu.Unlock()
}

// add counts a settled row and returns ErrUnreachable, once, when the
// rule trips. connected says whether any attempt of the row connected.
func (u *unreachableRule) add(r Result, connected bool, host string) error {
	if r.Attempts == 0 {
		return nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.connected || connected || u.tripped {
		u.connected = true
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
