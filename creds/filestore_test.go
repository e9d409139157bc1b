package creds

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func newStore(t *testing.T) *FileStore {
	t.Helper()
	return NewFileStore(filepath.Join(t.TempDir(), "creds", "p.json"))
}

func TestSaveIsPrivateAndReadsBack(t *testing.T) {
	s := newStore(t)
	want := &Credential{AccessToken: "a", RefreshToken: "r", Expiry: time.Now().Add(time.Hour).Round(time.Second)}
	if err := s.Save(want); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(s.Path)
	dir, _ := os.Stat(filepath.Dir(s.Path))
	if st.Mode().Perm() != 0o600 || dir.Mode().Perm() != 0o700 {
		t.Fatalf("modes file %v dir %v, want 0600 and 0700", st.Mode(), dir.Mode())
	}
	got, err := s.Load()
	if err != nil || got.AccessToken != "a" || got.RefreshToken != "r" || !got.Expiry.Equal(want.Expiry) {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(s.Path))
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

func TestMissingIsNotFound(t *testing.T) {
	if _, err := newStore(t).Load(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load of a missing file: %v, want ErrNotFound", err)
	}
}

// Corrupt files are errors, never "no credential", and are never modified.
func TestCorruptFilesAreReportedAndKept(t *testing.T) {
	for name, content := range map[string]string{"empty": "", "truncated": `{"access_token":"a","refr`, "not json": "a=b", "array": "[1]"} {
		t.Run(name, func(t *testing.T) {
			s := newStore(t)
			os.MkdirAll(filepath.Dir(s.Path), 0o700)
			os.WriteFile(s.Path, []byte(content), 0o600)
			_, err := s.Load()
			var corrupt *CorruptError
			if !errors.As(err, &corrupt) || errors.Is(err, ErrNotFound) {
				t.Fatalf("Load = %v, want *CorruptError", err)
			}
			if got, _ := os.ReadFile(s.Path); string(got) != content {
				t.Fatal("the corrupt file was modified")
			}
		})
	}
}

func TestReadableByOthersIsRefused(t *testing.T) {
	s := newStore(t)
	s.Save(&Credential{AccessToken: "a"})
	os.Chmod(s.Path, 0o640)
	var perm *PermissionError
	if _, err := s.Load(); !errors.As(err, &perm) || perm.Mode != 0o640 {
		t.Fatalf("Load = %v, want *PermissionError with mode 0640", err)
	}
}

// A save that fails half way (disk full, I/O error) leaves the old credential intact.
func TestFailedSaveKeepsTheOldCredential(t *testing.T) {
	s := newStore(t)
	if err := s.Save(&Credential{AccessToken: "old", RefreshToken: "r-old"}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(s.Path)
	s.failAfter = 10
	if err := s.Save(&Credential{AccessToken: "new", RefreshToken: "r-new"}); err == nil {
		t.Fatal("injected failure not reported")
	}
	after, _ := os.ReadFile(s.Path)
	if string(after) != string(before) {
		t.Fatalf("old credential damaged:\n%s", after)
	}
	entries, _ := os.ReadDir(filepath.Dir(s.Path))
	if len(entries) != 1 {
		t.Fatalf("temporary file left behind: %v", entries)
	}
}

func TestStampChangesOnSave(t *testing.T) {
	s := newStore(t)
	if s.Stamp() != "" {
		t.Fatal("stamp of a missing file")
	}
	s.Save(&Credential{AccessToken: "a"})
	first := s.Stamp()
	s.Save(&Credential{AccessToken: "a"})
	if s.Stamp() == first {
		t.Fatal("stamp unchanged after a save (rename gives a new inode)")
	}
}

// tokctl's own store never follows a symbolic link: Load and Save refuse it and leave both the
// link and its target alone.
func TestSymlinkIsRefused(t *testing.T) {
	s := newStore(t)
	elsewhere := filepath.Join(t.TempDir(), "elsewhere.json")
	if err := NewFileStore(elsewhere).Save(&Credential{AccessToken: "a", RefreshToken: "r"}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(elsewhere)
	os.MkdirAll(filepath.Dir(s.Path), 0o700)
	if err := os.Symlink(elsewhere, s.Path); err != nil {
		t.Fatal(err)
	}
	var link *SymlinkError
	if _, err := s.Load(); !errors.As(err, &link) || link.Target != elsewhere {
		t.Fatalf("Load through a symlink = %v, want *SymlinkError naming the target", err)
	}
	if err := s.Save(&Credential{AccessToken: "b", RefreshToken: "r2"}); !errors.As(err, &link) {
		t.Fatalf("Save onto a symlink = %v, want *SymlinkError", err)
	}
	if st, err := os.Lstat(s.Path); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the link was replaced")
	}
	if after, _ := os.ReadFile(elsewhere); string(after) != string(before) {
		t.Fatal("the link's target was written")
	}
}

// A directory where the credential should be is corrupt, not "no credential".
func TestDirectoryIsCorrupt(t *testing.T) {
	s := newStore(t)
	os.MkdirAll(s.Path, 0o700)
	var corrupt *CorruptError
	if _, err := s.Load(); !errors.As(err, &corrupt) {
		t.Fatalf("Load of a directory = %v, want *CorruptError", err)
	}
	if err := s.Save(&Credential{AccessToken: "a"}); err == nil {
		t.Fatal("Save replaced a directory")
	}
}

// A save killed before its rename leaves a temporary file holding an old credential; the next
// save removes it once it is a minute old, and leaves younger ones alone.
func TestSaveSweepsTemporaryFilesOfKilledSaves(t *testing.T) {
	dir := t.TempDir()
	s := NewFileStore(filepath.Join(dir, "p.json"))
	old := filepath.Join(dir, ".p.json.tmp123")
	young := filepath.Join(dir, ".p.json.tmp456")
	for _, f := range []string{old, young} {
		if err := os.WriteFile(f, []byte(`{"refresh_token":"rt_old"}`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	hourAgo := time.Now().Add(-time.Hour)
	os.Chtimes(old, hourAgo, hourAgo)
	if err := s.Save(&Credential{AccessToken: "at_1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the killed save's temporary file is still there")
	}
	if _, err := os.Stat(young); err != nil {
		t.Fatal("a temporary file younger than a minute was removed")
	}
}
