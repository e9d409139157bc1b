package redisconn

import (
	"context"
	"errors"
	"fmt"
	"net"
)

// masterAddr asks the sentinels, in order, for the current primary of cfg.MasterName. A
// sentinel that cannot be reached or does not know the name is skipped; the errors of all of
// them are reported when none answers.
func masterAddr(ctx context.Context, cfg Config) (string, error) {
	if len(cfg.Sentinels) == 0 {
		return "", errors.New("no sentinel addresses")
	}
	var errs []error
	for _, s := range cfg.Sentinels {
		addr, err := askSentinel(ctx, s, cfg)
		if err == nil {
			return addr, nil
		}
		errs = append(errs, fmt.Errorf("sentinel %s: %w", s, err))
		if ctx.Err() != nil {
			break
		}
	}
	return "", errors.Join(errs...)
}

func askSentinel(ctx context.Context, sentinel string, cfg Config) (string, error) {
	c, err := dial(ctx, sentinel, cfg)
	if err != nil {
		return "", err
	}
	defer c.Close()
	v, err := c.Do(ctx, "SENTINEL", "get-master-addr-by-name", cfg.MasterName)
	if err != nil {
		return "", err
	}
	pair, ok := v.([]any)
	if !ok || len(pair) != 2 {
		return "", fmt.Errorf("does not know a primary named %q", cfg.MasterName)
	}
	host, _ := pair[0].(string)
	port, _ := pair[1].(string)
	if host == "" || port == "" {
		return "", fmt.Errorf("%w: bad primary address", ErrProtocol)
	}
	return net.JoinHostPort(host, port), nil
}
