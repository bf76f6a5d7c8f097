package broker_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/broker"
	"github.com/chathub-operator-worker/worker/internal/employee"
)

// TestReadsAtOnce: records asked for at once, as many looks do, come back
// right from batched reads: written ones at their revision, missing ones
// at revision 0, a deleted one empty at its marker's revision (so that
// the next write at that revision lands).
func TestReadsAtOnce(t *testing.T) {
	t.Parallel()
	_, js := jetStream(t)
	ctx := t.Context()
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "b"})
	if err != nil {
		t.Fatal(err)
	}
	store := broker.NewStore(js, kv)
	const n = 600
	var recs []employee.Versioned
	for i := range n / 2 {
		r := employee.New(fmt.Sprint("E", i))
		r.Org = i
		recs = append(recs, employee.Versioned{Record: &r})
	}
	revs, errs := store.PutAll(ctx, recs)
	for i, err := range errs {
		if err != nil || revs[i] == 0 {
			t.Fatalf("write %d: %d, %v", i, revs[i], err)
		}
	}
	if err := kv.Delete(ctx, broker.EmployeeKey("E0")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprint("E", i)
			rec, rev, err := store.Get(ctx, id)
			switch {
			case err != nil:
				t.Errorf("%s: %v", id, err)
			case i == 0:
				if rev <= revs[n/2-1] || rec.EmployeeID != "" {
					t.Errorf("%s deleted: %+v at %d, want an empty record at the marker's revision", id, rec, rev)
				}
				if _, err := store.Put(ctx, employee.New(id), rev); err != nil {
					t.Errorf("%s: write after the deletion at its revision: %v", id, err)
				}
			case i < n/2:
				if rev != revs[i] || rec.EmployeeID != id || rec.Org != i {
					t.Errorf("%s: %+v at %d, want its record at %d", id, rec, rev, revs[i])
				}
			case rev != 0 || rec.EmployeeID != "":
				t.Errorf("%s never written: %+v at %d", id, rec, rev)
			}
		})
	}
	wg.Wait()
}
