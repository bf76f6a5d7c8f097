package broker_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/broker"
	"github.com/chathub-operator-worker/worker/internal/employee"
)

// natsMaxPayload is NATS's default max_payload: a record must fit in one
// message of the bucket, with room for the message's headers.
const natsMaxPayload = 1 << 20

// TestLargestRecordFitsOneMessage: an employee's record filled with events
// dated ahead until one more fails is stored in one message, whatever the
// events' ids and names hold within the schema: short ids (the count is
// the bound), ids of 256 characters that the storage format escapes to six
// bytes each, or of 256 four-byte characters.
func TestLargestRecordFitsOneMessage(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	trace := "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	for _, tc := range []struct {
		name string
		id   func(i int) string
		text string // an employee id and a name, at their longest
	}{
		{"short ids", func(i int) string { return fmt.Sprint("c-", i) }, "Alex"},
		{"escaped ids", func(i int) string { return fmt.Sprintf("%04d", i) + strings.Repeat("<", 252) }, "<"},
		{"four-byte ids", func(i int) string { return fmt.Sprintf("%04d", i) + strings.Repeat("𝄞", 252) }, "𝄞"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			empID, name := strings.Repeat(tc.text, 256/len([]rune(tc.text))), strings.Repeat(tc.text, 100/len([]rune(tc.text)))
			ev := func(id string, k employee.Kind, at time.Time) employee.Event {
				return employee.Event{ID: id, Kind: k, Time: at, EmployeeID: empID, OrganizationID: 2147483647, Name: name}
			}
			var r employee.Record
			// Marks of events applied, each with a long id.
			seq := uint64(1 << 62)
			for i, k := range []employee.Kind{employee.Hire, employee.LeaveStart, employee.Transfer} {
				seq++
				r.Merge(ev(tc.id(9000+i), k, now.Add(time.Duration(i-10)*time.Minute)), seq, 1, trace, now)
			}
			r.Resolve(now)
			waiting := 0
			for i := 0; ; i++ {
				k := employee.LeaveStart
				if i%2 == 1 {
					k = employee.LeaveEnd
				}
				seq++
				v := r.Merge(ev(tc.id(i), k, now.Add(time.Duration(i+1)*time.Hour)), seq, 1, trace, now)
				if v.Kind == employee.Fail {
					break
				}
				waiting++
			}
			data, err := broker.EncodeRecord(r)
			if err != nil {
				t.Fatal(err)
			}
			if len(data) > natsMaxPayload-8<<10 {
				t.Errorf("%d events waiting: the record is %d bytes, more than one message holds", waiting, len(data))
			}
			t.Logf("%d events waiting: %d bytes", waiting, len(data))
		})
	}
}
