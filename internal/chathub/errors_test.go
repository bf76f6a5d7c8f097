package chathub_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/chathubsim"
)

// TestErrorClasses checks how each failure is detected and classed.
func TestErrorClasses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		faults chathubsim.Faults
		call   string // "list", "sync" or "status"
		want   error
	}{
		{"401 expired token", chathubsim.Faults{Unauthorized: true}, "list", chathub.ErrUnauthorized},
		{"429 throttled", chathubsim.Faults{ThrottleRate: 1}, "sync", chathub.ErrThrottled},
		{"503 unavailable", chathubsim.Faults{ErrorRate: 1}, "sync", chathub.ErrTransient},
		{"synchronize committed then dropped", chathubsim.Faults{SyncDropRate: 1}, "sync", chathub.ErrOutcomeUnknown},
		{"status committed then dropped", chathubsim.Faults{StatusDropRate: 1}, "status", chathub.ErrOutcomeUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim, srv := startSim(t)
			id := sim.AddOperator(24, "Existing", 0)
			sim.SetFaults(tt.faults)
			c := newClient(t, srv.URL)
			err := call(t.Context(), c, tt.call, id)
			assertClass(t, err, tt.want)
		})
	}
}

func call(ctx context.Context, c *chathub.Client, which string, id int64) error {
	switch which {
	case "list":
		_, err := c.ListOperators(ctx, 24)
		return err
	case "sync":
		_, err := c.Synchronize(ctx, []chathub.NewOperator{{OrganizationID: 24, Name: "Alex Brown"}})
		return err
	default:
		return c.SetStatus(ctx, id, chathub.StatusInactive)
	}
}

// assertClass checks that err belongs to want (and to the broader class
// want belongs to) and to no other class, and that the token is nowhere
// in it.
func assertClass(t *testing.T, err, want error) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %v", want)
	}
	classes := []error{chathub.ErrPermanent, chathub.ErrUnauthorized, chathub.ErrMisconfigured, chathub.ErrThrottled,
		chathub.ErrTransient, chathub.ErrOutcomeUnknown, chathub.ErrInvalid}
	for _, class := range classes {
		if got := errors.Is(err, class); got != errors.Is(want, class) {
			t.Errorf("errors.Is(%q, %q) = %v", err, class, got)
		}
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), token) {
		t.Errorf("error carries the token: %v", err)
	}
}

func TestPermanentErrorCarriesChatHubMessage(t *testing.T) {
	t.Parallel()
	_, srv := startSim(t)
	c := newClient(t, srv.URL)
	_, err := c.Synchronize(t.Context(), []chathub.NewOperator{{OrganizationID: 24, Name: "Ok"}, {OrganizationID: 999, Name: "Lost"}})
	assertClass(t, err, chathub.ErrPermanent)
	var apiErr *chathub.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, "organization 999 does not exist") {
		t.Errorf("err = %v, want a 400 naming organization 999", err)
	}
}

