package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// designDoc is the project's design document, cited from code, scripts and the README.
const designDoc = "docs/design.md"

var (
	// citation matches "design.md §4", "docs/design.md §4.5", "design §6" and lists such as
	// "design.md §4, §5" or "design.md §4 and §5"; section numbers are read from the match.
	citation = regexp.MustCompile(`design(?:\.md)?((?:[ \t]*(?:,|;|and)?[ \t]*§[ \t]*\d+(?:\.\d+)*)+)`)
	// section is one section number inside a citation or a cross-reference.
	section = regexp.MustCompile(`§[ \t]*(\d+(?:\.\d+)*)`)
	// heading is a numbered Markdown heading: "## 4. The refresh transaction", "### 4.5 …".
	heading = regexp.MustCompile(`^#{1,6}[ \t]+(\d+(?:\.\d+)*)\.?[ \t]`)
	// rfcBefore ends the text before a "§" that belongs to an RFC ("RFC 6749 §5.1").
	rfcBefore = regexp.MustCompile(`(?:RFC|rfc)[ \t]*\d+[ \t]*$`)
	// upPath is a relative path that starts by climbing out of its directory (dot-dot segments).
	upPath = regexp.MustCompile(`(?:\.\./)+[A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)*`)
)

// TestDesignCitations keeps the repository's citations of its design document honest: every
// "design.md §N" (or §N.M) in a tracked text file must name a numbered heading of
// docs/design.md, and so must the document's own cross-references. It also fails on text that
// points outside the repository (a "../" path that climbs out of it, or an absolute path into a
// sibling of the checkout), which no reader of the repository can follow.
func TestDesignCitations(t *testing.T) {
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(designDoc)))
	if err != nil {
		t.Fatalf("the design document is missing: %v", err)
	}
	sections := headings(doc)
	if len(sections) == 0 {
		t.Fatalf("%s has no numbered headings (\"## 4. Title\", \"### 4.5 Title\")", designDoc)
	}

	files, err := textFiles(root)
	if err != nil {
		t.Fatal(err)
	}
	cited := 0
	for _, rel := range files {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if errors.Is(err, fs.ErrNotExist) {
			continue // listed by git but deleted in the working tree
		}
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		if bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0 {
			continue // binary
		}
		for i, line := range strings.Split(string(data), "\n") {
			where := fmt.Sprintf("%s:%d", rel, i+1)
			for _, n := range citedSections(line, rel == designDoc) {
				cited++
				if !sections[n] {
					t.Errorf("%s: cites %s §%s, but %s has no section %s", where, designDoc, n, designDoc, n)
				}
			}
			for _, p := range outsidePaths(root, rel, line) {
				t.Errorf("%s: %q points outside the repository; cite only what the repository holds", where, p)
			}
		}
	}
	if cited == 0 {
		t.Errorf("found no citation of %s at all: is the citation pattern broken?", designDoc)
	}
}

// headings returns the section numbers of the document's numbered headings.
func headings(doc []byte) map[string]bool {
	out := map[string]bool{}
	for _, line := range strings.Split(string(doc), "\n") {
		if m := heading.FindStringSubmatch(line); m != nil {
			out[m[1]] = true
		}
	}
	return out
}

// citedSections returns the sections a line cites. In the design document itself every "§N"
// is a cross-reference, except an RFC's ("RFC 6749 §5.1").
func citedSections(line string, inDoc bool) []string {
	var out []string
	if inDoc {
		for _, m := range section.FindAllStringSubmatchIndex(line, -1) {
			if !rfcBefore.MatchString(line[:m[0]]) {
				out = append(out, line[m[2]:m[3]])
			}
		}
		return out
	}
	for _, c := range citation.FindAllStringSubmatch(line, -1) {
		for _, s := range section.FindAllStringSubmatch(c[1], -1) {
			out = append(out, s[1])
		}
	}
	return out
}

// outsidePaths returns the paths in line, written in file rel, that lead out of the repository:
// a "../" path that leaves it when read from rel's directory; one that names nothing when read
// from there but, read from the repository's root, names something outside it (a path written
// relative to the root); and an absolute path into an existing sibling of the checkout.
func outsidePaths(root, rel, line string) []string {
	var out []string
	dir := filepath.Dir(filepath.Join(root, filepath.FromSlash(rel)))
	for _, p := range upPath.FindAllString(line, -1) {
		fromDir := filepath.Join(dir, filepath.FromSlash(p))
		switch {
		case !inside(root, fromDir):
			out = append(out, p)
		case !exists(fromDir):
			if fromRoot := filepath.Join(root, filepath.FromSlash(p)); !inside(root, fromRoot) && exists(fromRoot) {
				out = append(out, p)
			}
		}
	}
	// Absolute paths into the checkout's neighbours ("PARENT/shared/…"), not when the checkout is at
	// /x or in the temporary directory: there, "/tmp/diag.test" in a recipe is a scratch file the
	// recipe makes, and whether it exists says only what ran on this machine before.
	if parent := filepath.Dir(root); parent != filepath.Dir(parent) && parent != filepath.Clean(os.TempDir()) {
		prefix := filepath.ToSlash(parent) + "/"
		for i := strings.Index(line, prefix); i >= 0; {
			rest := line[i+len(prefix):]
			name := rest[:strings.IndexFunc(rest+" ", func(r rune) bool { return strings.ContainsRune(" \t\"'`)]>,;:", r) })]
			first, _, _ := strings.Cut(name, "/")
			// Only a sibling that exists: a path the text makes up is not a reference.
			if name != "" && first != filepath.Base(root) && exists(filepath.Join(parent, first)) {
				out = append(out, prefix+name)
			}
			next := strings.Index(rest, prefix)
			if next < 0 {
				break
			}
			i += len(prefix) + next
		}
	}
	return out
}

func inside(root, path string) bool {
	r, err := filepath.Rel(root, path)
	return err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator))
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// textFiles lists the repository's files (tracked, and new ones git does not ignore) with
// slash-separated paths, leaving out testdata. Without git it walks the tree, skipping .git.
func textFiles(root string) ([]string, error) {
	var files []string
	keep := func(rel string) {
		if !strings.HasPrefix(rel, "testdata/") && !strings.Contains(rel, "/testdata/") {
			files = append(files, rel)
		}
	}
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err == nil {
		for _, rel := range strings.Split(string(out), "\x00") {
			if rel != "" {
				keep(rel)
			}
		}
		return files, nil
	}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(root, path)
			keep(filepath.ToSlash(rel))
		}
		return nil
	})
	return files, err
}
