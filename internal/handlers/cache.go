package handlers

import (
	"sync"

	"github.com/chathub-operator-worker/worker/internal/employee"
)

// recordCache remembers the records this worker last read or wrote, with
// their revisions, so that a batch can write without reading first. Every
// write is still checked against the revision: a stale entry costs a
// conflict and a fresh read, never a wrong write.
type recordCache struct {
	mu      sync.Mutex
	entries map[string]cachedRecord
	max     int
}

type cachedRecord struct {
	rec employee.Record
	rev uint64
}

func newRecordCache(max int) *recordCache {
	return &recordCache{entries: make(map[string]cachedRecord), max: max}
}

func (c *recordCache) get(id string) (employee.Record, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	return e.rec.Clone(), e.rev, ok
}

func (c *recordCache) put(id string, rec employee.Record, rev uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[id]; !ok && len(c.entries) >= c.max {
		// Full: forget one entry, any will do (map order is random).
		for k := range c.entries {
			delete(c.entries, k)
			break
		}
	}
	c.entries[id] = cachedRecord{rec: rec.Clone(), rev: rev}
}

func (c *recordCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, id)
}
