package app_test

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/hrevent"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// TestBadInput: every malformed message gets exactly one rejected result
// with a reason and the original body, is never redelivered, and its valid
// neighbours in the same fetch are applied.
func TestBadInput(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	good := testenv.Event{ID: "ok-1", Kind: "hired", Employee: "E-1", Name: "Good One", Org: 24, At: at}
	valid := string(good.Body())
	with := func(old, new string) string { return strings.Replace(valid, old, new, 1) }
	big := `{"specversion":"1.0","id":"big","pad":"` + strings.Repeat("x", 900<<10) + `"}`
	bad := []struct {
		name, body, reason string
	}{
		{"not JSON", "hello", "not JSON"},
		{"empty", "", "empty"},
		{"JSON array", `[{"id":"x"}]`, "top level"},
		{"wrong specversion", with(`"1.0"`, `"0.3"`), "/specversion"},
		{"unknown type", with("hr.employee.hired", "hr.employee.promoted"), "/type"},
		{"missing fields", `{"specversion":"1.0","id":"m1"}`, "missing properties"},
		{"wrong types", with(`"organizationId":24`, `"organizationId":"24"`), "/data/organizationId"},
		{"blank name", with(`"Good One"`, `"   "`), "/data/name"},
		{"101-rune name", with(`"Good One"`, `"`+strings.Repeat("ж", 101)+`"`), "/data/name"},
		{"control character in name", with(`"Good One"`, `"Good\u0000One"`), "/data/name"},
		{"empty employee id", with(`"E-1"`, `""`), "/data/employeeId"},
		{"300-character employee id", with(`"E-1"`, `"`+strings.Repeat("e", 300)+`"`), "/data/employeeId"},
		{"bad time", with(at.Format(time.RFC3339Nano), "2026-13-45T99:00:00Z"), "/time"},
		{"invalid UTF-8", "{\"id\":\"\xc3\x28\"}", "UTF-8"},
		{"near the max payload", big, "/"},
	}
	// Neighbours: a valid event before and after every bad one.
	h.PublishEvent(good)
	for i, b := range bad {
		// Each bad message has an id of its own, as events do.
		bad[i].body = strings.Replace(b.body, `"ok-1"`, `"bad-`+b.name+`"`, 1)
		h.Publish([]byte(bad[i].body), "hired", "")
		next := good
		next.ID, next.Employee, next.Name = "ok-"+b.name, "E-n"+string(rune('a'+i)), "Neighbour "+string(rune('A'+i))
		h.PublishEvent(next)
	}
	h.Start(h.Config())
	results := h.WaitResults(2*len(bad)+1, time.Minute)
	if len(results) != 2*len(bad)+1 {
		t.Fatalf("%d results, want %d", len(results), 2*len(bad)+1)
	}
	bySeq := map[uint64]testenv.Result{}
	for _, r := range results {
		if _, dup := bySeq[r.StreamSequence]; dup {
			t.Errorf("message %d has two results", r.StreamSequence)
		}
		bySeq[r.StreamSequence] = r
	}
	for i, b := range bad {
		r := bySeq[uint64(2*i+2)]
		if strings.Contains(b.body, `"bad-`) && r.EventID != "bad-"+b.name {
			t.Errorf("%s: event id %q, want it read from the body", b.name, r.EventID)
		}
		switch {
		case r.Outcome != hrevent.Rejected:
			t.Errorf("%s: outcome %s, want rejected", b.name, r.Outcome)
		case !strings.Contains(r.Reason, b.reason):
			t.Errorf("%s: reason %q does not mention %q", b.name, r.Reason, b.reason)
		case r.Attempts != 1:
			t.Errorf("%s: %d attempts, want 1 (never retried)", b.name, r.Attempts)
		case r.Subject != "hr.results.rejected."+resultKind(r.EventType):
			t.Errorf("%s: subject %s, want hr.results.rejected.%s (the kind is unknown when the type is unreadable)", b.name, r.Subject, resultKind(r.EventType))
		}
		var echoed []byte
		if r.Event != nil {
			echoed = []byte(*r.Event)
		}
		if r.EventBase64 != "" {
			echoed, _ = base64.StdEncoding.DecodeString(r.EventBase64)
		}
		if r.EventTruncated {
			if len(echoed) != 64<<10 || !bytes.HasPrefix([]byte(b.body), echoed) {
				t.Errorf("%s: truncated echo of %d bytes, want the first 64 KiB", b.name, len(echoed))
			}
		} else if string(echoed) != b.body {
			t.Errorf("%s: echoed %q, want the original body", b.name, echoed)
		}
		if n := bySeq[uint64(2*i+3)]; n.Outcome != hrevent.Applied {
			t.Errorf("neighbour after %s: %s %s", b.name, n.Outcome, n.Reason)
		}
	}
	// Unreadable ids get results keyed by sequence, so none collide.
	if r := bySeq[2]; r.MsgID != "result:seq:2" || !strings.HasSuffix(r.Subject, ".unknown") {
		t.Errorf("not-JSON result: msg id %s, subject %s", r.MsgID, r.Subject)
	}
	v, err := testenv.ValidatorOnce()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if err := v.ValidateResult(r.Body); err != nil {
			t.Errorf("result %s: %v", r.MsgID, err)
		}
	}
}

// resultKind is the kind a result's subject names: the event's, or
// unknown when its type is not one of the four.
func resultKind(eventType string) string {
	if k, ok := strings.CutPrefix(eventType, "hr.employee."); ok && slices.Contains(kinds, k) {
		return k
	}
	return "unknown"
}
