package redisstore

import (
	"context"
	"strings"
	"testing"

	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/redistest"
)

// Check names what would break the promise on a server set up carelessly, and nothing on one
// set up well.
func TestCheckNamesProblems(t *testing.T) {
	careless := startRedis(t, redistest.Options{Config: []string{"maxmemory-policy allkeys-lru"}})
	s := openTest(t, careless, "host-a")
	h, err := s.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(h.Problems, "\n")
	for _, want := range []string{"only in memory", "allkeys-lru"} {
		if !strings.Contains(all, want) {
			t.Errorf("problems do not mention %q:\n%s", want, all)
		}
	}
	if h.Role != "master" || h.Persistence != "none" || h.Latency <= 0 {
		t.Errorf("health: %+v", h)
	}

	careful := startRedis(t, redistest.Options{AppendOnly: true})
	s2 := openTest(t, careful, "host-a")
	held, err := s2.Lock(context.Background(), creds.LockRequest{Command: "tokctl token"})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	h, err = s2.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Problems) > 0 || h.Persistence != "aof" {
		t.Errorf("a careful server has problems: %q (persistence %s)", h.Problems, h.Persistence)
	}
	if h.Holder == nil || h.Holder.Host != "host-a" || h.Holder.Command != "tokctl token" {
		t.Errorf("holder: %+v", h.Holder)
	}
}
