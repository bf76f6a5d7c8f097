package broker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/employee"
)

// ClaimAll makes the claims at once: each key is created by an
// asynchronous publish that only succeeds if the key does not exist yet; a
// key that exists is read to see whose it is.
func (s *Store) ClaimAll(ctx context.Context, claims []employee.Claim) ([]bool, []error) {
	ours := make([]bool, len(claims))
	errs := make([]error, len(claims))
	futures := make([]jetstream.PubAckFuture, len(claims))
	for i, c := range claims {
		msg := nats.NewMsg(s.prefix + ClaimKey(c.Org, c.OperatorID))
		msg.Data = []byte(c.EmployeeID)
		msg.Header.Set(jetstream.ExpectedLastSubjSeqHeader, "0")
		var err error
		if futures[i], err = s.js.PublishMsgAsync(msg); err != nil {
			errs[i] = fmt.Errorf("cannot claim operator: %w", err)
		}
	}
	for i, f := range futures {
		if f == nil {
			continue
		}
		select {
		case <-f.Ok():
			ours[i] = true
		case err := <-f.Err():
			if !errors.Is(putError(err), employee.ErrConflict) {
				errs[i] = fmt.Errorf("cannot claim operator: %w", err)
				continue
			}
			c := claims[i]
			entry, err := s.kv.Get(ctx, ClaimKey(c.Org, c.OperatorID))
			if err != nil {
				errs[i] = fmt.Errorf("cannot read operator claim: %w", err)
				continue
			}
			ours[i] = string(entry.Value()) == c.EmployeeID
		case <-ctx.Done():
			errs[i] = fmt.Errorf("cannot claim operator: %w", ctx.Err())
		}
	}
	return ours, errs
}

// Claimed returns the operators of the organization that the store gives
// to an employee, with the employee's id.
func (s *Store) Claimed(ctx context.Context, org int) (map[int64]string, error) {
	out := map[int64]string{}
	prefix := "op." + strconv.Itoa(org) + "."
	err := s.watch(ctx, prefix+"*", func(e jetstream.KeyValueEntry) {
		if id, err := strconv.ParseInt(strings.TrimPrefix(e.Key(), prefix), 10, 64); err == nil {
			out[id] = string(e.Value())
		}
	})
	return out, err
}
