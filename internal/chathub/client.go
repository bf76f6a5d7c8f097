package chathub

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Defaults for a Client; each has an Option.
const (
	DefaultTimeout     = 15 * time.Second
	DefaultRateLimit   = 5
	DefaultRetryWindow = 10 * time.Second
	// DefaultCacheTTL is how long an organization's list is trusted:
	// hand edits in ChatHub are seen within it.
	DefaultCacheTTL = 10 * time.Minute
	// DefaultMaxBodySize caps a success body other than a list (a list
	// streams into the name index whatever its size).
	DefaultMaxBodySize = 8 << 20
	// maxErrorBody caps what is read of an error response.
	maxErrorBody = 64 << 10
	// maxRetryAfter caps how long one Retry-After can hold the client.
	maxRetryAfter = time.Hour
	// maxMessage caps ChatHub's message as it is kept in an error.
	maxMessage = 512
)

// The endpoints, as named in metrics and errors.
const (
	EndpointList        = "list"
	EndpointSynchronize = "synchronize"
	EndpointStatus      = "status"
)

// CallObserver learns of every HTTP call the client made: its endpoint,
// the HTTP status (0 when no response came) and how long it took.
type CallObserver func(endpoint string, status int, took time.Duration)

// Client calls the ChatHub operator API. It is safe for concurrent use; all
// its calls share one Limiter.
type Client struct {
	baseURL     *url.URL
	token       atomic.Pointer[string]
	http        *http.Client
	timeout     time.Duration
	limiter     Limiter
	retryWindow time.Duration
	maxBody     int64
	cache       *nameCache
	observe     CallObserver
	observeWait func(time.Duration)
	userAgent   string
	tracer      trace.Tracer
	// allowInsecure lets the token travel over plain http to a host other
	// than loopback.
	allowInsecure bool
}

// NewClient returns a client for the API at baseURL that authenticates with
// the company token.
func NewClient(baseURL, token string, opts ...Option) (*Client, error) {
	u, err := parseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	c := &Client{
		baseURL:     u,
		http:        &http.Client{},
		timeout:     DefaultTimeout,
		limiter:     NewPacer(DefaultRateLimit, DefaultRateMargin),
		retryWindow: DefaultRetryWindow,
		maxBody:     DefaultMaxBodySize,
		cache:       newNameCache(DefaultCacheTTL),
		observe:     func(string, int, time.Duration) {},
		userAgent:   "chathub-operator-worker",
		tracer:      noop.NewTracerProvider().Tracer(""),
	}
	if err := c.SetToken(token); err != nil {
		return nil, err
	}
	for _, opt := range opts {
		if err := opt(c); err != nil {
			return nil, fmt.Errorf("cannot create ChatHub client: %w", err)
		}
	}
	if c.observe == nil {
		c.observe = func(string, int, time.Duration) {}
	}
	if c.observeWait == nil {
		c.observeWait = func(time.Duration) {}
	}
	if c.baseURL.Scheme == "http" && !isLoopback(c.baseURL.Hostname()) && !c.allowInsecure {
		return nil, fmt.Errorf("cannot create ChatHub client: base URL %s is plain http to a host other than loopback, where the token would travel in clear; use https, or allow it for a test setup", c.baseURL)
	}
	c.http = noRedirects(c.http)
	return c, nil
}

// parseBaseURL accepts an absolute http(s) URL without credentials, query or
// fragment.
func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("cannot create ChatHub client: base URL does not parse")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("cannot create ChatHub client: base URL %q must start with http:// or https://", u.Redacted())
	case u.Host == "":
		return nil, fmt.Errorf("cannot create ChatHub client: base URL %q has no host", u.Redacted())
	case u.User != nil:
		return nil, errors.New("cannot create ChatHub client: base URL must not carry credentials; use the token")
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("cannot create ChatHub client: base URL %q must not have a query or fragment", u.Redacted())
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

// SetToken replaces the company token, for example after it was renewed;
// calls under way keep the old one.
func (c *Client) SetToken(token string) error {
	token = strings.TrimSpace(token)
	if token == "" {
		return errors.New("cannot use ChatHub token: it is empty")
	}
	if strings.ContainsAny(token, "\r\n") {
		return errors.New("cannot use ChatHub token: it contains a line break")
	}
	c.token.Store(&token)
	return nil
}

// String describes the client without its token.
func (c *Client) String() string { return "chathub.Client(" + c.baseURL.String() + ")" }

// GoString describes the client without its token.
func (c *Client) GoString() string { return c.String() }

// BaseURL returns the API's base URL.
func (c *Client) BaseURL() string { return c.baseURL.String() }
