package hrevent_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

// natsMaxPayload is NATS's default max_payload: a result must fit in it,
// headers included.
const natsMaxPayload = 1 << 20

// rejectedResult builds the result of an invalid message as the intake
// does: what Parse could read, the reason, and the body echoed.
func rejectedResult(err error, body []byte) hrevent.Result {
	r := hrevent.Result{Outcome: hrevent.Rejected, Reason: err.Error(), Attempts: 1, StreamSequence: 7}
	var inv *hrevent.InvalidError
	if errors.As(err, &inv) {
		r.EventID, r.EventType = inv.Partial.ID, inv.Partial.Type
		r.EmployeeID, r.OrganizationID = inv.Partial.EmployeeID, inv.Partial.OrganizationID
	}
	r.Echo(body)
	return r
}

// checkFits encodes r and checks that it fits one NATS message, matches
// schemas/result.json, and echoes no field longer than 1 KiB. It returns
// the decoded result.
func checkFits(t *testing.T, v *hrevent.Validator, r hrevent.Result) hrevent.Result {
	t.Helper()
	body, err := r.Marshal(time.Now())
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if len(body) > hrevent.MaxResultSize || len(body)+len(r.MsgID())+64 > natsMaxPayload {
		t.Fatalf("the result is %d bytes (Nats-Msg-Id %d bytes); the bound is %d, NATS takes %d",
			len(body), len(r.MsgID()), hrevent.MaxResultSize, natsMaxPayload)
	}
	if len(r.MsgID()) > len("result:")+hrevent.MaxField {
		t.Errorf("Nats-Msg-Id is %d bytes", len(r.MsgID()))
	}
	if err := v.ValidateResult(body); err != nil {
		t.Fatalf("%v", err)
	}
	var ce struct {
		ID      string `json:"id"`
		Subject string `json:"subject"`
	}
	if err := json.Unmarshal(body, &ce); err != nil {
		t.Fatal(err)
	}
	got, err := hrevent.DecodeResult(body)
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{"id": ce.ID, "subject": ce.Subject, "eventId": got.EventID,
		"eventType": got.EventType, "employeeId": got.EmployeeID} {
		if len(s) > hrevent.MaxField+len("result:") {
			t.Errorf("%s is %d bytes, want at most 1 KiB", name, len(s))
		}
		if !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) {
			t.Errorf("%s was not cut on a character boundary", name)
		}
	}
	if len(got.Reason) > 4<<10+200 {
		t.Errorf("reason is %d bytes", len(got.Reason))
	}
	return got
}

