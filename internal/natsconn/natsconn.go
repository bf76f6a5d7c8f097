// Package natsconn turns the NATS settings of the configuration
// (credentials, NKey seed, TLS, a nats CLI context) into a connection, the
// same for the worker and for the command-line tools.
package natsconn

import (
	"context"
	"errors"
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
		return nil, newConnectError(cfg, err)
	}
	return nc, nil
}

// ConnectPatiently connects for the worker: while NATS is not up yet (a
// pod starting beside it), it logs why and tries again with growing
// pauses until ctx is done. A refusal that waiting cannot cure (bad
// credentials, an untrusted certificate) is returned at once. It warns
// first when a password or token would go to a server in clear.
func ConnectPatiently(ctx context.Context, cfg config.Config, log zerolog.Logger, opts ...nats.Option) (*nats.Conn, error) {
	if in := inClear(cfg); len(in) > 0 {
		log.Warn().Strs("servers", in).Msg("the NATS user and password (or token) go to these servers over plain nats:// or ws://, " +
			"and would travel in clear unless the server demands TLS; use tls:// or wss://, or set NATS_TLS_CA")
	}
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

// transient says whether waiting may cure a failed connect: not a
// refusal of the credentials or the certificate, a URL that does not
// parse, or a list that mixes websocket and plain servers. It reads the
// cause alone, never the URL (a tls:// URL is no TLS error).
func transient(err error) bool {
	if errors.Is(err, nats.ErrMixingWebsocketSchemes) {
		return false
	}
	msg := err.Error()
	if ce, ok := errors.AsType[*connectError](err); ok {
		if ce.badURL {
			return false
		}
		msg = ce.msg
	}
	for _, permanent := range []string{"authorization", "authentication", "certificate", "x509", "tls:", "NATS_NKEY"} {
		if strings.Contains(msg, permanent) {
			return false
		}
	}
	return true
}
