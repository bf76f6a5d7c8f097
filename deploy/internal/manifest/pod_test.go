package manifest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chathub-operator-worker/worker/deploy/internal/manifest"
)

// good is a worker's Deployment, PodDisruptionBudget and Service that pass
// every check; the tests below spoil one thing at a time.
const good = `
kind: Deployment
metadata: {name: w}
spec:
  selector: {matchLabels: {app: w}}
  template:
    metadata: {labels: {app: w, tier: x}}
    spec:
      terminationGracePeriodSeconds: 45
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, runAsUser: 65532, fsGroup: 65532, seccompProfile: {type: RuntimeDefault}}
      topologySpreadConstraints: [{topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: w}}}]
      containers:
        - name: worker
          ports: [{name: http, containerPort: 8080}]
          livenessProbe: {httpGet: {path: /healthz, port: http}}
          readinessProbe: {httpGet: {path: /readyz, port: 8080}}
          resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 128Mi}}
          securityContext: {readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
---
kind: PodDisruptionBudget
metadata: {name: w}
spec: {selector: {matchLabels: {app: w}}}
---
kind: Service
metadata: {name: w}
spec: {selector: {app: w}}
`

func TestCheckPod(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, old, new string
		env            map[string]string
		want           string
	}{
		{"good", "", "", nil, ""},
		{"root", "runAsUser: 65532", "runAsUser: 0", nil, "runAsUser is 0"},
		{"writable root", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", nil, "readOnlyRootFilesystem"},
		{"capabilities", "drop: [ALL]", "drop: [NET_RAW]", nil, "capabilities"},
		{"no seccomp", "seccompProfile: {type: RuntimeDefault}", "seccompProfile: {type: Unconfined}", nil, "seccompProfile"},
		{"probe path", "path: /readyz", "path: /healthz", nil, "asks /healthz"},
		{"probe port", "", "", map[string]string{"HTTP_ADDR": ":9090"}, "serves on 9090"},
		{"grace", "", "", map[string]string{"SHUTDOWN_GRACE": "1m"}, "terminationGracePeriodSeconds 45"},
		{"no limit", "limits: {memory: 128Mi}", "limits: {}", nil, "memory limit"},
		{"no spread", "kubernetes.io/hostname", "topology.kubernetes.io/zone", nil, "topologySpreadConstraints"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			docs, err := manifest.Parse([]byte(strings.Replace(good, tc.old, tc.new, 1)))
			if err != nil {
				t.Fatal(err)
			}
			errs := manifest.CheckPod(docs, tc.env)
			if got := fmt.Sprint(errs); tc.want == "" && len(errs) > 0 || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("CheckPod: %v, want %q", errs, tc.want)
			}
		})
	}
}

func TestCheckSelectors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, old, new, want string }{
		{"good", "", "", ""},
		{"service selects other pods", "spec: {selector: {app: w}}", "spec: {selector: {app: v}}", "Service w selects app=v"},
		{"empty PodDisruptionBudget", "spec: {selector: {matchLabels: {app: w}}}", "spec: {selector: {}}", "PodDisruptionBudget w has no selector"},
		{"spread on other pods", "labelSelector: {matchLabels: {app: w}}", "labelSelector: {matchLabels: {tier: y}}", "topologySpreadConstraint selects tier=y"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			docs, err := manifest.Parse([]byte(strings.Replace(good, tc.old, tc.new, 1)))
			if err != nil {
				t.Fatal(err)
			}
			errs := manifest.CheckSelectors(docs)
			if got := fmt.Sprint(errs); tc.want == "" && len(errs) > 0 || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("CheckSelectors: %v, want %q", errs, tc.want)
			}
		})
	}
}
