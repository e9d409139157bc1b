package redistest_test

import (
	"testing"

	"github.com/tokctl/tokctl/redistest"
)

// The fixtures take a *testing.T, a *testing.B or any testing.TB.
var (
	_ redistest.TB = (*testing.T)(nil)
	_ redistest.TB = (*testing.B)(nil)
	_ redistest.TB = testing.TB(nil)
)

// TestFromAnotherPackage uses the package as the fleet store's tests do.
func TestFromAnotherPackage(t *testing.T) {
	t.Parallel()
	s := redistest.NewServer(t, redistest.Options{Password: "pw"})
	p := redistest.NewProxy(t, s.Addr())
	c, err := redistest.Dial(p.Addr(), s.DialOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Do("SET", "tokctl:{work}:cred", "x"); err != nil {
		t.Fatal(err)
	}
	keys, err := s.Do("KEYS", "tokctl:*")
	if err != nil || redistest.String(keys) != "[tokctl:{work}:cred]" {
		t.Fatalf("KEYS: %s %v", redistest.String(keys), err)
	}
}

// BenchmarkGet measures a GET round trip on a fresh server: *testing.B works as a TB.
func BenchmarkGet(b *testing.B) {
	s := redistest.NewServer(b, redistest.Options{})
	c, err := s.Dial()
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Do("SET", "k", "v"); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := c.Do("GET", "k"); err != nil {
			b.Fatal(err)
		}
	}
}
