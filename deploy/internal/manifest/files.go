package manifest

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// FileVars are the worker's variables that hold the path of a file it
// reads: the manifests must mount that file from a Secret or ConfigMap the
// pod's user can read.
var FileVars = []string{"CHATHUB_TOKEN_FILE", "NATS_CREDS", "NATS_NKEY", "NATS_TLS_CA", "NATS_TLS_CERT", "NATS_TLS_KEY"}

// File is a file the worker reads, traced to the object that holds it.
type File struct {
	Var, Path string
	// Kind is Secret or ConfigMap; Name and Key say which object and key
	// the file shows.
	Kind, Name, Key string
	// Mode is the file's permission bits as the kubelet writes them.
	Mode int
	// Readable says whether the pod's user can read the file.
	Readable bool
	// Why says who can read it, or why the pod's user cannot.
	Why string
}

// defaultMode is the mode of Secret and ConfigMap files when the manifest
// sets none (the API server's default, 0644).
const defaultMode = 0o644

// Files traces each file variable set in the worker's container to the
// volume that mounts it, and says whether the pod's user can read it.
// A variable whose path no Secret or ConfigMap volume mounts is an error.
func Files(docs []Doc) ([]File, error) {
	dep, c, err := Worker(docs)
	if err != nil {
		return nil, err
	}
	pod := dep.Spec.Template.Spec
	var files []File
	var errs []string
	for _, e := range c.Env {
		if !slices.Contains(FileVars, e.Name) || e.Value == "" {
			continue
		}
		f, err := trace(pod, c, e.Name, e.Value)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		files = append(files, f)
	}
	if len(errs) > 0 {
		return files, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return files, nil
}

// trace finds the volume and key behind one file path.
func trace(pod PodSpec, c Container, name, p string) (File, error) {
	f := File{Var: name, Path: p}
	mountPath, sub, volName := "", "", ""
	for _, m := range c.VolumeMounts {
		mp := strings.TrimSuffix(m.MountPath, "/")
		switch {
		case m.SubPath != "" && p == mp:
			mountPath, sub, volName = mp, m.SubPath, m.Name
		case m.SubPath == "" && strings.HasPrefix(p, mp+"/") && len(mp) > len(mountPath):
			mountPath, sub, volName = mp, "", m.Name
		}
	}
	if volName == "" {
		return f, fmt.Errorf("%s=%s: no volume is mounted there", name, p)
	}
	rel := sub
	if rel == "" {
		rel = strings.TrimPrefix(p, mountPath+"/")
	}
	i := slices.IndexFunc(pod.Volumes, func(v Volume) bool { return v.Name == volName })
	if i < 0 {
		return f, fmt.Errorf("%s=%s: the pod has no volume %s", name, p, volName)
	}
	v := pod.Volumes[i]
	src := v.Secret
	f.Kind, f.Name = "Secret", ""
	if src != nil {
		f.Name = src.SecretName
	} else if v.ConfigMap != nil {
		src = v.ConfigMap
		f.Kind, f.Name = "ConfigMap", v.ConfigMap.Name
	} else {
		return f, fmt.Errorf("%s=%s: volume %s is neither a Secret nor a ConfigMap", name, p, volName)
	}
	f.Mode = defaultMode
	if src.DefaultMode != nil {
		f.Mode = *src.DefaultMode
	}
	if len(src.Items) > 0 {
		// With items, only the listed keys appear, each at its path.
		j := slices.IndexFunc(src.Items, func(it KeyToPath) bool { return path.Clean(it.Path) == path.Clean(rel) })
		if j < 0 {
			return f, fmt.Errorf("%s=%s: volume %s lists no item at %s", name, p, volName, rel)
		}
		f.Key = src.Items[j].Key
		if src.Items[j].Mode != nil {
			f.Mode = *src.Items[j].Mode
		}
	} else {
		if strings.Contains(rel, "/") {
			return f, fmt.Errorf("%s=%s: volume %s holds no directory %s", name, p, volName, path.Dir(rel))
		}
		f.Key = rel
	}
	f.Readable, f.Why = readable(pod.SecurityContext, c.SecurityContext, f.Mode)
	return f, nil
}

// readable says whether the container's user can read a file of a Secret or
// ConfigMap volume with mode perm, and why. The kubelet writes such files
// owned by root, in the pod's fsGroup when it has one (root's group
// otherwise). It also adds group read to them when fsGroup is set, but the
// check does not count on that: the mode written in the manifest must grant
// the read by itself.
func readable(pod, ctr SecurityContext, perm int) (bool, string) {
	uid := ctr.RunAsUser
	if uid == nil {
		uid = pod.RunAsUser
	}
	if uid == nil {
		return false, "the manifest sets no runAsUser, so who reads the file depends on the image"
	}
	gid := ctr.RunAsGroup
	if gid == nil {
		gid = pod.RunAsGroup
	}
	fileGroup := int64(0)
	if pod.FSGroup != nil {
		fileGroup = *pod.FSGroup
	}
	groups := slices.Clone(pod.SupplementalGroups)
	if gid != nil {
		groups = append(groups, *gid)
	}
	if pod.FSGroup != nil {
		groups = append(groups, *pod.FSGroup)
	}
	switch {
	case *uid == 0 && perm&0o400 != 0:
		return true, "uid 0 owns it"
	case slices.Contains(groups, fileGroup) && perm&0o040 != 0:
		return true, fmt.Sprintf("mode %#o lets group %d read, and uid %d is in it", perm, fileGroup, *uid)
	case perm&0o004 != 0:
		return true, fmt.Sprintf("mode %#o lets anyone read", perm)
	case !slices.Contains(groups, fileGroup):
		return false, fmt.Sprintf("the file is root's (group %d) with mode %#o, and uid %d is not in group %d (set fsGroup)", fileGroup, perm, *uid, fileGroup)
	default:
		return false, fmt.Sprintf("mode %#o does not let group %d read", perm, fileGroup)
	}
}

// CheckFiles checks that every file the worker is pointed at comes from
// the object want names for its variable ("Secret/name/key"), that the
// pod's user can read it, and that no other file variable is set.
func CheckFiles(docs []Doc, want map[string]string) []error {
	files, err := Files(docs)
	if err != nil {
		return []error{err}
	}
	var errs []error
	got := map[string]bool{}
	for _, f := range files {
		got[f.Var] = true
		if src := f.Kind + "/" + f.Name + "/" + f.Key; want[f.Var] != src {
			errs = append(errs, fmt.Errorf("%s=%s shows %s, want %s", f.Var, f.Path, src, want[f.Var]))
		}
		if !f.Readable {
			errs = append(errs, fmt.Errorf("%s=%s: the worker cannot read it: %s", f.Var, f.Path, f.Why))
		}
	}
	for v := range want {
		if !got[v] {
			errs = append(errs, fmt.Errorf("%s is not set", v))
		}
	}
	return errs
}
