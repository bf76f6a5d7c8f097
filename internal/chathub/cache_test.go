package chathub

import (
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestNameIndexProperty: after any mix of operators listed, created and
// changed (deleted ones dropped), the compact index answers like the
// list it replaces.
func TestNameIndexProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		idx := newNameIndex()
		model := map[int64]Operator{}
		names := []string{"Alex Brown", "alex brown ", "Emma Davis", "Mike", "MIKE", "Zoë"}
		next := int64(1)
		for range rapid.IntRange(0, 60).Draw(t, "steps") {
			switch rapid.IntRange(0, 2).Draw(t, "action") {
			case 0, 1:
				op := Operator{ID: next, Name: rapid.SampledFrom(names).Draw(t, "name"), Status: Status(rapid.IntRange(0, 2).Draw(t, "status"))}
				next++
				idx.add(op)
				if op.Status != StatusDeleted {
					model[op.ID] = op
				}
			case 2:
				if next == 1 {
					continue
				}
				id := rapid.Int64Range(1, next-1).Draw(t, "id")
				st := Status(rapid.IntRange(0, 2).Draw(t, "new status"))
				idx.setStatus(id, st)
				if op, ok := model[id]; ok {
					if st == StatusDeleted {
						delete(model, id)
					} else {
						op.Status = st
						model[id] = op
					}
				}
			}
		}
		found := idx.find(names)
		active := 0
		for _, op := range model {
			if op.Status == StatusActive {
				active++
			}
		}
		if idx.active != active {
			t.Fatalf("active %d, want %d", idx.active, active)
		}
		for _, n := range names {
			var want, got []string
			for _, op := range model {
				if NameKey(op.Name) == NameKey(n) {
					want = append(want, fmt.Sprint(op.ID, op.Status))
				}
			}
			for _, op := range found[NameKey(n)] {
				got = append(got, fmt.Sprint(op.ID, op.Status))
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(want, got) {
				t.Fatalf("%q: index %v, list %v", n, got, want)
			}
		}
	})
}
