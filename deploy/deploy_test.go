// Package deploy_test checks the deployment files against the worker: the
// variables they set are ones the worker reads, the required ones are set,
// the Kubernetes base renders, and the image builds as the Dockerfile says.
package deploy_test

import (
	"bytes"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/chathub-operator-worker/worker/deploy/internal/manifest"
	"github.com/chathub-operator-worker/worker/internal/config"
)

// knownVars are the variables the worker reads.
func knownVars() map[string]bool { return manifest.KnownVars() }

// k8sEnv collects what the kustomize base sets: the ConfigMap's data and
// the container's env.
func k8sEnv(t *testing.T) map[string]string {
	t.Helper()
	set := map[string]string{}
	for _, name := range []string{"configmap.yaml", "deployment.yaml"} {
		raw, err := os.ReadFile(filepath.Join("k8s", name))
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		for {
			var doc struct {
				Kind string            `yaml:"kind"`
				Data map[string]string `yaml:"data"`
				Spec struct {
					Template struct {
						Spec struct {
							Containers []struct {
								Env []struct {
									Name  string `yaml:"name"`
									Value string `yaml:"value"`
								} `yaml:"env"`
							} `yaml:"containers"`
						} `yaml:"spec"`
					} `yaml:"template"`
				} `yaml:"spec"`
			}
			if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for k, v := range doc.Data {
				set[k] = v
			}
			for _, c := range doc.Spec.Template.Spec.Containers {
				for _, e := range c.Env {
					set[e.Name] = e.Value
				}
			}
		}
	}
	return set
}

func TestManifestsSetOnlyKnownVariables(t *testing.T) {
	t.Parallel()
	known := knownVars()
	set := k8sEnv(t)
	for name := range set {
		if !known[name] {
			t.Errorf("deploy/k8s sets %s, which the worker does not read", name)
		}
	}
	for _, required := range []string{"NATS_URL", "CHATHUB_BASE_URL"} {
		if set[required] == "" {
			t.Errorf("deploy/k8s does not set %s, which the worker requires", required)
		}
	}
	if set["CHATHUB_TOKEN"] == "" && set["CHATHUB_TOKEN_FILE"] == "" {
		t.Error("deploy/k8s sets neither CHATHUB_TOKEN nor CHATHUB_TOKEN_FILE")
	}
	if set["CHATHUB_TOKEN"] != "" {
		t.Error("deploy/k8s puts the token in plain env; mount the Secret as CHATHUB_TOKEN_FILE")
	}
	// What the manifests set must also pass the worker's own validation.
	env := map[string]string{"CHATHUB_TOKEN": "x"}
	for k, v := range set {
		if k != "CHATHUB_TOKEN_FILE" {
			env[k] = v
		}
	}
	if _, err := config.Parse(env, config.Worker); err != nil {
		t.Errorf("the manifests' configuration is refused: %v", err)
	}
}

// kustomize renders dir with kubectl, skipping the test when kubectl is
// not installed (.ci/run installs it).
func kustomize(t *testing.T, dir string) []byte {
	t.Helper()
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not installed")
	}
	out, err := exec.Command("kubectl", "kustomize", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl kustomize %s: %v\n%s", dir, err, out)
	}
	return out
}

// TestKustomizeRenders renders the base with kubectl, when it is installed
// (.ci/run installs it).
func TestKustomizeRenders(t *testing.T) {
	t.Parallel()
	out := kustomize(t, "k8s")
	for _, want := range []string{"kind: Deployment", "kind: PodDisruptionBudget", "readOnlyRootFilesystem: true",
		"runAsNonRoot: true", "path: /readyz", "image: registry.example.com/chathub-operator-worker:1.0.0"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("rendered manifests lack %q", want)
		}
	}
}

// TestSelectorsMatchThePods renders the base and checks that the
// PodDisruptionBudget, the Service and the spread constraint select the
// Deployment's pods, and nothing selects with an empty selector.
func TestSelectorsMatchThePods(t *testing.T) {
	t.Parallel()
	for _, err := range manifest.CheckSelectors(renderBase(t)) {
		t.Error(err)
	}
}

// TestDockerfile checks offline what can be: the build path exists, the
// binary builds static with the Dockerfile's flags, and the final stages run
// as a non-root user.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(raw)
	for _, want := range []string{"CGO_ENABLED=0", "./cmd/worker", "./cmd/chathub-sim", "-X github.com/chathub-operator-worker/worker/internal/buildinfo.Version=${VERSION}"} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	stages := strings.Split(df, "\nFROM ")[1:]
	for _, stage := range stages[1:] {
		if !strings.Contains(stage, "USER nonroot") {
			t.Errorf("final stage %q does not switch to a non-root user", strings.SplitN(stage, "\n", 2)[0])
		}
	}
	if _, err := os.Stat("../.dockerignore"); err != nil {
		t.Error(".dockerignore is missing")
	}
	if testing.Short() {
		t.Skip("building the binary")
	}
	bin := filepath.Join(t.TempDir(), "worker")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X github.com/chathub-operator-worker/worker/internal/buildinfo.Version=test", "-o", bin, "./cmd/worker")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if slices.ContainsFunc(f.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_INTERP }) {
		t.Error("the binary is dynamically linked; the distroless static image needs a static one")
	}
	if out, err := exec.Command(bin, "version").Output(); err != nil || !strings.HasPrefix(string(out), "worker test ") {
		t.Errorf("worker version: %v %q, want the version set with -ldflags", err, out)
	}
}
