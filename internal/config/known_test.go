package config_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/chathub-operator-worker/worker/internal/config"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestKnown: every field the env library reads is known by its tag, and
// the fields it skips are not.
func TestKnown(t *testing.T) {
	t.Parallel()
	known := config.Known()
	typ := reflect.TypeFor[config.Config]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
		if name == "-" || name == "" {
			continue
		}
		if !slices.Contains(known, name) {
			t.Errorf("%s (field %s) is not known", name, f.Name)
		}
	}
	for _, want := range []string{"BATCH_MAX_WAIT", "NATS_URL", "CHATHUB_TOKEN_FILE", "RECONCILE_APPLY", "KV_BUCKET"} {
		if !slices.Contains(known, want) {
			t.Errorf("%s is not known: %v", want, known)
		}
	}
	if slices.Contains(known, "-") || slices.Contains(known, "") || !slices.IsSorted(known) {
		t.Errorf("known = %v", known)
	}
}

func TestUnknowns(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, want string // want: "" ignored, "-" warned without a suggestion
	}{
		{"BATCH_MAXWAIT", "BATCH_MAX_WAIT"},
		{"CHATHUB_TOKENFILE", "CHATHUB_TOKEN_FILE"},
		{"GUARD_TRESHOLD", "GUARD_THRESHOLD"},
		{"RETRY_MAX_ATTEMPT", "RETRY_MAX_ATTEMPTS"},
		{"RECONCILE_INTERVALS", "RECONCILE_INTERVAL"},
		{"NATS_PASSWORD", "-"}, // the nats CLI's; the worker reads NATS_URL or a context
		{"CHATHUB_SOMETHING_ELSE", "-"},
		{"LOG_LEVL", "LOG_LEVEL"}, // a prefix of one known name: a near miss only
		{"ACKWAIT", "ACK_WAIT"},   // no prefix at all, one edit away
		{"nats_url", "NATS_URL"},  // names are case-sensitive
		{"HTTP_PROXY", ""},        // Go's HTTP client reads it
		{"LOG_FORMAT", ""},        // another program's
		{"NATS_URL", ""},          // known
		{"NATS_SERVICE_HOST", ""}, // Kubernetes service links
		{"NATS_PORT_4222_TCP_ADDR", ""},
		{"NATS_SERVICE_PORT_CLIENT", ""},
		{"CHATHUB_OPERATOR_WORKER_PORT", ""},
		{"HOME", ""},
		{"GOMEMLIMIT", ""},
	} {
		got := config.Unknowns(map[string]string{tc.name: "x"})
		switch {
		case tc.want == "" && len(got) != 0:
			t.Errorf("%s: warned %v, want it ignored", tc.name, got)
		case tc.want == "":
		case len(got) != 1 || got[0].Name != tc.name:
			t.Errorf("%s: %v, want a warning", tc.name, got)
		case tc.want == "-" && got[0].Suggestion != "":
			t.Errorf("%s: suggests %s, want no suggestion", tc.name, got[0].Suggestion)
		case tc.want != "-" && got[0].Suggestion != tc.want:
			t.Errorf("%s: suggests %q, want %s", tc.name, got[0].Suggestion, tc.want)
		}
	}
}

func TestUnknownsSortedAndWorded(t *testing.T) {
	t.Parallel()
	got := config.Unknowns(map[string]string{"NATS_ZZZ": "1", "BATCH_MAXWAIT": "1s", "NATS_URL": "nats://x", "PATH": "/bin"})
	if len(got) != 2 || got[0].Name != "BATCH_MAXWAIT" || got[1].Name != "NATS_ZZZ" {
		t.Fatalf("unknowns = %v", got)
	}
	if s := got[0].String(); s != "BATCH_MAXWAIT is not a variable the worker reads (ignored); did you mean BATCH_MAX_WAIT?" {
		t.Errorf("warning %q", s)
	}
	if s := got[1].String(); s != "NATS_ZZZ is not a variable the worker reads (ignored)" {
		t.Errorf("warning %q", s)
	}
}
