package natsconn

import (
	"errors"
	"net/url"
	"strings"

	"github.com/chathub-operator-worker/worker/internal/config"
)

// server is one entry of a NATS URL list, read the way nats.go reads it:
// the scheme is optional (nats:// by default), and user information is
// what comes before the last "@".
type server struct {
	scheme   string // lower case; "" when the entry has none
	userinfo string // "user:password", a token, or ""
	hostport string // what follows the user information
}

// servers splits a NATS URL list into its servers; empty entries are
// skipped, as nats.go skips them.
func servers(list string) []server {
	var out []server
	for entry := range strings.SplitSeq(list, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		var s server
		if scheme, rest, ok := strings.Cut(entry, "://"); ok {
			s.scheme, entry = strings.ToLower(scheme), rest
		}
		if at := strings.LastIndex(entry, "@"); at >= 0 {
			s.userinfo, entry = entry[:at], entry[at+1:]
		}
		s.hostport = entry
		out = append(out, s)
	}
	return out
}

// RedactURL hides the password or token of every server of a NATS URL
// list, with or without a scheme: alice:s3cret@nats:4222 reads
// alice:[redacted]@nats:4222, and a token t0k@nats:4222 reads
// [redacted]@nats:4222. Use it for any NATS URL a log line shows
// (nats.go's ConnectedUrlRedacted leaves a token in place).
func RedactURL(list string) string {
	var out []string
	for _, s := range servers(list) {
		r := s.hostport
		if s.userinfo != "" {
			// A user name is no secret; without one, the whole is a token.
			user := ""
			if name, _, ok := strings.Cut(s.userinfo, ":"); ok {
				user = name + ":"
			}
			r = user + "[redacted]@" + r
		}
		if s.scheme != "" {
			r = s.scheme + "://" + r
		}
		out = append(out, r)
	}
	return strings.Join(out, ",")
}

// secrets are the strings that must never show: each server's password or
// token, as written and percent-decoded, and those of a nats CLI context.
func secrets(cfg config.Config) []string {
	var out []string
	add := func(s string) {
		if s != "" {
			out = append(out, s)
		}
		if d, err := url.PathUnescape(s); err == nil && d != s && d != "" {
			out = append(out, d)
		}
	}
	for _, s := range servers(cfg.NATSURL) {
		if _, password, ok := strings.Cut(s.userinfo, ":"); ok {
			add(password)
		} else {
			add(s.userinfo)
		}
	}
	add(string(cfg.NATSPassword))
	add(string(cfg.NATSToken))
	return out
}

// connectError is a failed connect whose text shows no secret.
type connectError struct {
	servers string // the URL list, redacted
	msg     string // the cause's text, secrets taken out
	cause   error  // nil when the cause's text could not be made safe
	badURL  bool   // a server's URL does not parse: waiting cures nothing
}

func (e *connectError) Error() string { return "cannot connect to NATS at " + e.servers + ": " + e.msg }

// Unwrap lets errors.Is see nats.go's own errors.
func (e *connectError) Unwrap() error { return e.cause }

// newConnectError wraps a failed connect's cause. A URL that does not
// parse is quoted whole in url.Parse's error, and what it quotes may hold
// a piece of a password cut at a "#" or a "/", which no search for the
// password finds: that error is replaced, not scrubbed.
func newConnectError(cfg config.Config, cause error) *connectError {
	e := &connectError{servers: RedactURL(cfg.NATSURL), cause: cause}
	if ue, ok := errors.AsType[*url.Error](cause); ok && ue.Op == "parse" {
		e.msg, e.cause, e.badURL = "a server's URL does not parse (a user name or password with @ : / ? # or % in it must be percent-encoded)", nil, true
		return e
	}
	e.msg = cause.Error()
	for _, s := range secrets(cfg) {
		e.msg = strings.ReplaceAll(e.msg, s, "[redacted]")
	}
	return e
}