// TestHostileInputGetsAResultThatFits: whatever an invalid message holds,
// its rejected result fits in one NATS message and matches the schema, so
// it is published at once instead of being retried for ever.
func TestHostileInputGetsAResultThatFits(t *testing.T) {
	t.Parallel()
	v := validator(t)
	event := func(id, typ, employee, tm, name string) []byte {
		b, _ := json.Marshal(map[string]any{"specversion": "1.0", "id": id, "source": "hr/workday", "type": typ, "time": tm,
			"data": map[string]any{"employeeId": employee, "organizationId": 24, "name": name}})
		return b
	}
	const tm, typ = "2026-11-23T09:00:00Z", "hr.employee.hired"
	huge := func(s string, n int) string { return strings.Repeat(s, n) }
	tests := []struct {
		name string
		body []byte
		cut  string // a field the reason must say was cut, if any
	}{
		{"500,000-character employeeId", event("evt-1", typ, huge("e", 500_000), tm, "Alex"), "employeeId"},
		{"employeeId of 300,000 two-byte characters", event("evt-1", typ, huge("é", 300_000), tm, "Alex"), "employeeId"},
		{"employeeId of 200,000 four-byte characters", event("evt-1", typ, huge("😀", 200_000), tm, "Alex"), "employeeId"},
		{"employeeId of 200,000 characters JSON escapes", event("evt-1", typ, huge("<\u2028\x01", 100_000), tm, "Alex"), "employeeId"},
		{"300,000-character type", event("evt-1", huge("t", 300_000), "E-1", tm, "Alex"), "type"},
		{"huge id", event(huge("i", 600_000), typ, "E-1", tm, "Alex"), ""},
		{"huge time", event("evt-1", typ, "E-1", huge("9", 300_000), "Alex"), ""},
		{"everything huge", event(huge("i", 200_000), huge("t", 200_000), huge("e", 200_000), huge("9", 200_000), "Alex"), "employeeId"},
		{"invalid UTF-8", append(event("evt-1", typ, huge("e", 300_000), tm, "Alex"), "\xff\xfe"...), ""},
		{"1 MiB of invalid UTF-8", []byte(huge("\xff<", natsMaxPayload/2)), ""},
		{"1 MiB of not JSON", []byte(huge("{", natsMaxPayload)), ""},
		{"1 MiB name", event("evt-1", typ, "E-1", tm, huge("n", natsMaxPayload-200)), ""},
		{"1 MiB of control characters in a name", event("evt-1", typ, "E-1", tm, huge("\x01", natsMaxPayload/6-100)), ""},
		{"1 MiB of raw control characters", []byte(huge("\x01", natsMaxPayload)), ""},
		{"1 MiB of <", []byte(huge("<", natsMaxPayload)), ""},
		{"huge unknown property", []byte(`{"` + huge("k", 500_000) + `":1}`), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := v.Parse(tt.body)
			if !errors.Is(err, hrevent.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			got := checkFits(t, v, rejectedResult(err, tt.body))
			if len(tt.body) > 64<<10 && !got.EventTruncated {
				t.Error("a body over 64 KiB is echoed without eventTruncated")
			}
			if tt.cut != "" && !strings.Contains(got.Reason, tt.cut) || tt.cut != "" && !strings.Contains(got.Reason, "cut") {
				t.Errorf("reason %q does not say that %s was cut", got.Reason, tt.cut)
			}
		})
	}
}

// TestResultBoundsAnyCaller: a result built by any caller, with fields of
// any size, is cut to fit when encoded, and says so in its reason.
func TestResultBoundsAnyCaller(t *testing.T) {
	t.Parallel()
	v := validator(t)
	big := strings.Repeat("\x01<é", 400_000)
	r := hrevent.Result{EventID: big, EventType: big, EmployeeID: big, Outcome: hrevent.Failed, Reason: big,
		Attempts: 3, StreamSequence: 9}
	r.Echo([]byte(big))
	got := checkFits(t, v, r)
	if r.MsgID() != "result:seq:9" {
		t.Errorf("Nats-Msg-Id = %.40q…, want result:seq:9 for an id too long to name the result", r.MsgID())
	}
	if !strings.Contains(got.Reason, "cut") {
		t.Errorf("reason does not say what was cut: …%s", got.Reason[len(got.Reason)-200:])
	}
	if len(r.EmployeeID) != len(big) {
		t.Error("Marshal changed the caller's result")
	}
	// Bodies set without Echo are cut too.
	asString := hrevent.Result{EventID: "e", EventType: "t", Outcome: hrevent.Rejected, Reason: "r", Attempts: 1, StreamSequence: 1, Event: &big}
	if got := checkFits(t, v, asString); !got.EventTruncated {
		t.Error("a long event is not marked truncated")
	}
	asBase64 := hrevent.Result{EventID: "e", EventType: "t", Outcome: hrevent.Rejected, Reason: "r", Attempts: 1, StreamSequence: 1,
		EventBase64: strings.Repeat("AAAA", 300_000)}
	if got := checkFits(t, v, asBase64); !got.EventTruncated {
		t.Error("a long eventBase64 is not marked truncated")
	}
}

// TestClip: a log field is bounded and cut on a character boundary.
func TestClip(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "E-1001", strings.Repeat("é", 100), strings.Repeat("é", 500_000), strings.Repeat("\xff", 1000)} {
		got := hrevent.Clip(s)
		if len(got) > 300 {
			t.Errorf("Clip(%d bytes) = %d bytes", len(s), len(got))
		}
		if len(s) <= 200 && got != s {
			t.Errorf("Clip(%q) = %q, want it unchanged", s, got)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Errorf("Clip cut a character: %q", got)
		}
	}
}
