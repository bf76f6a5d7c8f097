// Package opstatus is an operator's status as the contract and the ChatHub
// API share it: 0 active, 1 inactive, 2 deleted. It knows nothing else, so
// the domain and the API client can both use it without knowing each
// other (like opname for names).
package opstatus

// Status is an operator's status as ChatHub stores it.
type Status int

// The statuses ChatHub knows.
const (
	Active   Status = 0
	Inactive Status = 1
	Deleted  Status = 2
)

// String names the status for logs, results and tables.
func (s Status) String() string {
	switch s {
	case Active:
		return "active"
	case Inactive:
		return "inactive"
	case Deleted:
		return "deleted"
	}
	return "unknown"
}

// Valid reports whether ChatHub accepts s.
func (s Status) Valid() bool { return s >= Active && s <= Deleted }
