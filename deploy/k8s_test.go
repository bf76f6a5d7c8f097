package deploy_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// renderWith renders an overlay of the base with the given components of
// k8s/components, as a user's kustomization would list them.
func renderWith(t *testing.T, components ...string) []manifest.Doc {
	t.Helper()
	base, err := filepath.Abs("k8s")
	if err != nil {
		t.Fatal(err)
	}
	// kustomize takes only relative paths to other kustomizations.
	dir := t.TempDir()
	rel, err := filepath.Rel(dir, base)
	if err != nil {
		t.Fatal(err)
	}
	k := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - " + rel + "\ncomponents:\n"
	for _, c := range components {
		k += "  - " + filepath.Join(rel, "components", c) + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o600); err != nil {
		t.Fatal(err)
	}
	docs, err := manifest.Parse(kustomize(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

// checkFiles checks the files the worker is pointed at (see
// manifest.CheckFiles).
func checkFiles(t *testing.T, docs []manifest.Doc, want map[string]string) {
	t.Helper()
	for _, err := range manifest.CheckFiles(docs, want) {
		t.Error(err)
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

// TestKustomizeNATSComponents renders the base with the NATS components a
// user can enable, in the combinations the worker accepts: each variable is
// one the worker reads and its configuration validates, each file comes
// from the Secret the docs name, and the pod's user can read it.
func TestKustomizeNATSComponents(t *testing.T) {
	t.Parallel()
	token := "Secret/chathub-token/token"
	for _, tc := range []struct {
		components []string
		files      map[string]string
	}{
		{[]string{"nats-creds"}, map[string]string{"NATS_CREDS": "Secret/chathub-nats-creds/nats.creds"}},
		{[]string{"nats-nkey"}, map[string]string{"NATS_NKEY": "Secret/chathub-nats-nkey/nkey.seed"}},
		{[]string{"nats-tls-ca"}, map[string]string{"NATS_TLS_CA": "Secret/chathub-nats-tls/ca.crt"}},
		{[]string{"nats-creds", "nats-tls-ca", "nats-tls-client"}, map[string]string{
			"NATS_CREDS":    "Secret/chathub-nats-creds/nats.creds",
			"NATS_TLS_CA":   "Secret/chathub-nats-tls/ca.crt",
			"NATS_TLS_CERT": "Secret/chathub-nats-tls/tls.crt",
			"NATS_TLS_KEY":  "Secret/chathub-nats-tls/tls.key",
		}},
		{[]string{"nats-nkey", "nats-tls-client"}, map[string]string{
			"NATS_NKEY":     "Secret/chathub-nats-nkey/nkey.seed",
			"NATS_TLS_CERT": "Secret/chathub-nats-tls/tls.crt",
			"NATS_TLS_KEY":  "Secret/chathub-nats-tls/tls.key",
		}},
	} {
		t.Run(strings.Join(tc.components, "+"), func(t *testing.T) {
			t.Parallel()
			docs := renderWith(t, tc.components...)
			want := map[string]string{"CHATHUB_TOKEN_FILE": token}
			for k, v := range tc.files {
				want[k] = v
			}
			checkFiles(t, docs, want)
			set, err := manifest.WorkerEnv(docs)
			if err != nil {
				t.Fatal(err)
			}
			for _, err := range manifest.CheckEnv(set, t.TempDir()) {
				t.Error(err)
			}
			for _, err := range slices.Concat(manifest.CheckPod(docs, set), manifest.CheckSelectors(docs)) {
				t.Error(err)
			}
			if len(manifest.OfKind(docs, "Secret")) != 0 {
				t.Error("a component applies a Secret; the user makes them")
			}
		})
	}
}
