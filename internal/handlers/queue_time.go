package handlers

import (
	"container/heap"
	"context"
	"time"
)

// timerLoop makes slots ready when their time comes, until ctx is done.
func (q *queue) timerLoop(ctx context.Context) {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		q.mu.Lock()
		now := time.Now()
		for q.timers.Len() > 0 && !q.timers[0].at.After(now) {
			s := heap.Pop(&q.timers).(*slot)
			q.poke(s, now)
		}
		if q.timers.Len() > 0 {
			t.Reset(q.timers[0].at.Sub(now))
		}
		q.mu.Unlock()
		select {
		case <-t.C:
		case <-q.tick:
		case <-ctx.Done():
			return
		}
	}
}

// timerHeap orders slots by the time they wait for.
type timerHeap []*slot

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	s := x.(*slot)
	s.index = len(*h)
	*h = append(*h, s)
}
func (h *timerHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	s.index = -1
	return s
}
