package creds

import (
	"strings"
	"testing"
)

// FuzzParseChunkHeader: the first keychain item of a split credential either yields a sane
// header — a generation without spaces or newlines, 2…64 items, the rest as the first part — or
// an error that does not quote the item's content (which holds tokens) beyond a short header.
func FuzzParseChunkHeader(f *testing.F) {
	for _, seed := range []string{
		chunkMagic + "3f9a 3\n{\"access_token\":\"a",
		chunkMagic + "g 64\n", chunkMagic + "g 65\npart", chunkMagic + "g 1\npart", chunkMagic + " 2\npart",
		chunkMagic + "g +2\npart", chunkMagic + "g 02\npart", chunkMagic + "g 2 extra\npart",
		chunkMagic + "g 2", chunkMagic + strings.Repeat("x", 300) + `{"refresh_token":"secret"}`,
		`{"access_token":"a","refresh_token":"r"}`, "", chunkMagic,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, first string) {
		gen, n, body, err := parseChunkHeader(first)
		if err != nil {
			if len(err.Error()) > 200 {
				t.Fatalf("the error quotes %d bytes of the item: %.80q…", len(err.Error()), err.Error())
			}
			return
		}
		if gen == "" || strings.ContainsAny(gen, " \n") || n < 2 || n > 64 {
			t.Fatalf("accepted generation %q, count %d", gen, n)
		}
		if !strings.HasPrefix(first, chunkMagic+gen+" ") || !strings.HasSuffix(first, body) {
			t.Fatalf("the parts do not come from the item: %q %d %q", gen, n, body)
		}
	})
}
