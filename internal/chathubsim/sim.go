// Package chathubsim is an in-memory ChatHub operator API with fault
// injection, for tests, the demo and benchmarks. It behaves as the API docs
// describe: known organizations, increasing operator ids, duplicate names
// accepted, a 400 for the whole batch when any item is invalid, 401 for a
// wrong token.
package chathubsim

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
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
	// Latency delays every answer.
	Latency time.Duration
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

// MaxInWindow returns the most calls that arrived within any span of
// length window.
func MaxInWindow(arrivals []time.Time, window time.Duration) int {
	best, lo := 0, 0
	for hi := range arrivals {
		for arrivals[hi].Sub(arrivals[lo]) >= window {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// ServeHTTP answers the three documented endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	endpoint := ""
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/healthz":
		// Not ChatHub's: for a container healthcheck, without the token.
		fmt.Fprintln(w, "ok")
		return
	case r.Method == http.MethodGet && r.URL.Path == "/api/operator":
		endpoint = "list"
	case r.Method == http.MethodPost && r.URL.Path == "/api/operator/synchronize":
		endpoint = "synchronize"
	case r.Method == http.MethodPost && r.URL.Path == "/api/operator/status":
		endpoint = "status"
	default:
		http.NotFound(w, r)
		return
	}
	// Reading the whole body first lets the server notice a client that
	// hangs up during the latency below.
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return
	}
	f, fault := s.admit(endpoint, r)
	if f.Latency > 0 {
		select {
		case <-time.After(f.Latency):
		case <-r.Context().Done():
			return
		}
	}
	if fault != nil {
		fault(w)
		return
	}
	switch endpoint {
	case "list":
		s.list(w, r)
	case "synchronize":
		s.synchronize(w, body, f)
	case "status":
		s.status(w, body, f)
	}
}

// admit counts the call and decides, under the lock, which fault (if any)
// answers it instead of the endpoint.
func (s *Server) admit(endpoint string, r *http.Request) (Faults, func(http.ResponseWriter)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.counters.Calls[endpoint]++
	s.arrivals = append(s.arrivals, now)
	if len(s.arrivals) > maxArrivals {
		// A long-running simulator keeps the newer half.
		s.arrivals = slices.Delete(s.arrivals, 0, maxArrivals/2)
	}
	f := s.faults

	if r.Header.Get("Authorization") != "Bearer "+s.token || f.Unauthorized {
		s.counters.Unauthorized++
		return f, func(w http.ResponseWriter) {
			writeError(w, http.StatusUnauthorized, "Unauthorized: the company token is invalid or expired; request a new token")
		}
	}
	if f.RateLimit > 0 && s.recentArrivals(now, time.Second-f.RateLimitSlack) > f.RateLimit {
		s.counters.Throttled++
		return f, throttle(time.Second, false)
	}
	if f.ThrottleRate > 0 && s.rng.Float64() < f.ThrottleRate {
		s.counters.Throttled++
		return f, throttle(f.RetryAfter, f.RetryAfterAsDate)
	}
	if f.ErrorRate > 0 && s.rng.Float64() < f.ErrorRate {
		s.counters.ServerErrors++
		return f, func(w http.ResponseWriter) { writeError(w, http.StatusServiceUnavailable, "service unavailable") }
	}
	return f, nil
}

// recentArrivals counts the calls, this one included, that arrived within
// window before now.
func (s *Server) recentArrivals(now time.Time, window time.Duration) int {
	n := 0
	for i := len(s.arrivals) - 1; i >= 0 && now.Sub(s.arrivals[i]) < window; i-- {
		n++
	}
	return n
}

func throttle(after time.Duration, asDate bool) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		if after > 0 {
			if asDate {
				w.Header().Set("Retry-After", time.Now().Add(after).UTC().Format(http.TimeFormat))
			} else {
				w.Header().Set("Retry-After", strconv.Itoa(int((after+time.Second-1)/time.Second)))
			}
		}
		writeError(w, http.StatusTooManyRequests, "too many requests")
	}
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	org, err := strconv.Atoi(r.URL.Query().Get("organizationId"))
	s.mu.Lock()
	orgName, known := s.orgs[org]
	s.mu.Unlock()
	if err != nil || !known {
		s.badRequest(w, "organizationId is missing or unknown")
		return
	}
	type orgRef struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	}
	type listed struct {
		Operator
		Organization orgRef `json:"organization"`
	}
	out := []listed{}
	for _, op := range s.Operators(org) {
		out = append(out, listed{op, orgRef{org, orgName}})
	}
	writeJSON(w, out)
}

type newOperator struct {
	OrganizationID *int    `json:"organizationId"`
	Name           *string `json:"name"`
}

