package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/guard"
)

// validate checks every field and reports all problems, one line each.
func (c *Config) validate(needs Needs) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if needs.NATS && c.NATSURL == "" {
		bad("NATS_URL (or a NATS_CONTEXT with a url) is required: the NATS server(s) to use, e.g. nats://nats:4222 (only the demo command runs without it)")
	}
	if problem := checkNATSURL(c.NATSURL); problem != "" {
		name := "NATS_URL"
		if c.NATSContext != "" {
			name = "NATS_URL (or the url of NATS_CONTEXT)"
		}
		bad("%s must be a comma-separated list of [nats|tls|ws|wss://][user:password@]host[:port]: %s", name, problem)
	}
	if needs.ChatHub {
		if c.ChatHubBaseURL == "" {
			bad("CHATHUB_BASE_URL is required: the ChatHub API base URL, e.g. https://chatapi.smsbat.com")
		}
		if c.ChatHubToken == "" {
			bad("CHATHUB_TOKEN or CHATHUB_TOKEN_FILE is required: the ChatHub company token")
		}
	}
	if c.ChatHubBaseURL != "" {
		if u, err := url.Parse(c.ChatHubBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("CHATHUB_BASE_URL must be an http:// or https:// URL with a host")
		} else if u.Scheme == "http" && !isLoopback(u.Hostname()) && !c.ChatHubAllowInsecure {
			bad("CHATHUB_BASE_URL is plain http to %s: the company token would travel in clear; use https, or set CHATHUB_ALLOW_INSECURE=true for a test setup", u.Hostname())
		}
	}
	for name, path := range map[string]string{"NATS_CREDS": c.NATSCreds, "NATS_NKEY": c.NATSNKey,
		"NATS_TLS_CA": c.NATSTLSCA, "NATS_TLS_CERT": c.NATSTLSCert, "NATS_TLS_KEY": c.NATSTLSKey} {
		if path == "" {
			continue
		}
		if _, err := os.Stat(path); err != nil {
			bad("%s: cannot read %s", name, path)
		}
	}
	if (c.NATSTLSCert == "") != (c.NATSTLSKey == "") {
		bad("NATS_TLS_CERT and NATS_TLS_KEY go together: a client certificate and its key")
	}
	if c.NATSCreds != "" && c.NATSNKey != "" {
		bad("NATS_CREDS and NATS_NKEY are both set; a credentials file already holds an NKey seed: set only one")
	}
	if c.ChatHubRateLimit < 0 {
		bad("CHATHUB_RATE_LIMIT must be 0 (no limit) or a positive number of requests per second")
	}
	if c.ChatHubRateScope != "deployment" && c.ChatHubRateScope != "process" {
		bad("CHATHUB_RATE_SCOPE must be deployment (all replicas share CHATHUB_RATE_LIMIT) or process (each replica has it)")
	}
	if c.ChatHubRateMargin < 0 || c.ChatHubRateMargin >= time.Second {
		bad("CHATHUB_RATE_MARGIN must be a duration from 0 to under 1s, such as 25ms")
	}
	if c.ChatHubTimeout <= 0 {
		bad("CHATHUB_TIMEOUT must be a positive duration such as 15s")
	}
	if c.BatchMaxSize < 1 || c.BatchMaxSize > 1000 {
		bad("BATCH_MAX_SIZE must be between 1 and 1000 (the API docs send 100)")
	}
	if c.BatchMaxWait <= 0 {
		bad("BATCH_MAX_WAIT must be a positive duration such as 200ms")
	}
	if _, err := zerolog.ParseLevel(c.LogLevel); err != nil || c.LogLevel == "" {
		bad("LOG_LEVEL must be one of trace, debug, info, warn, error")
	}
	if c.JSReplicas < 1 || c.JSReplicas > 5 {
		bad("JS_REPLICAS must be between 1 and 5")
	}
	for name, v := range map[string]string{"EVENTS_STREAM": c.EventsStream, "RESULTS_STREAM": c.ResultsStream,
		"SCHEDULES_STREAM": c.SchedulesStream, "ALERTS_STREAM": c.AlertsStream, "CONSUMER_NAME": c.ConsumerName, "KV_BUCKET": c.KVBucket} {
		if v == "" || strings.ContainsAny(v, " .*>\t/\\") {
			bad("%s must be a name without spaces, dots, '*', '>' or slashes", name)
		}
	}
	if c.RetryMaxAttempts < 1 {
		bad("RETRY_MAX_ATTEMPTS must be at least 1")
	}
	if c.RetryBaseDelay <= 0 || c.RetryMaxDelay < c.RetryBaseDelay {
		bad("RETRY_BASE_DELAY must be positive and RETRY_MAX_DELAY at least as long")
	}
	if c.AckWait < time.Second {
		bad("ACK_WAIT must be at least 1s")
	}
	if c.LeaseTTL < 4*c.ChatHubTimeout {
		bad("LEASE_TTL must be at least four times CHATHUB_TIMEOUT, so that a batch's calls end before another worker may take over")
	}
	if c.ShutdownGrace <= 0 {
		bad("SHUTDOWN_GRACE must be a positive duration such as 20s")
	}
	if t, err := guard.ParseThreshold(c.GuardThreshold); err != nil {
		bad("GUARD_THRESHOLD %s", err)
	} else {
		c.Guard.Threshold = t
	}
	if c.GuardMin < 0 {
		bad("GUARD_MIN must be 0 or a positive whole number")
	}
	if c.GuardWindow <= 0 {
		bad("GUARD_WINDOW must be a positive duration such as 1h")
	}
	c.Guard.Min, c.Guard.Window = c.GuardMin, c.GuardWindow
	for name, age := range map[string]Age{"EVENTS_MAX_AGE": c.EventsMaxAge, "RESULTS_MAX_AGE": c.ResultsMaxAge} {
		if age != 0 && age.Duration() < time.Minute {
			bad("%s must be 0 (forever) or at least 1m, such as 90d", name)
		}
	}
	if c.ReconcileInterval != 0 && c.ReconcileInterval < time.Second {
		bad("RECONCILE_INTERVAL must be 0 (no periodic drift check) or a duration of at least 1s, such as 24h")
	}
	return errors.Join(errs...)
}

