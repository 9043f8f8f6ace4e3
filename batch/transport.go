package batch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"syscall"
)

// describeTransport names a transport failure for the report's error
// column. It looks at error types and values, never at message text.
func describeTransport(err error, written bool) string {
	var kind string
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var recErr tls.RecordHeaderError
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		kind = "timeout"
	case errors.Is(err, context.Canceled):
		kind = "canceled"
	case errors.As(err, &dnsErr):
		kind = "DNS lookup failed"
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr):
		kind = "TLS certificate rejected"
	case errors.As(err, &recErr):
		kind = "TLS handshake failed (is the server speaking TLS?)"
	case errors.Is(err, syscall.ECONNREFUSED):
		kind = "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		kind = "connection reset"
	case errors.Is(err, syscall.EPIPE):
		kind = "connection closed while writing"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		kind = "connection closed before a complete answer"
	case errors.As(err, &netErr) && netErr.Timeout():
		kind = "network timeout"
	case errors.As(err, &opErr):
		kind = "network error during " + opErr.Op
	default:
		kind = "transport error"
	}
	if written {
		kind += " after the request was sent"
	} else {
		kind += " before the request was sent"
	}
	return kind + ": " + err.Error()
}

// permanentTransport reports whether a transport failure will not go away
// by trying again: a certificate the client rejects, or a canceled run.
func permanentTransport(err error) bool {
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	return errors.Is(err, context.Canceled) ||
		errors.As(err, &certErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr)
}
