package chathub

import (
	"slices"
	"sync"
	"time"
)

// listCache keeps each organization's operator list for a while, as the API
// docs advise; the client's own writes invalidate it.
type listCache struct {
	ttl time.Duration

	mu      sync.Mutex
	entries map[int]cacheEntry
	// gen counts invalidations, so that a list fetched while a write was
	// under way is not stored as fresh.
	gen uint64
}

type cacheEntry struct {
	ops     []Operator
	fetched time.Time
}

func newListCache(ttl time.Duration) *listCache {
	return &listCache{ttl: ttl, entries: make(map[int]cacheEntry)}
}

// get returns a copy of the organization's list while it is fresh.
func (c *listCache) get(orgID int) ([]Operator, bool) {
	if c.ttl <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[orgID]
	if !ok || time.Since(e.fetched) > c.ttl {
		return nil, false
	}
	return slices.Clone(e.ops), true
}

// generation returns a token for put: a list is stored only if nothing was
// invalidated since the token was taken.
func (c *listCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *listCache) put(orgID int, ops []Operator, fetched time.Time, gen uint64) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	c.entries[orgID] = cacheEntry{ops: slices.Clone(ops), fetched: fetched}
}

func (c *listCache) invalidate(orgID int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.entries, orgID)
}

// update changes a cached list in place after a write whose effect is
// known, so that a burst of writes does not cost a list call each.
func (c *listCache) update(orgID int, change func([]Operator) []Operator) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if e, ok := c.entries[orgID]; ok {
		e.ops = change(e.ops)
		c.entries[orgID] = e
	}
}

// updateOperator sets an operator's status in every list that holds it.
func (c *listCache) updateOperator(id int64, status Status) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for org, e := range c.entries {
		for i := range e.ops {
			if e.ops[i].ID == id {
				e.ops[i].Status = status
				c.entries[org] = e
			}
		}
	}
}

// invalidateOperator drops every list that holds the operator, or every
// list when none is known to hold it.
func (c *listCache) invalidateOperator(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	found := false
	for org, e := range c.entries {
		if _, ok := FindByID(e.ops, id); ok {
			delete(c.entries, org)
			found = true
		}
	}
	if !found {
		clear(c.entries)
	}
}
