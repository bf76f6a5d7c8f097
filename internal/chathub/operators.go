package chathub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/chathub-operator-worker/worker/internal/opname"
)

// ListOperators returns every operator of the organization, deleted ones
// included, asking ChatHub each time, and retries transient trouble within
// the retry window.
func (c *Client) ListOperators(ctx context.Context, orgID int) ([]Operator, error) {
	if orgID <= 0 {
		return nil, fmt.Errorf("cannot list operators: %w", &ValidationError{Field: "organizationId", Reason: "must be a positive integer"})
	}
	var ops []Operator
	err := c.list(ctx, orgID, func(op Operator) { ops = append(ops, op) }, nil)
	return ops, err
}

// Lookup lists the organization afresh and returns the operator with id,
// if ChatHub lists it.
func (c *Client) Lookup(ctx context.Context, orgID int, id int64) (Operator, bool, error) {
	var found Operator
	var ok bool
	err := c.list(ctx, orgID, func(op Operator) {
		if op.ID == id {
			found, ok = op, true
		}
	}, nil)
	return found, ok, err
}

// FindByNames returns, per NameKey of names, the organization's operators
// of that name that are not deleted. It answers from the organization's
// name index while it is fresh (see WithCacheTTL) and lists the
// organization otherwise, or always when fresh is set: after a create
// whose outcome is unknown, only a new list tells.
func (c *Client) FindByNames(ctx context.Context, orgID int, names []string, fresh bool) (map[string][]Operator, error) {
	if fresh {
		c.cache.invalidate(orgID)
	} else if found, ok := c.cache.lookup(orgID, names); ok {
		return found, nil
	}
	var found map[string][]Operator
	err := c.index(ctx, orgID, func(idx *nameIndex) { found = idx.find(names) })
	return found, err
}

// CountActive is how many of the organization's operators are active, from
// its name index while it is fresh, or from a new list.
func (c *Client) CountActive(ctx context.Context, orgID int) (int, error) {
	if n, ok := c.cache.active(orgID); ok {
		return n, nil
	}
	var n int
	err := c.index(ctx, orgID, func(idx *nameIndex) { n = idx.active })
	return n, err
}

// index lists the organization into a new name index and lets read take
// what it needs from it.
func (c *Client) index(ctx context.Context, orgID int, read func(*nameIndex)) error {
	return c.list(ctx, orgID, nil, read)
}

// list lists the organization, passing each operator to each (when not
// nil) as it is decoded and filing it in a new name index, lets read
// take what it needs while the index is still its own (when not nil),
// and then caches the index.
func (c *Client) list(ctx context.Context, orgID int, each func(Operator), read func(*nameIndex)) error {
	if orgID <= 0 {
		return fmt.Errorf("cannot list operators: %w", &ValidationError{Field: "organizationId", Reason: "must be a positive integer"})
	}
	gen := c.cache.generation()
	var l *listing
	err := c.retry(ctx, func() error {
		l = &listing{idx: newNameIndex(), each: each}
		return c.do(ctx, EndpointList, http.MethodGet, "/api/operator?organizationId="+strconv.Itoa(orgID), nil, l)
	})
	if err != nil {
		return fmt.Errorf("cannot list operators of organization %d: %w", orgID, err)
	}
	if read != nil {
		read(l.idx)
	}
	c.cache.put(orgID, l.idx, time.Now(), gen)
	return nil
}

// listing files a list answer in a name index as it arrives, and shows
// each operator to each.
type listing struct {
	idx  *nameIndex
	each func(Operator)
}

func (l *listing) decodeStream(r io.Reader) error {
	return l.idx.decode(r, l.each)
}

// Synchronize creates the operators, one per item, and returns what ChatHub
// says it created. It is not idempotent, so it is tried exactly once: on an
// error wrapping ErrOutcomeUnknown, ChatHub may have created some or all of
// them, and the caller must list the organization before trying again.
// Names are trimmed before they are sent.
func (c *Client) Synchronize(ctx context.Context, ops []NewOperator) ([]Operator, error) {
	if len(ops) == 0 {
		return nil, nil
	}
	if err := ValidateNewOperators(ops); err != nil {
		return nil, fmt.Errorf("cannot synchronize operators: %w", err)
	}
	body := make([]NewOperator, len(ops))
	for i, op := range ops {
		body[i] = NewOperator{OrganizationID: op.OrganizationID, Name: opname.Normalize(op.Name)}
	}
	var created []Operator
	if err := c.do(ctx, EndpointSynchronize, http.MethodPost, "/api/operator/synchronize", body, &created); err != nil {
		// What ChatHub holds now is unknown: forget the lists.
		for _, op := range body {
			c.cache.invalidate(op.OrganizationID)
		}
		return nil, fmt.Errorf("cannot synchronize %d operators: %w", len(ops), err)
	}
	c.addToCache(body, created)
	return created, nil
}

