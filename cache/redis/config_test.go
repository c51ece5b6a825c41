package redis_test

import (
	"context"

	goredis "github.com/redis/go-redis/v9"
)

func redisConfigSet(ctx context.Context, rawURL, key, value string) error {
	opts, err := goredis.ParseURL(rawURL)
	if err != nil {
		return err
	}
	c := goredis.NewClient(opts)
	defer c.Close()
	return c.ConfigSet(ctx, key, value).Err()
}
