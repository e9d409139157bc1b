package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/tokctl/tokctl/redisstore"
	"github.com/tokctl/tokctl/redistest"
)

// fleetStore is the Redis of a -store redis run: a redis-server of its own and the harness's
// view of profile "default"'s credential and lock in it.
type fleetStore struct {
	srv      *redistest.Server
	store    *redisstore.Store
	url      string // the profile's store URL, with ?lease=
	display  string // url with the port replaced, for the report
	password string
	version  string
}

// lockKey is profile "default"'s lock under the default prefix (redisstore's key layout).
const lockKey = "tokctl:{default}:lock"

func startFleetStore(lease time.Duration) (*fleetStore, error) {
	if err := redistest.Available(); err != nil {
		return nil, err
	}
	pw := make([]byte, 16)
	if _, err := rand.Read(pw); err != nil {
		return nil, err
	}
	f := &fleetStore{password: hex.EncodeToString(pw)}
	var err error
	if f.srv, err = redistest.StartServer(redistest.Options{Password: f.password, AppendOnly: true}); err != nil {
		return nil, err
	}
	f.url = f.srv.URL() + "/0?lease=" + lease.String()
	f.display = strings.Replace(f.url, f.srv.Addr(), "127.0.0.1:PORT", 1)
	if info, err := f.srv.Info("server"); err == nil {
		f.version = info["redis_version"]
	}
	f.store, err = redisstore.Open(redisstore.Options{URL: f.url, Profile: "default", Password: f.password, Host: "torture-harness"})
	if err != nil {
		f.srv.Stop()
		return nil, err
	}
	return f, nil
}

// lockHeld reports whether someone holds the lock: its key exists until the holder releases
// it or, for a killed holder, until the lease runs out.
func (f *fleetStore) lockHeld() (bool, error) {
	v, err := f.srv.Do("EXISTS", lockKey)
	if err != nil {
		return false, err
	}
	n, ok := v.(int64)
	if !ok {
		return false, fmt.Errorf("EXISTS %s: unexpected reply %v", lockKey, v)
	}
	return n == 1, nil
}

func (f *fleetStore) stop() {
	f.store.Close()
	f.srv.Stop()
}
