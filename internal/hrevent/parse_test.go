package hrevent_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

func validator(t testing.TB) *hrevent.Validator {
	t.Helper()
	v, err := hrevent.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const hired = `{"specversion":"1.0","id":"evt-1","source":"hr/workday","type":"hr.employee.hired",
  "time":"2026-11-23T09:00:00+02:00","datacontenttype":"application/json",
  "data":{"employeeId":"E 1.*>","organizationId":24,"name":"  Alex Brown "}}`

func TestParseValid(t *testing.T) {
	t.Parallel()
	e, err := validator(t).Parse([]byte(hired))
	if err != nil {
		t.Fatal(err)
	}
	want := hrevent.Event{ID: "evt-1", Source: "hr/workday", Type: "hr.employee.hired", Kind: hrevent.Hired,
		Time: time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC), EmployeeID: "E 1.*>", OrganizationID: 24, Name: "Alex Brown"}
	if !e.Time.Equal(want.Time) {
		t.Errorf("time = %v, want %v", e.Time, want.Time)
	}
	e.Time = want.Time
	if e != want {
		t.Errorf("event = %+v\nwant    %+v", e, want)
	}
	// A change needs no name, and a fractional second is fine.
	term := `{"specversion":"1.0","id":"x","source":"s","type":"hr.employee.terminated","time":"2026-11-23T09:00:00.123456Z","data":{"employeeId":"E","organizationId":24.0}}`
	if e, err := validator(t).Parse([]byte(term)); err != nil || e.Kind != hrevent.Terminated || e.OrganizationID != 24 {
		t.Errorf("terminated: %+v, %v", e, err)
	}
}

// TestParseRejects: each bad body is rejected with a reason naming what is
// wrong, and keeps what could be read.
func TestParseRejects(t *testing.T) {
	t.Parallel()
	v := validator(t)
	with := func(old, new string) string { return strings.Replace(hired, old, new, 1) }
	tests := []struct {
		name, body, reason, id string
	}{
		{"empty", "", "empty", ""},
		{"not JSON", "hello", "not JSON", ""},
		{"JSON array", `[1,2]`, "top level", ""},
		{"invalid UTF-8", "{\"id\":\"\xff\"}", "UTF-8", ""},
		{"wrong specversion", with(`"1.0"`, `"0.3"`), "/specversion", "evt-1"},
		{"unknown type", with("hr.employee.hired", "hr.employee.promoted"), "/type", "evt-1"},
		{"missing id", with(`"id":"evt-1",`, ""), "missing property", ""},
		{"empty id", with(`"evt-1"`, `""`), "/id", ""},
		{"long id", with(`"evt-1"`, `"`+strings.Repeat("i", 257)+`"`), "/id", ""},
		{"missing source", with(`"source":"hr/workday",`, ""), "source", "evt-1"},
		{"missing time", with(`"time":"2026-11-23T09:00:00+02:00",`, ""), "time", "evt-1"},
		{"bad time", with("2026-11-23T09:00:00+02:00", "yesterday"), "/time", "evt-1"},
		{"missing data", with(`"data":{"employeeId":"E 1.*>","organizationId":24,"name":"  Alex Brown "}`, `"x":1`), "data", "evt-1"},
		{"hire without name", with(`,"name":"  Alex Brown "`, ""), "/data", "evt-1"},
		{"blank name", with(`"  Alex Brown "`, `"   "`), "/data/name", "evt-1"},
		{"101-rune name", with(`"  Alex Brown "`, `"`+strings.Repeat("é", 101)+`"`), "/data/name", "evt-1"},
		{"control character", with(`"  Alex Brown "`, `"Alex\u0007"`), "/data/name", "evt-1"},
		{"empty employee id", with(`"E 1.*>"`, `""`), "/data/employeeId", "evt-1"},
		{"300-character employee id", with(`"E 1.*>"`, `"`+strings.Repeat("e", 300)+`"`), "/data/employeeId", "evt-1"},
		{"organization as string", with(`"organizationId":24`, `"organizationId":"24"`), "/data/organizationId", "evt-1"},
		{"organization zero", with(`"organizationId":24`, `"organizationId":0`), "/data/organizationId", "evt-1"},
		{"organization fraction", with(`"organizationId":24`, `"organizationId":2.5`), "/data/organizationId", "evt-1"},
		{"name as number", with(`"  Alex Brown "`, `7`), "/data/name", "evt-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Parse([]byte(tt.body))
			var inv *hrevent.InvalidError
			if !errors.As(err, &inv) || !errors.Is(err, hrevent.ErrInvalid) {
				t.Fatalf("err = %v, want an *InvalidError", err)
			}
			if !strings.Contains(inv.Reason, tt.reason) {
				t.Errorf("reason %q does not mention %q", inv.Reason, tt.reason)
			}
			if inv.Partial.ID != tt.id {
				t.Errorf("partial id = %q, want %q", inv.Partial.ID, tt.id)
			}
		})
	}
}

// FuzzParse: no body makes Parse panic, whatever it accepts obeys the
// contract's field rules, and whatever it rejects gets a result that fits
// in one NATS message and matches schemas/result.json.
func FuzzParse(f *testing.F) {
	f.Add([]byte(hired))
	f.Add([]byte(`{"specversion":"1.0","id":"x","source":"s","type":"hr.employee.leave_started","time":"2026-01-01T00:00:00Z","data":{"employeeId":"E","organizationId":1}}`))
	f.Add([]byte(`{}`))
	f.Add([]byte("\xff"))
	f.Add([]byte(strings.Replace(hired, "E 1.*>", strings.Repeat("\u2028<", 100_000), 1)))
	f.Add([]byte(strings.Replace(hired, "hr.employee.hired", strings.Repeat("é", 100_000), 1)))
	f.Add([]byte(strings.Repeat("\x01", 200_000)))
	v := validator(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := v.Parse(body)
		if err != nil {
			if !errors.Is(err, hrevent.ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			checkFits(t, v, rejectedResult(err, body))
			return
		}
		if e.ID == "" || e.EmployeeID == "" || e.OrganizationID <= 0 || e.Kind == "" || e.Time.IsZero() {
			t.Fatalf("accepted an incomplete event: %+v", e)
		}
		if e.Kind == hrevent.Hired && e.Name == "" {
			t.Fatalf("accepted a hire without a name: %+v", e)
		}
	})
}
