package manifest_test

import (
	"strings"
	"testing"

	"github.com/chathub-operator-worker/worker/deploy/internal/manifest"
)

// deployment is a Deployment whose pod has the security context sc, a
// volume vol mounted at /secrets, and CHATHUB_TOKEN_FILE=path.
func deployment(sc, vol, path string) []byte {
	return []byte(`
kind: Deployment
metadata: {name: w}
spec:
  template:
    spec:
      securityContext: ` + sc + `
      containers:
        - name: worker
          env: [{name: CHATHUB_TOKEN_FILE, value: ` + path + `}]
          volumeMounts: [{name: v, mountPath: /secrets}]
      volumes:
        - name: v
          ` + vol + `
`)
}

func TestFilesReadable(t *testing.T) {
	t.Parallel()
	const user = "{runAsUser: 65532, runAsGroup: 65532"
	for _, tc := range []struct {
		name, sc, vol, path string
		key                 string
		readable            bool
	}{
		// The base before fsGroup: the file is root:root 0400.
		{"owner only, no fsGroup", user + "}", "secret: {secretName: s, defaultMode: 0400}", "/secrets/token", "token", false},
		{"group read, no fsGroup", user + "}", "secret: {secretName: s, defaultMode: 0440}", "/secrets/token", "token", false},
		// fsGroup alone is not counted on: the mode must grant the read.
		{"owner only, fsGroup", user + ", fsGroup: 65532}", "secret: {secretName: s, defaultMode: 0400}", "/secrets/token", "token", false},
		{"group read, fsGroup", user + ", fsGroup: 65532}", "secret: {secretName: s, defaultMode: 0440}", "/secrets/token", "token", true},
		{"group read, other fsGroup", user + ", fsGroup: 1000}", "secret: {secretName: s, defaultMode: 0440}", "/secrets/token", "token", true},
		{"group read, fsGroup in supplementalGroups only", user + ", supplementalGroups: [0]}", "secret: {secretName: s, defaultMode: 0440}", "/secrets/token", "token", true},
		{"default mode 0644", user + "}", "secret: {secretName: s}", "/secrets/token", "token", true},
		{"decimal mode as kustomize renders it", user + ", fsGroup: 65532}", "secret: {secretName: s, defaultMode: 288}", "/secrets/token", "token", true},
		{"item mode wins", user + ", fsGroup: 65532}", "secret: {secretName: s, defaultMode: 0440, items: [{key: t, path: tok, mode: 0400}]}", "/secrets/tok", "t", false},
		{"item renames the key", user + ", fsGroup: 65532}", "secret: {secretName: s, defaultMode: 0440, items: [{key: t, path: tok}]}", "/secrets/tok", "t", true},
		{"configMap", user + "}", "configMap: {name: c, defaultMode: 0444}", "/secrets/ca.crt", "ca.crt", true},
		{"no runAsUser", "{fsGroup: 65532}", "secret: {secretName: s, defaultMode: 0440}", "/secrets/token", "token", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			docs, err := manifest.Parse(deployment(tc.sc, tc.vol, tc.path))
			if err != nil {
				t.Fatal(err)
			}
			files, err := manifest.Files(docs)
			if err != nil {
				t.Fatal(err)
			}
			if len(files) != 1 {
				t.Fatalf("files %+v, want one", files)
			}
			f := files[0]
			if f.Key != tc.key || f.Readable != tc.readable {
				t.Errorf("key %q readable %v (%s), want key %q readable %v", f.Key, f.Readable, f.Why, tc.key, tc.readable)
			}
		})
	}
}

func TestFilesUnmounted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, vol, path, want string }{
		{"outside the mount", "secret: {secretName: s}", "/elsewhere/token", "no volume is mounted there"},
		{"not among the items", "secret: {secretName: s, items: [{key: a, path: a}]}", "/secrets/token", "no item at token"},
		{"emptyDir", "emptyDir: {}", "/secrets/token", "neither a Secret nor a ConfigMap"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			docs, err := manifest.Parse(deployment("{runAsUser: 65532}", tc.vol, tc.path))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := manifest.Files(docs); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Files: %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestPlaceholders(t *testing.T) {
	t.Parallel()
	docs, err := manifest.Parse([]byte(`
kind: Secret
metadata: {name: a}
stringData: {token: replace-with-the-company-token}
---
kind: Secret
metadata: {name: b}
data: {token: MmY3YzFlOWE=}
`))
	if err != nil {
		t.Fatal(err)
	}
	found, err := manifest.Placeholders(docs)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || !strings.Contains(found[0], "Secret a") {
		t.Errorf("placeholders %q, want Secret a's alone", found)
	}
}
