package commands

import (
	"context"
	"strings"
	"time"

	"github.com/tokctl/tokctl/config"
)

// checkRedis checks a profile's Redis store (redisstore.Store.Check): that the server answers
// and accepts tokctl's password, its round trip, role, replicas, persistence and eviction
// policy, then the credential and the lock kept there.
func (u *ui) checkRedis(ctx context.Context, r *report, p config.Paths, prof *config.Profile) {
	s, err := u.openRedis(prof)
	if err != nil {
		_, hint := classify(err)
		r.fail(hint, "store: %v", err)
		return
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	h, err := s.Check(ctx)
	if err != nil {
		_, hint := classify(err)
		r.fail(hint, "store %s: %v", s.Location(), err)
		return
	}
	r.ok("store %s: redis %s at %s answers in %s (%s); password %s", s.Location(), orString(h.Version, "(version unknown)"), h.Addr,
		h.Latency.Round(10*time.Microsecond), h.Role, passwordSource(prof))
	r.ok("store replication: %d replica(s) connected; persistence %s; maxmemory-policy %s", h.Replicas, h.Persistence, orString(h.Eviction, "unknown"))
	for _, problem := range h.Problems {
		text, fix := splitProblem(problem)
		if strings.HasPrefix(problem, "the server is a replica") { // it refuses the lock: every refresh fails
			r.fail(fix, "store: %s", text)
		} else {
			r.warn(fix, "store: %s", text)
		}
	}
	checkCredential(r, p, prof, s)
	if h.Holder != nil {
		r.warn("a refresh or login is in progress on that host; if it hangs, stop that process (the lock's lease runs out by itself if it died)", "lock in Redis: held by %s", h.Holder)
	} else {
		r.ok("lock in Redis: free")
	}
}

// splitProblem splits one of Health's problems into what is wrong and what to do: the fix
// follows the last "; ".
func splitProblem(p string) (text, fix string) {
	if i := strings.LastIndex(p, "; "); i >= 0 {
		return p[:i], p[i+2:]
	}
	return p, ""
}

// passwordSource says where the Redis password comes from, never what it is.
func passwordSource(prof *config.Profile) string {
	switch {
	case prof.StorePasswordFile != "":
		return "from " + prof.StorePasswordFile
	case prof.StorePasswordEnv != "":
		return "from $" + prof.StorePasswordEnv
	}
	if _, ok := lookupEnv(defaultRedisPasswordEnv); ok {
		return "from $" + defaultRedisPasswordEnv
	}
	return "none ($" + defaultRedisPasswordEnv + " unset)"
}
