package broker_test

import (
	"strings"
	"testing"

	"github.com/chathub-operator-worker/worker/internal/broker"
)

func TestCheckServer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		version string
		ok      bool
	}{
		{"2.14.0", true}, {"2.15.2", true}, {"v2.14.1", true}, {"3.0.0", true}, {"2.20.0-beta.1", true},
		{"2.12.3", false}, {"2.11.9", false}, {"2.9.25", false}, {"1.4.1", false}, {"", false},
	} {
		err := broker.CheckServer(tc.version)
		if (err == nil) != tc.ok {
			t.Errorf("CheckServer(%q) = %v, want ok %v", tc.version, err, tc.ok)
		}
		if err != nil && (!strings.Contains(err.Error(), "2.14.0 or newer") || strings.Contains(err.Error(), "\n")) {
			t.Errorf("CheckServer(%q): %q, want one line naming the minimum", tc.version, err)
		}
	}
}