// addToCache files what synchronize created in the name indexes. When the
// answer does not match the request item by item, the indexes are dropped
// instead: what was made for which organization is then unsure.
func (c *Client) addToCache(req []NewOperator, created []Operator) {
	matched := len(created) == len(req)
	for i := 0; matched && i < len(req); i++ {
		matched = strings.EqualFold(strings.TrimSpace(created[i].Name), req[i].Name)
	}
	byOrg := map[int][]Operator{}
	for i, op := range req {
		if !matched {
			c.cache.invalidate(op.OrganizationID)
			continue
		}
		byOrg[op.OrganizationID] = append(byOrg[op.OrganizationID], created[i])
	}
	for org, ops := range byOrg {
		c.cache.added(org, ops)
	}
}

// SetStatus changes one operator's status. Setting a status is idempotent,
// so transient trouble is retried within the retry window.
func (c *Client) SetStatus(ctx context.Context, id int64, status Status) error {
	if id <= 0 {
		return fmt.Errorf("cannot set operator status: %w", &ValidationError{Field: "id", Reason: "must be a positive integer"})
	}
	if !status.Valid() {
		return fmt.Errorf("cannot set operator status: %w", &ValidationError{Field: "status", Reason: "must be 0, 1 or 2"})
	}
	body := struct {
		ID     int64  `json:"id"`
		Status Status `json:"status"`
	}{id, status}
	err := c.retry(ctx, func() error {
		return c.do(ctx, EndpointStatus, http.MethodPost, "/api/operator/status", body, nil)
	})
	if err != nil {
		return fmt.Errorf("cannot set operator %d to %s: %w", id, status, err)
	}
	return nil
}

// ChangeStatus is SetStatus for an operator of the organization whose
// status was from: the organization's count of active operators follows.
func (c *Client) ChangeStatus(ctx context.Context, orgID int, id int64, from, to Status) error {
	if err := c.SetStatus(ctx, id, to); err != nil {
		return err
	}
	c.cache.statusChanged(orgID, from, to)
	return nil
}

// retry runs an idempotent call with jittered exponential backoff until it
// succeeds, fails for good, the retry window closes or ctx is done. A 401
// is not retried here: the token will not heal by itself within seconds.
func (c *Client) retry(ctx context.Context, call func() error) error {
	if c.retryWindow == 0 {
		return call()
	}
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = 100 * time.Millisecond
	b.MaxInterval = 2 * time.Second
	b.MaxElapsedTime = c.retryWindow
	attempts := 0
	var last error
	err := backoff.RetryNotify(func() error {
		attempts++
		last = call()
		switch {
		case last == nil:
			return nil
		case errors.Is(last, ErrUnauthorized) || !Retryable(last):
			return backoff.Permanent(last)
		}
		return last
	}, backoff.WithContext(b, ctx), func(error, time.Duration) {})
	if err == nil || attempts == 1 {
		return err
	}
	if last != nil && !errors.Is(err, last) {
		err = errors.Join(last, err)
	}
	return fmt.Errorf("after %d attempts: %w", attempts, err)
}

// probeOrg is the organization CheckToken lists when given none: one that
// surely does not exist, so that the answer is a short 400 and never a
// large organization's whole list.
const probeOrg = math.MaxInt32

// CheckToken asks ChatHub once, bypassing cache and retries, whether it
// accepts the token: any answer but 401 means it does (an unknown
// organization's 400 included), unless the answer says the worker is
// misconfigured (see ErrMisconfigured). It returns an error wrapping
// ErrUnauthorized on those, and the transport's error when no answer came.
func (c *Client) CheckToken(ctx context.Context, orgID int) error {
	if orgID <= 0 {
		orgID = probeOrg
	}
	err := c.do(ctx, EndpointList, http.MethodGet, "/api/operator?organizationId="+strconv.Itoa(orgID), nil, nil)
	var apiErr *Error
	if err == nil || (errors.As(err, &apiErr) && apiErr.StatusCode != 0 && !errors.Is(apiErr, ErrUnauthorized)) {
		return nil
	}
	return fmt.Errorf("cannot check the token: %w", err)
}
