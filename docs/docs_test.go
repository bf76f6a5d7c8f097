// Package docs holds the project's documentation; its test checks that the
// Markdown files stand on their own.
package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// root is the repository, seen from this directory.
const root = ".."

// markdown returns every Markdown file of the repository, by path from the
// root, with its text.
func markdown(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != root {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".md") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			files[filepath.ToSlash(rel)] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files["README.md"] == "" {
		t.Fatal("README.md not found")
	}
	return files
}

var (
	fence    = regexp.MustCompile("^\\s*(```|~~~)")
	codeSpan = regexp.MustCompile("`[^`]*`")
	link     = regexp.MustCompile(`\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	heading  = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
	scheme   = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
	testName = regexp.MustCompile("`((?:Test|Fuzz)[A-Z][A-Za-z0-9_]*)`")
)

// prose returns the lines of a Markdown text that are not in fenced code
// blocks, with their line numbers.
func prose(text string) map[int]string {
	out := map[int]string{}
	inFence := false
	for i, line := range strings.Split(text, "\n") {
		if fence.MatchString(line) {
			inFence = !inFence
			continue
		}
		if !inFence {
			out[i+1] = line
		}
	}
	return out
}

// anchors returns the anchors of a Markdown text's headings, as GitHub
// makes them: lower case, punctuation dropped, spaces turned to hyphens,
// and -1, -2 ... added to repeats.
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, line := range prose(text) {
		m := heading.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		slug := slugOf(m[1])
		if n := seen[slug]; n > 0 {
			out[slug+"-"+strconv.Itoa(n)] = true
		} else {
			out[slug] = true
		}
		seen[slug]++
	}
	return out
}

func slugOf(title string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(title) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

// TestLinksResolve: every link in the Markdown files points to a file of
// the repository that exists, and an anchor to a heading of that file;
// no link leaves the repository.
func TestLinksResolve(t *testing.T) {
	files := markdown(t)
	for name, text := range files {
		for n, line := range prose(text) {
			line = codeSpan.ReplaceAllString(line, "")
			for _, m := range link.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if scheme.MatchString(target) || strings.HasPrefix(target, "//") {
					t.Errorf("%s:%d: %s leads outside the repository; the documentation must stand alone", name, n, target)
					continue
				}
				path, anchor, _ := strings.Cut(target, "#")
				file := name
				if path != "" {
					file = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(name), path)))
					if file == ".." || strings.HasPrefix(file, "../") {
						t.Errorf("%s:%d: %s leads outside the repository", name, n, target)
						continue
					}
					if _, err := os.Stat(filepath.Join(root, file)); err != nil {
						t.Errorf("%s:%d: %s: no such file", name, n, target)
						continue
					}
				}
				if anchor == "" || !strings.HasSuffix(file, ".md") {
					continue
				}
				if !anchors(files[file])[anchor] {
					t.Errorf("%s:%d: %s: %s has no heading with anchor #%s", name, n, target, file, anchor)
				}
			}
		}
	}
}

// TestNamedTestsExist: every test or fuzz target the Markdown files name
// (as `TestX` or `FuzzX`) is a function of the repository.
func TestNamedTestsExist(t *testing.T) {
	defined := map[string]bool{}
	decl := regexp.MustCompile(`(?m)^func ((?:Test|Fuzz)[A-Za-z0-9_]+)\(`)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != root {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), "_test.go") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range decl.FindAllStringSubmatch(string(b), -1) {
				defined[m[1]] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range markdown(t) {
		for n, line := range prose(text) {
			for _, m := range testName.FindAllStringSubmatch(line, -1) {
				if !defined[m[1]] {
					t.Errorf("%s:%d: names %s, which no test file defines", name, n, m[1])
				}
			}
		}
	}
}

// relPath is a relative path that climbs out of its folder.
var relPath = regexp.MustCompile(`(?:\.\./)+[\w.-]+(?:/[\w.-]+)*`)

// TestNoOutsideDocuments: no Markdown or Go file sends the reader to a
// document kept outside the repository: every path it names that climbs
// out of its folder ends inside the repository.
func TestNoOutsideDocuments(t *testing.T) {
	top, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".md") || strings.HasSuffix(path, ".go")) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		dir, _ := filepath.Abs(filepath.Dir(path))
		rel, _ := filepath.Rel(root, path)
		for i, line := range strings.Split(string(b), "\n") {
			for _, ref := range relPath.FindAllString(line, -1) {
				if to, _ := filepath.Rel(top, filepath.Join(dir, ref)); strings.HasPrefix(to, "..") {
					t.Errorf("%s:%d: names %s, outside the repository; say what it says here instead", filepath.ToSlash(rel), i+1, ref)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
