// Package manifest reads rendered Kubernetes manifests of the worker (the
// output of kubectl kustomize or helm template) and checks them against the
// worker: its pod's security settings, the files it reads, its variables and
// the selectors that must find its pods. The kustomize base and the Helm
// chart are held to the same checks through it.
package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"
)

// Doc is one rendered object, with the fields the checks read. One struct
// serves every kind: each kind fills only its own fields.
type Doc struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	// Data is a ConfigMap's data, or a Secret's base64-encoded data.
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	Spec       struct {
		// Selector is a label selector (Deployment, PodDisruptionBudget)
		// or a plain map of labels (Service), so it is decoded per kind.
		Selector yaml.Node `yaml:"selector"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec PodSpec `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// PodSpec is the part of a pod template the checks read.
type PodSpec struct {
	TerminationGracePeriodSeconds *int64             `yaml:"terminationGracePeriodSeconds"`
	AutomountServiceAccountToken  *bool              `yaml:"automountServiceAccountToken"`
	SecurityContext               SecurityContext    `yaml:"securityContext"`
	TopologySpreadConstraints     []SpreadConstraint `yaml:"topologySpreadConstraints"`
	Containers                    []Container        `yaml:"containers"`
	Volumes                       []Volume           `yaml:"volumes"`
}

// SecurityContext holds the fields of a pod's and a container's security
// contexts that the checks read.
type SecurityContext struct {
	RunAsNonRoot             *bool   `yaml:"runAsNonRoot"`
	RunAsUser                *int64  `yaml:"runAsUser"`
	RunAsGroup               *int64  `yaml:"runAsGroup"`
	FSGroup                  *int64  `yaml:"fsGroup"`
	SupplementalGroups       []int64 `yaml:"supplementalGroups"`
	ReadOnlyRootFilesystem   *bool   `yaml:"readOnlyRootFilesystem"`
	AllowPrivilegeEscalation *bool   `yaml:"allowPrivilegeEscalation"`
	Capabilities             struct {
		Drop []string `yaml:"drop"`
	} `yaml:"capabilities"`
	SeccompProfile struct {
		Type string `yaml:"type"`
	} `yaml:"seccompProfile"`
}

// SpreadConstraint is one of topologySpreadConstraints.
type SpreadConstraint struct {
	TopologyKey   string        `yaml:"topologyKey"`
	LabelSelector LabelSelector `yaml:"labelSelector"`
}

// LabelSelector is a selector by labels; the checks use only matchLabels.
type LabelSelector struct {
	MatchLabels map[string]string `yaml:"matchLabels"`
}

// Container is the part of a container the checks read.
type Container struct {
	Name  string `yaml:"name"`
	Image string `yaml:"image"`
	Env   []struct {
		Name      string    `yaml:"name"`
		Value     string    `yaml:"value"`
		ValueFrom yaml.Node `yaml:"valueFrom"`
	} `yaml:"env"`
	EnvFrom []struct {
		ConfigMapRef *struct {
			Name string `yaml:"name"`
		} `yaml:"configMapRef"`
		SecretRef *struct {
			Name string `yaml:"name"`
		} `yaml:"secretRef"`
	} `yaml:"envFrom"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	LivenessProbe   *Probe          `yaml:"livenessProbe"`
	ReadinessProbe  *Probe          `yaml:"readinessProbe"`
	SecurityContext SecurityContext `yaml:"securityContext"`
	Resources       struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		SubPath   string `yaml:"subPath"`
	} `yaml:"volumeMounts"`
}

// Probe is an HTTP probe.
type Probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		// Port is a number or the name of a container port.
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

// Volume is a pod volume; only Secret and ConfigMap volumes are read.
type Volume struct {
	Name      string         `yaml:"name"`
	Secret    *VolumeSource  `yaml:"secret"`
	ConfigMap *VolumeSource  `yaml:"configMap"`
	Projected *yaml.Node     `yaml:"projected"`
	EmptyDir  map[string]any `yaml:"emptyDir"`
}

// VolumeSource is a Secret or ConfigMap volume. The Secret's name is in
// secretName, the ConfigMap's in name.
type VolumeSource struct {
	SecretName  string      `yaml:"secretName"`
	Name        string      `yaml:"name"`
	DefaultMode *int        `yaml:"defaultMode"`
	Optional    *bool       `yaml:"optional"`
	Items       []KeyToPath `yaml:"items"`
}

// KeyToPath shows one key of a Secret or ConfigMap volume at a path.
type KeyToPath struct {
	Key  string `yaml:"key"`
	Path string `yaml:"path"`
	Mode *int   `yaml:"mode"`
}

// Parse decodes a stream of YAML documents, skipping empty ones (helm
// template leaves some between its sources).
func Parse(rendered []byte) ([]Doc, error) {
	var docs []Doc
	dec := yaml.NewDecoder(bytes.NewReader(rendered))
	for {
		var doc Doc
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			return docs, nil
		} else if err != nil {
			return nil, fmt.Errorf("cannot decode document %d: %w", len(docs)+1, err)
		}
		if doc.Kind != "" {
			docs = append(docs, doc)
		}
	}
}

// OfKind returns the documents of one kind.
func OfKind(docs []Doc, kind string) []Doc {
	var out []Doc
	for _, d := range docs {
		if d.Kind == kind {
			out = append(out, d)
		}
	}
	return out
}

// Worker finds the worker's Deployment and its container (named worker):
// there must be exactly one of each.
func Worker(docs []Doc) (Doc, Container, error) {
	deps := OfKind(docs, "Deployment")
	if len(deps) != 1 {
		return Doc{}, Container{}, fmt.Errorf("found %d Deployments, want the worker's alone", len(deps))
	}
	for _, c := range deps[0].Spec.Template.Spec.Containers {
		if c.Name == "worker" {
			return deps[0], c, nil
		}
	}
	return Doc{}, Container{}, fmt.Errorf("Deployment %s has no container named worker", deps[0].Metadata.Name)
}
