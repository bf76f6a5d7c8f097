package kvstore_test

import (
	"errors"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/chathub-operator-worker/worker/internal/embedded"
	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/handlers"
	"github.com/chathub-operator-worker/worker/internal/kvstore"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRevisionsAndClaims(t *testing.T) {
	ns, err := embedded.Start(embedded.Options{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	kv, err := js.CreateKeyValue(t.Context(), jetstream.KeyValueConfig{Bucket: "b"})
	if err != nil {
		t.Fatal(err)
	}
	s := kvstore.New(js, kv)
	ctx := t.Context()
	rec := employee.Record{EmployeeID: "E 1.*>é", OrganizationID: 24, Name: "A"}

	revs, errs := s.PutAll(ctx, []handlers.Write{{Record: rec}, {Record: employee.Record{EmployeeID: "E2", OrganizationID: 24}}})
	if errs[0] != nil || errs[1] != nil || revs[0] == 0 {
		t.Fatalf("create: %v %v", revs, errs)
	}
	if _, errs := s.PutAll(ctx, []handlers.Write{{Record: rec}}); !errors.Is(errs[0], handlers.ErrConflict) {
		t.Errorf("second create: %v, want ErrConflict", errs[0])
	}
	got, rev, err := s.Get(ctx, rec.EmployeeID)
	if err != nil || rev != revs[0] || got.Name != "A" {
		t.Fatalf("get: %+v %d %v", got, rev, err)
	}
	rec.Name = "B"
	newRevs, errs := s.PutAll(ctx, []handlers.Write{{Record: rec, Revision: rev}})
	if errs[0] != nil {
		t.Fatalf("update: %v", errs[0])
	}
	if _, errs := s.PutAll(ctx, []handlers.Write{{Record: rec, Revision: rev}}); !errors.Is(errs[0], handlers.ErrConflict) {
		t.Errorf("update at a stale revision: %v, want ErrConflict", errs[0])
	}
	if _, rev, _ := s.Get(ctx, rec.EmployeeID); rev != newRevs[0] {
		t.Errorf("revision %d, want %d", rev, newRevs[0])
	}
	if _, rev, err := s.Get(ctx, "nobody"); rev != 0 || err != nil {
		t.Errorf("missing record: rev %d, %v", rev, err)
	}

	ours, errs := s.ClaimAll(ctx, []handlers.Claim{{OrganizationID: 24, OperatorID: 101, EmployeeID: "E1"}, {OrganizationID: 24, OperatorID: 102, EmployeeID: "E2"}})
	if errs[0] != nil || errs[1] != nil || !ours[0] || !ours[1] {
		t.Fatalf("ClaimAll: %v %v", ours, errs)
	}
	for _, c := range []struct {
		emp  string
		want bool
	}{{"E1", true}, {"E1", true}, {"E2", false}} {
		ours, errs := s.ClaimAll(ctx, []handlers.Claim{{OrganizationID: 24, OperatorID: 101, EmployeeID: c.emp}})
		if errs[0] != nil || ours[0] != c.want {
			t.Errorf("claim of 101 for %s = %v, %v; want %v", c.emp, ours[0], errs[0], c.want)
		}
	}
}
