package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/cli"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/guard"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// guarded is the harness's configuration with the guard on.
func guarded(h *testenv.Harness, threshold string, minimum int, window time.Duration) config.Config {
	return h.Config(func(c *config.Config) {
		t, err := guard.ParseThreshold(threshold)
		if err != nil {
			panic(err)
		}
		c.GuardThreshold, c.GuardMin, c.GuardWindow = threshold, minimum, window
		c.Guard = guard.Rule{Threshold: t, Min: minimum, Window: window}
	})
}

// staff hires n employees of org and waits until they are applied.
func staff(t *testing.T, h *testenv.Harness, org, from, n int) {
	t.Helper()
	var events []testenv.Event
	for i := from; i < from+n; i++ {
		events = append(events, hire(i, org))
	}
	before := len(h.Results())
	h.PublishAsync(events)
	h.WaitResults(before+n, 30*time.Second)
}

func terminate(i int, at time.Time) testenv.Event {
	return testenv.Event{ID: fmt.Sprint("term-", i), Kind: "terminated", Employee: fmt.Sprint("E-", i), Org: 24, At: at}
}

// guardCLI runs worker guard with args and returns what it printed.
func guardCLI(t *testing.T, h *testenv.Harness, args ...string) (string, error) {
	t.Helper()
	var out testenv.SyncBuffer
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	err := cli.Guard(ctx, args, cli.Env{Stdout: &out, Stderr: &out, Environ: map[string]string{"NATS_URL": h.URL()}})
	return out.String(), err
}

// heldOrgs lists the organizations worker guard -json shows held,
// waiting for a person to decide.
func heldOrgs(t *testing.T, h *testenv.Harness) map[int]int {
	t.Helper()
	m := map[int]int{}
	for _, o := range guardList(t, h) {
		if o.Decision == nil {
			m[o.OrganizationID] = o.Held
		}
	}
	return m
}

// listed is an organization as worker guard -json lists it.
type listed struct {
	OrganizationID, Held int
	Decision             *guard.Decision
}

// guardList is what worker guard -json lists.
func guardList(t *testing.T, h *testenv.Harness) []listed {
	t.Helper()
	out, err := guardCLI(t, h, "-json")
	if err != nil {
		t.Fatal(err)
	}
	var list []listed
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("worker guard -json: %v\n%s", err, out)
	}
	return list
}

func statusOf(h *testenv.Harness, org int, name string) int {
	for _, op := range h.Sim.Operators(org) {
		if op.Name == name {
			return op.Status
		}
	}
	return -1
}
