// Package chartest tests the worker's Helm chart (../chathub-operator-worker)
// with the Helm library: helm lint, and helm template held to the checks
// the kustomize base passes (deploy/internal/manifest). It is a module of
// its own so that Helm's dependencies stay out of the worker's go.mod.
package chartest
