package broker_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/broker"
	"github.com/rs/zerolog"
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

// TestReplicasOnASingleServer: asking a NATS server that is not part of a
// cluster for three copies stops the set-up with what to do.
func TestReplicasOnASingleServer(t *testing.T) {
	t.Parallel()
	_, js := jetStream(t)
	names := broker.Names{EventsStream: "E", ResultsStream: "R", SchedulesStream: "S", AlertsStream: "A", Consumer: "c", Bucket: "b"}
	_, err := broker.Setup(t.Context(), js, names, 3, 10*time.Second, broker.Retention{}, zerolog.Nop())
	if err == nil || !strings.Contains(err.Error(), "set JS_REPLICAS=1") {
		t.Errorf("set-up with 3 replicas on one server: %v, want it to say JS_REPLICAS=1", err)
	}
}
