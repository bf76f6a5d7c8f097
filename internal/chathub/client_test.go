package chathub_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/chathubsim"
)

const token = "s3cr3t-company-token"

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startSim serves a simulator that knows organizations 24 and 25.
func startSim(t *testing.T) (*chathubsim.Server, *httptest.Server) {
	t.Helper()
	sim := chathubsim.New(token, map[int]string{24: "Customer Support", 25: "Sales"})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv
}

// newClient returns a client for url with no rate limit and no retries
// unless opts say otherwise; its idle connections close with the test.
func newClient(t *testing.T, url string, opts ...chathub.Option) *chathub.Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	base := []chathub.Option{
		chathub.WithHTTPClient(&http.Client{Transport: tr}),
		chathub.WithRateLimit(0),
		chathub.WithRetryWindow(0),
		chathub.WithCacheTTL(0),
	}
	c, err := chathub.NewClient(url, token, append(base, opts...)...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func TestClientRoundTrip(t *testing.T) {
	t.Parallel()
	sim, srv := startSim(t)
	c := newClient(t, srv.URL)
	ctx := t.Context()

	created, err := c.Synchronize(ctx, []chathub.NewOperator{
		{OrganizationID: 24, Name: "  Alex Brown "},
		{OrganizationID: 24, Name: "Emma Davis"},
		{OrganizationID: 25, Name: "Alex Brown"},
	})
	if err != nil {
		t.Fatalf("Synchronize: %v", err)
	}
	if len(created) != 3 || created[0].Name != "Alex Brown" || created[1].Name != "Emma Davis" {
		t.Fatalf("created = %+v, want Alex Brown, Emma Davis, Alex Brown in order and trimmed", created)
	}
	if created[0].ID >= created[1].ID || created[1].ID >= created[2].ID {
		t.Errorf("ids are not increasing: %+v", created)
	}
	if err := c.SetStatus(ctx, created[1].ID, chathub.StatusInactive); err != nil {
		t.Fatalf("SetStatus: %v", err)
	}
	ops, err := c.ListOperators(ctx, 24)
	if err != nil {
		t.Fatalf("ListOperators: %v", err)
	}
	if len(ops) != 2 || ops[1].Status != chathub.StatusInactive || ops[0].Organization == nil || ops[0].Organization.ID != 24 {
		t.Fatalf("list = %+v, want Alex active and Emma inactive in organization 24", ops)
	}
	if got := sim.Counters().Calls; got["synchronize"] != 1 || got["status"] != 1 || got["list"] != 1 {
		t.Errorf("calls = %v, want one of each", got)
	}
}

// TestNameIndexFollowsWrites: FindByNames answers from a name index of the
// operators not deleted, kept current by the client's own successful
// writes; a write with an unknown outcome drops it; ListOperators always
// asks ChatHub.
func TestNameIndexFollowsWrites(t *testing.T) {
	t.Parallel()
	sim, srv := startSim(t)
	c := newClient(t, srv.URL, chathub.WithCacheTTL(time.Minute))
	ctx := t.Context()
	id := sim.AddOperator(24, "Mike Wilson", 0)
	names := []string{"mike wilson ", "New", "Lost"}
	find := func() map[string][]chathub.Operator {
		t.Helper()
		found, err := c.FindByNames(ctx, 24, names, false)
		if err != nil {
			t.Fatal(err)
		}
		return found
	}
	for range 3 {
		if got := find(); len(got["mike wilson"]) != 1 || got["mike wilson"][0].ID != id {
			t.Fatalf("found %+v, want Mike by a case-insensitive name", got)
		}
	}
	if n := sim.Counters().Calls["list"]; n != 1 {
		t.Fatalf("list calls = %d, want 1 while the index is fresh", n)
	}
	if err := c.SetStatus(ctx, id, chathub.StatusDeleted); err != nil {
		t.Fatal(err)
	}
	if got := find(); len(got["mike wilson"]) != 0 {
		t.Errorf("after deleting Mike: %+v, want no operator to adopt", got)
	}
	if _, err := c.Synchronize(ctx, []chathub.NewOperator{{OrganizationID: 24, Name: "New"}}); err != nil {
		t.Fatal(err)
	}
	if got := find(); len(got["new"]) != 1 {
		t.Errorf("after Synchronize: %+v, want New", got)
	}
	if n := sim.Counters().Calls["list"]; n != 1 {
		t.Errorf("list calls = %d, want still 1: successful writes update the index", n)
	}
	sim.SetFaults(chathubsim.Faults{SyncDropRate: 1})
	if _, err := c.Synchronize(ctx, []chathub.NewOperator{{OrganizationID: 24, Name: "Lost"}}); !errors.Is(err, chathub.ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want outcome unknown", err)
	}
	sim.SetFaults(chathubsim.Faults{})
	if got := find(); len(got["lost"]) != 1 || sim.Counters().Calls["list"] != 2 {
		t.Errorf("after an unknown outcome: %+v from %d list calls, want Lost from a fresh list", got, sim.Counters().Calls["list"])
	}
	if _, err := c.FindByNames(ctx, 24, names, true); err != nil || sim.Counters().Calls["list"] != 3 {
		t.Errorf("fresh: %v, %d list calls, want a list call", err, sim.Counters().Calls["list"])
	}
	if ops, err := c.ListOperators(ctx, 24); err != nil || len(ops) != 3 || sim.Counters().Calls["list"] != 4 {
		t.Errorf("ListOperators: %d operators, %v; want all 3 from ChatHub", len(ops), err)
	}
}

// TestNameIndexSharedByRounds: rounds list, read, create and count in one
// organization at once; each answer is whole (run with -race: the index a
// list fetches is shared through the cache as soon as it is stored).
func TestNameIndexSharedByRounds(t *testing.T) {
	t.Parallel()
	_, srv := startSim(t)
	c := newClient(t, srv.URL, chathub.WithCacheTTL(time.Minute))
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for g := range 4 {
		wg.Go(func() {
			for i := range 25 {
				name := fmt.Sprintf("Person %d-%d", g, i)
				if _, err := c.Synchronize(ctx, []chathub.NewOperator{{OrganizationID: 24, Name: name}}); err != nil {
					errs <- err
					return
				}
				// fresh: a new list, read, then shared with the others.
				found, err := c.FindByNames(ctx, 24, []string{name}, i%2 == 0)
				if err == nil && len(found[chathub.NameKey(name)]) != 1 {
					err = fmt.Errorf("%s: found %v, want the operator just created", name, found)
				}
				if err == nil {
					_, err = c.CountActive(ctx, 24)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, err := c.CountActive(ctx, 24); err != nil || n != 100 {
		t.Errorf("CountActive = %d, %v; want 100", n, err)
	}
}

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

// assertClass checks that err belongs to want and to no other class, and
// that the token is nowhere in it.
func assertClass(t *testing.T, err, want error) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %v", want)
	}
	classes := []error{chathub.ErrPermanent, chathub.ErrUnauthorized, chathub.ErrThrottled, chathub.ErrTransient, chathub.ErrOutcomeUnknown, chathub.ErrInvalid}
	for _, class := range classes {
		if got := errors.Is(err, class); got != (class == want) {
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

// TestThrottleHoldsEveryCaller: after a 429 with Retry-After, no caller
// starts a call before that time has passed.
func TestThrottleHoldsEveryCaller(t *testing.T) {
	t.Parallel()
	sim, srv := startSim(t)
	sim.SetFaults(chathubsim.Faults{ThrottleRate: 1, RetryAfter: time.Second})
	c := newClient(t, srv.URL)
	_, err := c.ListOperators(t.Context(), 24)
	assertClass(t, err, chathub.ErrThrottled)
	throttledAt := sim.Arrivals()[0]
	sim.SetFaults(chathubsim.Faults{})

	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if _, err := c.ListOperators(t.Context(), 24); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, at := range sim.Arrivals()[1:] {
		if gap := at.Sub(throttledAt); gap < 990*time.Millisecond {
			t.Errorf("a call arrived %s after the 429, want at least 1s", gap)
		}
	}
}

// TestRateLimitUnderConcurrency: 20 callers share a limit of 20 calls a
// second. Measured where the promise is made, never more than 20 calls
// start within a second (the margin absorbs the delay between the
// limiter's decision and the meter's note of it); at the simulator, so do
// they arrive, in windows cut by how much a call can take.
func TestRateLimitUnderConcurrency(t *testing.T) {
	t.Parallel()
	const rate, calls = 20, 41
	sim, srv := startSim(t)
	meter := &chathubsim.Meter{L: chathub.NewPacer(rate, chathub.DefaultRateMargin)}
	c := newClient(t, srv.URL, chathub.WithLimiter(meter), chathub.WithCallObserver(meter.Observe))
	start := time.Now()
	var wg sync.WaitGroup
	work := make(chan struct{}, calls)
	for range calls {
		work <- struct{}{}
	}
	close(work)
	for range 20 {
		wg.Go(func() {
			for range work {
				if _, err := c.ListOperators(t.Context(), 24); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	starts, arrivals := meter.Starts(), sim.Arrivals()
	if len(arrivals) != calls || len(starts) != calls {
		t.Fatalf("%d starts, %d arrivals, want %d", len(starts), len(arrivals), calls)
	}
	if most := chathubsim.MaxInWindow(starts, time.Second); most > rate {
		t.Errorf("%d calls started within one second, want at most %d", most, rate)
	}
	window := chathubsim.ArrivalWindow(meter.Longest())
	if most := chathubsim.MaxInWindow(arrivals, window); most > rate {
		t.Errorf("%d calls arrived within %s, want at most %d", most, window, rate)
	}
	if min := (calls - 1) * time.Second / rate; elapsed < min {
		t.Errorf("%d calls took %s, want at least %s at %d/s", calls, elapsed, min, rate)
	}
	observed := float64(calls-1) / arrivals[calls-1].Sub(arrivals[0]).Seconds()
	t.Logf("rate limit %d/s, 20 callers: %d calls in %s, observed %.2f calls/s at the simulator, at most %d in any second there",
		rate, calls, elapsed.Round(time.Millisecond), observed, chathubsim.MaxInWindow(arrivals, time.Second))
}

func TestCancellation(t *testing.T) {
	t.Parallel()
	sim, srv := startSim(t)
	sim.SetFaults(chathubsim.Faults{Latency: time.Minute})
	c := newClient(t, srv.URL)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() {
		_, err := c.Synchronize(ctx, []chathub.NewOperator{{OrganizationID: 24, Name: "Alex"}})
		done <- err
	}()
	// Cancel once the request is at the server.
	await.True(t, 10*time.Second, func() bool { return sim.Counters().Calls["synchronize"] == 1 }, "the call to reach the simulator")
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		// The request was sent, so ChatHub may still act on it.
		assertClass(t, err, chathub.ErrOutcomeUnknown)
	case <-time.After(10 * time.Second):
		t.Fatal("Synchronize did not return after cancel")
	}

}

func TestCancelWhileWaitingForRateLimit(t *testing.T) {
	t.Parallel()
	sim, srv := startSim(t)
	id := sim.AddOperator(24, "Mike", 0)
	slow := newClient(t, srv.URL, chathub.WithRateLimit(0.001))
	if err := slow.SetStatus(t.Context(), id, chathub.StatusActive); err != nil {
		t.Fatalf("first call: %v", err)
	}
	// The next call may not start for 1000s; it gives up without sending.
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	err := slow.SetStatus(ctx, id, chathub.StatusInactive)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a deadline while waiting", err)
	}
	assertClass(t, err, chathub.ErrTransient)
	if n := sim.Counters().Calls["status"]; n != 1 {
		t.Errorf("status calls = %d, want only the first", n)
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

func TestValidationBeforeAnyCall(t *testing.T) {
	t.Parallel()
	sim, srv := startSim(t)
	c := newClient(t, srv.URL)
	_, err := c.Synchronize(t.Context(), []chathub.NewOperator{
		{OrganizationID: 24, Name: "Fine"},
		{OrganizationID: 0, Name: "   "},
		{OrganizationID: 24, Name: strings.Repeat("é", 101)},
		{OrganizationID: 24, Name: "Tab\there"},
	})
	assertClass(t, err, chathub.ErrInvalid)
	var got []string
	for _, e := range err.(interface{ Unwrap() error }).Unwrap().(interface{ Unwrap() []error }).Unwrap() {
		var v *chathub.ValidationError
		if !errors.As(e, &v) {
			t.Fatalf("%v is not a *ValidationError", e)
		}
		got = append(got, v.Error())
	}
	want := []string{
		"item 1: organizationId must be a positive integer",
		"item 1: name must not be blank",
		"item 2: name must be at most 100 characters",
		"item 3: name must not contain control characters",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("problems =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err := c.SetStatus(t.Context(), 5, 3); !errors.Is(err, chathub.ErrInvalid) {
		t.Errorf("SetStatus(5, 3) = %v, want ErrInvalid", err)
	}
	if calls := sim.Counters().Calls; len(calls) != 0 {
		t.Errorf("calls = %v, want none for invalid data", calls)
	}
}

func TestNewClientRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ url, token string }{
		{"", token},
		{"ftp://chat.example", token},
		{"https://", token},
		{"https://user:" + token + "@chat.example", token},
		{"https://chat.example?x=1", token},
		{"https://chat.example", "  "},
		{"https://chat.example", "a\nb"},
	} {
		_, err := chathub.NewClient(tt.url, tt.token)
		if err == nil {
			t.Errorf("NewClient(%q) succeeded, want an error", tt.url)
		} else if strings.Contains(err.Error(), token) {
			t.Errorf("error carries the token: %v", err)
		}
	}
	if _, err := chathub.NewClient("https://chat.example", token, chathub.WithTimeout(0)); err == nil {
		t.Error("a zero timeout was accepted")
	}
}

func TestClientNeverPrintsToken(t *testing.T) {
	t.Parallel()
	c, err := chathub.NewClient("https://chat.example/base/", token)
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(verb, c); strings.Contains(s, token) {
			t.Errorf("%s of the client shows the token: %s", verb, s)
		}
	}
}
