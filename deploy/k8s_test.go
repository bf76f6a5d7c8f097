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

// checkFiles checks that every file the worker is pointed at is mounted
// from the object want names for its variable ("Secret/name/key") and that
// the pod's user can read it, and that no other file variable is set.
func checkFiles(t *testing.T, docs []manifest.Doc, want map[string]string) {
	t.Helper()
	files, err := manifest.Files(docs)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range files {
		got[f.Var] = true
		if src := f.Kind + "/" + f.Name + "/" + f.Key; want[f.Var] != src {
			t.Errorf("%s=%s shows %s, want %s", f.Var, f.Path, src, want[f.Var])
		}
		if !f.Readable {
			t.Errorf("%s=%s: the worker cannot read it: %s", f.Var, f.Path, f.Why)
		}
	}
	for v := range want {
		if !got[v] {
			t.Errorf("%s is not set", v)
		}
	}
}

// TestKustomizeTokenReadable: the token file comes from Secret
// chathub-token and the pod's user can read it. (The base once mounted it
// root-owned with mode 0400 and no fsGroup, and the worker could not.)
func TestKustomizeTokenReadable(t *testing.T) {
	t.Parallel()
	checkFiles(t, renderBase(t), map[string]string{"CHATHUB_TOKEN_FILE": "Secret/chathub-token/token"})
}

// TestKustomizeAppliesNoSecret: the base holds no Secret, so applying it
// never overwrites the token someone put in the cluster, least of all with
// a placeholder.
func TestKustomizeAppliesNoSecret(t *testing.T) {
	t.Parallel()
	docs := renderBase(t)
	found, err := manifest.Placeholders(docs)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		t.Errorf("the base applies a placeholder: %s", f)
	}
	for _, d := range manifest.OfKind(docs, "Secret") {
		t.Errorf("the base applies Secret %s; Secrets are made by the user (docs/deploy.md)", d.Metadata.Name)
	}
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
