package broker

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/employee"
)

// intentPrefix begins the keys of the notes kept while a synchronize call
// may be under way: intent.<org>.<unique id>, one per call.
const intentPrefix = "intent."

// Intend notes the creates of one synchronize call in org.
func (s *Store) Intend(ctx context.Context, org int, creates []employee.Intent) (string, error) {
	data, err := json.Marshal(creates)
	if err != nil {
		return "", err
	}
	key := intentPrefix + strconv.Itoa(org) + "." + nats.NewInbox()[len(nats.InboxPrefix):]
	if _, err := s.kv.Put(ctx, key, data); err != nil {
		return "", fmt.Errorf("cannot note the creates before synchronize: %w", err)
	}
	return key, nil
}

// Forget drops a note.
func (s *Store) Forget(ctx context.Context, key string) error {
	if err := s.kv.Purge(ctx, key); err != nil {
		return fmt.Errorf("cannot drop the note of creates: %w", err)
	}
	return nil
}

// Intents calls each with every note kept, and when it was written.
func (s *Store) Intents(ctx context.Context, each func(key string, org int, at time.Time, creates []employee.Intent)) error {
	return s.watch(ctx, intentPrefix+"*.*", func(e jetstream.KeyValueEntry) {
		orgPart, _, _ := strings.Cut(strings.TrimPrefix(e.Key(), intentPrefix), ".")
		org, err := strconv.Atoi(orgPart)
		var creates []employee.Intent
		if err == nil && json.Unmarshal(e.Value(), &creates) == nil {
			each(e.Key(), org, e.Created(), creates)
		}
	})
}
