// Command variant is a deliberately incomplete token refresher, built and run only by
// bench/layers to show what each of tokctl's layers prevents. It never ships: tokctl's own code
// paths contain none of this.
//
//	variant -mode naive|lock-only|non-atomic -cred FILE -token-url URL -client-id ID
//
// Every mode prints the stored access token when it is still valid for a minute. Otherwise:
//
//	naive       refreshes at once with the refresh token it read: no lock (many CLIs and SDKs)
//	lock-only   takes tokctl's own lock (FILE.lock), but refreshes with the refresh token it
//	            read before waiting for the lock: no re-read, so it never sees a sibling's work
//	non-atomic  takes the lock, re-reads, refreshes only when still needed, and then writes the
//	            file in place (truncate + write) instead of temp file + fsync + rename
//
// naive and lock-only save atomically, so each lacks exactly one layer. With
// VARIANT_KILL_SLOTS=P1:P2… the first writers to claim a marker file (O_EXCL) SIGKILL themselves
// halfway through writing the truncated file, as kill -9 at that moment would.
//
// Exit status: 0 with the token on stdout; 3 when the provider rejected the refresh token;
// 1 for any other failure (an unreadable credential file among them).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/tokctl/tokctl/creds"
	"github.com/tokctl/tokctl/lockfile"
)

func main() {
	mode := flag.String("mode", "", "naive, lock-only or non-atomic")
	path := flag.String("cred", "", "credential `FILE`")
	tokenURL := flag.String("token-url", "", "token endpoint `URL`")
	clientID := flag.String("client-id", "", "client `ID`")
	flag.Parse()
	os.Exit(run(*mode, *path, *tokenURL, *clientID))
}

func run(mode, path, tokenURL, clientID string) int {
	store := creds.NewFileStore(path)
	c, err := store.Load()
	if err != nil {
		return failf(1, "load: %v", err)
	}
	if c.FreshFor(time.Minute, time.Now()) {
		fmt.Println(c.AccessToken)
		return 0
	}
	if mode != "naive" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		lock, err := lockfile.Acquire(ctx, path+".lock", lockfile.Options{Command: "variant " + mode})
		if err != nil {
			return failf(1, "lock: %v", err)
		}
		defer lock.Release()
		if mode == "non-atomic" {
			if c, err = store.Load(); err != nil { // the re-read
				return failf(1, "load: %v", err)
			}
			if c.FreshFor(time.Minute, time.Now()) {
				fmt.Println(c.AccessToken)
				return 0
			}
		}
	}
	next, code, err := refresh(tokenURL, clientID, c)
	if err != nil {
		return failf(code, "refresh: %v", err)
	}
	if mode == "non-atomic" {
		err = writeInPlace(path, next)
	} else {
		err = store.Save(next)
	}
	if err != nil {
		return failf(1, "save: %v", err)
	}
	fmt.Println(next.AccessToken)
	return 0
}

// refresh sends one refresh_token grant and merges the answer into c.
func refresh(tokenURL, clientID string, c *creds.Credential) (*creds.Credential, int, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {c.RefreshToken}, "client_id": {clientID}}
	resp, err := http.PostForm(tokenURL, form)
	if err != nil {
		return nil, 1, err
	}
	defer resp.Body.Close()
	var r struct {
		AccessToken  string `json:"access_token"`
		TokenType    string `json:"token_type"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int64  `json:"expires_in"`
		Error        string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, 1, fmt.Errorf("decode response (HTTP %d): %w", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || r.AccessToken == "" {
		if r.Error == "invalid_grant" {
			return nil, 3, fmt.Errorf("provider rejected the refresh token (%s)", r.Error)
		}
		return nil, 1, fmt.Errorf("HTTP %d %s", resp.StatusCode, r.Error)
	}
	next := &creds.Credential{AccessToken: r.AccessToken, TokenType: r.TokenType, RefreshToken: c.RefreshToken, Scope: c.Scope,
		Expiry: time.Now().Add(time.Duration(r.ExpiresIn) * time.Second)}
	if r.RefreshToken != "" {
		next.RefreshToken = r.RefreshToken
	}
	return next, 0, nil
}

// writeInPlace truncates the credential file and writes the new JSON into it: the common
// os.WriteFile approach. A kill in between leaves an empty or half-written file.
func writeInPlace(path string, c *creds.Credential) error {
	data, err := json.Marshal(map[string]any{
		"access_token": c.AccessToken, "token_type": c.TokenType, "refresh_token": c.RefreshToken,
		"scope": c.Scope, "expiry": c.Expiry.UTC().Format(time.RFC3339),
	})
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	half := len(data) / 2
	if _, err := f.Write(data[:half]); err != nil {
		return err
	}
	if claimKillSlot() {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	_, err = f.Write(data[half:])
	return err
}

// claimKillSlot reports whether this process is one of the writers asked to die mid-write.
func claimKillSlot() bool {
	for _, p := range strings.Split(os.Getenv("VARIANT_KILL_SLOTS"), ":") {
		if p == "" {
			continue
		}
		if f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600); err == nil {
			f.Close()
			return true
		}
	}
	return false
}

func failf(code int, format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "variant: "+format+"\n", args...)
	return code
}
