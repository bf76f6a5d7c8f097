// Package chathubsim is an in-memory ChatHub operator API with fault
// injection, for tests, the demo and benchmarks. It behaves as the API docs
// describe: known organizations, increasing operator ids, duplicate names
// accepted, a 400 for the whole batch when any item is invalid, 401 for a
// wrong token.
package chathubsim

import (
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// maxArrivals bounds the arrival times kept for Arrivals and the rate limit.
const maxArrivals = 1 << 20

// maxBody caps a request body.
const maxBody = 16 << 20

// Operator is an operator as the simulator stores it.
type Operator struct {
	ID             int64  `json:"id"`
	Name           string `json:"name"`
	Status         int    `json:"status"`
	OrganizationID int    `json:"-"`
}

// Faults are injected into answers. Rates are shares of calls, 0 to 1,
// drawn independently per call. The zero value injects nothing.
type Faults struct {
	// Latency delays every answer; with LatencyMax above it, each answer
	// is delayed by a time drawn evenly between the two, as a real API's
	// answers vary.
	Latency, LatencyMax time.Duration
	// StatusLatency delays status calls further (before they act), so
	// that a test can catch a worker between a create and the status
	// change that follows it.
	StatusLatency time.Duration
	// ErrorRate answers 503 without acting.
	ErrorRate float64
	// ThrottleRate answers 429 without acting.
	ThrottleRate float64
	// RetryAfter is sent with every 429 (0: no header); as an HTTP date
	// when RetryAfterAsDate is set.
	RetryAfter       time.Duration
	RetryAfterAsDate bool
	// Unauthorized answers every call 401, as an expired token would.
	Unauthorized bool
	// SyncDropRate and StatusDropRate apply the change, then close the
	// connection without answering: a response lost after the commit.
	SyncDropRate   float64
	StatusDropRate float64
	// RateLimit answers 429 to a call that would make the last second hold
	// more than RateLimit calls (0: no limit). RateLimitSlack shortens that
	// second, to absorb the network's jitter between client and server.
	RateLimit      int
	RateLimitSlack time.Duration
	// DeletedFinal refuses (400) to change the status of a deleted
	// operator, as a ChatHub that cannot restore one would.
	DeletedFinal bool
	// ReverseSyncAnswer answers synchronize with the created operators in
	// reverse order, as an API that does not keep request order might.
	ReverseSyncAnswer bool
	// RejectNames are names ChatHub refuses for reasons of its own: a
	// synchronize call holding one gets a 400 for the whole batch.
	RejectNames []string
}

// Counters are what the simulator has seen.
type Counters struct {
	Calls         map[string]int // by endpoint: list, synchronize, status
	BatchSizes    []int          // items of each accepted synchronize call
	Throttled     int            // 429s served
	Unauthorized  int            // 401s served
	Dropped       int            // answers dropped after the commit
	ServerErrors  int            // 5xx served
	BadRequests   int            // 400s served
	CreatedByName map[string]int // operators created, by name
}

// Change is one change the simulator committed: an operator created or
// its status set, and when.
type Change struct {
	At         time.Time
	OperatorID int64
	Name       string
	Status     int
	Created    bool
}

// Server is the simulator; it is an http.Handler.
type Server struct {
	token string

	mu       sync.Mutex
	orgs     map[int]string
	ops      []Operator
	nextID   int64
	faults   Faults
	rng      *rand.Rand
	counters Counters
	arrivals []time.Time
	changes  []Change
}

// New returns a simulator that accepts token and knows the organizations
// (id to name).
func New(token string, orgs map[int]string) *Server {
	s := &Server{
		token:  token,
		orgs:   make(map[int]string),
		nextID: 100,
		rng:    rand.New(rand.NewPCG(1, 2)),
	}
	for id, name := range orgs {
		s.orgs[id] = name
	}
	s.counters = Counters{Calls: map[string]int{}, CreatedByName: map[string]int{}}
	return s
}

// SetFaults replaces the injected faults.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// Seed makes the random draws of faults repeatable.
func (s *Server) Seed(seed uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// AddOrganization makes an organization known.
func (s *Server) AddOrganization(id int, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orgs[id] = name
}

// Operators returns a copy of the organization's operators (all of them
// when orgID is 0).
func (s *Server) Operators(orgID int) []Operator {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Operator
	for _, op := range s.ops {
		if orgID == 0 || op.OrganizationID == orgID {
			out = append(out, op)
		}
	}
	return out
}

// Counters returns a copy of what the simulator has seen.
func (s *Server) Counters() Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.counters
	c.Calls = make(map[string]int, len(s.counters.Calls))
	for k, v := range s.counters.Calls {
		c.Calls[k] = v
	}
	c.CreatedByName = make(map[string]int, len(s.counters.CreatedByName))
	for k, v := range s.counters.CreatedByName {
		c.CreatedByName[k] = v
	}
	c.BatchSizes = slices.Clone(s.counters.BatchSizes)
	return c
}

// Changes returns every change committed, in order.
func (s *Server) Changes() []Change {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.changes)
}

// Arrivals returns the arrival time of every call, in order.
func (s *Server) Arrivals() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.arrivals)
}
