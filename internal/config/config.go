// Package config reads the worker's configuration from the environment,
// applies defaults and validates it, naming the variable in every problem.
package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/chathub-operator-worker/worker/internal/guard"
)

// Secret is a string that never prints.
type Secret string

// String hides the secret.
func (Secret) String() string { return "[redacted]" }

// GoString hides the secret.
func (Secret) GoString() string { return "[redacted]" }

// MarshalText hides the secret.
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Config is the worker's configuration.
type Config struct {
	NATSURL   string `env:"NATS_URL"`
	NATSCreds string `env:"NATS_CREDS"`
	// NATSNKey is a file holding an NKey user seed.
	NATSNKey string `env:"NATS_NKEY"`
	// NATSTLSCA, NATSTLSCert and NATSTLSKey are PEM files: the CAs to
	// trust for the server's certificate, and a client certificate.
	NATSTLSCA   string `env:"NATS_TLS_CA"`
	NATSTLSCert string `env:"NATS_TLS_CERT"`
	NATSTLSKey  string `env:"NATS_TLS_KEY"`
	// NATSContext names a nats CLI context to read the settings above
	// from; the variables win over it.
	NATSContext string `env:"NATS_CONTEXT"`
	// NATSUser, NATSPassword and NATSToken come only from a context.
	NATSUser     string `env:"-"`
	NATSPassword Secret `env:"-"`
	NATSToken    Secret `env:"-"`

	ChatHubBaseURL string `env:"CHATHUB_BASE_URL"`
	// ChatHubAllowInsecure allows plain http to a host other than
	// loopback, where the token would travel in clear.
	ChatHubAllowInsecure bool    `env:"CHATHUB_ALLOW_INSECURE" envDefault:"false"`
	ChatHubToken         Secret  `env:"CHATHUB_TOKEN"`
	ChatHubTokenFile     string  `env:"CHATHUB_TOKEN_FILE"`
	ChatHubRateLimit     float64 `env:"CHATHUB_RATE_LIMIT" envDefault:"5"`
	ChatHubRateScope     string  `env:"CHATHUB_RATE_SCOPE" envDefault:"deployment"`
	// ChatHubRateMargin is how much arrivals at ChatHub may jitter
	// without a one-second window there holding more than the limit.
	ChatHubRateMargin time.Duration `env:"CHATHUB_RATE_MARGIN" envDefault:"25ms"`
	ChatHubTimeout    time.Duration `env:"CHATHUB_TIMEOUT" envDefault:"15s"`

	BatchMaxSize int           `env:"BATCH_MAX_SIZE" envDefault:"100"`
	BatchMaxWait time.Duration `env:"BATCH_MAX_WAIT" envDefault:"200ms"`

	HTTPAddr   string `env:"HTTP_ADDR" envDefault:":8080"`
	LogLevel   string `env:"LOG_LEVEL" envDefault:"info"`
	JSReplicas int    `env:"JS_REPLICAS" envDefault:"1"`

	EventsStream  string `env:"EVENTS_STREAM" envDefault:"HR_EVENTS"`
	ResultsStream string `env:"RESULTS_STREAM" envDefault:"HR_RESULTS"`
	// SchedulesStream keeps the wake-ups of scheduled changes and retries.
	SchedulesStream string `env:"SCHEDULES_STREAM" envDefault:"CHATHUB_SCHEDULES"`
	AlertsStream    string `env:"ALERTS_STREAM" envDefault:"HR_ALERTS"`
	ConsumerName    string `env:"CONSUMER_NAME" envDefault:"chathub-operator-worker"`
	KVBucket        string `env:"KV_BUCKET" envDefault:"chathub-operator-worker"`

	RetryMaxAttempts int           `env:"RETRY_MAX_ATTEMPTS" envDefault:"40"`
	RetryBaseDelay   time.Duration `env:"RETRY_BASE_DELAY" envDefault:"1s"`
	RetryMaxDelay    time.Duration `env:"RETRY_MAX_DELAY" envDefault:"5m"`
	ShutdownGrace    time.Duration `env:"SHUTDOWN_GRACE" envDefault:"20s"`
	AckWait          time.Duration `env:"ACK_WAIT" envDefault:"10s"`
	LeaseTTL         time.Duration `env:"LEASE_TTL" envDefault:"1m"`

	// The mass-offboarding guard.
	GuardThreshold string        `env:"GUARD_THRESHOLD" envDefault:"20%"`
	GuardMin       int           `env:"GUARD_MIN" envDefault:"10"`
	GuardWindow    time.Duration `env:"GUARD_WINDOW" envDefault:"1h"`
	// Guard is GuardThreshold, GuardMin and GuardWindow, read.
	Guard guard.Rule `env:"-"`

	// EventsMaxAge is how long HR_EVENTS keeps an event the intake has
	// taken in; ResultsMaxAge how long HR_RESULTS and HR_ALERTS keep
	// theirs (streams the worker creates; 0 keeps them forever).
	EventsMaxAge  Age `env:"EVENTS_MAX_AGE" envDefault:"90d"`
	ResultsMaxAge Age `env:"RESULTS_MAX_AGE" envDefault:"90d"`

	// ReconcileInterval runs the drift check that often (0: never), one
	// replica per interval; ReconcileApply corrects what it finds.
	ReconcileInterval time.Duration `env:"RECONCILE_INTERVAL" envDefault:"0"`
	ReconcileApply    bool          `env:"RECONCILE_APPLY" envDefault:"false"`
}

