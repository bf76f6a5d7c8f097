package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/config"
)

func full() map[string]string {
	return map[string]string{
		"NATS_URL":         "nats://127.0.0.1:4222",
		"CHATHUB_BASE_URL": "https://chatapi.example",
		"CHATHUB_TOKEN":    "tok-123",
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse(full(), config.Worker)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ChatHubRateLimit != 5 || cfg.BatchMaxSize != 100 || cfg.BatchMaxWait != 200*time.Millisecond ||
		cfg.HTTPAddr != ":8080" || cfg.LogLevel != "info" || cfg.JSReplicas != 1 ||
		cfg.EventsStream != "HR_EVENTS" || cfg.ResultsStream != "HR_RESULTS" || cfg.ConsumerName != "chathub-operator-worker" ||
		cfg.SchedulesStream != "CHATHUB_SCHEDULES" || cfg.AlertsStream != "HR_ALERTS" || cfg.ChatHubRateMargin != 25*time.Millisecond {
		t.Errorf("defaults = %+v", cfg)
	}
	if g := cfg.Guard; g.Threshold.Percent != 20 || g.Min != 10 || g.Window != time.Hour {
		t.Errorf("guard defaults = %+v, want 20%%, 10, 1h", g)
	}
	if cfg.EventsMaxAge.Duration() != 90*24*time.Hour || cfg.ResultsMaxAge.Duration() != 90*24*time.Hour {
		t.Errorf("retention defaults: events %s, results %s, want 90 days", cfg.EventsMaxAge.Duration(), cfg.ResultsMaxAge.Duration())
	}
	if cfg.ReconcileInterval != 0 || cfg.ReconcileApply {
		t.Errorf("the periodic drift check is on by default: %s, apply %v", cfg.ReconcileInterval, cfg.ReconcileApply)
	}
	if s := fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg); strings.Contains(s, "tok-123") {
		t.Errorf("printing the config shows the token: %s", s)
	}
}

func TestProblemsNameTheVariable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		set  map[string]string
		want string
	}{
		{map[string]string{"NATS_URL": ""}, "NATS_URL (or a NATS_CONTEXT with a url) is required"},
		{map[string]string{"CHATHUB_BASE_URL": ""}, "CHATHUB_BASE_URL is required"},
		{map[string]string{"CHATHUB_TOKEN": ""}, "CHATHUB_TOKEN or CHATHUB_TOKEN_FILE is required"},
		{map[string]string{"CHATHUB_BASE_URL": "chatapi.example"}, "CHATHUB_BASE_URL must be"},
		{map[string]string{"BATCH_MAX_WAIT": "soon"}, "BATCH_MAX_WAIT: cannot parse"},
		{map[string]string{"BATCH_MAX_SIZE": "0"}, "BATCH_MAX_SIZE must be"},
		{map[string]string{"CHATHUB_RATE_LIMIT": "-1"}, "CHATHUB_RATE_LIMIT must be"},
		{map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL must be"},
		{map[string]string{"CHATHUB_TOKEN_FILE": "/nonexistent/token"}, "CHATHUB_TOKEN and CHATHUB_TOKEN_FILE are both set"},
		{map[string]string{"GUARD_THRESHOLD": "lots"}, "GUARD_THRESHOLD must be a whole number"},
		{map[string]string{"GUARD_THRESHOLD": "150%"}, "GUARD_THRESHOLD a percentage must be"},
		{map[string]string{"GUARD_WINDOW": "0s"}, "GUARD_WINDOW must be a positive duration"},
		{map[string]string{"CHATHUB_RATE_MARGIN": "2s"}, "CHATHUB_RATE_MARGIN must be"},
		{map[string]string{"RECONCILE_INTERVAL": "10ms"}, "RECONCILE_INTERVAL must be 0"},
		{map[string]string{"EVENTS_MAX_AGE": "ninety"}, "EVENTS_MAX_AGE"},
		{map[string]string{"RESULTS_MAX_AGE": "10s"}, "RESULTS_MAX_AGE must be 0 (forever) or at least 1m"},
		{map[string]string{"NATS_TLS_CERT": "/etc/hostname"}, "NATS_TLS_CERT and NATS_TLS_KEY go together"},
		{map[string]string{"NATS_NKEY": "/nonexistent/worker.nk"}, "NATS_NKEY: cannot read /nonexistent/worker.nk"},
		{map[string]string{"CHATHUB_BASE_URL": "http://chathub-sim:8090"}, "CHATHUB_BASE_URL is plain http to chathub-sim: the company token would travel in clear"},
		{map[string]string{"RECONCILE_APPLY": "sure"}, "RECONCILE_APPLY"},
	}
	for _, tt := range tests {
		environ := full()
		for k, v := range tt.set {
			environ[k] = v
		}
		_, err := config.Parse(environ, config.Worker)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("with %v: err = %v, want it to say %q", tt.set, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "tok-123") {
			t.Errorf("error shows the token: %v", err)
		}
	}
}

func TestTokenFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte("  from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	environ := full()
	delete(environ, "CHATHUB_TOKEN")
	environ["CHATHUB_TOKEN_FILE"] = path
	cfg, err := config.Parse(environ, config.Worker)
	if err != nil || cfg.ChatHubToken != "from-file" {
		t.Errorf("token = %q, %v; want it read and trimmed", string(cfg.ChatHubToken), err)
	}
}

func TestDemoNeedsNothing(t *testing.T) {
	t.Parallel()
	if _, err := config.Parse(map[string]string{}, config.Demo); err != nil {
		t.Errorf("demo with an empty environment: %v", err)
	}
}

// TestPlainHTTP: plain http is taken on loopback, and elsewhere only with
// CHATHUB_ALLOW_INSECURE.
func TestPlainHTTP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url, allow string
		ok         bool
	}{
		{"http://127.0.0.1:8090", "", true},
		{"http://localhost:8090", "", true},
		{"http://[::1]:8090", "", true},
		{"http://chathub-sim:8090", "", false},
		{"http://10.0.0.7", "false", false},
		{"http://chathub-sim:8090", "true", true},
		{"https://chatapi.smsbat.com", "", true},
	} {
		environ := full()
		environ["CHATHUB_BASE_URL"] = tc.url
		if tc.allow != "" {
			environ["CHATHUB_ALLOW_INSECURE"] = tc.allow
		}
		if _, err := config.Parse(environ, config.Worker); (err == nil) != tc.ok {
			t.Errorf("%s (allow %q): err = %v", tc.url, tc.allow, err)
		}
	}
}

func TestRetentionValues(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"90d": 90 * 24 * time.Hour, "720h": 720 * time.Hour, "0": 0, "1d": 24 * time.Hour} {
		environ := full()
		environ["RESULTS_MAX_AGE"] = in
		cfg, err := config.Parse(environ, config.Worker)
		if err != nil || cfg.ResultsMaxAge.Duration() != want {
			t.Errorf("RESULTS_MAX_AGE=%s: %s, %v; want %s", in, cfg.ResultsMaxAge.Duration(), err, want)
		}
	}
}

// TestNATSURLIsChecked: a NATS_URL that no wait can make work stops the
// worker at start, with one line naming the variable and never the
// password that may be in it; every form nats.go takes is accepted.
func TestNATSURLIsChecked(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"nats://127.0.0.1:4222", "localhost:4222", "nats", "nats:4222", "nats:", "tls://nats.example.com:4443",
		"ws://nats:8080, wss://nats2", "alice:s3cret@nats:4222", "nats://alice:s3c%40ret@nats:4222", "nats://t0ken@nats",
		"nats://[::1]:4222", "[::1]", "NATS://nats:4222", "nats://a:4222,,nats://b:4222/", "nats://nats:65535"} {
		environ := full()
		environ["NATS_URL"] = ok
		if _, err := config.Parse(environ, config.Worker); err != nil {
			t.Errorf("NATS_URL=%s: %v", ok, err)
		}
	}
	for _, tc := range []struct{ url, want string }{
		{"localhost:abc", "port"},
		{"nats://localhost:abc", "port"},
		{"nats://localhost:0", "port"},
		{"nats://localhost:65536", "port"},
		{"localhost:+42", "port"},
		{"nats://a:4222,b:x", "server 2 of 2 has a port"},
		{"http://nats:4222", "scheme"},
		{"nats+tls://nats:4222", "scheme"},
		{"nats://:4222", "no host"},
		{"nats://alice:s3cret@:4222", "no host"},
		{"nats://alice:s3cret@nats:abc", "port"},
		{"alice:s3cret", "port"},
		{"nats://alice:s3c#ret@nats:4222", "does not parse"},
		{"nats://alice:s3c/ret@nats:4222", "does not parse"},
		{"nats://alice:s3c%zzret@nats:4222", "does not parse"},
		{"nats://a:4222,ws://b:8080", "mixes"},
		{" , ", "names no server"},
	} {
		environ := full()
		environ["NATS_URL"] = tc.url
		_, err := config.Parse(environ, config.Worker)
		if err == nil || !strings.Contains(err.Error(), "NATS_URL") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NATS_URL=%s: err = %v, want one naming NATS_URL and saying %q", tc.url, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "s3c") || strings.Contains(err.Error(), "\n") {
			t.Errorf("NATS_URL=%s: err = %q, want one line without the password", tc.url, err)
		}
	}
}
