package chathub

import (
	"errors"
	"fmt"
	"time"
)

// The classes of ChatHub failure. Every error the client returns for a call
// that reached the network wraps exactly one of them, so callers decide with
// errors.Is what to do next.
var (
	// ErrPermanent: ChatHub refused the request (400, or another 4xx but
	// 401, 403, 404, 408 and 429).
	// Sending it again changes nothing; the data must be fixed.
	ErrPermanent = errors.New("chathub refused the request")
	// ErrUnauthorized: the company token is invalid or expired (401).
	// Nothing is wrong with the request; retry once the token is renewed.
	ErrUnauthorized = errors.New("chathub rejected the company token")
	// ErrMisconfigured: the answer says the worker is pointed at the wrong
	// place or something stands in its way (404 or 403 on the API's own
	// paths, a redirect), not that the request is wrong: every call gets
	// the same answer until a person fixes the configuration. It matches
	// ErrUnauthorized too, so that callers pause and probe as they do for
	// an expired token instead of failing event after event.
	ErrMisconfigured error = &subclass{msg: "chathub answered as if the worker were misconfigured", of: ErrUnauthorized}
	// ErrThrottled: ChatHub asked the client to slow down (429).
	ErrThrottled = errors.New("chathub is throttling requests")
	// ErrTransient: the request certainly did not take effect (5xx other
	// than 502/504, a connection that failed before the request was sent).
	// A retry is safe.
	ErrTransient = errors.New("chathub is temporarily unavailable")
	// ErrOutcomeUnknown: the request may have reached ChatHub and taken
	// effect, but no answer came back (timeout or reset after the body was
	// sent, 502, 504). Retrying a non-idempotent call blindly can apply it
	// twice.
	ErrOutcomeUnknown = errors.New("chathub may or may not have applied the request")
	// ErrInvalid: the client refused to send data that ChatHub would
	// reject; see *ValidationError.
	ErrInvalid = errors.New("invalid operator data")
)

// subclass is a class that errors.Is also matches as a broader one.
type subclass struct {
	msg string
	of  error
}

func (s *subclass) Error() string { return s.msg }

// Unwrap makes errors.Is match the broader class.
func (s *subclass) Unwrap() error { return s.of }

// Error describes a failed ChatHub call. It wraps one of the class
// sentinels above and, where there is one, the underlying network error.
type Error struct {
	Class      error         // one of ErrPermanent, ErrUnauthorized, ...
	Method     string        // HTTP method
	Path       string        // request path, never with credentials
	StatusCode int           // 0 when no response arrived
	Message    string        // ChatHub's own message, capped
	Hint       string        // what a person should check, if the class says little
	RetryAfter time.Duration // from Retry-After, for 429 and 503
	Err        error         // underlying transport error, if any
}

// Error says what failed in one line, without the token.
func (e *Error) Error() string {
	msg := fmt.Sprintf("%s %s: %v", e.Method, e.Path, e.Class)
	if e.StatusCode != 0 {
		msg += fmt.Sprintf(" (HTTP %d)", e.StatusCode)
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return msg
}

// Is matches the error's class, and the broader class it belongs to, so
// errors.Is(err, ErrTransient) works through any wrapping.
func (e *Error) Is(target error) bool { return e.Class != nil && errors.Is(e.Class, target) }

// Unwrap returns the underlying transport error.
func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether err is worth retrying later without changing
// the request: throttling, transient trouble, an unknown outcome or an
// expired token. For a non-idempotent call an unknown outcome must be
// reconciled before the retry.
func Retryable(err error) bool {
	return errors.Is(err, ErrThrottled) || errors.Is(err, ErrTransient) ||
		errors.Is(err, ErrOutcomeUnknown) || errors.Is(err, ErrUnauthorized)
}

// RetryAfter returns how long ChatHub asked the client to wait, or 0.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// ValidationError names the item and field that ChatHub would reject, so
// that a person can fix it.
type ValidationError struct {
	Index  int    // position of the item in the call, 0-based
	Field  string // "organizationId", "name", "status" or "id"
	Reason string
}

// Error says which item and field are wrong.
func (e *ValidationError) Error() string {
	return fmt.Sprintf("item %d: %s %s", e.Index, e.Field, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *ValidationError) Unwrap() error { return ErrInvalid }
