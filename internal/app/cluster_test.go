package app_test

import (
	"flag"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/chathubsim"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// clusterFull runs the long variant of the cluster test:
//
//	go test ./internal/app -run ClusterNodeLoss -v -args -cluster.full
var clusterFull = flag.Bool("cluster.full", false, "run the long 3-node cluster test (more events, every node restarted in turn)")

// TestClusterNodeLoss: a 3-node JetStream cluster (streams and KV with 3
// replicas) and 3 workers. NATS nodes are shut down mid-run and brought
// back; ChatHub converges, no operator is duplicated, and every event has
// exactly one result, read back from HR_RESULTS from its first message.
func TestClusterNodeLoss(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a 3-node cluster")
	}
	employees, restarts := 30, []int{2}
	if *clusterFull {
		employees, restarts = 150, []int{2, 0, 1}
	}
	h := testenv.NewCluster(t, 3)
	h.Sim.SetFaults(chathubsim.Faults{ErrorRate: 0.05, SyncDropRate: 0.1, StatusDropRate: 0.05})
	rng := rand.New(rand.NewPCG(3, 3))
	stories := genStories(rng, employees)
	// Leases last the default two minutes: the results must come well
	// within that, so no worker waits for another's lease to run out.
	cfg := h.Config(func(c *config.Config) { c.BatchMaxSize, c.LeaseTTL = 10, 2*time.Minute })
	for range 3 {
		h.Start(cfg)
	}
	var all []testenv.Event
	for _, s := range stories {
		all = append(all, s.events...)
	}
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	chunk := len(all) / (len(restarts) + 1)
	for i, node := range restarts {
		for _, e := range all[i*chunk : (i+1)*chunk] {
			h.PublishEvent(e)
		}
		h.StopNode(node)
		// Publishing goes on against the two nodes left.
		for _, e := range all[(i+1)*chunk : min((i+1)*chunk+chunk/2, len(all))] {
			h.PublishEvent(e)
		}
		h.StartNode(node)
	}
	for _, e := range all[len(restarts)*chunk+chunk/2:] {
		h.PublishEvent(e)
	}
	results := h.WaitResults(len(all), 90*time.Second)
	assertNoneFailed(t, results)
	if got := len(testenv.ByEventID(t, results)); got != len(all) {
		t.Errorf("%d events have results, want %d", got, len(all))
	}
	assertChatHub(t, h.Sim, stories)
	t.Logf("%d events, %d results, nodes restarted: %v; ChatHub calls %v", len(all), len(results), restarts, h.Sim.Counters().Calls)
}