// Needs says which connections a command requires.
type Needs struct {
	NATS, ChatHub bool
}

// The needs of the commands.
var (
	// Worker needs both.
	Worker = Needs{NATS: true, ChatHub: true}
	// Demo brings its own NATS and ChatHub.
	Demo = Needs{}
)

// Parse reads the configuration from environ (os.Environ() as a map when
// nil) and checks that what the command needs is set.
func Parse(environ map[string]string, needs Needs) (Config, error) {
	opts := env.Options{Environment: environ}
	cfg, err := env.ParseAsWithOptions[Config](opts)
	if err != nil {
		return cfg, explain(err)
	}
	if err := cfg.resolveToken(); err != nil {
		return cfg, err
	}
	getenv := os.Getenv
	if environ != nil {
		getenv = func(k string) string { return environ[k] }
	}
	if err := cfg.resolveContext(getenv); err != nil {
		return cfg, err
	}
	return cfg, cfg.validate(needs)
}

// resolveToken reads CHATHUB_TOKEN_FILE into the token.
func (c *Config) resolveToken() error {
	if c.ChatHubTokenFile == "" {
		return nil
	}
	if c.ChatHubToken != "" {
		return errors.New("CHATHUB_TOKEN and CHATHUB_TOKEN_FILE are both set; set only one")
	}
	raw, err := os.ReadFile(c.ChatHubTokenFile)
	if err != nil {
		return fmt.Errorf("CHATHUB_TOKEN_FILE: cannot read %s: %v", c.ChatHubTokenFile, errors.Unwrap(err))
	}
	c.ChatHubToken = Secret(strings.TrimSpace(string(raw)))
	if c.ChatHubToken == "" {
		return fmt.Errorf("CHATHUB_TOKEN_FILE: %s is empty", c.ChatHubTokenFile)
	}
	return nil
}

// explain rewrites the env library's errors so that each names the
// variable rather than the Go field.
func explain(err error) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return err
	}
	var errs []error
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			errs = append(errs, fmt.Errorf("%s: cannot parse %s as %s", varName(pe.Name), "its value", typeName(pe.Type)))
			continue
		}
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}

// varName finds the variable of a Config field.
func varName(field string) string {
	if f, ok := reflect.TypeFor[Config]().FieldByName(field); ok {
		return f.Tag.Get("env")
	}
	return field
}

func typeName(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[time.Duration]():
		return "a duration such as 200ms or 5s"
	case reflect.TypeFor[int]():
		return "a whole number"
	case reflect.TypeFor[float64]():
		return "a number"
	}
	return t.String()
}
