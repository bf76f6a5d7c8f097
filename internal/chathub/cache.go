package chathub

import (
	"cmp"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// nameCache keeps, per organization, the operators its last list showed
// that were not deleted, filed by name: what adoption before a create
// needs. An organization is listed again only when the index is older
// than the cache TTL (hand edits, another process), when a create's
// outcome is unknown (it may have made an operator), or when its index
// was evicted. The worker's own creates are not filed: each is claimed by
// its employee the moment it is made, so no other hire can adopt it; they
// count among the active operators, as do the statuses the worker sets.
type nameCache struct {
	ttl time.Duration
	// max bounds the organizations kept; the one used least recently goes.
	max int

	mu      sync.Mutex
	entries map[int]*nameIndex
	// gen counts changes, so that a list fetched while a write was under
	// way is not stored as fresh.
	gen uint64
}

// nameIndex is an organization's operators as listed, sorted by a 64-bit
// hash of their NameKey: 24 bytes an operator, no name, so that an
// organization of 300,000 operators costs about 7 MiB. A lookup gives
// back the name asked for.
type nameIndex struct {
	entries []indexEntry
	// active counts the active operators: listed, made since, and moved
	// to or from active by the worker since.
	active  int
	fetched time.Time
	used    time.Time
}

// indexEntry is one operator of an index.
type indexEntry struct {
	hash   uint64
	id     int64
	status Status
}

var nameSeed = maphash.MakeSeed()

func nameHash(key string) uint64 { return maphash.String(nameSeed, key) }

func newNameIndex() *nameIndex { return &nameIndex{} }

func newNameCache(ttl time.Duration) *nameCache {
	return &nameCache{ttl: ttl, max: defaultCacheOrgs, entries: make(map[int]*nameIndex)}
}

// defaultCacheOrgs bounds the organizations whose index is kept.
const defaultCacheOrgs = 64

// add files a listed operator; sort must follow before a lookup.
func (e *nameIndex) add(op Operator) {
	if op.Status == StatusDeleted {
		return
	}
	e.entries = append(e.entries, indexEntry{nameHash(NameKey(op.Name)), op.ID, op.Status})
	if op.Status == StatusActive {
		e.active++
	}
}

// sort makes the index ready for lookups.
func (e *nameIndex) sort() {
	slices.SortFunc(e.entries, func(a, b indexEntry) int { return cmp.Compare(a.hash, b.hash) })
	e.entries = slices.Clip(e.entries)
}

// find returns, per NameKey of names, the listed operators of that name,
// named as asked.
func (e *nameIndex) find(names []string) map[string][]Operator {
	out := make(map[string][]Operator, len(names))
	for _, n := range names {
		k := NameKey(n)
		if _, done := out[k]; done {
			continue
		}
		h := nameHash(k)
		i, _ := slices.BinarySearchFunc(e.entries, h, func(x indexEntry, h uint64) int { return cmp.Compare(x.hash, h) })
		for ; i < len(e.entries) && e.entries[i].hash == h; i++ {
			out[k] = append(out[k], Operator{ID: e.entries[i].id, Name: strings.TrimSpace(n), Status: e.entries[i].status})
		}
	}
	return out
}

// decode files a list response's operators one at a time, as the body
// arrives, so that the list is never held whole in memory; each (when
// not nil) sees every operator, deleted ones too.
func (e *nameIndex) decode(r io.Reader, each func(Operator)) error {
	dec := json.NewDecoder(r)
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return fmt.Errorf("%w: the operator list is not a JSON array", errBroken)
	}
	for dec.More() {
		var op Operator
		if err := dec.Decode(&op); err != nil {
			return err
		}
		if each != nil {
			each(op)
		}
		e.add(op)
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	e.sort()
	return nil
}

// fresh returns the organization's index if it is within the TTL.
func (c *nameCache) fresh(orgID int) (*nameIndex, bool) {
	e, ok := c.entries[orgID]
	if !ok || time.Since(e.fetched) > c.ttl {
		delete(c.entries, orgID)
		return nil, false
	}
	e.used = time.Now()
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

// put files a freshly fetched index, evicting the organization used
// least recently when too many are kept.
func (c *nameCache) put(orgID int, e *nameIndex, fetched time.Time, gen uint64) {
	if c.ttl <= 0 {
		return
	}
	e.fetched, e.used = fetched, time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	c.entries[orgID] = e
	for len(c.entries) > c.max {
		oldest := orgID
		for org, x := range c.entries {
			if x.used.Before(c.entries[oldest].used) {
				oldest = org
			}
		}
		delete(c.entries, oldest)
	}
}

func (c *nameCache) invalidate(orgID int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.entries, orgID)
}

// added counts operators the client just created.
func (c *nameCache) added(orgID int, ops []Operator) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if e, ok := c.entries[orgID]; ok {
		for _, op := range ops {
			if op.Status == StatusActive {
				e.active++
			}
		}
	}
}

// statusChanged counts an operator of the organization the client moved
// from one status to another.
func (c *nameCache) statusChanged(orgID int, from, to Status) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	e, ok := c.entries[orgID]
	switch {
	case !ok || from == to:
	case from == StatusActive:
		e.active--
	case to == StatusActive:
		e.active++
	}
}
