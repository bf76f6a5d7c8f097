package deploy_test

import (
	"testing"

	"github.com/chathub-operator-worker/worker/deploy/internal/manifest"
)

// renderBase renders the kustomize base and decodes it.
func renderBase(t *testing.T) []manifest.Doc {
	t.Helper()
	docs, err := manifest.Parse(kustomize(t, "k8s"))
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

// TestKustomizePod: the base's pod keeps the security settings, probes,
// resources and spread that the Helm chart keeps too.
func TestKustomizePod(t *testing.T) {
	t.Parallel()
	docs := renderBase(t)
	set, err := manifest.WorkerEnv(docs)
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range manifest.CheckPod(docs, set) {
		t.Error(err)
	}
	for _, err := range manifest.CheckEnv(set, t.TempDir()) {
		t.Error(err)
	}
}
