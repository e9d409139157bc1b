package creds

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// A credential too big for one keychain item is split into chunks. The first item, under the
// account itself, holds a header naming a random generation and the chunk count, then the first
// part; items "ACCOUNT#2" … "ACCOUNT#N" hold the generation and the other parts:
//
//	ACCOUNT    tokctl-chunked 1 <gen> <n>\n<part 1>
//	ACCOUNT#k  <gen>\n<part k>
//
// Save writes chunks 2…N first and the first item last, so the first item commits the new
// generation. A reader that meets a chunk of another generation read during a sibling's Save and
// reads again. A credential that fits one item is stored as plain JSON with no header.
const (
	chunkMagic     = "tokctl-chunked 1 "
	chunkHeaderMax = 64 // bytes reserved in each item for the header
	chunkRetries   = 3
)

// maxItem is the most bytes one keychain item may hold (0: no limit worth splitting for).
func (s *KeyringStore) maxItem() int {
	if s.MaxItem > 0 {
		return s.MaxItem
	}
	switch runtime.GOOS {
	case "windows":
		return 2560 // CredWrite's CRED_MAX_CREDENTIAL_BLOB_SIZE
	case "darwin":
		// go-keyring base64-encodes the value into one `security -i` command line of at
		// most 4096 bytes, next to the quoted service and account.
		return (4096-128-2*len(s.Service)-2*len(s.Account))*3/4 - 32
	}
	return 0
}

func chunkAccount(account string, k int) string {
	if k == 1 {
		return account
	}
	return account + "#" + strconv.Itoa(k)
}

// writeChunks stores data and returns how many items it took.
func (s *KeyringStore) writeChunks(data []byte) (int, error) {
	limit := s.maxItem()
	if limit <= 0 || len(data) <= limit {
		return 1, s.set(s.Account, string(data))
	}
	part := limit - chunkHeaderMax
	if part < 64 {
		return 0, &KeyringError{Op: "write", Location: s.Location(), Err: fmt.Errorf("items of %d bytes are too small", limit)}
	}
	var parts []string
	for len(data) > 0 {
		n := min(part, len(data))
		parts = append(parts, string(data[:n]))
		data = data[n:]
	}
	gen := newGeneration()
	for k := len(parts); k >= 2; k-- {
		if err := s.set(chunkAccount(s.Account, k), gen+"\n"+parts[k-1]); err != nil {
			return 0, err
		}
	}
	header := fmt.Sprintf("%s%s %d\n", chunkMagic, gen, len(parts))
	return len(parts), s.set(s.Account, header+parts[0])
}

func (s *KeyringStore) set(account, value string) error {
	return s.call("write", account, func(b keyringBackend) (string, error) {
		err := b.Set(s.Service, account, value)
		if errors.Is(err, keyring.ErrSetDataTooBig) {
			err = fmt.Errorf("%w (%d bytes); tokctl splits bigger credentials, set a smaller limit", err, len(value))
		}
		return "", err
	})
}

func (s *KeyringStore) get(account string) (string, error) {
	return s.callValue("read", account, func(b keyringBackend) (string, error) {
		return b.Get(s.Service, account)
	})
}

// readChunks returns the stored JSON and the number of items it came from.
func (s *KeyringStore) readChunks() ([]byte, int, error) {
	var lastErr error
	for attempt := 0; attempt < chunkRetries; attempt++ {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 20 * time.Millisecond)
		}
		first, err := s.get(s.Account)
		if err != nil {
			return nil, 0, err
		}
		if !strings.HasPrefix(first, chunkMagic) {
			return []byte(first), 1, nil
		}
		data, n, err := s.assemble(first)
		if err == nil {
			return data, n, nil
		}
		var ke *KeyringError
		if errors.As(err, &ke) {
			return nil, 0, err
		}
		lastErr = err // a sibling's Save in progress, or damage: read again
	}
	return nil, 0, &CorruptError{s.Location(), lastErr}
}

// assemble reads chunks 2…N of the generation named in first's header.
func (s *KeyringStore) assemble(first string) ([]byte, int, error) {
	gen, n, body, err := parseChunkHeader(first)
	if err != nil {
		return nil, 0, err
	}
	var b strings.Builder
	b.WriteString(body)
	for k := 2; k <= n; k++ {
		v, err := s.get(chunkAccount(s.Account, k))
		if errors.Is(err, keyring.ErrNotFound) {
			return nil, 0, fmt.Errorf("chunk %d of %d is missing", k, n)
		}
		if err != nil {
			return nil, 0, err
		}
		g, part, _ := strings.Cut(v, "\n")
		if g != gen {
			return nil, 0, fmt.Errorf("chunk %d of %d belongs to another write", k, n)
		}
		b.WriteString(part)
	}
	return []byte(b.String()), n, nil
}

// storedChunks is the item count the stored credential's first item names (1 when it cannot tell).
func (s *KeyringStore) storedChunks() int {
	first, err := s.get(s.Account)
	if err != nil {
		return 1
	}
	if _, n, _, err := parseChunkHeader(first); err == nil {
		return n
	}
	return 1
}

// parseChunkHeader splits a chunked first item into its generation, count and first part.
func parseChunkHeader(first string) (gen string, n int, body string, err error) {
	header, body, _ := strings.Cut(strings.TrimPrefix(first, chunkMagic), "\n")
	gen, count, _ := strings.Cut(header, " ")
	n, err = strconv.Atoi(count)
	if !strings.HasPrefix(first, chunkMagic) || err != nil || n < 2 || n > 64 || gen == "" {
		// Never quote the item: without its newline, the "header" is the whole credential.
		return "", 0, "", fmt.Errorf("bad chunk header (%d bytes; want %q followed by generation, count and a newline)", len(header), chunkMagic)
	}
	return gen, n, body, nil
}

// removeChunksAfter deletes the chunks beyond n that an earlier, bigger credential left. Best
// effort: a leftover chunk is never read, since the first item names its own count.
func (s *KeyringStore) removeChunksAfter(n int) {
	for k := n + 1; k <= s.chunks; k++ {
		s.call("delete", chunkAccount(s.Account, k), func(b keyringBackend) (string, error) {
			return "", b.Delete(s.Service, chunkAccount(s.Account, k))
		})
	}
	s.chunks = n
}

func newGeneration() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
