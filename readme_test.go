package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestREADMEGoProgramsBuild: every Go program the README shows (its ```go blocks with a
// package main) compiles and passes vet against the code of this checkout.
func TestREADMEGoProgramsBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds programs")
	}
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := goBlocks(string(data))
	if len(blocks) == 0 {
		t.Fatal("README.md shows no ```go program: is the fence pattern broken?")
	}
	for i, src := range blocks {
		// Inside the module, so that it builds against this checkout; "_" keeps the directory
		// out of ./... patterns.
		dir, err := os.MkdirTemp(".", "_readme_program_"+strconv.Itoa(i)+"_")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"build", "-o", os.DevNull}, {"vet"}} {
			cmd := exec.Command("go", append(args, "./"+filepath.Base(dir))...)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("README.md's Go program %d: go %s: %v\n%s", i+1, args[0], err, out)
			}
		}
	}
}

// goBlocks returns the contents of the Markdown text's ```go fences that hold a main package.
func goBlocks(text string) []string {
	var out []string
	for {
		start := strings.Index(text, "\n```go\n")
		if start < 0 {
			return out
		}
		text = text[start+len("\n```go\n"):]
		end := strings.Index(text, "\n```")
		if end < 0 {
			return out
		}
		if block := text[:end+1]; strings.HasPrefix(strings.TrimSpace(block), "package main") {
			out = append(out, block)
		}
		text = text[end:]
	}
}
