package redisstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/tokctl/tokctl/lockfile"
	"github.com/tokctl/tokctl/redisconn"
)

// Health is what Check found out about the server behind a Store.
type Health struct {
	Addr     string        // the server answering (the primary, with Sentinel)
	Version  string        // redis_version
	Role     string        // master or slave
	Latency  time.Duration // median round trip of three PINGs
	Replicas int           // connected replicas
	// Persistence is "aof", "rdb" or "none": what survives a restart of the server.
	Persistence string
	Eviction    string // maxmemory-policy
	// MinReplicasToWrite is the primary's min-replicas-to-write (-1: it could not be read).
	MinReplicasToWrite int
	Holder             *lockfile.Owner // who holds the profile's lock now, if anyone
	// Problems lists, in words for the user, what would break tokctl's promise.
	Problems []string
}

// Check connects, authenticates and looks at the server: latency, role, replication,
// persistence and eviction policy, and the profile's lock. An error means tokctl cannot use the
// store at all (the same errors as Load's).
func (s *Store) Check(ctx context.Context) (*Health, error) {
	h := &Health{}
	var rtts []time.Duration
	for range 3 {
		start := time.Now()
		v, err := s.do(ctx, retryStale, func(c *redisconn.Conn) (any, error) {
			h.Addr = c.Addr()
			return c.Do(ctx, "PING")
		})
		if err != nil {
			return nil, err
		}
		if v != "PONG" {
			return nil, s.wrap(fmt.Errorf("%w: PING answered something else", redisconn.ErrProtocol))
		}
		rtts = append(rtts, time.Since(start))
	}
	slices.Sort(rtts)
	h.Latency = rtts[1]
	server, err := s.info(ctx, "server")
	if err != nil {
		return nil, err
	}
	h.Version = server["redis_version"]
	repl, err := s.info(ctx, "replication")
	if err != nil {
		return nil, err
	}
	h.Role = repl["role"]
	fmt.Sscan(repl["connected_slaves"], &h.Replicas)
	persist, err := s.info(ctx, "persistence")
	if err != nil {
		return nil, err
	}
	switch {
	case persist["aof_enabled"] == "1":
		h.Persistence = "aof"
	case persist["rdb_last_save_time"] != "" && persist["rdb_changes_since_last_save"] != "" && s.rdbSaves(ctx):
		h.Persistence = "rdb"
	default:
		h.Persistence = "none"
	}
	memory, err := s.info(ctx, "memory")
	if err != nil {
		return nil, err
	}
	h.Eviction = memory["maxmemory_policy"]
	h.MinReplicasToWrite = s.configInt(ctx, "min-replicas-to-write")
	if h.Holder, err = s.Holder(ctx); err != nil {
		return nil, err
	}
	h.Problems = h.problems(s.target)
	return h, nil
}

// rdbSaves reports whether the server has RDB snapshots configured (CONFIG GET save is not
// empty); a server that forbids CONFIG counts as saving, since it cannot be told.
func (s *Store) rdbSaves(ctx context.Context) bool {
	v, err := s.do(ctx, retryStale, func(c *redisconn.Conn) (any, error) { return c.Do(ctx, "CONFIG", "GET", "save") })
	if err != nil {
		return true
	}
	pair, _ := v.([]any)
	return len(pair) == 2 && pair[1] != ""
}

// configInt reads one numeric CONFIG value, -1 when the server does not say (CONFIG may be
// renamed or forbidden to tokctl's user).
func (s *Store) configInt(ctx context.Context, name string) int {
	v, err := s.do(ctx, retryStale, func(c *redisconn.Conn) (any, error) { return c.Do(ctx, "CONFIG", "GET", name) })
	pair, _ := v.([]any)
	if err != nil || len(pair) != 2 {
		return -1
	}
	str, _ := pair[1].(string)
	n, err := strconv.Atoi(str)
	if err != nil {
		return -1
	}
	return n
}

func (h *Health) problems(t Target) []string {
	var out []string
	if h.Role != "" && h.Role != "master" {
		out = append(out, "the server is a replica ("+h.Role+"): it refuses the lock; point the store at the primary, or use redis+sentinel:// so tokctl finds it")
	}
	switch h.Persistence {
	case "none":
		out = append(out, "the server keeps data only in memory: a restart loses the credential and every host must log in again; turn on appendonly (appendonly yes, appendfsync everysec or always)")
	case "rdb":
		out = append(out, "the server only takes RDB snapshots: a restart loses every refresh since the last one, and the provider has revoked those refresh tokens; turn on appendonly")
	}
	if h.Eviction != "" && h.Eviction != "noeviction" {
		out = append(out, "maxmemory-policy is "+h.Eviction+": under memory pressure Redis may evict the credential or the lock; use noeviction")
	}
	if t.Master != "" && h.MinReplicasToWrite == 0 {
		out = append(out, "min-replicas-to-write is 0: a primary cut off from its replicas (paused, partitioned) still accepts a refreshed credential that the failover then discards; set min-replicas-to-write 1 so such a write is refused and retried on the new primary")
	}
	if t.Master != "" && h.Replicas == 0 {
		out = append(out, "Sentinel is configured but the primary has no replica connected: a failover would have nothing to promote")
	}
	if h.Latency > 200*time.Millisecond {
		out = append(out, fmt.Sprintf("the round trip to the server takes %s: every tokctl call pays it at least once", h.Latency.Round(time.Millisecond)))
	}
	return out
}

// Holder returns who holds the profile's lock now, nil when nobody does: one GET.
func (s *Store) Holder(ctx context.Context) (*lockfile.Owner, error) {
	v, err := s.do(ctx, retryStale, func(c *redisconn.Conn) (any, error) { return c.Do(ctx, "GET", s.keys.lock) })
	if err != nil {
		return nil, err
	}
	if rec, ok := v.(string); ok {
		if o, ok := parseOwner(rec); ok {
			return &o, nil
		}
	}
	return nil, nil
}
