package guard_test

import (
	"errors"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/guard"
)

func TestParseThreshold(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want guard.Threshold
		ok   bool
	}{
		{"20%", guard.Threshold{Percent: 20}, true},
		{" 2.5 % ", guard.Threshold{Percent: 2.5}, true},
		{"50", guard.Threshold{Count: 50}, true},
		{"0", guard.Threshold{}, true},
		{"0%", guard.Threshold{}, true},
		{"-1", guard.Threshold{}, false},
		{"120%", guard.Threshold{}, false},
		{"many", guard.Threshold{}, false},
		{"", guard.Threshold{}, false},
	} {
		got, err := guard.ParseThreshold(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseThreshold(%q) = %+v, %v", tc.in, got, err)
		}
	}
}

func TestTrips(t *testing.T) {
	t.Parallel()
	pct := guard.Rule{Threshold: guard.Threshold{Percent: 20}, Min: 10}
	cnt := guard.Rule{Threshold: guard.Threshold{Count: 50}, Min: 10}
	for _, tc := range []struct {
		name          string
		rule          guard.Rule
		count, active int
		want          bool
	}{
		{"20% of 1000 is 200: 200 do not trip", pct, 200, 1000, false},
		{"201 of 1000 trip", pct, 201, 1000, true},
		{"never at GUARD_MIN or fewer", pct, 10, 20, false},
		{"above GUARD_MIN and the percentage", pct, 11, 20, true},
		{"a count", cnt, 51, 10_000, true},
		{"a count not exceeded", cnt, 50, 10, false},
		{"off", guard.Rule{Min: 10}, 10_000, 10_000, false},
	} {
		if got := tc.rule.Trips(tc.count, tc.active); got != tc.want {
			t.Errorf("%s: Trips(%d, %d) = %v", tc.name, tc.count, tc.active, got)
		}
	}
}

// TestDecide: a decision is recorded with who made it and why, starts a
// fresh window when it approves, and deciding the same way again finishes
// it instead of failing; deciding otherwise with nothing held fails.
func TestDecide(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	s := guard.State{OrganizationID: 24, Gen: 1, Tripped: &guard.Trip{Gen: 1, Held: 30}}
	d, again, err := s.Decide(true, "alice", "a planned reorganization", now)
	if err != nil || again || d.By != "alice" || d.Reason != "a planned reorganization" || d.Trip == nil || d.Trip.Held != 30 {
		t.Fatalf("approving: %+v again %v err %v", d, again, err)
	}
	if d, ok := s.Decided(1); !ok || !d.Approve || !s.WindowFrom.Equal(now) || s.Tripped != nil {
		t.Errorf("after approving: %+v", s)
	}
	if d, again, err := s.Decide(true, "bob", "", now.Add(time.Minute)); err != nil || !again || d.By != "alice" {
		t.Errorf("approving again: %+v again %v err %v, want alice's decision, to be finished", d, again, err)
	}
	if _, _, err := s.Decide(false, "bob", "", now); !errors.Is(err, guard.ErrNothingHeld) {
		t.Errorf("rejecting with nothing held: %v, want ErrNothingHeld", err)
	}
}

func TestWindow(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	var s guard.State
	s.AddApplied(3, now.Add(-90*time.Minute))
	s.AddApplied(2, now.Add(-59*time.Minute))
	s.AddApplied(1, now.Add(-time.Second))
	if n := s.AppliedSince(now, time.Hour); n != 3 {
		t.Errorf("applied within the hour: %d, want 3", n)
	}
	if len(s.Applied) != 2 {
		t.Errorf("kept %d buckets, want the 2 within the window", len(s.Applied))
	}
	s.WindowFrom = now.Add(-30 * time.Minute)
	if n := s.AppliedSince(now, time.Hour); n != 1 {
		t.Errorf("applied since the approval: %d, want 1", n)
	}
}
