package redisstore

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"sync"

	"github.com/tokctl/tokctl/redisconn"
)

// The Lua scripts run atomically on the server. Keys: see keys. Every change to the credential,
// the rejection record or the lock is published on the profile's channel, so waiters on every
// host look again at once.
var (
	// tryLock: SET lock OWNER NX PX LEASE; when taken by someone else, also who and for how
	// long, in the same round trip. → {1} | {0, holder, pttl}
	tryLock = script(`
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1} end
return {0, redis.call('get', KEYS[1]) or '', redis.call('pttl', KEYS[1])}`)

	// renew: compare-and-pexpire. → 1 renewed | 0 not the owner any more
	renew = script(`
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0`)

	// release: compare-and-delete, then wake the waiters. → 1 | 0
	release = script(`
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('del', KEYS[1])
  redis.call('publish', ARGV[2], 'released')
  return 1
end
return 0`)

	// fencedSave writes the credential only if the lock is still OWNER's and the stored version
	// is the one read under the lock, and bumps the version.
	// KEYS: lock, version, credential. ARGV: owner, expected version, credential, channel.
	// → new version | 0 the lock is not OWNER's | -1 the version moved
	fencedSave = script(`
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
if (redis.call('get', KEYS[2]) or '0') ~= ARGV[2] then return -1 end
redis.call('set', KEYS[3], ARGV[3])
local v = redis.call('incr', KEYS[2])
redis.call('publish', ARGV[4], 'saved')
return v`)

	// save writes the credential without the lock (Store.Save) and bumps the version.
	// KEYS: version, credential. ARGV: credential, channel. → new version
	save = script(`
redis.call('set', KEYS[2], ARGV[1])
local v = redis.call('incr', KEYS[1])
redis.call('publish', ARGV[2], 'saved')
return v`)

	// remove deletes the credential and its rejection record and bumps the version.
	// KEYS: version, credential, rejection. ARGV: channel.
	remove = script(`
redis.call('del', KEYS[2], KEYS[3])
local v = redis.call('incr', KEYS[1])
redis.call('publish', ARGV[1], 'deleted')
return v`)

	// setRejection records a rejected refresh token and wakes the waiters.
	// KEYS: rejection. ARGV: record, channel.
	setRejection = script(`
redis.call('set', KEYS[1], ARGV[1])
redis.call('publish', ARGV[2], 'rejected')
return 1`)
)

// luaScript is a script sent by its SHA1 (EVALSHA), and in full only when the server does not
// know it yet (after a restart or a failover). The SHA1 is computed on first use: at package
// initialisation it would cost every tokctl start, file store included.
type luaScript struct {
	src  string
	once sync.Once
	hash string
}

func script(src string) *luaScript { return &luaScript{src: src} }

func (l *luaScript) sha() string {
	l.once.Do(func() {
		sum := sha1.Sum([]byte(l.src))
		l.hash = hex.EncodeToString(sum[:])
	})
	return l.hash
}

func (l *luaScript) run(ctx context.Context, c *redisconn.Conn, keys []string, args ...string) (any, error) {
	v, err := c.Do(ctx, l.cmd("EVALSHA", l.sha(), keys, args)...)
	var e *redisconn.Error
	if errors.As(err, &e) && e.Code() == "NOSCRIPT" {
		v, err = c.Do(ctx, l.cmd("EVAL", l.src, keys, args)...)
	}
	return v, err
}

func (l *luaScript) cmd(verb, body string, keys, args []string) []string {
	out := make([]string, 0, 3+len(keys)+len(args))
	out = append(out, verb, body, itoa(len(keys)))
	out = append(out, keys...)
	return append(out, args...)
}
