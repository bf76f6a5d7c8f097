package chathub_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

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

// TestNameIndexFollowsWrites: FindByNames answers from the index of the
// last list while it is fresh. The client's own creates are not filed
// (each is claimed by its employee at once, so no other hire adopts it)
// but counted, as are the statuses it changes; a create with an unknown
// outcome drops the index, and the next lookup lists afresh;
// ListOperators always asks ChatHub.
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
	active := func() int {
		t.Helper()
		n, err := c.CountActive(ctx, 24)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for range 3 {
		if got := find(); len(got["mike wilson"]) != 1 || got["mike wilson"][0].ID != id {
			t.Fatalf("found %+v, want Mike by a case-insensitive name", got)
		}
	}
	if n := sim.Counters().Calls["list"]; n != 1 {
		t.Fatalf("list calls = %d, want 1 while the index is fresh", n)
	}
	if _, err := c.Synchronize(ctx, []chathub.NewOperator{{OrganizationID: 24, Name: "New"}}); err != nil {
		t.Fatal(err)
	}
	if got, n := find(), active(); len(got["new"]) != 0 || n != 2 {
		t.Errorf("after Synchronize: %+v and %d active, want New counted, not filed for adoption", got, n)
	}
	if err := c.ChangeStatus(ctx, 24, id, chathub.StatusActive, chathub.StatusDeleted); err != nil {
		t.Fatal(err)
	}
	if n := active(); n != 1 {
		t.Errorf("after deleting Mike: %d active, want 1", n)
	}
	if n := sim.Counters().Calls["list"]; n != 1 {
		t.Errorf("list calls = %d, want still 1: successful writes need no list", n)
	}
	sim.SetFaults(chathubsim.Faults{SyncDropRate: 1})
	if _, err := c.Synchronize(ctx, []chathub.NewOperator{{OrganizationID: 24, Name: "Lost"}}); !errors.Is(err, chathub.ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want outcome unknown", err)
	}
	sim.SetFaults(chathubsim.Faults{})
	if got := find(); len(got["lost"]) != 1 || len(got["new"]) != 1 || len(got["mike wilson"]) != 0 || sim.Counters().Calls["list"] != 2 {
		t.Errorf("after an unknown outcome: %+v from %d list calls, want Lost and New (Mike deleted) from a fresh list", got, sim.Counters().Calls["list"])
	}
	if _, err := c.FindByNames(ctx, 24, names, true); err != nil || sim.Counters().Calls["list"] != 3 {
		t.Errorf("fresh: %v, %d list calls, want a list call", err, sim.Counters().Calls["list"])
	}
	if ops, err := c.ListOperators(ctx, 24); err != nil || len(ops) != 3 || sim.Counters().Calls["list"] != 4 {
		t.Errorf("ListOperators: %d operators, %v; want all 3 from ChatHub", len(ops), err)
	}
}

// TestNameIndexSharedByRounds: batches list, read, create and count in one
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
				// fresh: a new list, read, then shared with the others; it
				// lists what was just created.
				found, err := c.FindByNames(ctx, 24, []string{name}, i%2 == 0)
				if err == nil && i%2 == 0 && len(found[chathub.NameKey(name)]) != 1 {
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
