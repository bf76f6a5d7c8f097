package broker_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/broker"
	"github.com/chathub-operator-worker/worker/internal/employee"
)

// TestRecordRoundTrip: every field of a record survives the storage
// format.
func TestRecordRoundTrip(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	mark := func(k employee.Kind, id string, seq uint64) *employee.Mark {
		return &employee.Mark{Kind: k, Time: at, ID: id, Seq: seq}
	}
	rec := employee.Record{
		EmployeeID: "E 1.*>é", Hire: mark(employee.Hire, "h", 1), Leave: mark(employee.LeaveStart, "l", 2), LeaveStarted: true,
		Term: mark(employee.Termination, "t", 3), Latest: mark(employee.Transfer, "x", 4), Org: 25, Named: mark(employee.Transfer, "x", 4), Name: "Alex",
		Scheduled: []employee.Change{{ID: "s", Kind: employee.LeaveEnd, Time: at.Add(time.Hour), Seq: 5, Org: 26, Name: "N"}},
		Owed:      []employee.Owed{{ID: "s", Kind: employee.LeaveEnd, Time: at.Add(time.Hour), Seq: 5, Org: 26, Attempts: 2, Trace: "tp", Repeat: true}},
		Operator:  employee.Operator{ID: 101, Org: 24, Status: employee.StatusInactive, Unsure: true},
		Retired:   []employee.Operator{{ID: 99, Org: 23, Status: employee.StatusActive, Unsure: true}},
		Relist:    true, Pending: &employee.Pending{Org: 25, Name: "Alex", Until: at.Add(15 * time.Second)},
		Retry:   &employee.Retry{Attempts: 3, NextAt: at.Add(time.Minute), Err: "503"},
		Failure: "refused", Recent: []employee.Resolved{{ID: "h", Seq: 1, Outcome: employee.Applied, At: at}},
		Guard: &employee.Guarded{Since: at, Held: 7, Org: 24}, Due: at.Add(time.Minute),
	}
	data, err := broker.EncodeRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	got, err := broker.DecodeRecord(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rec) {
		t.Errorf("round trip:\n got %+v\nwant %+v\n%s", got, rec, data)
	}
}

// TestEarlierRecordsAreRead: a record an earlier version wrote (one
// organization, no mark of the newest event, an intent to create, a lease)
// reads as this version's.
func TestEarlierRecordsAreRead(t *testing.T) {
	t.Parallel()
	old := `{"employeeId":"E1","organizationId":24,"hire":{"time":"2026-11-23T09:00:00Z","id":"h1","seq":3},
		"name":"Alex Brown","leave":{"time":"2026-11-23T10:00:00Z","id":"l1","seq":4},"leaveStarted":true,
		"owed":[{"id":"l1","kind":"leave_started","time":"2026-11-23T10:00:00Z","seq":4,"attempts":1}],
		"operatorId":101,"operatorStatus":0,"pending":{"name":"Alex Brown","since":"2026-11-23T10:00:01Z"},
		"lease":{"owner":"w1","until":"2026-11-23T10:02:00Z"},"guard":{"since":"2026-11-23T10:00:01Z"}}`
	rec, err := broker.DecodeRecord([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case rec.Org != 24 || rec.Operator != (employee.Operator{ID: 101, Org: 24, Status: employee.StatusActive}):
		t.Errorf("organization and operator: %d %+v", rec.Org, rec.Operator)
	case rec.Latest == nil || rec.Latest.ID != "l1" || rec.Leave.Kind != employee.LeaveStart || rec.Hire.Kind != employee.Hire:
		t.Errorf("marks: latest %+v leave %+v", rec.Latest, rec.Leave)
	case rec.Named == nil || rec.Name != "Alex Brown" || rec.Owed[0].Org != 24:
		t.Errorf("name and owed: %+v %+v", rec.Named, rec.Owed)
	case rec.Pending == nil || *rec.Pending != (employee.Pending{Org: 24, Name: "Alex Brown"}):
		t.Errorf("the intent to create: %+v, want a pending create in 24", rec.Pending)
	case rec.Guard != nil:
		t.Errorf("guard %+v: an earlier version's mark of a counted deactivation is not a hold", rec.Guard)
	case rec.State().String() != "on leave":
		t.Errorf("state %s", rec.State())
	}
}
