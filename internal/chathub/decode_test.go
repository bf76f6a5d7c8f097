package chathub_test

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/chathub-operator-worker/worker/internal/chathub"
)

// FuzzDecodeOperators: whatever ChatHub sends, decoding neither panics nor
// accepts a body that is not valid UTF-8, and what it accepts survives a
// round trip.
func FuzzDecodeOperators(f *testing.F) {
	f.Add([]byte(`[{"id": 101, "name": "John Smith", "status": 0, "organization": {"id": 24, "name": "Customer Support"}}]`))
	f.Add([]byte(`[{"id": 104, "name": "Alex Brown", "status": 0}, {"id": 105, "name": "Emma Davis", "status": 0}]`))
	f.Add([]byte(``))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"message": "bad"}`))
	f.Add([]byte("[{\"name\": \"\xff\"}]"))
	f.Fuzz(func(t *testing.T, body []byte) {
		ops, err := chathub.DecodeOperators(body)
		if err != nil {
			return
		}
		if !utf8.Valid(body) {
			t.Fatalf("accepted invalid UTF-8: %q", body)
		}
		again, err := json.Marshal(ops)
		if err != nil {
			t.Fatalf("cannot re-encode %+v: %v", ops, err)
		}
		back, err := chathub.DecodeOperators(again)
		if err != nil || len(back) != len(ops) {
			t.Fatalf("round trip of %s: %+v, %v", again, back, err)
		}
	})
}

func TestHelpers(t *testing.T) {
	t.Parallel()
	ops := []chathub.Operator{
		{ID: 101, Name: "John Smith", Status: chathub.StatusActive},
		{ID: 102, Name: "Sarah Johnson", Status: chathub.StatusDeleted},
		{ID: 103, Name: "Mike Wilson", Status: chathub.StatusInactive},
		{ID: 104, Name: " john SMITH", Status: chathub.StatusActive},
	}
	if got := chathub.ActiveOperators(ops); len(got) != 2 || got[0].ID != 101 || got[1].ID != 104 {
		t.Errorf("ActiveOperators = %+v", got)
	}
	if got := chathub.FindByName(ops, "JOHN smith "); len(got) != 2 {
		t.Errorf("FindByName found %d, want 2 (case-insensitive)", len(got))
	}
	if got := chathub.Statistics(ops); got != (chathub.Stats{Total: 4, Active: 2, Inactive: 1, Deleted: 1}) {
		t.Errorf("Statistics = %+v", got)
	}
	if op, ok := chathub.FindByID(ops, 103); !ok || op.Name != "Mike Wilson" {
		t.Errorf("FindByID(103) = %+v, %v", op, ok)
	}
}
