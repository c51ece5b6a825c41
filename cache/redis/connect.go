package redis

import (
	"context"
	"fmt"
	"net/url"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Connect opens a client for rawURL (redis:// or rediss://, with optional
// user, password and /DB; ?prefix=P sets the key prefix, default
// DefaultPrefix) and pings it. Errors never show the password.
func Connect(ctx context.Context, rawURL string) (c *goredis.Client, prefix string, err error) {
	name := Redact(rawURL)
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
		return nil, "", fmt.Errorf("redis: %s: want redis://[:PASSWORD@]HOST[:PORT][/DB] or rediss://...", name)
	}
	prefix = DefaultPrefix
	q := u.Query()
	if q.Has("prefix") {
		prefix = q.Get("prefix")
		q.Del("prefix")
		u.RawQuery = q.Encode()
	}
	opts, err := goredis.ParseURL(u.String())
	if err != nil {
		return nil, "", fmt.Errorf("redis: %s: %s", name, scrub(err.Error(), u))
	}
	opts.DialTimeout = 2 * time.Second
	opts.ReadTimeout = 3 * time.Second
	opts.WriteTimeout = 3 * time.Second
	opts.MaxRetries = 1
	c = goredis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := c.Ping(pctx).Err(); err != nil {
		c.Close()
		return nil, "", fmt.Errorf("redis: %s: %s", name, scrub(err.Error(), u))
	}
	return c, prefix, nil
}
