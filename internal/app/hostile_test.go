package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/hrevent"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// maxLogLine is the longest log line a hostile event may cause: a few KB,
// whatever the size of its fields.
const maxLogLine = 4 << 10

// TestHugeFieldsAreRejectedOnce: an event of 500 KB whose employeeId has
// 500,000 characters, and one whose type has 300,000, each get exactly one
// rejected result at the first delivery, small enough for one NATS
// message, with the echoed fields cut to 1 KiB; no log line echoes the
// fields whole, and a valid neighbour is applied.
func TestHugeFieldsAreRejectedOnce(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	valid := string(hire(1, 24).Body())
	hugeID := strings.Replace(valid, `"E-1"`, `"`+strings.Repeat("e", 500_000)+`"`, 1)
	hugeType := strings.Replace(valid, `"hr.employee.hired"`, `"`+strings.Repeat("t", 300_000)+`"`, 1)
	hugeID = strings.Replace(hugeID, `"hire-1"`, `"huge-id"`, 1)
	hugeType = strings.Replace(hugeType, `"hire-1"`, `"huge-type"`, 1)
	h.Publish([]byte(hugeID), "hired", "")
	h.Publish([]byte(hugeType), "hired", "")
	h.PublishEvent(hire(2, 24))

	var logs testenv.SyncBuffer
	h.StartWithLog(h.Config(), zerolog.New(&logs).Level(zerolog.TraceLevel))
	// WaitResults also waits for the consumer to have nothing redelivered.
	results := testenv.ByEventID(t, h.WaitResults(3, 30*time.Second))
	v, err := testenv.ValidatorOnce()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ id, field, body string }{
		{"huge-id", "/data/employeeId", hugeID},
		{"huge-type", "/type", hugeType},
	} {
		r, ok := results[tc.id]
		switch {
		case !ok:
			t.Errorf("%s: no result", tc.id)
			continue
		case r.Outcome != hrevent.Rejected || !strings.Contains(r.Reason, tc.field):
			t.Errorf("%s: %s %q, want rejected naming %s", tc.id, r.Outcome, hrevent.Clip(r.Reason), tc.field)
		case r.Attempts != 1:
			t.Errorf("%s: %d attempts, want 1: rejected at the first delivery", tc.id, r.Attempts)
		case len(r.Body) > hrevent.MaxResultSize:
			t.Errorf("%s: the result is %d bytes, more than the %d a result may have", tc.id, len(r.Body), hrevent.MaxResultSize)
		case !r.EventTruncated || r.Event == nil || !strings.HasPrefix(tc.body, *r.Event):
			t.Errorf("%s: the body is not echoed cut, with eventTruncated", tc.id)
		case r.Subject != "hr.results.rejected.unknown" && tc.id == "huge-type":
			t.Errorf("%s: subject %s", tc.id, r.Subject)
		}
		for name, f := range map[string]string{"eventId": r.EventID, "eventType": r.EventType, "employeeId": r.EmployeeID} {
			if len(f) > hrevent.MaxField {
				t.Errorf("%s: %s echoed with %d bytes, want at most 1 KiB", tc.id, name, len(f))
			}
		}
		if err := v.ValidateResult(r.Body); err != nil {
			t.Errorf("%s: %v", tc.id, err)
		}
	}
	if r := results["hire-2"]; r.Outcome != hrevent.Applied {
		t.Errorf("the valid neighbour: %s %q", r.Outcome, r.Reason)
	}
	for i, line := range strings.Split(logs.String(), "\n") {
		if len(line) > maxLogLine {
			t.Errorf("log line %d has %d bytes: %.300s…", i+1, len(line), line)
		}
	}
}
