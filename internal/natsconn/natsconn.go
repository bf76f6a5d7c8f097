// Package natsconn turns the NATS settings of the configuration
// (credentials, NKey seed, TLS, a nats CLI context) into a connection, the
// same for the worker and for the command-line tools.
package natsconn

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/config"
)

// Options are the connection options the configuration asks for, after
// the given ones.
func Options(cfg config.Config, opts ...nats.Option) ([]nats.Option, error) {
	if cfg.NATSCreds != "" {
		opts = append(opts, nats.UserCredentials(cfg.NATSCreds))
	}
	if cfg.NATSNKey != "" {
		opt, err := nats.NkeyOptionFromSeed(cfg.NATSNKey)
		if err != nil {
			// The error names the file, never the seed.
			return nil, fmt.Errorf("NATS_NKEY: %s holds no NKey user seed", cfg.NATSNKey)
		}
		opts = append(opts, opt)
	}
	if cfg.NATSTLSCA != "" {
		opts = append(opts, nats.RootCAs(cfg.NATSTLSCA))
	}
	if cfg.NATSTLSCert != "" {
		opts = append(opts, nats.ClientCert(cfg.NATSTLSCert, cfg.NATSTLSKey))
	}
	if cfg.NATSUser != "" {
		opts = append(opts, nats.UserInfo(cfg.NATSUser, string(cfg.NATSPassword)))
	}
	if cfg.NATSToken != "" {
		opts = append(opts, nats.Token(string(cfg.NATSToken)))
	}
	return opts, nil
}

// Connect connects once, for a tool: an error says so at once.
func Connect(cfg config.Config, opts ...nats.Option) (*nats.Conn, error) {
	all, err := Options(cfg, opts...)
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(cfg.NATSURL, all...)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to NATS at %s: %w", redactURL(cfg.NATSURL), err)
	}
	return nc, nil
}

// ConnectPatiently connects for the worker: while NATS is not up yet (a
// pod starting beside it), it logs why and tries again with growing
// pauses until ctx is done. A refusal that waiting cannot cure (bad
// credentials, an untrusted certificate) is returned at once.
func ConnectPatiently(ctx context.Context, cfg config.Config, log zerolog.Logger, opts ...nats.Option) (*nats.Conn, error) {
	pause := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		nc, err := Connect(cfg, opts...)
		if err == nil || !transient(err) {
			return nc, err
		}
		log.Warn().Err(err).Int("attempt", attempt).Int64("retry_in_ms", pause.Milliseconds()).Msg("NATS is not reachable yet; trying again")
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (gave up: %v)", err, context.Cause(ctx))
		case <-time.After(pause):
		}
		pause = min(2*pause, 10*time.Second)
	}
}

// transient says whether waiting may cure a failed connect.
func transient(err error) bool {
	msg := err.Error()
	for _, permanent := range []string{"authorization", "authentication", "certificate", "x509", "tls:", "NATS_NKEY"} {
		if strings.Contains(msg, permanent) {
			return false
		}
	}
	return true
}

// redactURL hides credentials in a NATS URL list.
func redactURL(s string) string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		at, scheme := strings.LastIndex(p, "@"), strings.Index(p, "://")
		if at >= 0 && scheme >= 0 && scheme < at {
			parts[i] = p[:scheme+3] + "[redacted]" + p[at:]
		}
	}
	return strings.Join(parts, ",")
}
