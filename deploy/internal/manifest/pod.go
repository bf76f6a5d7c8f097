package manifest

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// NonRootUID is the user of the worker's image (distroless's nonroot).
const NonRootUID = 65532

// CheckPod checks the worker's pod for the settings every way of deploying
// it must keep: a non-root user, a read-only root filesystem, no
// capabilities, no privilege escalation, the runtime's seccomp profile, no
// service account token (the worker never calls the Kubernetes API), probes
// on /healthz and /readyz at the port HTTP_ADDR serves, requests and a
// memory limit, a spread over nodes, and a grace period longer than
// SHUTDOWN_GRACE. set is the worker's environment (WorkerEnv).
func CheckPod(docs []Doc, set map[string]string) []error {
	dep, c, err := Worker(docs)
	if err != nil {
		return []error{err}
	}
	pod := dep.Spec.Template.Spec
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	psc, csc := pod.SecurityContext, c.SecurityContext
	if !isTrue(csc.RunAsNonRoot) && !isTrue(psc.RunAsNonRoot) {
		bad("runAsNonRoot is not true")
	}
	if uid := first(csc.RunAsUser, psc.RunAsUser); uid == nil || *uid != NonRootUID {
		bad("runAsUser is %v, want %d (the image's nonroot user)", deref(uid), NonRootUID)
	}
	if !isTrue(csc.ReadOnlyRootFilesystem) {
		bad("readOnlyRootFilesystem is not true")
	}
	if csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation {
		bad("allowPrivilegeEscalation is not false")
	}
	if !slices.Contains(csc.Capabilities.Drop, "ALL") {
		bad("capabilities drop %v, want ALL", csc.Capabilities.Drop)
	}
	if t := csc.SeccompProfile.Type; t != "RuntimeDefault" && (t != "" || psc.SeccompProfile.Type != "RuntimeDefault") {
		bad("seccompProfile is not RuntimeDefault")
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		bad("automountServiceAccountToken is not false")
	}

	port := 8080
	if addr := set["HTTP_ADDR"]; addr != "" {
		_, p, err := net.SplitHostPort(addr)
		if port, err = strconv.Atoi(p); err != nil {
			bad("HTTP_ADDR %q has no port", addr)
		}
	}
	for path, probe := range map[string]*Probe{"/healthz": c.LivenessProbe, "/readyz": c.ReadinessProbe} {
		switch {
		case probe == nil || probe.HTTPGet == nil:
			bad("no HTTP probe on %s", path)
		case probe.HTTPGet.Path != path:
			bad("the probe meant for %s asks %s", path, probe.HTTPGet.Path)
		case containerPort(c, probe.HTTPGet.Port) != port:
			bad("the probe on %s asks port %s, and the worker serves on %d (HTTP_ADDR)", path, probe.HTTPGet.Port, port)
		}
	}

	for _, r := range []string{"cpu", "memory"} {
		if c.Resources.Requests[r] == "" {
			bad("no %s request", r)
		}
	}
	if c.Resources.Limits["memory"] == "" {
		bad("no memory limit (Go's memory limit follows it)")
	}
	if !slices.ContainsFunc(pod.TopologySpreadConstraints, func(s SpreadConstraint) bool {
		return s.TopologyKey == "kubernetes.io/hostname"
	}) {
		bad("no topologySpreadConstraints over kubernetes.io/hostname")
	}

	grace := 20 * time.Second
	if g := set["SHUTDOWN_GRACE"]; g != "" {
		if grace, err = time.ParseDuration(g); err != nil {
			bad("SHUTDOWN_GRACE %q: %v", g, err)
		}
	}
	if t := pod.TerminationGracePeriodSeconds; t == nil || time.Duration(*t)*time.Second <= grace {
		bad("terminationGracePeriodSeconds %v leaves no time past SHUTDOWN_GRACE (%s) for the drain", deref(t), grace)
	}
	return errs
}

// containerPort resolves a probe's port, a number or a port's name, to a
// number (0 when the container has no such port).
func containerPort(c Container, port string) int {
	if n, err := strconv.Atoi(port); err == nil {
		return n
	}
	for _, p := range c.Ports {
		if p.Name == port {
			return p.ContainerPort
		}
	}
	return 0
}

// CheckSelectors checks that the Deployment, every PodDisruptionBudget,
// every Service and the spread constraints select the worker's pods, and
// that none selects with an empty selector (which would select every pod
// of the namespace, or none).
func CheckSelectors(docs []Doc) []error {
	dep, _, err := Worker(docs)
	if err != nil {
		return []error{err}
	}
	pods := dep.Spec.Template.Metadata.Labels
	var errs []error
	check := func(what string, sel map[string]string) {
		if len(sel) == 0 {
			errs = append(errs, fmt.Errorf("%s has no selector", what))
		}
		for k, v := range sel {
			if pods[k] != v {
				errs = append(errs, fmt.Errorf("%s selects %s=%s; the pods are labelled %v", what, k, v, pods))
			}
		}
	}
	check("Deployment "+dep.Metadata.Name, matchLabels(dep.Spec.Selector))
	for _, s := range dep.Spec.Template.Spec.TopologySpreadConstraints {
		check("a topologySpreadConstraint", s.LabelSelector.MatchLabels)
	}
	pdbs := OfKind(docs, "PodDisruptionBudget")
	services := OfKind(docs, "Service")
	if len(pdbs) == 0 {
		errs = append(errs, fmt.Errorf("no PodDisruptionBudget"))
	}
	if len(services) == 0 {
		errs = append(errs, fmt.Errorf("no Service"))
	}
	for _, d := range pdbs {
		check("PodDisruptionBudget "+d.Metadata.Name, matchLabels(d.Spec.Selector))
	}
	for _, d := range services {
		var sel map[string]string
		_ = d.Spec.Selector.Decode(&sel)
		check("Service "+d.Metadata.Name, sel)
	}
	return errs
}

// matchLabels reads a label selector's matchLabels.
func matchLabels(n yaml.Node) map[string]string {
	var s LabelSelector
	_ = n.Decode(&s)
	return s.MatchLabels
}

func isTrue(b *bool) bool { return b != nil && *b }

func first[T any](ps ...*T) *T {
	for _, p := range ps {
		if p != nil {
			return p
		}
	}
	return nil
}

func deref[T any](p *T) any {
	if p == nil {
		return "unset"
	}
	return *p
}
