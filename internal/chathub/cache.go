package chathub

import (
	"encoding/json"
	"fmt"
	"hash/maphash"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// nameCache keeps, per organization, its operators that are not deleted,
// filed by name: what adoption before a create needs, and no more. An
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

// slot is what the index keeps of an operator: 16 bytes, no name.
type slot struct {
	id     int64
	status Status
}

// nameIndex files an organization's operators by a 64-bit hash of their
// NameKey, so that an organization of 55,000 operators costs about 3 MiB
// rather than its whole list. A lookup gives back the name asked for.
type nameIndex struct {
	one     map[uint64]slot   // the one operator of a name
	more    map[uint64][]slot // names several operators share
	keyOf   map[int64]uint64
	active  int
	fetched time.Time
}

var nameSeed = maphash.MakeSeed()

func nameHash(key string) uint64 { return maphash.String(nameSeed, key) }

func newNameIndex() *nameIndex {
	return &nameIndex{one: map[uint64]slot{}, more: map[uint64][]slot{}, keyOf: map[int64]uint64{}}
}

func newNameCache(ttl time.Duration) *nameCache {
	return &nameCache{ttl: ttl, entries: make(map[int]*nameIndex)}
}

func (e *nameIndex) add(op Operator) {
	if op.Status == StatusDeleted {
		return
	}
	if _, ok := e.keyOf[op.ID]; ok {
		e.setStatus(op.ID, op.Status)
		return
	}
	h := nameHash(NameKey(op.Name))
	if _, taken := e.one[h]; !taken && e.more[h] == nil {
		e.one[h] = slot{op.ID, op.Status}
	} else {
		e.file(h, append(e.slots(h), slot{op.ID, op.Status}))
	}
	e.keyOf[op.ID] = h
	if op.Status == StatusActive {
		e.active++
	}
}

// setStatus changes an operator's status; deleted drops it.
func (e *nameIndex) setStatus(id int64, status Status) {
	h, ok := e.keyOf[id]
	if !ok {
		return
	}
	slots := e.slots(h)
	i := slices.IndexFunc(slots, func(s slot) bool { return s.id == id })
	if i < 0 {
		return
	}
	if slots[i].status == StatusActive {
		e.active--
	}
	if status == StatusActive {
		e.active++
	}
	if status != StatusDeleted {
		slots[i].status = status
		e.file(h, slots)
		return
	}
	delete(e.keyOf, id)
	e.file(h, slices.Delete(slots, i, i+1))
}

// file sets the operators filed under h.
func (e *nameIndex) file(h uint64, slots []slot) {
	switch len(slots) {
	case 0:
		delete(e.one, h)
		delete(e.more, h)
	case 1:
		delete(e.more, h)
		e.one[h] = slots[0]
	default:
		delete(e.one, h)
		e.more[h] = slots
	}
}

// slots are the operators filed under h.
func (e *nameIndex) slots(h uint64) []slot {
	if s, ok := e.one[h]; ok {
		return []slot{s}
	}
	return slices.Clone(e.more[h])
}

// find returns, per NameKey of names, the operators of that name, named
// as asked.
func (e *nameIndex) find(names []string) map[string][]Operator {
	out := make(map[string][]Operator, len(names))
	for _, n := range names {
		k := NameKey(n)
		if _, done := out[k]; done {
			continue
		}
		for _, s := range e.slots(nameHash(k)) {
			out[k] = append(out[k], Operator{ID: s.id, Name: strings.TrimSpace(n), Status: s.status})
		}
	}
	return out
}

// decodeStream files a list response's operators one at a time, as the
// body arrives, so that the list is never held whole in memory.
func (e *nameIndex) decodeStream(r io.Reader) error {
	dec := json.NewDecoder(r)
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return fmt.Errorf("the operator list is not a JSON array")
	}
	for dec.More() {
		var op Operator
		if err := dec.Decode(&op); err != nil {
			return err
		}
		e.add(op)
	}
	_, err := dec.Token()
	return err
}

// fresh returns the organization's index if it is within the TTL.
func (c *nameCache) fresh(orgID int) (*nameIndex, bool) {
	e, ok := c.entries[orgID]
	if !ok || time.Since(e.fetched) > c.ttl {
		delete(c.entries, orgID)
		return nil, false
	}
	return e, true
}

// lookup returns the operators of each name, if the organization's index
// is fresh.
func (c *nameCache) lookup(orgID int, names []string) (map[string][]Operator, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.fresh(orgID)
	if !ok {
		return nil, false
	}
	return e.find(names), true
}

// active counts the organization's active operators, if its index is
// fresh.
func (c *nameCache) active(orgID int) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.fresh(orgID)
	if !ok {
		return 0, false
	}
	return e.active, true
}

// generation returns a token for put: an index is stored only if nothing
// changed since the token was taken.
func (c *nameCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put files a freshly fetched index.
func (c *nameCache) put(orgID int, e *nameIndex, fetched time.Time, gen uint64) {
	if c.ttl <= 0 {
		return
	}
	e.fetched = fetched
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen == c.gen {
		c.entries[orgID] = e
	}
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
		e.setStatus(id, status)
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
