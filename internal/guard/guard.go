// Package guard is the mass-offboarding guard: per
// organization, deactivations applied within a window plus those waiting
// are counted, and past a threshold none of the waiting ones is applied
// until a person decides. It holds the rule and the organization's state;
// the leading worker's pipeline keeps the state in KV and applies the rule.
package guard

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Threshold is GUARD_THRESHOLD: a count of deactivations, or a percentage
// of the organization's active operators; the zero value turns the guard
// off.
type Threshold struct {
	Count   int
	Percent float64
}

// ParseThreshold reads "50", "20%" or "0".
func ParseThreshold(s string) (Threshold, error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || v < 0 || v > 100 || math.IsNaN(v) {
			return Threshold{}, errors.New("a percentage must be a number from 0 to 100, such as 20%")
		}
		return Threshold{Percent: v}, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		return Threshold{}, errors.New("must be a whole number of deactivations (50), a percentage of the organization's active operators (20%), or 0 to turn the guard off")
	}
	return Threshold{Count: v}, nil
}

// Off reports whether the guard is turned off.
func (t Threshold) Off() bool { return t.Count == 0 && t.Percent == 0 }

func (t Threshold) String() string {
	if t.Percent > 0 {
		return strconv.FormatFloat(t.Percent, 'f', -1, 64) + "%"
	}
	return strconv.Itoa(t.Count)
}

// Limit is how many deactivations the threshold allows in an organization
// with active operators.
func (t Threshold) Limit(active int) int {
	if t.Percent > 0 {
		return int(math.Floor(t.Percent / 100 * float64(active)))
	}
	return t.Count
}

// Rule is the guard's configuration.
type Rule struct {
	Threshold Threshold
	// Min: the guard never trips at this many deactivations or fewer.
	Min int
	// Window is the rolling window the count covers.
	Window time.Duration
}

// Trips reports whether count deactivations (applied within the window
// plus waiting) in an organization with active operators exceed the
// threshold.
func (r Rule) Trips(count, active int) bool {
	return !r.Threshold.Off() && count > r.Min && count > r.Threshold.Limit(active)
}

// Trip is an organization's guard that tripped and waits for a person.
type Trip struct {
	Gen       uint64        `json:"gen"`
	Since     time.Time     `json:"since"`
	Held      int           `json:"held"`
	Threshold int           `json:"threshold"`
	Rule      string        `json:"rule"` // GUARD_THRESHOLD as set
	Window    time.Duration `json:"window"`
	// EmployeeIDs are the first 100 held when it tripped.
	EmployeeIDs []string `json:"employeeIds"`
	// Alerted: the trip's alert is stored. Until it is, the worker that
	// leads publishes it again.
	Alerted bool `json:"alerted,omitempty"`
}

// Decision is what a person decided about a trip, who, when and why.
type Decision struct {
	Gen     uint64    `json:"gen"`
	Approve bool      `json:"approve"`
	At      time.Time `json:"at"`
	By      string    `json:"by,omitempty"`
	Reason  string    `json:"reason,omitempty"`
	// Trip is the trip decided about.
	Trip *Trip `json:"trip,omitempty"`
}

// State is an organization's guard, as kept in KV.
type State struct {
	OrganizationID int `json:"organizationId"`
	// Gen counts the trips so far.
	Gen uint64 `json:"gen"`
	// Tripped is set while a trip waits for a person.
	Tripped *Trip `json:"tripped,omitempty"`
	// Decisions are the last decisions, newest last.
	Decisions []Decision `json:"decisions,omitempty"`
	// WindowFrom: deactivations applied before it do not count (an
	// approval starts a fresh window).
	WindowFrom time.Time `json:"windowFrom"`
	// LastRegistered is when a deactivation last began to wait: the
	// decision waits until none has for a while, so that a burst is
	// counted whole.
	LastRegistered time.Time `json:"lastRegistered"`
	// Applied counts deactivations applied, per Unix millisecond, within
	// the window.
	Applied map[int64]int `json:"applied,omitempty"`
}

// AppliedSince counts the deactivations applied within window before now
// (and since WindowFrom), and forgets older ones.
func (s *State) AppliedSince(now time.Time, window time.Duration) int {
	from := max(now.Add(-window).UnixMilli(), s.WindowFrom.UnixMilli())
	n := 0
	for ms, k := range s.Applied {
		if ms < from {
			delete(s.Applied, ms)
			continue
		}
		n += k
	}
	return n
}

// AddApplied counts n deactivations applied at at.
func (s *State) AddApplied(n int, at time.Time) {
	if n == 0 {
		return
	}
	if s.Applied == nil {
		s.Applied = map[int64]int{}
	}
	s.Applied[at.UnixMilli()] += n
}

// keptDecisions bounds the decisions a State keeps.
const keptDecisions = 10

// Decided returns the decision about trip gen, if a person made one.
func (s *State) Decided(gen uint64) (Decision, bool) {
	for _, d := range s.Decisions {
		if d.Gen == gen {
			return d, true
		}
	}
	return Decision{}, false
}

// ErrNothingHeld: the organization's guard holds nothing to decide on.
var ErrNothingHeld = errors.New("holds no deactivations")

// Decide records a person's decision about the trip waiting; approving
// starts a fresh window. Deciding again what was decided last (the same
// way) is no error: it returns that decision with again set, so that an
// interrupted decision can be finished by running it again.
func (s *State) Decide(approve bool, by, reason string, now time.Time) (d Decision, again bool, err error) {
	if s.Tripped == nil {
		if n := len(s.Decisions); n > 0 && s.Decisions[n-1].Approve == approve {
			return s.Decisions[n-1], true, nil
		}
		return Decision{}, false, fmt.Errorf("organization %d %w", s.OrganizationID, ErrNothingHeld)
	}
	t := *s.Tripped
	s.Tripped = nil
	d = Decision{Gen: t.Gen, Approve: approve, At: now, By: by, Reason: reason, Trip: &t}
	s.Decisions = append(s.Decisions, d)
	if n := len(s.Decisions) - keptDecisions; n > 0 {
		s.Decisions = s.Decisions[n:]
	}
	if approve {
		s.WindowFrom = now
		s.Applied = nil
	}
	return d, false, nil
}

// Wait is one employee's deactivation the guard counts while it waits to
// be applied.
type Wait struct {
	EmployeeID string    `json:"employeeId"`
	Since      time.Time `json:"since"`
	// Held is the trip that holds it, 0 while it is not held.
	Held uint64 `json:"held,omitempty"`
}

// Verdict is the guard's word on one employee's deactivation.
type Verdict struct {
	// Wait: the guard has not decided yet (more deactivations of the
	// burst may be arriving); ask again at that time.
	Wait time.Time
	// Held is the trip that holds it until a person decides (0: none).
	Held uint64
	// Rejected: a person rejected the trip that held it.
	Rejected bool
}

// Go reports whether the deactivation may be applied.
func (v Verdict) Go() bool { return v.Wait.IsZero() && v.Held == 0 && !v.Rejected }