// isLoopback says whether host is this machine: localhost or a loopback
// address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkNATSURL says what is wrong with a NATS URL list, read as nats.go
// reads it, or "" when nothing is (or the list is empty). A wrong URL is
// retried for ever with growing waits, which cure nothing. The answer
// never quotes the list, since a password may be in it (even where a host
// or a port should be: alice:s3cret without "@host").
func checkNATSURL(list string) string {
	if list == "" {
		return ""
	}
	var entries []string
	for e := range strings.SplitSeq(list, ",") {
		if e = strings.TrimSpace(e); e != "" {
			entries = append(entries, e)
		}
	}
	if len(entries) == 0 {
		return "it names no server"
	}
	websockets := 0
	for i, e := range entries {
		which := "the server"
		if len(entries) > 1 {
			which = fmt.Sprintf("server %d of %d", i+1, len(entries))
		}
		scheme, rest, ok := strings.Cut(e, "://")
		if !ok {
			scheme, rest = "nats", e
		}
		switch scheme = strings.ToLower(scheme); scheme {
		case "nats", "tls":
		case "ws", "wss":
			websockets++
		default:
			return which + " has a scheme other than nats://, tls://, ws:// or wss://"
		}
		// The user information ends at the last "@", as nats.go reads it.
		hostport := strings.TrimSuffix(rest[strings.LastIndex(rest, "@")+1:], "/")
		host, port := hostport, ""
		if i := strings.LastIndex(hostport, ":"); i >= 0 && !strings.HasSuffix(hostport, "]") {
			host, port = hostport[:i], hostport[i+1:]
		}
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
		if host == "" {
			return which + " has no host"
		}
		if port != "" {
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strings.Trim(port, "0123456789") != "" {
				return which + " has a port that is not a number from 1 to 65535"
			}
		}
		// What url.Parse, which nats.go uses, makes of it must be the same
		// server: an unencoded "#" or "/" in a password cuts the URL short.
		u, err := url.Parse(scheme + "://" + rest)
		if err != nil || u.Hostname() != host || u.Port() != port || u.Fragment != "" || strings.Trim(u.Path, "/") != "" {
			return which + " does not parse as a URL (percent-encode @ : / ? # and % in a user name or password)"
		}
	}
	if websockets > 0 && websockets < len(entries) {
		return "it mixes websocket (ws://, wss://) and other servers, which NATS does not allow"
	}
	return ""
}
