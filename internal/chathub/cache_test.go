package chathub

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestNameIndexProperty: an index filed from any list (deleted operators
// dropped) answers like the list it replaces, and its count of active
// operators follows the creates and status changes made since.
func TestNameIndexProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		idx := newNameIndex()
		names := []string{"Alex Brown", "alex brown ", "Emma Davis", "Mike", "MIKE", "Zoë"}
		var listed []Operator
		for i := range rapid.IntRange(0, 60).Draw(t, "listed") {
			op := Operator{ID: int64(i + 1), Name: rapid.SampledFrom(names).Draw(t, "name"), Status: Status(rapid.IntRange(0, 2).Draw(t, "status"))}
			listed = append(listed, op)
			idx.add(op)
		}
		idx.sort()
		found := idx.find(names)
		for _, n := range names {
			var want, got []string
			for _, op := range listed {
				if op.Status != StatusDeleted && NameKey(op.Name) == NameKey(n) {
					want = append(want, fmt.Sprint(op.ID, op.Status))
				}
			}
			for _, op := range found[NameKey(n)] {
				got = append(got, fmt.Sprint(op.ID, op.Status))
				if op.Name != strings.TrimSpace(names[slices.IndexFunc(names, func(m string) bool { return NameKey(m) == NameKey(n) })]) {
					t.Fatalf("asked %q, named %q", n, op.Name)
				}
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(want, got) {
				t.Fatalf("%q: index %v, list %v", n, got, want)
			}
		}
		// Creates and status changes since the list move the count.
		active := 0
		for _, op := range listed {
			if op.Status == StatusActive {
				active++
			}
		}
		c := newNameCache(time.Minute)
		c.put(24, idx, time.Now(), c.generation())
		for range rapid.IntRange(0, 20).Draw(t, "changes") {
			if rapid.Bool().Draw(t, "create") {
				st := Status(rapid.IntRange(0, 1).Draw(t, "created status"))
				c.added(24, []Operator{{ID: 1000, Name: "New", Status: st}})
				if st == StatusActive {
					active++
				}
				continue
			}
			from, to := Status(rapid.IntRange(0, 2).Draw(t, "from")), Status(rapid.IntRange(0, 2).Draw(t, "to"))
			c.statusChanged(24, from, to)
			switch {
			case from == to:
			case from == StatusActive:
				active--
			case to == StatusActive:
				active++
			}
		}
		if n, ok := c.active(24); !ok || n != active {
			t.Fatalf("active %d (%v), want %d", n, ok, active)
		}
	})
}

// TestNameCacheKeepsFewOrganizations: past its bound, the organization
// used least recently goes.
func TestNameCacheKeepsFewOrganizations(t *testing.T) {
	c := newNameCache(time.Minute)
	c.max = 2
	for org := 1; org <= 3; org++ {
		c.put(org, newNameIndex(), time.Now(), c.generation())
		if org == 2 {
			c.lookup(1, nil) // 1 was used after 2
		}
	}
	if _, ok := c.lookup(2, nil); ok {
		t.Error("organization 2, used least recently, is still kept")
	}
	for _, org := range []int{1, 3} {
		if _, ok := c.lookup(org, nil); !ok {
			t.Errorf("organization %d was evicted", org)
		}
	}
}
