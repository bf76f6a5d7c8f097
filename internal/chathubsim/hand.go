package chathubsim

import "slices"

// The changes a person makes in ChatHub's own interface, behind the
// worker's back.

// AddOperator stores an operator directly, as if made before the worker ran,
// and returns its id.
func (s *Server) AddOperator(orgID int, name string, status int) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.create(orgID, name, status).ID
}

// SetStatus changes an operator's status as a person would in ChatHub's
// own interface, and reports whether the operator exists.
func (s *Server) SetStatus(id int64, status int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.ops, func(op Operator) bool { return op.ID == id })
	if i < 0 {
		return false
	}
	s.ops[i].Status = status
	return true
}

// Remove erases an operator, as if ChatHub no longer knew it, and reports
// whether it existed. The status call then answers 400 for it.
func (s *Server) Remove(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.ops)
	s.ops = slices.DeleteFunc(s.ops, func(op Operator) bool { return op.ID == id })
	return len(s.ops) < n
}