func (s *Server) synchronize(w http.ResponseWriter, body []byte, f Faults) {
	var items []newOperator
	if err := json.Unmarshal(body, &items); err != nil {
		s.badRequest(w, "invalid JSON: "+err.Error())
		return
	}
	s.mu.Lock()
	if problems := s.validate(items, f.RejectNames); len(problems) > 0 {
		s.mu.Unlock()
		s.badRequest(w, "validation failed: "+strings.Join(problems, "; "))
		return
	}
	created := make([]Operator, len(items))
	for i, it := range items {
		created[i] = s.create(*it.OrganizationID, *it.Name, 0)
	}
	s.counters.BatchSizes = append(s.counters.BatchSizes, len(items))
	drop := f.SyncDropRate > 0 && s.rng.Float64() < f.SyncDropRate
	s.mu.Unlock()
	if drop {
		s.drop(w)
		return
	}
	if f.ReverseSyncAnswer {
		slices.Reverse(created)
	}
	writeJSON(w, created)
}

// validate returns one problem per bad item, as the real API's 400 does for
// the whole batch. Call with s.mu held.
func (s *Server) validate(items []newOperator, rejected []string) []string {
	var problems []string
	for i, it := range items {
		if it.Name != nil && slices.Contains(rejected, *it.Name) {
			problems = append(problems, fmt.Sprintf("item %d: name %q is not allowed", i, *it.Name))
		}
		switch {
		case it.OrganizationID == nil:
			problems = append(problems, fmt.Sprintf("item %d: organizationId is required", i))
		case s.orgs[*it.OrganizationID] == "":
			problems = append(problems, fmt.Sprintf("item %d: organization %d does not exist", i, *it.OrganizationID))
		}
		switch {
		case it.Name == nil || strings.TrimSpace(*it.Name) == "":
			problems = append(problems, fmt.Sprintf("item %d: name is required", i))
		case utf8.RuneCountInString(*it.Name) > 100:
			problems = append(problems, fmt.Sprintf("item %d: name is longer than 100 characters", i))
		case strings.IndexFunc(*it.Name, unicode.IsControl) >= 0:
			problems = append(problems, fmt.Sprintf("item %d: name has control characters", i))
		}
	}
	return problems
}

// create stores a new operator. Call with s.mu held.
func (s *Server) create(orgID int, name string, status int) Operator {
	s.nextID++
	op := Operator{ID: s.nextID, Name: name, Status: status, OrganizationID: orgID}
	s.ops = append(s.ops, op)
	s.counters.CreatedByName[name]++
	s.changes = append(s.changes, Change{At: time.Now(), OperatorID: op.ID, Name: name, Status: status, Created: true})
	return op
}

func (s *Server) status(w http.ResponseWriter, raw []byte, f Faults) {
	var body struct {
		ID     *int64 `json:"id"`
		Status *int   `json:"status"`
	}
	if err := json.Unmarshal(raw, &body); err != nil || body.ID == nil || body.Status == nil {
		s.badRequest(w, "body must be {\"id\": int, \"status\": 0|1|2}")
		return
	}
	if *body.Status < 0 || *body.Status > 2 {
		s.badRequest(w, "status must be 0, 1 or 2")
		return
	}
	s.mu.Lock()
	i := slices.IndexFunc(s.ops, func(op Operator) bool { return op.ID == *body.ID })
	if i < 0 {
		s.mu.Unlock()
		s.badRequest(w, fmt.Sprintf("operator %d does not exist", *body.ID))
		return
	}
	if f.DeletedFinal && s.ops[i].Status == 2 && *body.Status != 2 {
		s.mu.Unlock()
		s.badRequest(w, fmt.Sprintf("operator %d is deleted", *body.ID))
		return
	}
	s.ops[i].Status = *body.Status
	s.changes = append(s.changes, Change{At: time.Now(), OperatorID: s.ops[i].ID, Name: s.ops[i].Name, Status: *body.Status})
	drop := f.StatusDropRate > 0 && s.rng.Float64() < f.StatusDropRate
	s.mu.Unlock()
	if drop {
		s.drop(w)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Server) badRequest(w http.ResponseWriter, msg string) {
	s.mu.Lock()
	s.counters.BadRequests++
	s.mu.Unlock()
	writeError(w, http.StatusBadRequest, msg)
}

// drop closes the connection without an answer, after the change was made.
func (s *Server) drop(w http.ResponseWriter) {
	s.mu.Lock()
	s.counters.Dropped++
	s.mu.Unlock()
	hj, ok := w.(http.Hijacker)
	if !ok {
		// HTTP/2 cannot hijack; abort the stream instead.
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": code, "message": msg})
}
