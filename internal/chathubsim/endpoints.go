package chathubsim

// The three endpoints of the operator API, and their answers.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

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
