package chathub

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Option configures a Client.
type Option func(*Client) error

// WithHTTPClient sets the HTTP client (its own Timeout is left alone; the
// per-request timeout comes from WithTimeout). The client uses a copy that
// follows no redirect, whatever hc's CheckRedirect says.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("http client is nil")
		}
		c.http = hc
		return nil
	}
}

// WithTimeout bounds each HTTP request, from connect to the end of the body.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d <= 0 {
			return fmt.Errorf("timeout %s is not positive", d)
		}
		c.timeout = d
		return nil
	}
}

// WithRateLimit paces calls at rps a second (0: no limit).
func WithRateLimit(rps float64) Option {
	return func(c *Client) error {
		if rps < 0 {
			return fmt.Errorf("rate limit %v is negative", rps)
		}
		c.limiter = NewPacer(rps, DefaultRateMargin)
		return nil
	}
}

// WithLimiter shares a Limiter, for example among several clients or
// replicas.
func WithLimiter(l Limiter) Option {
	return func(c *Client) error {
		if l == nil {
			return errors.New("limiter is nil")
		}
		c.limiter = l
		return nil
	}
}

// WithRetryWindow bounds how long the idempotent calls (ListOperators,
// SetStatus) retry transient trouble with exponential backoff; 0 turns
// those retries off. Synchronize is never retried by the client.
func WithRetryWindow(d time.Duration) Option {
	return func(c *Client) error {
		if d < 0 {
			return fmt.Errorf("retry window %s is negative", d)
		}
		c.retryWindow = d
		return nil
	}
}

// WithCacheTTL keeps each organization's name index for d (0: no cache).
func WithCacheTTL(d time.Duration) Option {
	return func(c *Client) error {
		if d < 0 {
			return fmt.Errorf("cache TTL %s is negative", d)
		}
		c.cache = newNameCache(d)
		return nil
	}
}

// WithMaxBodySize caps a success response's body.
func WithMaxBodySize(n int64) Option {
	return func(c *Client) error {
		if n <= 0 {
			return fmt.Errorf("max body size %d is not positive", n)
		}
		c.maxBody = n
		return nil
	}
}

// WithCallObserver reports every HTTP call, for metrics.
func WithCallObserver(o CallObserver) Option {
	return func(c *Client) error {
		c.observe = o
		return nil
	}
}

// WithWaitObserver reports how long each call waited for the limiter.
func WithWaitObserver(o func(time.Duration)) Option {
	return func(c *Client) error {
		c.observeWait = o
		return nil
	}
}

// WithTracer makes each HTTP call a client span of tracer, and sends the
// W3C traceparent header; without it calls are not traced.
func WithTracer(t trace.Tracer) Option {
	return func(c *Client) error {
		c.tracer = t
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *Client) error {
		c.userAgent = ua
		return nil
	}
}

// WithAllowInsecure lets the client use a plain http base URL on a host
// other than loopback, where the token travels in clear: for a test setup
// only. Without it NewClient refuses such a URL.
func WithAllowInsecure(allow bool) Option {
	return func(c *Client) error {
		c.allowInsecure = allow
		return nil
	}
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
