package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// WriteSection shares one Markdown file between commands: it replaces its own section and
// leaves everything else — text before, other sections after — exactly as it was.
func TestWriteSectionKeepsTheRestOfTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "RESULTS.md")
	other := "# results\n\nsomeone else's table\n"
	if err := os.WriteFile(path, []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	steps := []struct{ name, body string }{{"layers", "first"}, {"diagnose", "theirs"}, {"layers", "second"}}
	for _, s := range steps {
		if err := WriteSection(path, s.name, s.body); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	want := other + "\n<!-- section:layers -->\nsecond\n<!-- /section:layers -->\n\n<!-- section:diagnose -->\ntheirs\n<!-- /section:diagnose -->\n"
	if got != want {
		t.Fatalf("file after three writes:\n%s\nwant:\n%s", got, want)
	}
	if strings.Contains(got, "first") {
		t.Fatal("the old body of a rewritten section survived")
	}
}

// Kills that can lose a rotation are told apart from those that cannot.
func TestInWindow(t *testing.T) {
	for _, c := range []struct {
		moment, last string
		want         bool
	}{
		{"after-response", "after-response", true},
		{"save-temp-synced", "save-temp-synced", true},
		{"during-post", "before-post", true},
		{"random", "before-post", true},
		{"before-post", "before-post", false}, // died before sending anything
		{"save-renamed", "save-renamed", false},
		{"random", "waiting", false},
	} {
		if _, got := inWindow(c.moment, c.last); got != c.want {
			t.Errorf("inWindow(%q, %q) = %v, want %v", c.moment, c.last, got, c.want)
		}
	}
}
