package chathubsim_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/chathubsim"
)

func TestMaxInWindow(t *testing.T) {
	t.Parallel()
	base := time.Unix(0, 0)
	at := func(ms ...int) []time.Time {
		var out []time.Time
		for _, m := range ms {
			out = append(out, base.Add(time.Duration(m)*time.Millisecond))
		}
		return out
	}
	tests := []struct {
		arrivals []time.Time
		want     int
	}{
		{nil, 0},
		{at(0), 1},
		{at(0, 200, 400, 600, 800, 1000), 5},
		{at(0, 200, 400, 600, 800, 999), 6},
		{at(0, 1, 2, 3000), 3},
	}
	for _, tt := range tests {
		if got := chathubsim.MaxInWindow(tt.arrivals, time.Second); got != tt.want {
			t.Errorf("MaxInWindow(%v) = %d, want %d", tt.arrivals, got, tt.want)
		}
	}
}

func post(t *testing.T, url, token, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestSimulatorBehavesAsDocumented(t *testing.T) {
	t.Parallel()
	sim := chathubsim.New("tok", map[int]string{24: "Support"})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	defer http.DefaultClient.CloseIdleConnections()

	// Duplicate names are accepted and make two operators.
	if r := post(t, srv.URL+"/api/operator/synchronize", "tok", `[{"organizationId":24,"name":"A"},{"organizationId":24,"name":"A"}]`); r.StatusCode != 200 {
		t.Fatalf("synchronize: %d", r.StatusCode)
	}
	// One bad item sinks the whole batch.
	if r := post(t, srv.URL+"/api/operator/synchronize", "tok", `[{"organizationId":24,"name":"B"},{"organizationId":7,"name":"C"}]`); r.StatusCode != 400 {
		t.Fatalf("batch with an unknown organization: %d, want 400", r.StatusCode)
	}
	if r := post(t, srv.URL+"/api/operator/status", "wrong", `{"id":101,"status":1}`); r.StatusCode != 401 {
		t.Fatalf("wrong token: %d, want 401", r.StatusCode)
	}
	if r := post(t, srv.URL+"/api/operator/status", "tok", `{"id":101,"status":2}`); r.StatusCode != 200 {
		t.Fatalf("status: %d", r.StatusCode)
	}
	ops := sim.Operators(24)
	if len(ops) != 2 || ops[0].Name != "A" || ops[0].Status != 2 || ops[1].Status != 0 || ops[1].ID <= ops[0].ID {
		t.Fatalf("operators = %+v, want two A's, the first deleted", ops)
	}
	c := sim.Counters()
	if c.Calls["synchronize"] != 2 || c.BadRequests != 1 || c.Unauthorized != 1 || len(c.BatchSizes) != 1 || c.BatchSizes[0] != 2 {
		t.Errorf("counters = %+v", c)
	}

	// The enforced rate limit answers 429 past the limit.
	sim.SetFaults(chathubsim.Faults{RateLimit: 2})
	codes := []int{}
	for range 4 {
		codes = append(codes, post(t, srv.URL+"/api/operator/status", "tok", `{"id":101,"status":0}`).StatusCode)
	}
	if codes[3] != http.StatusTooManyRequests || sim.Counters().Throttled == 0 {
		t.Errorf("codes = %v, want 429 past 2 calls a second", codes)
	}
}