// TestGatewayAndTimeoutErrors covers answers the simulator does not give:
// 502 and 504 from a gateway, 501, and a request that timed out after it
// was sent.
func TestGatewayAndTimeoutErrors(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("organizationId") {
		case "502":
			w.WriteHeader(http.StatusBadGateway)
		case "504":
			w.WriteHeader(http.StatusGatewayTimeout)
		case "501":
			w.WriteHeader(http.StatusNotImplemented)
		case "418":
			http.Error(w, "Bearer "+token+" is not welcome", http.StatusTeapot)
		default:
			<-release
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	c := newClient(t, srv.URL, chathub.WithTimeout(100*time.Millisecond))
	for org, want := range map[int]error{502: chathub.ErrOutcomeUnknown, 504: chathub.ErrOutcomeUnknown, 501: chathub.ErrPermanent, 418: chathub.ErrPermanent, 1: chathub.ErrOutcomeUnknown} {
		_, err := c.ListOperators(t.Context(), org)
		t.Run(fmt.Sprint(org), func(t *testing.T) { assertClass(t, err, want) })
	}
}

func TestConnectionRefusedIsTransient(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := newClient(t, "http://"+addr)
	_, err = c.Synchronize(t.Context(), []chathub.NewOperator{{OrganizationID: 24, Name: "Alex"}})
	assertClass(t, err, chathub.ErrTransient)
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	for _, asDate := range []bool{false, true} {
		t.Run(fmt.Sprintf("date=%v", asDate), func(t *testing.T) {
			t.Parallel()
			sim, srv := startSim(t)
			sim.SetFaults(chathubsim.Faults{ThrottleRate: 1, RetryAfter: 3 * time.Second, RetryAfterAsDate: asDate})
			c := newClient(t, srv.URL)
			_, err := c.ListOperators(t.Context(), 24)
			assertClass(t, err, chathub.ErrThrottled)
			// An HTTP date has whole seconds, so it may read up to 1s short.
			if got := chathub.RetryAfter(err); got < 1900*time.Millisecond || got > 3*time.Second {
				t.Errorf("RetryAfter = %s, want about 3s", got)
			}
		})
	}
}

func TestIdempotentCallsAreRetried(t *testing.T) {
	t.Parallel()
	sim, srv := startSim(t)
	id := sim.AddOperator(24, "Mike", 0)
	sim.Seed(7)
	sim.SetFaults(chathubsim.Faults{ErrorRate: 0.4, StatusDropRate: 0.4})
	c := newClient(t, srv.URL, chathub.WithRetryWindow(30*time.Second))
	for _, status := range []chathub.Status{1, 0, 2} {
		if err := c.SetStatus(t.Context(), id, status); err != nil {
			t.Fatalf("SetStatus(%v): %v", status, err)
		}
		if got := sim.Operators(24)[0].Status; got != int(status) {
			t.Fatalf("status = %d, want %d", got, status)
		}
	}
	if _, err := c.ListOperators(t.Context(), 24); err != nil {
		t.Fatalf("ListOperators: %v", err)
	}
	if n := sim.Counters().Calls["status"]; n <= 3 {
		t.Errorf("status calls = %d, want retries beyond 3 with 40%% errors and 40%% drops", n)
	}
}

func TestSynchronizeIsNeverRetried(t *testing.T) {
	t.Parallel()
	sim, srv := startSim(t)
	sim.SetFaults(chathubsim.Faults{ErrorRate: 1})
	c := newClient(t, srv.URL, chathub.WithRetryWindow(30*time.Second))
	_, err := c.Synchronize(t.Context(), []chathub.NewOperator{{OrganizationID: 24, Name: "Alex"}})
	assertClass(t, err, chathub.ErrTransient)
	if n := sim.Counters().Calls["synchronize"]; n != 1 {
		t.Errorf("synchronize calls = %d, want exactly 1", n)
	}
}

// TestTokenTakenOutOfChatHubsWords: a token ChatHub echoes in an error,
// as text or inside a JSON message, is taken out; a token of a few
// characters is left alone (taking "t" out of every word would hide
// nothing and garble the message).
func TestTokenTakenOutOfChatHubsWords(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, token, body, want string
	}{
		{"text", token, "Bearer " + token + " is not welcome", "Bearer [redacted] is not welcome"},
		{"JSON", token, `{"message":"Bearer ` + token + ` is not welcome"}`, "Bearer [redacted] is not welcome"},
		{"short token", "t", "organizationId is missing or unknown", "organizationId is missing or unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, tc.body, http.StatusBadRequest)
			}))
			defer srv.Close()
			c, err := chathub.NewClient(srv.URL, tc.token, chathub.WithRateLimit(0), chathub.WithRetryWindow(0))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.ListOperators(t.Context(), 24)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to say %q", err, tc.want)
			}
		})
	}
}
