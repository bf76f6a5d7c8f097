package chathub

import (
	"sync"
	"time"
)

// nameCache keeps, per organization, its operators that are not deleted,
// filed by NameKey: what adoption before a create needs, and no more. An
// entry lives for the cache TTL (the API docs cache lists for a minute);
// the client's own writes keep it current, and a write whose outcome is
// unknown drops it.
type nameCache struct {
	ttl time.Duration

	mu      sync.Mutex
	entries map[int]*nameIndex
	// gen counts changes, so that a list fetched while a write was under
	// way is not stored as fresh.
	gen uint64
}

type nameIndex struct {
	byName  map[string][]Operator
	keyOf   map[int64]string
	fetched time.Time
}

func newNameCache(ttl time.Duration) *nameCache {
	return &nameCache{ttl: ttl, entries: make(map[int]*nameIndex)}
}

// lookup returns the operators of each name key, if the organization's
// index is fresh.
func (c *nameCache) lookup(orgID int, keys []string) (map[string][]Operator, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[orgID]
	if !ok || time.Since(e.fetched) > c.ttl {
		delete(c.entries, orgID)
		return nil, false
	}
	out := make(map[string][]Operator, len(keys))
	for _, k := range keys {
		if ops := e.byName[k]; len(ops) > 0 {
			out[k] = append([]Operator(nil), ops...)
		}
	}
	return out, true
}

// active counts the organization's active operators, if its index is
// fresh.
func (c *nameCache) active(orgID int) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[orgID]
	if !ok || time.Since(e.fetched) > c.ttl {
		return 0, false
	}
	n := 0
	for _, ops := range e.byName {
		for _, op := range ops {
			if op.Status == StatusActive {
				n++
			}
		}
	}
	return n, true
}

// generation returns a token for put: a list is stored only if nothing
// changed since the token was taken.
func (c *nameCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put files a freshly fetched list.
func (c *nameCache) put(orgID int, ops []Operator, fetched time.Time, gen uint64) {
	if c.ttl <= 0 {
		return
	}
	e := &nameIndex{byName: map[string][]Operator{}, keyOf: map[int64]string{}, fetched: fetched}
	for _, op := range ops {
		e.add(op)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen == c.gen {
		c.entries[orgID] = e
	}
}

func (e *nameIndex) add(op Operator) {
	if op.Status == StatusDeleted {
		return
	}
	k := NameKey(op.Name)
	op.Organization = nil
	e.byName[k] = append(e.byName[k], op)
	e.keyOf[op.ID] = k
}

func (c *nameCache) invalidate(orgID int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.entries, orgID)
}

// added files operators the client just created.
func (c *nameCache) added(orgID int, ops []Operator) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if e, ok := c.entries[orgID]; ok {
		for _, op := range ops {
			e.add(op)
		}
	}
}

// statusSet records an operator's new status in the index that holds it.
func (c *nameCache) statusSet(id int64, status Status) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, e := range c.entries {
		k, ok := e.keyOf[id]
		if !ok {
			continue
		}
		ops := e.byName[k]
		for i := range ops {
			if ops[i].ID != id {
				continue
			}
			if status == StatusDeleted {
				e.byName[k] = append(ops[:i:i], ops[i+1:]...)
				delete(e.keyOf, id)
			} else {
				ops[i].Status = status
			}
			break
		}
	}
}

// forgetOperator drops every index that holds the operator, or every
// index when none is known to hold it (it may have been deleted).
func (c *nameCache) forgetOperator(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	found := false
	for org, e := range c.entries {
		if _, ok := e.keyOf[id]; ok {
			delete(c.entries, org)
			found = true
		}
	}
	if !found {
		clear(c.entries)
	}
}
