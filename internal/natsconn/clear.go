package natsconn

import (
	"net"

	"github.com/chathub-operator-worker/worker/internal/config"
)

// inClear lists the servers, off loopback, to which a user and password
// or a token (from NATS_URL or a nats CLI context) would go over a
// connection that the worker does not require to be TLS: a nats:// or
// ws:// URL, or one without a scheme, and no CA or client certificate
// configured (either makes nats.go demand TLS). The server may still
// demand TLS itself, but the worker cannot know that before it sends them.
func inClear(cfg config.Config) []string {
	if cfg.NATSTLSCA != "" || cfg.NATSTLSCert != "" {
		return nil
	}
	list := servers(cfg.NATSURL)
	withContext := cfg.NATSUser != "" || cfg.NATSPassword != "" || cfg.NATSToken != ""
	var out []string
	for _, s := range list {
		if !withContext && s.userinfo == "" {
			continue
		}
		if s.scheme != "" && s.scheme != "nats" && s.scheme != "ws" {
			continue
		}
		if host := hostOf(s.hostport); !isLoopback(host) {
			out = append(out, host)
		}
	}
	return out
}

// hostOf is the host of "host", "host:port" or "[v6]:port".
func hostOf(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
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
